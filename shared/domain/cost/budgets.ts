/**
 * Budgets judged against month-to-date spend and the month-end forecast (issue 14, item 3). Pure: the
 * cost check gathers the spend of each budget's scope (budgetScopeKey) and the forecast, and turns the
 * findings into alerts.
 *
 * Alerts. One finding per budget and kind (`actual`, `forecast`) whose highest crossed threshold it
 * names; its fingerprint is the budget, the kind and the month, so crossing 80% and then 100% updates
 * one message, and a new month is a new condition. "Resolved" follows from what a run reports: the
 * alerting use case resolves the fingerprints a run over the same scope no longer reports, so
 * - an `actual` alert resolves when the month ends (the next month's run reports the next month's
 *   fingerprint, and only once that month's spend crosses a threshold again), or within the month
 *   if refunds or credits bring the month-to-date spend back under its lowest threshold;
 * - a `forecast` alert resolves within the month as soon as the forecast falls under its lowest
 *   forecast threshold, and at the month's end.
 */
import { createHash } from 'node:crypto';
import { type BudgetPolicy, budgetScopeKey } from './policy.ts';

export interface DayAmount {
  /** YYYY-MM-DD (UTC). */
  date: string;
  amount: number;
}

/** The spend of one budget scope in the month judged. */
export interface BudgetSpend {
  currency: string;
  /** Daily spend of the month so far; a day without spend may be absent. Days outside the month are ignored. */
  days: readonly DayAmount[];
  /** The expected total of the month, when one was made (`computed` here from the daily series, or the provider's). */
  forecast?: { amount: number; method: 'provider' | 'computed' };
  /** The provider has not finalised the newest days: the month-to-date figure may still rise. */
  estimated?: boolean;
}

export interface BudgetInput {
  /** The calendar month (UTC) judged, YYYY-MM. */
  month: string;
  /** Spend per budgetScopeKey(budget.scope); a scope missing here is reported as not evaluated. */
  spend: Readonly<Record<string, BudgetSpend>>;
}

export type BudgetKind = 'actual' | 'forecast';

export interface AlertLine {
  label: string;
  value: string;
}

export interface BudgetFinding {
  budget: string;
  scopeKey: string;
  month: string;
  kind: BudgetKind;
  /** The highest threshold crossed (percent of monthlyUsd). */
  threshold: number;
  /** monthlyUsd x threshold / 100. */
  limit: number;
  /** Month-to-date spend (`actual`) or the forecast total (`forecast`). */
  current: number;
  /** current - limit (>= 0). */
  over: number;
  /** current as a percent of monthlyUsd (one decimal). */
  percent: number;
  /**
   * The first day the threshold was crossed. `actual`: the first day the running total reached the
   * limit. `forecast`: the first day a straight-line projection of the daily series (running total /
   * days elapsed x days in the month) reached it (`sinceBasis: 'run-rate'`); when it never did (the
   * provider forecasts more than the run-rate), the newest day of the series (`sinceBasis: 'forecast'`).
   */
  since: string | undefined;
  sinceBasis: 'running-total' | 'run-rate' | 'forecast';
  forecastMethod?: 'provider' | 'computed';
  estimated: boolean;
  severity: 'critical' | 'warning';
  /** Stable per budget, kind and month: the alert's dedup key. */
  fingerprint: string;
  summary: string;
  fields: AlertLine[];
}

export type BudgetStatus =
  | {
      budget: string;
      scopeKey: string;
      monthlyUsd: number;
      evaluated: true;
      actual: number;
      actualPercent: number;
      forecast?: number;
      forecastPercent?: number;
      forecastMethod?: 'provider' | 'computed';
      estimated: boolean;
      /** Kinds with a crossed threshold. */
      crossed: BudgetKind[];
    }
  | { budget: string; scopeKey: string; monthlyUsd: number; evaluated: false; why: string };

