import { CloudApiError } from '../ports/cloud.ts';
import type { CostPeriod, DailySpend, DailySpendQuery, SpendForecast } from '../ports/cost.ts';

/*
 * What the two CostSource adapters (aws/cost-explorer.ts, gcp/bigquery-billing.ts) share: checking a
 * caller's period and grouping, cutting the groups to `maxGroups` (the rest summed as `other`), and
 * the forecast computed from a daily series when the provider has none of its own.
 */

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** One year and a day: a calendar year, a leap one included. */
export const MAX_PERIOD_DAYS = 366;
export const MAX_GROUPS = 200;
export const MAX_ONLY = 100;
const MAX_VALUE = 256;
/** Whole days the computed forecast averages over. */
export const BASELINE_DAYS = 7;

type Provider = 'aws' | 'gcp';

export function invalid(provider: Provider, message: string): CloudApiError {
  return new CloudApiError(provider, 'InvalidArgument', message);
}

/** YYYY-MM-DD of an epoch-ms instant (UTC). */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
}

/** Whole days from `a` to `b` (negative when b is earlier). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

const minDay = (a: string, b: string) => (a < b ? a : b);
const maxDay = (a: string, b: string) => (a > b ? a : b);

function checkDay(provider: Provider, what: string, value: unknown): string {
  const ok =
    typeof value === 'string' &&
    DATE.test(value) &&
    !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
    dayOf(Date.parse(`${value}T00:00:00Z`)) === value; // 2026-02-30 parses, and rolls over
  if (!ok) throw invalid(provider, `period.${what} must be a date YYYY-MM-DD, not ${String(value).slice(0, 40)}`);
  return value as string;
}

/** A period of whole UTC days, start before end, at most MAX_PERIOD_DAYS long. */
export function checkPeriod(provider: Provider, period: CostPeriod): CostPeriod {
  const start = checkDay(provider, 'start', period?.start);
  const end = checkDay(provider, 'end', period?.end);
  if (start >= end)
    throw invalid(provider, `period.start (${start}) must be before period.end (${end}); end is excluded`);
  if (daysBetween(start, end) > MAX_PERIOD_DAYS) {
    throw invalid(provider, `a period is at most ${MAX_PERIOD_DAYS} days (${start}..${end} is longer)`);
  }
  return { start, end };
}

export interface GroupRules {
  provider: Provider;
  /** What a tag key must look like, and how the message says it. */
  key: RegExp;
  keyHelp: string;
  /** What an account (AWS) or project (GCP) id in `only` must look like, and how the message says it. */
  account: RegExp;
  accountHelp: string;
}

/** The query checked: period, grouping (the tag key by the provider's rules), `only` and `maxGroups`. */
export function checkSpendQuery(q: DailySpendQuery, rules: GroupRules): DailySpendQuery {
  const { provider } = rules;
  const period = checkPeriod(provider, q?.period);
  const g = q.groupBy;
  if (g?.by !== 'service' && g?.by !== 'tag' && g?.by !== 'account') {
    throw invalid(provider, "groupBy.by must be 'service', 'tag' or 'account'");
  }
  if (g.by === 'tag' && (typeof g.key !== 'string' || !rules.key.test(g.key))) {
    throw invalid(provider, `groupBy.key: ${rules.keyHelp}, not ${String(g.key).slice(0, 60)}`);
  }
  if (!(Number.isInteger(q.maxGroups) && q.maxGroups >= 1 && q.maxGroups <= MAX_GROUPS)) {
    throw invalid(provider, `maxGroups must be an integer 1..${MAX_GROUPS}`);
  }
  const out: DailySpendQuery = {
    period,
    groupBy: g.by === 'tag' ? { by: 'tag', key: g.key } : { by: g.by },
    maxGroups: q.maxGroups,
  };
  if (q.only !== undefined) {
    const what = { tag: 'tag values', service: 'service names', account: `ids (${rules.accountHelp})` }[g.by];
    if (!Array.isArray(q.only) || q.only.length === 0 || q.only.length > MAX_ONLY) {
      throw invalid(provider, `only: give 1 to ${MAX_ONLY} ${what}`);
    }
    for (const v of q.only) {
      if (g.by === 'account') {
        if (typeof v !== 'string' || !rules.account.test(v)) {
          throw invalid(provider, `only: each ${rules.accountHelp}, not ${String(v).slice(0, 40)}`);
        }
        continue;
      }
      // '' is spend without the tag; a service always has a name.
      const min = g.by === 'tag' ? 0 : 1;
      if (typeof v !== 'string' || v.length < min || v.length > MAX_VALUE) {
        throw invalid(provider, `only: each a string of ${min}-${MAX_VALUE} characters`);
      }
    }
    out.only = [...new Set(q.only)];
  }
  return out;
}

