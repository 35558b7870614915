import * as z from 'zod';
import { addDays, type CachedForecast, dayOf, errorText, monthForecast, spendReports } from '../../app/cost/spend.ts';
import { AppError } from '../../app/errors.ts';
import type { CostGroupBy, CostPeriod, SpendReport } from '../../ports/cost.ts';
import { answer } from '../common/errors.ts';
import { fitPage, resultBudget, table, wireBytes } from '../common/render.ts';
import { summarizeSeries } from '../common/series.ts';
import { defineTool, result } from '../tool.ts';
import { cents, money, noSources, paidText, sourceName } from './render.ts';

const TOOL = 'cost_reports_get';
/** A daily series up to this long is shown whole; a longer one is summarized. */
const WHOLE_DAYS = 31;
/** Points of a summarized series, most first, fewer when the answer would not fit. */
const POINT_CAPS = [12, 6, 0] as const;

export const costReportsGetTool = defineTool({
  name: TOOL,
  title: 'Cloud spend report',
  description:
    'Cloud spend (AWS Cost Explorer, GCP billing export) by service or tag, month to date or the last N days: totals per group, daily series, month-end forecast, pages paid. Use to see what the clouds cost and where.',
  group: 'cost',
  access: 'read',
  input: z.object({
    by: z.enum(['service', 'tag']).default('service'),
    tagKey: z.string().max(128).optional().describe('default COST_TAG_KEY'),
    days: z.number().int().min(1).max(92).optional().describe('default: month to date'),
    only: z.array(z.string().max(256)).min(1).max(50).optional(),
    maxGroups: z.number().int().min(1).max(50).default(10),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const deps = ctx.deps;
      if (deps.costSources.length === 0) throw noSources();
      const tagKey = input.tagKey ?? deps.config.cost.tagKey;
      if (input.by === 'tag' && !tagKey)
        throw new AppError('by: "tag" needs tagKey, or COST_TAG_KEY set on the server');
      const groupBy: CostGroupBy = input.by === 'tag' ? { by: 'tag', key: tagKey as string } : { by: 'service' };
      const now = deps.clock.now();
      const today = dayOf(now);
      // Today included (its figures are still coming in: the provider marks them estimated).
      const period: CostPeriod = {
        start: input.days ? addDays(today, 1 - input.days) : `${today.slice(0, 8)}01`,
        end: addDays(today, 1),
      };
      const [spend, forecasts] = await Promise.all([
        spendReports(deps, {
          period,
          groupBy,
          maxGroups: input.maxGroups,
          ...(input.only ? { only: input.only } : {}),
        }),
        Promise.all(deps.costSources.map((s) => monthForecast(deps, s, now).catch((err: unknown) => errorOf(err)))),
      ]);
      const sources = spend.map((s, i) =>
        s.ok ? summary(s.source, s.report, forecasts[i]) : { source: s.source, error: s.error },
      );
      const paid = sources.reduce((n, s) => n + ('pages' in s ? s.pages : 0), 0);
      const ceCost = sources
        .filter((s) => s.source === 'aws-cost-explorer' && 'pages' in s)
        .reduce((n, s) => n + ('pages' in s ? s.pages : 0), 0);
      const mode = input.days ? `last ${input.days} days` : 'month to date';
      const what = groupBy.by === 'tag' ? `tag ${groupBy.key}` : 'service';
      const heading =
        `Cloud spend by ${what}, ${mode} ${period.start} to ${today} (UTC, today so far): ` +
        `${sources.length} source${sources.length === 1 ? '' : 's'}`;
      const paidLine = ceCost
        ? `This answer cost ${money(ceCost * 0.01)} in Cost Explorer pages (${ceCost} paid; repeats within COST_CACHE_TTL are free).`
        : paid
          ? `This answer paid for ${paid} provider pages.`
          : 'This answer paid for no pages: every figure came from the cache.';
      const budget = resultBudget(deps.config.outputBudgetBytes);
      const build = (groups: number, points: number | 'all') => {
        const shown = sources.map((s) => ('error' in s ? s : shape(s, groups, points)));
        const text = [heading, paidLine, ...shown.map(sourceText)].join('\n');
        return result(text, {
          period: { start: period.start, end: today },
          mode: input.days ? 'days' : 'month-to-date',
          groupBy: groupBy.by,
          ...(groupBy.by === 'tag' ? { tagKey: groupBy.key } : {}),
          pagesPaid: paid,
          ...(ceCost ? { costUsd: cents(ceCost * 0.01) } : {}),
          count: shown.length,
          sources: shown,
        });
      };
      // A source gives up to maxGroups groups and `other` for the rest.
      const most = Math.max(0, ...sources.map((s) => ('groups' in s ? s.groups.length : 0)));
      for (const points of ['all', ...POINT_CAPS] as const) {
        const r = build(most, points);
        if (wireBytes(r) <= budget) return r;
      }
      return fitPage(most, budget, (n) => build(n, 0));
    });
  },
});

