import * as z from 'zod';
import { InvalidContinueError } from '../../app/repos/drift-findings.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { capCells, cellCap, fitFetchedPage, moreLine, resultBudget, table } from '../common/render.ts';
import { defineTool, fail, result } from '../tool.ts';
import { countsText, findingRow } from './render.ts';

export const driftFindingsListTool = defineTool({
  name: 'drift_findings_list',
  title: 'List drift findings',
  description:
    'Drifted, deleted and unreadable objects from the last drift checks, with counts per state, each changed ' +
    'field and who changed it. Paged with continue.',
  group: 'drift',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    state: z.enum(['drifted', 'deleted', 'error']).optional(),
    limit: z.number().int().min(1).max(200).default(50),
    continue: args.continue,
  }),
  output: z
    .object({ counts: z.object({}).passthrough(), count: z.number(), items: z.array(z.object({}).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    return answer(async () => {
      const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
      let head: { counts: Record<string, number>; clusters: Array<{ cluster: string; checkedAt: string }> } | undefined;
      let omitted = 0;
      const fetch = async (limit: number) => {
        const page = await ctx.deps.driftFindings.list({
          limit,
          ...(input.cluster ? { cluster: input.cluster } : {}),
          ...(input.namespace ? { namespace: input.namespace } : {}),
          ...(input.state ? { state: input.state } : {}),
          ...(input.continue ? { continue: input.continue } : {}),
        });
        head = { counts: page.counts, clusters: page.clusters };
        omitted = page.omitted ?? 0;
        return { items: page.items.map((f) => capCells(findingRow(f), cellCap(budget))), cursor: page.next };
      };
      try {
        return await fitFetchedPage(input.limit, budget, fetch, (items, cursor) => {
          const h = head as NonNullable<typeof head>;
          if (h.clusters.length === 0) {
            return result('No drift check has run yet here: run drift_checks_run, or set a schedule.', {
              counts: h.counts,
              clusters: [],
              count: 0,
              items: [],
            });
          }
          const checked = h.clusters.map((c) => `${c.cluster} at ${c.checkedAt}`).join(', ');
          const more = cursor ? moreLine('drift_findings_list', 'findings', { token: cursor }) : undefined;
          const lines = [
            `Last drift checks (${checked}): ${countsText(h.counts as never)}.`,
            ...(omitted ? [`${omitted} findings were over the stored limit and are counted only.`] : []),
            ...(more ? [more] : []),
            table(['state', 'cluster', 'object', 'changes', 'since'], items),
          ];
          return result(lines.filter(Boolean).join('\n'), {
            counts: h.counts,
            clusters: h.clusters,
            count: items.length,
            items,
            ...(cursor ? { continue: cursor, more } : {}),
          });
        });
      } catch (err) {
        if (err instanceof InvalidContinueError) return fail(err.message);
        throw err;
      }
    });
  },
});
