import * as z from 'zod';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sClustersListTool = defineTool({
  name: 'k8s_clusters_list',
  title: 'List clusters',
  description:
    'Clusters this server reaches (kubeconfig contexts or in-cluster) and the default one, used when a tool gets no ' +
    "`cluster`; a missing `namespace` is the context's.",
  group: 'k8s',
  access: 'read',
  input: z.object({ continue: args.continue }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, { deps }) {
    const items = (await deps.clusters.list()).map((c) => ({
      name: c.name,
      server: c.server,
      source: c.source,
      default: c.isDefault,
      namespace: c.namespace,
    }));
    if (items.length === 0) {
      return result('No clusters configured. Set KUBECONFIG (or ~/.kube/config) on the server.', { count: 0, items });
    }
    return answer(async () =>
      offsetPage({
        tool: 'k8s_clusters_list',
        noun: 'clusters',
        rows: items,
        continue: input.continue,
        budget: resultBudget(deps.config.outputBudgetBytes),
        heading: (range, total) => `Clusters ${range} of ${total}`,
        table: (kept) =>
          table(
            ['name', 'default', 'source', 'namespace', 'server'],
            kept.map((i) => ({ ...i, default: i.default ? '*' : '' })),
          ),
      }),
    );
  },
});
