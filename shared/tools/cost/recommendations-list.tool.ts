import * as z from 'zod';
import { recommendations } from '../../app/cost/recommendations.ts';
import { defaultRightsizingPolicy } from '../../domain/cost/policy.ts';
import {
  cpuQuantity,
  memoryQuantity,
  type Refusal,
  type ResourceChange,
  type WorkloadRecommendation,
} from '../../domain/cost/rightsizing.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';
import { money, pinnedPage, readPinned } from './render.ts';

const TOOL = 'cost_recommendations_list';

export const costRecommendationsListTool = defineTool({
  name: TOOL,
  title: 'Right-sizing recommendations',
  description:
    'Container request right-sizing from usage samples, largest monthly saving first: current -> recommended requests, the k8s_resources_patch arguments that apply it, refusals with reasons; paged. Use to cut over-requested workloads.',
  group: 'cost',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    limit: z.number().int().min(1).max(200).default(20),
    continue: args.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const query = { tool: TOOL, cluster: input.cluster, namespace: input.namespace };
      const { skip, at } = readPinned(input.continue, query, ctx.deps.clock.now());
      const policy = ctx.deps.policy.cost?.rightsizing ?? defaultRightsizingPolicy();
      const got = await recommendations(ctx.deps, {
        now: at,
        ...(input.cluster !== undefined ? { cluster: input.cluster } : {}),
        ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      });
      const recs: Row[] = [];
      const refusals: Row[] = [];
      let notListed = 0;
      const clusters = got.clusters.map((c) => {
        if ('error' in c) return { cluster: c.cluster, error: c.error };
        recs.push(...c.result.recommendations.map(recommendationRow));
        refusals.push(...c.result.refusals.map(refusalRow));
        notListed += c.result.notListed.length;
        return {
          cluster: c.cluster,
          recommendations: c.result.recommendations.length,
          refusals: c.result.refusals.length,
          notListed: c.result.notListed.length,
          ...(c.notes?.length ? { notes: c.notes.slice(0, 5) } : {}),
        };
      });
      recs.sort((a, b) => (b.monthlySavingsUsd as number) - (a.monthlySavingsUsd as number));
      const saving = recs.reduce((s, r) => s + (r.monthlySavingsUsd as number), 0);
      const byCode = new Map<string, number>();
      for (const r of refusals) byCode.set(r.code as string, (byCode.get(r.code as string) ?? 0) + 1);
      const codes = [...byCode].map(([c, n]) => `${c} ${n}`).join(', ');
      const clusterLines = clusters.flatMap((c) =>
        'error' in c ? [`${c.cluster}: ${c.error}`] : (c.notes ?? []).map((n) => `${c.cluster}: ${n}`),
      );
      return pinnedPage({
        tool: TOOL,
        noun: 'recommendations and refusals',
        query,
        skip,
        rows: [...recs, ...refusals],
        limit: input.limit,
        at,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) =>
          [
            `Right-sizing from usage of the last ${policy.windowDays} days (CPU P${policy.cpuPercentile}, memory peak x ${policy.memoryHeadroom}): ` +
              `${recs.length} recommendations saving ${money(saving)} a month in all, ${refusals.length} refusals${codes ? ` (${codes})` : ''}, ` +
              `${notListed} workloads not listed (already sized, or under ${money(policy.minMonthlySavingsUsd)} a month); ${range} of ${total}`,
            ...clusterLines,
          ].join('\n'),
        text: (kept) => kept.map(rowText).join('\n'),
        structured: {
          windowDays: policy.windowDays,
          monthlySavingsUsd: Math.round(saving * 100) / 100,
          recommendations: recs.length,
          refusals: refusals.length,
          notListed,
          clusters,
        },
      });
    });
  },
});

type Row = Record<string, unknown>;

const quantity = (r: 'cpu' | 'memory', v: number | undefined) =>
  v === undefined ? 'none' : r === 'cpu' ? cpuQuantity(v) : memoryQuantity(v);

function change(r: 'cpu' | 'memory', c: ResourceChange): string {
  const seen = r === 'cpu' ? `P95 ${c.observed}m` : `peak ${(c.observed / 2 ** 20).toFixed(1)}Mi`;
  return `${r} ${quantity(r, c.current)} -> ${c.quantity} (${seen})${c.note ? ` [${c.note}]` : ''}`;
}

function recommendationRow(w: WorkloadRecommendation): Row {
  return {
    type: 'recommendation',
    cluster: w.cluster,
    namespace: w.namespace,
    kind: w.kind,
    name: w.name,
    replicas: w.replicas,
    monthlySavingsUsd: w.monthlySavingsUsd,
    containers: w.containers.map((c) => ({
      container: c.container,
      samples: c.samples,
      ...(c.cpu ? { cpu: { from: quantity('cpu', c.cpu.current), to: c.cpu.quantity, ...note(c.cpu) } } : {}),
      ...(c.memory
        ? { memory: { from: quantity('memory', c.memory.current), to: c.memory.quantity, ...note(c.memory) } }
        : {}),
      monthlyCostDeltaUsd: c.monthlyCostDeltaUsd,
      text: [c.cpu ? change('cpu', c.cpu) : '', c.memory ? change('memory', c.memory) : ''].filter(Boolean).join(', '),
    })),
    ...(w.notes.length ? { notes: w.notes } : {}),
    patch: w.patch,
  };
}

const note = (c: ResourceChange) => (c.note ? { note: c.note } : {});

function refusalRow(r: Refusal): Row {
  return {
    type: 'refusal',
    cluster: r.cluster,
    namespace: r.namespace,
    kind: r.kind,
    name: r.name,
    ...(r.container ? { container: r.container } : {}),
    resources: r.resources,
    code: r.code,
    why: r.why,
  };
}

function rowText(r: Row): string {
  const where = `${r.namespace}/${String(r.kind).toLowerCase()}/${r.name} on ${r.cluster}`;
  if (r.type === 'refusal')
    return `REFUSED ${where}${r.container ? ` container ${r.container}` : ''} (${(r.resources as string[]).join(', ')}): ${r.code}: ${r.why}`;
  const containers = r.containers as Array<{ container: string; samples: number; text: string }>;
  const patch = r.patch as WorkloadRecommendation['patch'];
  // The use case prices a workload by the nodes its pods ran on; on nodes without a price its saving is unknown.
  const unpriced = ((r.notes as string[] | undefined) ?? []).some((n) => n.startsWith('the saving is unknown'));
  const saving = unpriced ? 'saving unknown' : `save ${money(r.monthlySavingsUsd as number)} a month`;
  return [
    `${where}: ${saving} (${r.replicas} replicas)`,
    ...containers.map((c) => `  ${c.container} (${c.samples} samples): ${c.text}`),
    ...((r.notes as string[] | undefined) ?? []).map((n) => `  note: ${n}`),
    `  apply: ${patch.tool} ${JSON.stringify(patch.arguments)} (dryRun: true first)`,
  ].join('\n');
}
