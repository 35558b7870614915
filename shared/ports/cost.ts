/**
 * The cloud-spend port for the cost checks: AWS Cost Explorer, the GCP billing export in BigQuery
 * (adapters come with the checks). Amounts are in the account's billing currency, as the provider
 * reports them (unblended cost on AWS, cost after credits on GCP).
 */

/** Whole UTC days: `start` included, `end` excluded (both YYYY-MM-DD). */
export interface CostPeriod {
  start: string;
  end: string;
}

/**
 * Spend per cloud service, per value of one cost-allocation tag (GCP: label), or per account: on AWS
 * the linked account (Cost Explorer dimension LINKED_ACCOUNT, the 12-digit id: on an Organizations
 * payer account the bill covers every member), on GCP the project (the billing export's `project.id`;
 * `''` for charges without a project).
 */
export type CostGroupBy = { by: 'service' } | { by: 'tag'; key: string } | { by: 'account' };

export interface DailySpendQuery {
  period: CostPeriod;
  groupBy: CostGroupBy;
  /** Only these groups (service names, tag values of the grouping tag, or account / project ids). */
  only?: string[];
  /** At most this many groups, the largest by total over the period; the rest are summed as `other`. */
  maxGroups: number;
}

export interface DailySpend {
  /** YYYY-MM-DD (UTC). */
  date: string;
  /**
   * The service name, tag value or account / project id; `''` for spend without the tag (or project);
   * `other` for groups cut by maxGroups.
   */
  group: string;
  amount: number;
}

export interface SpendReport {
  currency: string;
  period: CostPeriod;
  /** One row per day and group with spend, ordered by date then group. */
  days: DailySpend[];
  total: number;
  /** The provider has not finalised the newest days (their figures may still rise). */
  estimated: boolean;
  /**
   * API pages this answer paid for (Cost Explorer charges $0.01 per request page; BigQuery bills the
   * bytes a query scans, reported as `bytesBilled`). 0 when it came from a cache.
   */
  pages: number;
  /** BigQuery: bytes billed for the query. */
  bytesBilled?: number;
}

export interface SpendForecast {
  currency: string;
  period: CostPeriod;
  /** The expected total for the period. */
  amount: number;
  /** Prediction interval, when the provider gives one. */
  lower?: number;
  upper?: number;
  /**
   * `provider`: the provider's own forecast (Cost Explorer GetCostForecast); `computed`: projected
   * from the daily series here (the provider has none, or not for this period), said in every answer.
   */
  method: 'provider' | 'computed';
  /** API pages this answer paid for: a computed forecast counts the pages of the series it read; 0 when cached. */
  pages: number;
  /** BigQuery: bytes billed for the series a computed forecast read. */
  bytesBilled?: number;
}

export interface CostSource {
  readonly kind: string;
  /** Daily spend over a past period, grouped. */
  dailySpend(query: DailySpendQuery): Promise<SpendReport>;
  /** The expected total spend over a period that ends in the future (e.g. the rest of the month). */
  forecast(period: CostPeriod): Promise<SpendForecast>;
}
