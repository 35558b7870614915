import { z } from 'zod';
import { defineTool } from '../../mcp/tool.ts';
import { result, table } from './render.ts';

export const k8sClustersListTool = defineTool({
  name: 'k8s_clusters_list',
  title: 'List Kubernetes clusters',
  description:
    'The Kubernetes clusters this server can reach (kubeconfig contexts, or its in-cluster account) and the default. ' +
    'Use to choose the `cluster` argument of the other k8s_ tools.',
  group: 'k8s',
  access: 'read',
  input: z.object({}),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_input, { deps }) {
    const items = deps.clusters.list().map((c) => ({
      name: c.name,
      server: c.server,
      source: c.source,
      default: c.isDefault,
      namespace: c.namespace,
    }));
    const text = items.length
      ? `${items.length} clusters\n${table(
          ['name', 'default', 'source', 'namespace', 'server'],
          items.map((i) => ({ ...i, default: i.default ? '*' : '' })),
        )}`
      : 'No clusters configured. Set KUBECONFIG (or ~/.kube/config) on the server.';
    return result(text, { count: items.length, items });
  },
});