interface Summary {
  source: string;
  currency: string;
  total: number;
  days: number;
  estimated: boolean;
  groups: Array<{ group: string; total: number; share: number }>;
  daily: Array<{ date: string; amount: number }>;
  forecast: { amount: number; method: string; lower?: number; upper?: number } | { error: string };
  pages: number;
  paid?: string;
  cachedAt?: string;
  note?: string;
}

function errorOf(err: unknown): { error: string } {
  if (err instanceof AppError) throw err;
  return { error: errorText(err) };
}

/** One source's report as totals per group (largest first) and totals per day. */
function summary(
  source: string,
  r: SpendReport & { cachedAt?: string; note?: string },
  f: CachedForecast | { error: string } | undefined,
): Summary {
  const byGroup = new Map<string, number>();
  const byDay = new Map<string, number>();
  for (const d of r.days) {
    byGroup.set(d.group, (byGroup.get(d.group) ?? 0) + d.amount);
    byDay.set(d.date, (byDay.get(d.date) ?? 0) + d.amount);
  }
  const groups = [...byGroup]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([group, total]) => ({
      group: group === '' ? '(untagged)' : group,
      total: cents(total),
      share: r.total ? Math.round((total / r.total) * 1000) / 10 : 0,
    }));
  const pages = r.pages + (f && !('error' in f) ? f.pages : 0);
  const bytes = (r.bytesBilled ?? 0) + (f && !('error' in f) ? (f.bytesBilled ?? 0) : 0);
  const paid = paidText(source, pages, bytes);
  const forecast: Summary['forecast'] =
    !f || 'error' in f
      ? { error: f?.error ?? 'no forecast' }
      : {
          amount: cents(f.amount),
          method: f.method,
          ...(f.lower !== undefined ? { lower: cents(f.lower) } : {}),
          ...(f.upper !== undefined ? { upper: cents(f.upper) } : {}),
        };
  return {
    source,
    currency: r.currency,
    total: cents(r.total),
    days: Math.round((Date.parse(r.period.end) - Date.parse(r.period.start)) / 86_400_000),
    estimated: r.estimated,
    groups,
    daily: [...byDay].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, amount]) => ({ date, amount: cents(amount) })),
    forecast,
    pages,
    ...(paid ? { paid } : {}),
    ...(r.cachedAt ? { cachedAt: r.cachedAt } : {}),
    ...(r.note ? { note: r.note } : {}),
  };
}

/** A summary cut to `groups` groups and its daily series to `points` (all of a short one, else summarized). */
function shape(s: Summary, groups: number, points: number | 'all') {
  const { daily, groups: all, ...rest } = s;
  const whole = points === 'all' && daily.length <= WHOLE_DAYS;
  const series = whole
    ? { daily }
    : {
        dailySummary: summarizeSeries(
          daily.map((d) => ({ t: Date.parse(`${d.date}T00:00:00Z`), v: d.amount })),
          points === 'all' ? POINT_CAPS[0] : points,
        ),
      };
  return {
    ...rest,
    groups: all.slice(0, groups),
    ...(all.length > groups ? { groupsOmitted: all.length - groups } : {}),
    ...series,
  };
}

type Shaped = ReturnType<typeof shape> | { source: string; error: string };

function sourceText(s: Shaped): string {
  const name = sourceName(s.source);
  if ('error' in s) return `${name}: could not be read: ${s.error}`;
  const f = s.forecast;
  const forecast =
    'error' in f
      ? `no forecast (${f.error})`
      : `${money(f.amount, s.currency)} (${f.method === 'provider' ? "the provider's forecast" : 'computed here from the last 7 days'}` +
        `${f.lower !== undefined && f.upper !== undefined ? `, range ${money(f.lower, s.currency)}-${money(f.upper, s.currency)}` : ''})`;
  const lines = [
    `${name}: ${money(s.total, s.currency)} over ${s.days} days${s.estimated ? ' (newest days estimated, may rise)' : ''}; month-end forecast ${forecast}`,
    `  ${s.cachedAt ? `from the cache (fetched ${s.cachedAt})` : `paid: ${s.paid ?? 'nothing'}`}${s.note ? `; ${s.note}` : ''}`,
  ];
  if ('daily' in s && s.daily)
    lines.push(`  daily: ${s.daily.map((d) => `${d.date.slice(5)} ${d.amount.toFixed(2)}`).join(', ')}`);
  if ('dailySummary' in s && s.dailySummary) {
    const d = s.dailySummary;
    const pts = d.points.map((p) => `${p.time.slice(5, 10)} ${p.value}`).join(', ');
    lines.push(
      `  daily (summarized): n=${d.count} min ${d.min} max ${d.max} avg ${d.avg}${d.trend ? ` trend ${d.trend.direction}` : ''}${pts ? `; points ${pts}` : ''}`,
    );
  }
  const rows = s.groups.map((g) => ({ group: g.group.slice(0, 60), total: g.total.toFixed(2), share: `${g.share}%` }));
  lines.push(table(['group', 'total', 'share'], rows).replace(/^/gm, '  '));
  if (s.groupsOmitted)
    lines.push(`  ${s.groupsOmitted} smaller groups left out to fit the output budget (ask with only)`);
  return lines.join('\n');
}
