import * as z from 'zod';
import { type ClusterWorkloadCosts, workloadCosts } from '../../app/cost/workloads.ts';
import { AppError } from '../../app/errors.ts';
import type { AllocationReport, CostGroup } from '../../domain/cost/index.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';
import { cents, money, pinnedPage, readPinned } from './render.ts';

const TOOL = 'cost_workloads_list';

export const costWorkloadsListTool = defineTool({
  name: TOOL,
  title: 'Cost per workload',
  description:
    'Kubernetes cost over the last N hours from usage samples, per namespace, workload or label: CPU and memory cost, cores charged, idle and unknown-price pods per cluster; paged. Use to see which workloads cost what.',
  group: 'cost',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    by: z.enum(['namespace', 'workload', 'label']).default('namespace'),
    labelKey: z.string().max(317).optional(),
    hours: z.number().int().min(1).max(720).default(24),
    usage: z.enum(['avg', 'max']).default('avg'),
    limit: z.number().int().min(1).max(500).default(100),
    continue: args.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      if (input.by === 'label' && !input.labelKey) throw new AppError('by: "label" needs labelKey (e.g. team)');
      const query = {
        tool: TOOL,
        cluster: input.cluster,
        namespace: input.namespace,
        by: input.by,
        labelKey: input.labelKey,
        hours: input.hours,
        usage: input.usage,
      };
      const { skip, at } = readPinned(input.continue, query, ctx.deps.clock.now());
      const costs = await workloadCosts(ctx.deps, {
        hours: input.hours,
        usage: input.usage,
        now: at,
        ...(input.cluster !== undefined ? { cluster: input.cluster } : {}),
        ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
        ...(input.labelKey !== undefined ? { labelKey: input.labelKey } : {}),
      });
      const clusters = costs.clusters.map(clusterSummary);
      const rows = costs.clusters
        .flatMap((c) => ('report' in c ? groupRows(c.cluster, c.report, input.by) : []))
        .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const from = new Date(at - input.hours * 3_600_000).toISOString();
      const to = new Date(at).toISOString();
      const what = input.by === 'label' ? `label ${input.labelKey}` : input.by;
      return pinnedPage({
        tool: TOOL,
        noun: `${input.by === 'label' ? 'label value' : input.by}s`,
        query,
        skip,
        rows,
        limit: input.limit,
        at,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) =>
          [
            `Cost by ${what}${input.namespace ? ` in namespace ${input.namespace}` : ''}, last ${input.hours}h (${from} to ${to}), max(request, ${input.usage} usage) at node prices: ${range} of ${total}`,
            ...clusters.map(clusterLine),
          ].join('\n'),
        text: (kept) =>
          table(
            ['cluster', input.by, 'pods', 'cpu$', 'mem$', 'total$', 'cores', 'memGiB', 'unknown'],
            kept.map((r) => ({
              cluster: r.cluster,
              [input.by]: r.key,
              pods: r.pods,
              cpu$: r.cpuCost.toFixed(2),
              mem$: r.ramCost.toFixed(2),
              total$: r.total.toFixed(2),
              cores: r.cores ?? '',
              memGiB: r.memGiB ?? '',
              unknown: r.unknownPods || '',
            })),
          ),
        structured: { window: { hours: input.hours, from, to }, by: input.by, usage: input.usage, clusters },
      });
    });
  },
});

type Summary = ReturnType<typeof clusterSummary>;

