import { stringify } from 'yaml';
import { z } from 'zod';
import { redactObject } from '../../domain/k8s/index.ts';
import { capJson } from '../../domain/redact.ts';
import { defineTool } from '../../mcp/tool.ts';
import { args, kubeTool, namespaceFor, target } from './common.ts';
import { bytes, result } from './render.ts';

export const k8sResourcesGetTool = defineTool({
  name: 'k8s_resources_get',
  title: 'Get a Kubernetes object',
  description:
    'One object of any kind as YAML or JSON, without managedFields; Secret values are replaced by their sizes. ' +
    'Use to inspect spec and status in detail after finding it with k8s_resources_list.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    kind: args.kind,
    apiVersion: args.apiVersion,
    namespace: args.namespace,
    name: args.name,
    format: z.enum(['yaml', 'json']).default('yaml'),
  }),
  output: z.object({ kind: z.string(), name: z.string(), object: z.record(z.string(), z.unknown()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, input.apiVersion);
      const namespace = namespaceFor(res, t, input);
      const live = await t.client.get(res, input.name, namespace);
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      let object = redactObject({ apiVersion: res.apiVersion, kind: res.kind, ...live });
      const cut = bytes(object) > budget;
      if (cut) object = capJson(object, budget - 200) as Record<string, unknown>;
      const body = input.format === 'json' ? JSON.stringify(object, null, 1) : stringify(object, { lineWidth: 0 });
      const note = cut ? '\n# (long values were cut to fit the response budget)' : '';
      return result(`${body}${note}`, {
        cluster: t.cluster,
        kind: res.kind,
        name: input.name,
        ...(namespace ? { namespace } : {}),
        object,
      });
    });
  },
});
