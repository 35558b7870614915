/**
 * Spend anomalies (issue 14, item 3): a group's (a service's, a namespace's) spend on a day is
 * anomalous when it is at least `minRatio` times its baseline AND at least `minAmountUsd` above it. The
 * baseline is the median of the `baselineDays` days before that day, of which at least
 * `minBaselineDays` must have data.
 *
 * Why a median and not a mean: one spike in the window (or a day the export had not filled in yet)
 * drags a mean up, which hides the next spike, or down, which invents one; the median ignores up to
 * half of the window. A lasting new level is no longer anomalous once it fills more than half the
 * window (about baselineDays / 2 days): by then it is a budget matter, not a surprise.
 *
 * Only the newest day with data is alerted on: a group is reported when that day is anomalous, with
 * the first day of the run of anomalous days leading to it ("since"); a group whose newest day is back
 * to normal is not reported, so its alert resolves. Days are UTC calendar days, as the providers bill.
 *
 * Compared with AWS Cost Anomaly Detection: AWS runs its (machine-learned, seasonality-aware) model
 * about three times a day over Cost Explorer data that lags up to 24 hours, so an anomaly often reaches
 * its subscribers a day after the spend. This rule runs whenever the cost check runs on the daily
 * series the CostSource returns, and judges the newest day even while the provider still marks it
 * estimated (flagged: an estimate usually rises, so the increase shown is a lower bound and a day not
 * yet anomalous may become so). It knows no seasonality beyond what a 14-day median absorbs (two of
 * each weekday: quiet weekends do not lower it), and every alert is explained by three numbers (the
 * day, the median, the ratio) an operator can check by hand.
 */
import { createHash } from 'node:crypto';
import type { AlertLine } from './budgets.ts';
import { formatUsd } from './budgets.ts';
import type { AnomalyPolicy } from './policy.ts';

export interface GroupDay {
  /** YYYY-MM-DD (UTC). */
  date: string;
  /** The service name or namespace; `''` for spend without the tag, `other` for the groups cut by the source. */
  group: string;
  amount: number;
}

export interface AnomalyInput {
  /** What the groups are (`service`, `namespace`, `tag:team`): named in the alert and its fingerprint. */
  dimension: string;
  /** Where the spend is from (`aws:123456789012`, `gcp:my-project`, `cluster:prod`): named in the alert and its fingerprint. */
  scope: string;
  /** Whole UTC days, `start` included, `end` excluded. */
  period: { start: string; end: string };
  /**
   * One row per day and group with spend (a SpendReport's `days`). A day of the period without any
   * row is a gap (no data yet, or lost): it is neither zero nor part of a baseline. A day with rows for
   * other groups but none for a group is zero spend for that group.
   */
  days: readonly GroupDay[];
  /** Days on or after this date are estimates the provider has not finalised. */
  estimatedFrom?: string;
}

export interface CostAnomaly {
  dimension: string;
  scope: string;
  group: string;
  /** The day judged (the newest day with data). */
  day: string;
  amount: number;
  /** The median of the days before it. */
  baseline: number;
  /** amount - baseline. */
  increase: number;
  /** amount / baseline; null when the baseline is zero (the amount threshold decided alone). */
  ratio: number | null;
  /** The first day of the run of anomalous days that ends on `day`. */
  since: string;
  /** Anomalous days in the run (gaps inside it not counted). */
  runDays: number;
  /** The sum over the run of each day's increase over its own baseline. */
  runIncrease: number;
  /** The day judged is an estimate: the figures may still rise. */
  estimated: boolean;
  /** Stable per scope, dimension and group: the alert's dedup key. */
  fingerprint: string;
  summary: string;
  fields: AlertLine[];
}

export interface AnomalyResult {
  /** The newest day with data, the one judged; undefined when the period has no data. */
  day: string | undefined;
  anomalies: CostAnomaly[];
  /** Groups whose day could not be judged, with why (too short a history). */
  notJudged: Array<{ group: string; why: string }>;
  /** Days of the period without any data. */
  gaps: string[];
}

/** A period longer than this is a caller's mistake: the rule needs baselineDays (<= 90) plus the days judged. */
export const ANOMALY_MAX_PERIOD_DAYS = 400;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const round2 = (n: number) => Math.round(n * 100) / 100;