export interface BudgetResult {
  month: string;
  /** One per budget, in policy order (what cost_budgets_list shows). */
  statuses: BudgetStatus[];
  /** Crossed thresholds, at most one per budget and kind. */
  findings: BudgetFinding[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Days in a YYYY-MM month (UTC). */
export function daysInMonth(month: string): number {
  const m = MONTH.exec(month);
  if (!m) throw new Error(`month must be YYYY-MM, got ${JSON.stringify(month.slice(0, 20))}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
}

/** `$1,234.56`. */
export function formatUsd(n: number): string {
  const sign = n < 0 ? '-' : '';
  return `${sign}$${Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round1 = (n: number) => Math.round(n * 10) / 10;

export function budgetFingerprint(budget: string, kind: BudgetKind, month: string): string {
  return createHash('sha256').update(['cost-budget', budget, kind, month].join('\u0000')).digest('hex').slice(0, 32);
}

/** The month's days in date order, amounts of a repeated date summed. */
function monthDays(month: string, days: readonly DayAmount[]): DayAmount[] {
  const byDate = new Map<string, number>();
  for (const d of days) {
    if (!d.date.startsWith(`${month}-`) || !Number.isFinite(d.amount)) continue;
    byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.amount);
  }
  return [...byDate.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, amount]) => ({ date, amount }));
}

/** The first day a running figure, computed day by day, reached the limit. */
function firstDay(days: readonly DayAmount[], limit: number, projected: (total: number, day: number) => number) {
  let total = 0;
  for (const d of days) {
    total += d.amount;
    // In cents, as the month-to-date figure is: a float sum of 800.00 may be 799.9999999.
    if (projected(round2(total), Number(d.date.slice(8, 10))) >= limit) return d.date;
  }
  return undefined;
}

/**
 * Judges every budget. A threshold is crossed when the figure reaches it (>=). Spend in another
 * currency than USD, or no spend gathered for the scope, leaves the budget unevaluated with the reason.
 */
export function evaluateBudgets(budgets: readonly BudgetPolicy[], input: BudgetInput): BudgetResult {
  const nDays = daysInMonth(input.month);
  const statuses: BudgetStatus[] = [];
  const findings: BudgetFinding[] = [];
  for (const b of budgets) {
    const scopeKey = budgetScopeKey(b.scope);
    const base = { budget: b.name, scopeKey, monthlyUsd: b.monthlyUsd };
    const spend = Object.hasOwn(input.spend, scopeKey) ? input.spend[scopeKey] : undefined;
    if (!spend) {
      statuses.push({ ...base, evaluated: false, why: `no spend was gathered for ${scopeKey}` });
      continue;
    }
    if (spend.currency !== 'USD') {
      statuses.push({
        ...base,
        evaluated: false,
        why: `the spend of ${scopeKey} is in ${spend.currency.slice(0, 8)}; budgets are in USD`,
      });
      continue;
    }
    const days = monthDays(input.month, spend.days);
    const actual = round2(days.reduce((s, d) => s + d.amount, 0));
    const estimated = spend.estimated === true;
    const forecast = spend.forecast && Number.isFinite(spend.forecast.amount) ? spend.forecast : undefined;
    const crossed: BudgetKind[] = [];
    const judge = (kind: BudgetKind, current: number, thresholds: readonly number[]) => {
      const threshold = [...thresholds].reverse().find((t) => current >= (b.monthlyUsd * t) / 100);
      if (threshold === undefined) return;
      crossed.push(kind);
      const limit = round2((b.monthlyUsd * threshold) / 100);
      let since: string | undefined;
      let sinceBasis: BudgetFinding['sinceBasis'];
      if (kind === 'actual') {
        since = firstDay(days, limit, (total) => total);
        sinceBasis = 'running-total';
      } else {
        since = firstDay(days, limit, (total, day) => (total / day) * nDays);
        sinceBasis = since ? 'run-rate' : 'forecast';
        since ??= days.at(-1)?.date;
      }
      const percent = round1((current / b.monthlyUsd) * 100);
      const figure = kind === 'actual' ? 'month-to-date spend' : 'month-end forecast';
      const summary = `Budget ${b.name} (${scopeKey}): ${figure} ${formatUsd(current)} is ${percent}% of ${formatUsd(b.monthlyUsd)}, over the ${threshold}% threshold by ${formatUsd(current - limit)}${since ? ` since ${since}` : ''}`;
      const fields: AlertLine[] = [
        { label: 'Budget', value: `${b.name} (${scopeKey}), ${formatUsd(b.monthlyUsd)} a month` },
        { label: kind === 'actual' ? 'Month to date' : 'Forecast', value: `${formatUsd(current)} (${percent}%)` },
        { label: 'Threshold', value: `${threshold}% = ${formatUsd(limit)} (${kind})` },
        { label: 'Over by', value: formatUsd(current - limit) },
      ];
      if (since) {
        fields.push({
          label: 'Since',
          value: sinceBasis === 'forecast' ? `${since} (the forecast; the run-rate has not reached it)` : since,
        });
      }
      if (kind === 'forecast' && forecast) {
        fields.push({
          label: 'Forecast by',
          value: forecast.method === 'provider' ? "the provider's forecast" : 'computed here from the daily spend',
        });
      }
      if (estimated) fields.push({ label: 'Note', value: 'the newest days are estimates and may still rise' });
      findings.push({
        budget: b.name,
        scopeKey,
        month: input.month,
        kind,
        threshold,
        limit,
        current,
        over: round2(current - limit),
        percent,
        since,
        sinceBasis,
        ...(kind === 'forecast' && forecast ? { forecastMethod: forecast.method } : {}),
        estimated,
        severity: kind === 'actual' && threshold >= 100 ? 'critical' : 'warning',
        fingerprint: budgetFingerprint(b.name, kind, input.month),
        summary,
        fields,
      });
    };
    judge('actual', actual, b.thresholds.actual);
    if (forecast) judge('forecast', round2(forecast.amount), b.thresholds.forecast);
    statuses.push({
      ...base,
      evaluated: true,
      actual,
      actualPercent: round1((actual / b.monthlyUsd) * 100),
      ...(forecast
        ? {
            forecast: round2(forecast.amount),
            forecastPercent: round1((forecast.amount / b.monthlyUsd) * 100),
            forecastMethod: forecast.method,
          }
        : {}),
      estimated,
      crossed,
    });
  }
  return { month: input.month, statuses, findings };
}
