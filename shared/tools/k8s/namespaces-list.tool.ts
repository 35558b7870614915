import * as z from 'zod';
import { target } from '../../app/k8s/objects.ts';
import { firstMatch, settingsFor } from '../../domain/guardrails/index.ts';
import { summarize } from '../../domain/k8s/index.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, startOffset, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const k8sNamespacesListTool = defineTool({
  name: 'k8s_namespaces_list',
  title: 'List namespaces',
  description:
    'Namespaces with status and age, marking those guardrails protect (read-only). Use to orient in a cluster.',
  group: 'k8s',
  access: 'read',
  input: z.object({ cluster: args.cluster, labelSelector: args.labelSelector, continue: args.continue }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      startOffset(input.continue);
      const t = await target(ctx.deps, input.cluster);
      const res = await t.client.resolve('Namespace', 'v1');
      const items = [];
      let cont: string | undefined;
      do {
        const page = await t.client.list(res, {
          limit: 500,
          ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
          ...(cont ? { continue: cont } : {}),
        });
        items.push(...page.items);
        cont = page.continue;
      } while (cont && items.length < 5000);
      // Protected patterns may be globs and may differ per cluster.
      const protectedNs = settingsFor(ctx.deps.policy, t.cluster).protectedNamespaces;
      const { columns, rows } = summarize('Namespace', items, ctx.deps.clock.now());
      const marked = rows.map((r) => ({ ...r, protected: firstMatch(String(r.name), protectedNs) ? 'yes' : '' }));
      return offsetPage({
        tool: 'k8s_namespaces_list',
        noun: 'namespaces',
        rows: marked,
        continue: input.continue,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) => `Namespaces ${range} of ${total} on ${t.cluster}`,
        table: (kept) => table([...columns.filter((c) => c !== 'namespace'), 'protected'], kept),
        structured: { cluster: t.cluster },
      });
    });
  },
});