/** Amounts to 10 decimals, as the providers report them, so sums carry no float noise (0.30000000000000004). */
export function roundAmount(n: number): number {
  return Math.round(n * 1e10) / 1e10;
}

/**
 * The report's rows: one per day and group with non-zero spend, ordered by date then group. When there
 * are more than `maxGroups` groups, the `maxGroups` largest by total over the period are kept (ties by
 * name) and the others are summed per day as `other` (merged with a real group of that name, if one is kept).
 */
export function shapeDays(rows: DailySpend[], maxGroups: number): { days: DailySpend[]; total: number } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.group, (totals.get(r.group) ?? 0) + r.amount);
  let keep: Set<string> | undefined;
  if (totals.size > maxGroups) {
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    keep = new Set(ranked.slice(0, maxGroups).map(([g]) => g));
  }
  const cells = new Map<string, DailySpend>();
  let total = 0;
  for (const r of rows) {
    const group = !keep || keep.has(r.group) ? r.group : 'other';
    const key = `${r.date}\u0000${group}`;
    const cell = cells.get(key) ?? { date: r.date, group, amount: 0 };
    cell.amount += r.amount;
    cells.set(key, cell);
    total += r.amount;
  }
  const days = [...cells.values()]
    .map((d) => ({ ...d, amount: roundAmount(d.amount) }))
    .filter((d) => d.amount !== 0)
    .sort((a, b) =>
      a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.group < b.group ? -1 : a.group > b.group ? 1 : 0,
    );
  return { days, total: roundAmount(total) };
}

/** A forecast period checked: whole days, ending after `today` (a past period has spend, not a forecast). */
export function checkForecastPeriod(provider: Provider, period: CostPeriod, today: string): CostPeriod {
  const p = checkPeriod(provider, period);
  if (p.end <= today) {
    throw invalid(provider, `a forecast needs a period that ends after today (${today}); ${p.start}..${p.end} is past`);
  }
  return p;
}

/**
 * The daily series the computed forecast needs: from the period's start (or BASELINE_DAYS before
 * the first incomplete day, if that is earlier) up to the first incomplete day.
 */
export function forecastSeriesPeriod(period: CostPeriod, completeEnd: string): CostPeriod {
  return { start: minDay(period.start, addDays(completeEnd, -BASELINE_DAYS)), end: completeEnd };
}

/**
 * The computed forecast: the actual spend of the period's complete days (before `completeEnd`), plus
 * the mean daily spend of the BASELINE_DAYS complete days before `completeEnd` (a day without rows
 * counts as zero) × the period's days from `completeEnd` on. `daily` holds each day's total.
 */
export function computeForecast(args: {
  period: CostPeriod;
  completeEnd: string;
  daily: Map<string, number>;
  currency: string;
  pages: number;
}): SpendForecast {
  const { period, completeEnd, daily } = args;
  const baselineStart = addDays(completeEnd, -BASELINE_DAYS);
  let actual = 0;
  let baseline = 0;
  for (const [day, amount] of daily) {
    if (day >= period.start && day < minDay(completeEnd, period.end)) actual += amount;
    if (day >= baselineStart && day < completeEnd) baseline += amount;
  }
  const remaining = Math.max(0, daysBetween(maxDay(period.start, completeEnd), period.end));
  return {
    currency: args.currency,
    period: { ...period },
    amount: roundAmount(actual + (baseline / BASELINE_DAYS) * remaining),
    method: 'computed',
    pages: args.pages,
  };
}
