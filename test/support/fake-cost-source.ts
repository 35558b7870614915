import {
  checkForecastPeriod,
  checkSpendQuery,
  computeForecast,
  dayOf,
  forecastSeriesPeriod,
  roundAmount,
  shapeDays,
} from '../../shared/adapters/cost-series.ts';
import type { CloudApiError } from '../../shared/ports/cloud.ts';
import type {
  CostPeriod,
  CostSource,
  DailySpend,
  DailySpendQuery,
  SpendForecast,
  SpendReport,
} from '../../shared/ports/cost.ts';

/*
 * An in-memory CostSource that behaves as the real adapters do (shared/adapters/aws/cost-explorer.ts,
 * gcp/bigquery-billing.ts) where the tools can tell: the same query checks (cost-series.ts
 * checkSpendQuery: whole-day periods of at most 366 days, start before end, the provider's tag-key
 * rules, maxGroups 1..200, `only` 1..100), the same shaping (the maxGroups largest groups, the rest
 * summed as `other`), a forecast only for a period that ends after today, computed from the last 7
 * whole days unless a provider forecast is set, and every answer counting the request pages it paid
 * for (Cost Explorer pages its GetCostAndUsage answers; here one page per `pageRows` rows of day and
 * group read). More lenient than the real ones: no latency, no throttling unless `failWith` is set,
 * and the page size is fixed here (Cost Explorer decides its own).
 */

/** One billed line: a day, a service, the account (AWS) or project (GCP) billed, and the line's tags. */
export interface BilledLine {
  date: string;
  service: string;
  /** The linked account (12-digit id) or project id; absent: a line without one (grouped as ''). */
  account?: string;
  tags?: Record<string, string>;
  amount: number;
}

export interface FakeCostSourceOptions {
  kind?: 'aws-cost-explorer' | 'gcp-bigquery-billing';
  now: () => number;
  currency?: string;
  /** Rows of (day, group) per request page (default 100). */
  pageRows?: number;
  /** Days at the end of the data the provider has not finalised (SpendReport.estimated). */
  estimatedDays?: number;
  /** Set: the provider's forecast for the days from today on (method `provider`); absent: computed. */
  providerForecast?: (remaining: CostPeriod) => number;
}

/** Cost Explorer's tag keys, and the billing export's label keys (as the adapters check them). */
const AWS_TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const GCP_LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
/** AWS account ids, and GCP project ids (as the adapters check them in `only`). */
const AWS_ACCOUNT = /^\d{12}$/;
const GCP_PROJECT = /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export class FakeCostSource implements CostSource {
  readonly kind: string;
  readonly lines: BilledLine[] = [];
  /** Calls made to the source, by method: what a cache saves. */
  readonly calls = { dailySpend: 0, forecast: 0 };
  /** Pages paid for across every call. */
  pagesPaid = 0;
  /** Set: every call fails with it (a throttled or unreachable provider). */
  failWith?: CloudApiError;

  private readonly o: FakeCostSourceOptions;

  constructor(o: FakeCostSourceOptions) {
    this.o = o;
    this.kind = o.kind ?? 'aws-cost-explorer';
  }

  private get provider(): 'aws' | 'gcp' {
    return this.kind === 'aws-cost-explorer' ? 'aws' : 'gcp';
  }

  private pages(rows: number): number {
    return Math.max(1, Math.ceil(rows / (this.o.pageRows ?? 100)));
  }

  async dailySpend(query: DailySpendQuery): Promise<SpendReport> {
    this.calls.dailySpend++;
    if (this.failWith) throw this.failWith;
    const gcp = this.provider === 'gcp';
    const q = checkSpendQuery(query, {
      provider: this.provider,
      key: gcp ? GCP_LABEL_KEY : AWS_TAG_KEY,
      keyHelp: gcp ? 'a GCP label key' : 'an AWS tag key',
      account: gcp ? GCP_PROJECT : AWS_ACCOUNT,
      accountHelp: gcp ? 'a GCP project id' : 'a 12-digit AWS account id',
    });
    const cells = new Map<string, DailySpend>();
    for (const l of this.lines) {
      if (l.date < q.period.start || l.date >= q.period.end) continue;
      const g = q.groupBy;
      const group = g.by === 'service' ? l.service : g.by === 'account' ? (l.account ?? '') : (l.tags?.[g.key] ?? '');
      if (q.only && !q.only.includes(group)) continue;
      const key = `${l.date}\u0000${group}`;
      const cell = cells.get(key) ?? { date: l.date, group, amount: 0 };
      cell.amount = roundAmount(cell.amount + l.amount);
      cells.set(key, cell);
    }
    const { days, total } = shapeDays([...cells.values()], q.maxGroups);
    const pages = this.pages(cells.size);
    this.pagesPaid += pages;
    const newest = days.reduce((m, d) => (d.date > m ? d.date : m), '');
    const estimatedFrom = dayOf(this.o.now() - (this.o.estimatedDays ?? 0) * 86_400_000);
    return {
      currency: this.o.currency ?? 'USD',
      period: q.period,
      days,
      total,
      estimated: (this.o.estimatedDays ?? 0) > 0 && newest >= estimatedFrom,
      pages,
    };
  }

  async forecast(period: CostPeriod): Promise<SpendForecast> {
    this.calls.forecast++;
    if (this.failWith) throw this.failWith;
    const today = dayOf(this.o.now());
    const p = checkForecastPeriod(this.provider, period, today);
    const series = forecastSeriesPeriod(p, today);
    const daily = new Map<string, number>();
    let rows = 0;
    for (const l of this.lines) {
      if (l.date < series.start || l.date >= series.end) continue;
      if (!daily.has(l.date)) rows++;
      daily.set(l.date, (daily.get(l.date) ?? 0) + l.amount);
    }
    const currency = this.o.currency ?? 'USD';
    if (this.o.providerForecast) {
      let actual = 0;
      for (const [d, a] of daily) if (d >= p.start && d < today) actual += a;
      const pages = 1 + (p.start < today ? this.pages(rows) : 0);
      this.pagesPaid += pages;
      const from = p.start > today ? p.start : today;
      return {
        currency,
        period: p,
        amount: roundAmount(actual + this.o.providerForecast({ start: from, end: p.end })),
        method: 'provider',
        pages,
      };
    }
    const pages = this.pages(rows);
    this.pagesPaid += pages;
    return computeForecast({ period: p, completeEnd: today, daily, currency, pages });
  }
}

/**
 * A large bill: `days` days up to yesterday (UTC) of `services` services, each line tagged with one of
 * `teams` team values (every 7th line untagged), billed to `account` (an AWS account or GCP project
 * id) when given. Amounts are whole cents, so sums are exact.
 */
export function seedBill(
  source: FakeCostSource,
  o: { now: number; days: number; services: number; teams: number; tagKey?: string; account?: string },
): void {
  const today = Date.parse(`${dayOf(o.now)}T00:00:00Z`);
  for (let d = o.days; d >= 1; d--) {
    const date = dayOf(today - d * 86_400_000);
    for (let s = 0; s < o.services; s++) {
      const i = d * o.services + s;
      source.lines.push({
        date,
        service: `Service ${String(s).padStart(3, '0')} ${'s'.repeat(s % 5 === 0 ? 60 : 4)}`,
        ...(o.account !== undefined ? { account: o.account } : {}),
        ...(i % 7 === 0 ? {} : { tags: { [o.tagKey ?? 'team']: `team-${i % o.teams}` } }),
        amount: ((s + 1) * 137 + d * 11) / 100,
      });
    }
  }
}
