import * as z from 'zod';
import { target } from '../../app/k8s/objects.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const k8sApiResourcesListTool = defineTool({
  name: 'k8s_api_resources_list',
  title: 'API resource types',
  description:
    'Resource types the cluster serves, CRDs included (kubectl api-resources). Use to find a kind or apiVersion.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    group: z.string().max(253).optional().describe('"" for core'),
    search: z.string().max(253).optional().describe('Part of kind or name'),
    refresh: z.boolean().optional().describe('Skip the discovery cache'),
    continue: args.continue,
  }),
  output: z.object({ count: z.number(), items: z.array(z.object({ kind: z.string() }).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const needle = input.search?.toLowerCase();
      const all = await t.client.resources(input.refresh ? { refresh: true } : {});
      const items = all
        .filter((r) => input.group === undefined || r.group === input.group)
        .filter((r) => !needle || r.kind.toLowerCase().includes(needle) || r.plural.includes(needle))
        .map((r) => ({
          kind: r.kind,
          name: r.plural,
          apiVersion: r.apiVersion,
          namespaced: r.namespaced,
          shortNames: r.shortNames.join(','),
          verbs: r.verbs.join(','),
          subresources: r.subresources.join(','),
        }));
      return offsetPage({
        tool: 'k8s_api_resources_list',
        noun: 'resource types',
        rows: items,
        continue: input.continue,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) => `Resource types ${range} of ${total} on ${t.cluster}`,
        table: (kept) =>
          table(
            ['name', 'shortNames', 'apiVersion', 'namespaced', 'kind'],
            kept.map((i) => ({ ...i, namespaced: String(i.namespaced) })),
          ),
        structured: { cluster: t.cluster },
      });
    });
  },
});
