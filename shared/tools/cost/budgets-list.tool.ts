import * as z from 'zod';
import { budgetStatuses } from '../../app/cost/check.ts';
import type { BudgetFinding, BudgetStatus } from '../../domain/cost/budgets.ts';
import { defaultCostPolicy } from '../../domain/cost/policy.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';
import { money, paidText, pinnedPage, readPinned, sourceName } from './render.ts';

const TOOL = 'cost_budgets_list';
/** Errors of the check shown in the heading; the rest are counted. */
const ERRORS_SHOWN = 5;

export const costBudgetsListTool = defineTool({
  name: TOOL,
  title: 'Budgets',
  description:
    "The policy's cost budgets judged now: scope, month-to-date spend, month-end forecast and its method, percent of budget, thresholds crossed and since when; paged. Use to see which budgets are at risk.",
  group: 'cost',
  access: 'read',
  input: z.object({
    limit: z.number().int().min(1).max(200).default(50),
    continue: args.continue,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const query = { tool: TOOL };
      const { skip, at } = readPinned(input.continue, query, ctx.deps.clock.now());
      const policy = ctx.deps.policy.cost ?? defaultCostPolicy();
      const s = await budgetStatuses(ctx.deps, at);
      const thresholds = new Map(policy.budgets.map((b) => [b.name, b.thresholds]));
      const rows = s.budgets.map((b) =>
        row(
          b,
          s.findings.filter((f) => f.budget === b.budget),
          thresholds.get(b.budget),
        ),
      );
      const crossed = rows.filter((r) => r.crossed.length > 0).length;
      const paid = s.sources
        .map((src) => {
          const p = paidText(src.source, src.pages);
          return `${sourceName(src.source)} ${p ? `paid ${p}` : 'from the cache'}`;
        })
        .join('; ');
      const errors = s.errors.slice(0, ERRORS_SHOWN).map((e) => e.slice(0, 300));
      return pinnedPage({
        tool: TOOL,
        noun: 'budgets',
        query,
        skip,
        rows,
        limit: input.limit,
        at,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) =>
          [
            total === 0
              ? `No budgets: add them under cost.budgets in the policy file (month ${s.month}).`
              : `Budgets for ${s.month} (judged ${s.checkedAt}): ${range} of ${total}, ${crossed} with a threshold crossed`,
            ...(paid ? [`Spend: ${paid}`] : []),
            ...errors.map((e) => `Error: ${e}`),
            ...(s.errors.length > ERRORS_SHOWN ? [`and ${s.errors.length - ERRORS_SHOWN} more errors`] : []),
          ].join('\n'),
        text: (kept) => kept.map(rowText).join('\n'),
        structured: {
          month: s.month,
          checkedAt: s.checkedAt,
          crossed,
          sources: s.sources.map((src) => ({ source: src.source, pages: src.pages, cacheHits: src.cacheHits })),
          ...(s.errors.length ? { errors, errorsTotal: s.errors.length } : {}),
        },
      });
    });
  },
});

interface Row extends Record<string, unknown> {
  budget: string;
  scope: string;
  monthlyUsd: number;
  crossed: Array<{ kind: string; threshold: number; since?: string; over: number }>;
}

function row(
  b: BudgetStatus,
  findings: BudgetFinding[],
  thresholds: { actual: number[]; forecast: number[] } | undefined,
): Row {
  const base = {
    budget: b.budget,
    scope: b.scopeKey,
    monthlyUsd: b.monthlyUsd,
    ...(thresholds ? { thresholds } : {}),
  };
  const crossed = findings.map((f) => ({
    kind: f.kind,
    threshold: f.threshold,
    ...(f.since ? { since: f.since } : {}),
    over: f.over,
  }));
  if (!b.evaluated) return { ...base, evaluated: false, why: b.why.slice(0, 300), crossed };
  return {
    ...base,
    evaluated: true,
    monthToDate: b.actual,
    percent: b.actualPercent,
    ...(b.forecast !== undefined
      ? { forecast: b.forecast, forecastPercent: b.forecastPercent, forecastMethod: b.forecastMethod }
      : {}),
    estimated: b.estimated,
    crossed,
  };
}

function rowText(r: Row): string {
  const head = `${r.budget} (${r.scope}), ${money(r.monthlyUsd)} a month`;
  if (r.evaluated !== true) return `${head}: not evaluated: ${String(r.why)}`;
  const forecast =
    r.forecast !== undefined
      ? `; forecast ${money(r.forecast as number)} (${r.forecastPercent}%, ${r.forecastMethod === 'provider' ? "provider's" : 'computed'})`
      : '; no forecast';
  const crossed = r.crossed.length
    ? `; CROSSED ${r.crossed.map((c) => `${c.kind} ${c.threshold}% by ${money(c.over)}${c.since ? ` since ${c.since}` : ''}`).join(', ')}`
    : '; within thresholds';
  return `${head}: month to date ${money(r.monthToDate as number)} (${r.percent}%)${r.estimated ? ' (newest days estimated)' : ''}${forecast}${crossed}`;
}
