import * as z from 'zod';
import type { ClusterInfo, ClusterSourceReport } from '../../ports/kube.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sClustersListTool = defineTool({
  name: 'k8s_clusters_list',
  title: 'List clusters',
  description:
    'Clusters this server reaches (kubeconfig contexts, EKS, GKE) with version, reachability and status, and ' +
    "the default one, used when a tool gets no `cluster`; a missing `namespace` is the context's.",
  group: 'k8s',
  access: 'read',
  input: z.object({ continue: args.continue }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, { deps }) {
    const [clusters, sources] = await Promise.all([
      deps.clusters.list({ probe: true }),
      deps.clusters.sources?.() ?? Promise.resolve([] as ClusterSourceReport[]),
    ]);
    const items = clusters.map(row);
    const errors = sources.flatMap((s) => s.errors.map((e) => ({ source: s.source, ...e })));
    const summary = summarize(items, sources);
    if (items.length === 0) {
      const why = errors.length > 0 ? `\n${errorLines(errors)}` : '';
      return result(
        `No clusters. Set KUBECONFIG (or ~/.kube/config), AWS_ACCOUNTS or GCP_PROJECTS on the server.${why}`,
        {
          count: 0,
          total: 0,
          items,
          sources,
        },
      );
    }
    return answer(async () =>
      offsetPage({
        tool: 'k8s_clusters_list',
        noun: 'clusters',
        rows: items,
        continue: input.continue,
        budget: resultBudget(deps.config.outputBudgetBytes),
        heading: (range, total) =>
          [`Clusters ${range} of ${total}: ${summary}`, ...(errors.length > 0 ? [errorLines(errors)] : [])].join('\n'),
        table: (kept) =>
          table(
            ['name', 'default', 'source', 'version', 'status', 'reachable', 'endpoint', 'namespace'],
            kept.map((i) => ({
              name: i.name,
              namespace: i.namespace,
              source: i.source,
              default: i.default ? '*' : '',
              version: i.version ?? '',
              status: `${i.status ?? ''}${i.stale ? ' (stale)' : ''}`,
              reachable: i.reachable === undefined ? '?' : i.reachable ? 'yes' : `no: ${i.reason ?? ''}`,
              endpoint: i.endpoint,
            })),
          ),
        structured: { sources },
      }),
    );
  },
});

interface Row extends Record<string, unknown> {
  name: string;
  id: string;
  source: ClusterInfo['source'];
  default: boolean;
  namespace: string;
  endpoint: string;
  version?: string;
  status?: string;
  reachable?: boolean;
  reason?: string;
  stale?: boolean;
}

function row(c: ClusterInfo): Row {
  return {
    name: c.name,
    id: c.id ?? c.name,
    source: c.source,
    default: c.isDefault,
    namespace: c.namespace,
    // The host only: paths and credentials in a server URL are nobody's business here.
    endpoint: hostOf(c.server),
    ...(c.version ? { version: c.version } : {}),
    ...(c.status ? { status: c.status } : {}),
    ...(c.reachable !== undefined ? { reachable: c.reachable } : {}),
    ...(c.unreachableReason ? { reason: c.unreachableReason } : {}),
    ...(c.stale ? { stale: true } : {}),
  };
}

function hostOf(server: string): string {
  try {
    return server ? new URL(server).host : '';
  } catch {
    return '';
  }
}

function summarize(items: Row[], sources: ClusterSourceReport[]): string {
  const bySource = new Map<string, number>();
  for (const i of items) bySource.set(i.source, (bySource.get(i.source) ?? 0) + 1);
  const reachable = items.filter((i) => i.reachable === true).length;
  const unreachable = items.filter((i) => i.reachable === false).length;
  const unknown = items.length - reachable - unreachable;
  const failing = sources.filter((s) => s.errors.length > 0).map((s) => s.source);
  return [
    [...bySource].map(([s, n]) => `${s} ${n}`).join(', '),
    `${reachable} reachable, ${unreachable} unreachable${unknown > 0 ? `, ${unknown} not probed` : ''}`,
    ...(failing.length > 0 ? [`discovery errors: ${failing.join(', ')}`] : []),
  ].join('; ');
}

function errorLines(errors: Array<{ source: string; scope: string; message: string }>): string {
  const shown = errors.slice(0, 10).map((e) => `! ${e.source} ${e.scope}: ${e.message}`);
  return [
    ...shown,
    ...(errors.length > 10 ? [`! and ${errors.length - 10} more (sources in the structured result)`] : []),
  ].join('\n');
}
