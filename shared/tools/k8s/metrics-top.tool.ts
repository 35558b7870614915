import * as z from 'zod';
import { AppError } from '../../app/errors.ts';
import { target } from '../../app/k8s/objects.ts';
import { KubeApiError } from '../../ports/kube.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

/** CPU quantity to millicores: 250m, 1, 0.5, 1500000n, 2u. */
export function cpuMillis(q: string): number {
  const m = /^([0-9.]+)(n|u|m)?$/.exec(q.trim());
  if (!m) return 0;
  const v = Number(m[1]);
  return Math.round(m[2] === 'n' ? v / 1e6 : m[2] === 'u' ? v / 1e3 : m[2] === 'm' ? v : v * 1000);
}

/** Memory quantity to MiB: 128Mi, 1Gi, 1000Ki, 5e8, 512M. */
export function memMiB(q: string): number {
  const m = /^([0-9.e+]+)(Ki|Mi|Gi|Ti|K|M|G|T|k)?$/.exec(q.trim());
  if (!m) return 0;
  const mult: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    K: 1e3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round((Number(m[1]) * (m[2] ? (mult[m[2]] ?? 1) : 1)) / 1024 ** 2);
}

export const k8sMetricsTopTool = defineTool({
  name: 'k8s_metrics_top',
  title: 'Top pods or nodes',
  description:
    'CPU (millicores) and memory (MiB) of pods or nodes, heaviest first (kubectl top). Use to find hot or ' +
    'memory-hungry workloads.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    resource: z.enum(['pods', 'nodes']).default('pods'),
    namespace: args.namespace,
    allNamespaces: args.allNamespaces,
    labelSelector: args.labelSelector,
    sortBy: z.enum(['cpu', 'memory']).default('cpu'),
    limit: z.number().int().min(1).max(500).default(30),
    continue: args.continue,
  }),
  output: z.object({ count: z.number(), total: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const served = (await t.client.resources()).some((r) => r.group === 'metrics.k8s.io');
      const missing = `metrics.k8s.io is not served by cluster ${t.cluster}: install metrics-server (or another metrics API provider) to use k8s_metrics_top.`;
      if (!served) throw new AppError(missing);
      const namespace =
        input.resource === 'pods' && !input.allNamespaces ? (input.namespace ?? t.defaultNamespace) : undefined;
      const path = `/apis/metrics.k8s.io/v1beta1${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${input.resource}`;
      let list: { items?: Array<Record<string, unknown>> };
      try {
        list = (await t.client.getPath(
          path,
          input.labelSelector ? { labelSelector: input.labelSelector } : undefined,
        )) as typeof list;
      } catch (err) {
        if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) throw new AppError(missing);
        throw err;
      }
      const rows = (list.items ?? []).map((i) => {
        const meta = (i.metadata ?? {}) as { name?: string; namespace?: string };
        const usages: Array<Record<string, string>> =
          input.resource === 'pods'
            ? ((i.containers as Array<{ usage?: Record<string, string> }> | undefined) ?? []).map((c) => c.usage ?? {})
            : [(i.usage as Record<string, string>) ?? {}];
        return {
          name: meta.name ?? '',
          namespace: meta.namespace ?? '',
          cpuMillicores: usages.reduce((s, u) => s + cpuMillis(u.cpu ?? '0'), 0),
          memoryMiB: usages.reduce((s, u) => s + memMiB(u.memory ?? '0'), 0),
        };
      });
      rows.sort((a, b) => (input.sortBy === 'cpu' ? b.cpuMillicores - a.cpuMillicores : b.memoryMiB - a.memoryMiB));
      const cols =
        input.resource === 'pods'
          ? ['namespace', 'name', 'cpuMillicores', 'memoryMiB']
          : ['name', 'cpuMillicores', 'memoryMiB'];
      return offsetPage({
        tool: 'k8s_metrics_top',
        noun: input.resource,
        rows,
        continue: input.continue,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        limit: input.limit,
        heading: (range, total) => `${input.resource} ${range} of ${total} on ${t.cluster} by ${input.sortBy}`,
        table: (kept) => table(cols, kept),
        structured: { cluster: t.cluster },
      });
    });
  },
});