/** A cluster's totals: node cost, allocated, idle, pods of unknown cost with why; or why there are none. */
function clusterSummary(c: ClusterWorkloadCosts) {
  if ('error' in c) return { cluster: c.cluster, error: c.error };
  const t = c.report.totals;
  const why = new Map<string, number>();
  for (const p of c.report.pods) if (p.unknown) why.set(p.unknown, (why.get(p.unknown) ?? 0) + 1);
  const idleCpu = c.report.nodes.reduce((s, n) => s + (n.idleCpuCost ?? 0), 0);
  const idleRam = c.report.nodes.reduce((s, n) => s + (n.idleRamCost ?? 0), 0);
  return {
    cluster: c.cluster,
    samples: c.samples,
    coveredHours: cents(c.coveredHours),
    nodeCost: cents(t.nodeCost),
    allocatedCost: cents(t.allocatedCost),
    idleCost: cents(t.idleCost),
    idleCpuCost: cents(idleCpu),
    idleRamCost: cents(idleRam),
    ...(t.overAllocatedCost ? { overAllocatedCost: cents(t.overAllocatedCost) } : {}),
    pods: c.report.pods.length,
    nodes: c.report.nodes.length,
    unknownCostPods: t.unknownCostPods,
    ...(why.size
      ? {
          unknownWhy: [...why]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3)
            .map(([reason, pods]) => ({ reason: reason.slice(0, 200), pods })),
        }
      : {}),
    unknownPriceNodes: t.unknownPriceNodes,
    unscheduledPods: t.unscheduledPods,
    ...(c.notes?.length ? { notes: c.notes.slice(0, 5) } : {}),
  };
}

function clusterLine(s: Summary): string {
  if ('error' in s) return `${s.cluster}: ${s.error}`;
  const unknown = s.unknownCostPods
    ? `; ${s.unknownCostPods} pods of unknown cost (${(s.unknownWhy ?? []).map((u) => `${u.pods}: ${u.reason}`).join('; ')})`
    : '';
  return (
    `${s.cluster}: nodes ${money(s.nodeCost)}, allocated ${money(s.allocatedCost)}, idle ${money(s.idleCost)} ` +
    `(CPU ${money(s.idleCpuCost)}, memory ${money(s.idleRamCost)})` +
    `${s.overAllocatedCost ? `, over-allocated ${money(s.overAllocatedCost)}` : ''}; ${s.pods} pods on ${s.nodes} nodes, ` +
    `${s.samples} samples covering ${s.coveredHours}h${unknown}` +
    `${s.unknownPriceNodes ? `; ${s.unknownPriceNodes} nodes without a price` : ''}` +
    `${s.unscheduledPods ? `; ${s.unscheduledPods} unscheduled pods` : ''}` +
    `${s.notes ? `; ${s.notes.join('; ')}` : ''}`
  );
}

interface Row extends Record<string, unknown> {
  cluster: string;
  key: string;
  pods: number;
  cpuCost: number;
  ramCost: number;
  total: number;
  /** Cores and GiB charged (max of request and usage), summed over the group's pods; not for label groups. */
  cores?: number;
  memGiB?: number;
  unknownPods: number;
}

function groupRows(cluster: string, r: AllocationReport, by: 'namespace' | 'workload' | 'label'): Row[] {
  const groups: CostGroup[] =
    by === 'namespace' ? r.namespaces : by === 'workload' ? r.workloads : (r.labels?.groups ?? []);
  const charged = new Map<string, { cores: number; gib: number }>();
  if (by !== 'label') {
    for (const p of r.pods) {
      const key = by === 'namespace' ? p.namespace : `${p.namespace}/${p.workload.kind}/${p.workload.name}`;
      const c = charged.get(key) ?? { cores: 0, gib: 0 };
      c.cores += p.cpuCores;
      c.gib += p.memoryGiB;
      charged.set(key, c);
    }
  }
  return groups.map((g) => {
    const c = charged.get(g.key);
    return {
      cluster,
      key: g.key,
      pods: g.pods,
      cpuCost: cents(g.cpuCost),
      ramCost: cents(g.ramCost),
      total: cents(g.totalCost),
      ...(c ? { cores: Math.round(c.cores * 1000) / 1000, memGiB: Math.round(c.gib * 100) / 100 } : {}),
      unknownPods: g.unknownPods,
    };
  });
}