function dayMs(date: string, what: string): number {
  const ms = DATE.test(date) ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new Error(`${what} must be a YYYY-MM-DD date, got ${JSON.stringify(date.slice(0, 20))}`);
  return ms;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function anomalyFingerprint(scope: string, dimension: string, group: string): string {
  return createHash('sha256')
    .update(['cost-anomaly', scope, dimension, group].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

const groupName = (g: string) => (g === '' ? '(untagged)' : g === 'other' ? 'other (the smaller groups together)' : g);

type Judged =
  | { kind: 'gap' }
  | { kind: 'short'; known: number }
  | { kind: 'judged'; baseline: number; anomalous: boolean };

/** Finds the groups whose newest day of spend is anomalous under the policy. */
export function findAnomalies(input: AnomalyInput, policy: AnomalyPolicy): AnomalyResult {
  const start = dayMs(input.period.start, 'period.start');
  const end = dayMs(input.period.end, 'period.end');
  const n = Math.round((end - start) / DAY_MS);
  if (n < 1 || n > ANOMALY_MAX_PERIOD_DAYS) {
    throw new Error(`the period must cover 1 to ${ANOMALY_MAX_PERIOD_DAYS} days, got ${n}`);
  }
  const dates = Array.from({ length: n }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
  const index = new Map(dates.map((d, i) => [d, i]));
  const known = new Array<boolean>(n).fill(false);
  const series = new Map<string, number[]>();
  for (const row of input.days) {
    const i = index.get(row.date);
    if (i === undefined || !Number.isFinite(row.amount)) continue;
    known[i] = true;
    let s = series.get(row.group);
    if (!s) {
      s = new Array<number>(n).fill(0);
      series.set(row.group, s);
    }
    s[i] = (s[i] as number) + row.amount;
  }
  const gaps = dates.filter((_, i) => !known[i]);
  const last = known.lastIndexOf(true);
  if (last < 0) return { day: undefined, anomalies: [], notJudged: [], gaps };
  const day = dates[last] as string;
  const estimatedAt = (i: number) => input.estimatedFrom !== undefined && (dates[i] as string) >= input.estimatedFrom;

  const judge = (s: readonly number[], i: number): Judged => {
    if (!known[i]) return { kind: 'gap' };
    const window: number[] = [];
    for (let j = Math.max(0, i - policy.baselineDays); j < i; j++) if (known[j]) window.push(s[j] as number);
    if (window.length < policy.minBaselineDays) return { kind: 'short', known: window.length };
    const baseline = median(window);
    const amount = s[i] as number;
    const increase = amount - baseline;
    const anomalous = increase > 0 && increase >= policy.minAmountUsd && amount >= policy.minRatio * baseline;
    return { kind: 'judged', baseline, anomalous };
  };

  const anomalies: CostAnomaly[] = [];
  const notJudged: AnomalyResult['notJudged'] = [];
  for (const [group, s] of series) {
    const now = judge(s, last);
    if (now.kind === 'short') {
      notJudged.push({
        group,
        why: `only ${now.known} of the ${policy.baselineDays} days before ${day} have data; ${policy.minBaselineDays} are needed for a baseline`,
      });
      continue;
    }
    if (now.kind !== 'judged' || !now.anomalous) continue;
    let since = last;
    let runDays = 1;
    let runIncrease = (s[last] as number) - now.baseline;
    for (let i = last - 1; i >= 0; i--) {
      const j = judge(s, i);
      if (j.kind === 'gap') continue;
      if (j.kind !== 'judged' || !j.anomalous) break;
      since = i;
      runDays += 1;
      runIncrease += (s[i] as number) - j.baseline;
    }
    const amount = round2(s[last] as number);
    const baseline = round2(now.baseline);
    const increase = round2(amount - baseline);
    const ratio = now.baseline > 0 ? Math.round(((s[last] as number) / now.baseline) * 100) / 100 : null;
    const sinceDate = dates[since] as string;
    const estimated = estimatedAt(last);
    const what = `${input.dimension} ${groupName(group)}`;
    const summary = `Spend of ${what} (${input.scope}) on ${day}: ${formatUsd(amount)}, ${ratio === null ? 'up from nothing' : `${ratio}x`} its ${policy.baselineDays}-day median ${formatUsd(baseline)} (+${formatUsd(increase)} a day) since ${sinceDate}${estimated ? ' (estimated)' : ''}`;
    const fields: AlertLine[] = [
      { label: 'What grew', value: `${what} in ${input.scope}` },
      { label: `Spend on ${day}`, value: `${formatUsd(amount)}${estimated ? ' (an estimate; may still rise)' : ''}` },
      { label: 'Baseline', value: `${formatUsd(baseline)} (median of the ${policy.baselineDays} days before)` },
      {
        label: 'Increase',
        value: `+${formatUsd(increase)} a day${ratio === null ? ' (from nothing)' : `, ${ratio}x`}`,
      },
      {
        label: 'Since',
        value: `${sinceDate} (${runDays} anomalous day${runDays === 1 ? '' : 's'}, ${formatUsd(runIncrease)} above baseline in all)`,
      },
    ];
    anomalies.push({
      dimension: input.dimension,
      scope: input.scope,
      group,
      day,
      amount,
      baseline,
      increase,
      ratio,
      since: sinceDate,
      runDays,
      runIncrease: round2(runIncrease),
      estimated,
      fingerprint: anomalyFingerprint(input.scope, input.dimension, group),
      summary,
      fields,
    });
  }
  anomalies.sort((a, b) => b.increase - a.increase || (a.group < b.group ? -1 : 1));
  notJudged.sort((a, b) => (a.group < b.group ? -1 : 1));
  return { day, anomalies, notJudged, gaps };
}
