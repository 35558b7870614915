import {
  CostExplorerClient,
  type Expression,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandInput,
  GetCostForecastCommand,
} from '@aws-sdk/client-cost-explorer';
import { CloudApiError, type CloudErrorCode } from '../../ports/cloud.ts';
import type {
  CostPeriod,
  CostSource,
  DailySpend,
  DailySpendQuery,
  SpendForecast,
  SpendReport,
} from '../../ports/cost.ts';
import {
  checkForecastPeriod,
  checkSpendQuery,
  computeForecast,
  dayOf,
  forecastSeriesPeriod,
  invalid,
  roundAmount,
  shapeDays,
} from '../cost-series.ts';
import { AWS_REGION } from './aws-config.ts';
import { toCloudApiError } from './aws-errors.ts';
import { bounded, untilAborted } from './eks-source.ts';
import type { AwsCredentialProvider, AwsCredentials } from './sts-roles.ts';

/*
 * The CostSource port over AWS Cost Explorer (issue 14): GetCostAndUsage (DAILY, UnblendedCost,
 * grouped by SERVICE, by one cost-allocation tag or by LINKED_ACCOUNT, every page) and GetCostForecast. Cost Explorer
 * charges $0.01 per request, so every answer counts the requests it made in `pages`.
 *
 * The forecast is the provider's (GetCostForecast, MONTHLY: one month's prediction interval is the
 * interval of that month's total, where summed daily bounds would only widen it) for the days from
 * today on, plus the actual spend of the period's days before today (GetCostAndUsage, ungrouped).
 * Where Cost Explorer has no forecast (DataUnavailableException: too little history, or an endpoint
 * without the operation, as moto_server) it is computed from the daily series (cost-series.ts
 * computeForecast: actual to date + the mean of the last 7 whole days × the days left) and says so.
 *
 * Each method is bounded by `timeoutMs` (all its requests together); every failure is a CloudApiError.
 */

export interface CostExplorerOptions {
  /** The SDK's default chain when absent. */
  credentials?: AwsCredentials | AwsCredentialProvider;
  /** AWS_ENDPOINT_URL (tests, VPC endpoints). */
  endpoint?: string;
  /** Cost Explorer's one endpoint is in us-east-1 (the default); aws-cn uses cn-northwest-1. */
  region?: string;
  /** Bound of each method call, all its pages together (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** AWS tag keys: 1-128 letters, digits, spaces and `_ . : / = + - @` (never `$`, which splits CE's group keys). */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
/** AWS account ids, as LINKED_ACCOUNT groups and filters name them. */
const ACCOUNT = /^\d{12}$/;
/** Requests one method may make (each $0.01): a year of daily rows by service takes a few. */
const MAX_PAGES = 40;

/** Cost Explorer's own error codes, which the generic AWS rules would call Internal. */
const CE_CODES: Record<string, CloudErrorCode> = {
  LimitExceededException: 'Throttled',
  DataUnavailableException: 'Unavailable',
  BillExpirationException: 'InvalidArgument',
  RequestChangedException: 'Conflict',
  UnresolvableUsageUnitException: 'InvalidArgument',
};

export function createCostExplorerSource(opts: CostExplorerOptions = {}): CostSource {
  const region = opts.region ?? 'us-east-1';
  if (!AWS_REGION.test(region)) throw new Error(`Cost Explorer region: not an AWS region: ${region.slice(0, 60)}`);
  if (opts.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(opts.endpoint)) {
    throw new Error('AWS endpoint (AWS_ENDPOINT_URL) must be an http(s) URL');
  }
  const timeoutMs = opts.timeoutMs ?? 15_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 100 && timeoutMs <= 300_000)) {
    throw new Error('Cost Explorer timeoutMs must be an integer 100..300000');
  }
  const now = opts.now ?? Date.now;
  const ce = new CostExplorerClient({
    region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    maxAttempts: 2,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
  });

  /** `run` under the time bound, its failures as CloudApiError (Cost Explorer's own codes mapped). */
  const call = async <T>(op: string, signal: AbortSignal, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await untilAborted(run(signal), signal);
    } catch (err) {
      const mapped = toCloudApiError(err, { service: 'Cost Explorer', op, signal, timeoutMs });
      const code = mapped.providerCode ? CE_CODES[mapped.providerCode] : undefined;
      throw code ? new CloudApiError('aws', code, mapped.message, mapped.providerCode) : mapped;
    }
  };

  /** Every page of one GetCostAndUsage query, as rows of (day, group, amount). */
  const costAndUsage = async (
    input: GetCostAndUsageCommandInput,
    grouped: DailySpendQuery['groupBy']['by'] | 'none',
    signal: AbortSignal,
  ) => {
    const rows: DailySpend[] = [];
    let currency: string | undefined;
    let estimated = false;
    let pages = 0;
    let token: string | undefined;
    const add = (date: string, group: string, metric: { Amount?: string; Unit?: string } | undefined) => {
      if (!metric?.Amount) return;
      const amount = Number(metric.Amount);
      if (!Number.isFinite(amount)) {
        throw new CloudApiError(
          'aws',
          'Internal',
          `GetCostAndUsage: an amount that is no number (${metric.Amount.slice(0, 40)})`,
        );
      }
      if (metric.Unit) {
        if (currency !== undefined && metric.Unit !== currency) {
          throw new CloudApiError('aws', 'Internal', `GetCostAndUsage: amounts in both ${currency} and ${metric.Unit}`);
        }
        currency = metric.Unit;
      }
      rows.push({ date, group, amount });
    };
    do {
      if (pages >= MAX_PAGES) {
        throw invalid(
          'aws',
          `Cost Explorer answered more than ${MAX_PAGES} pages: narrow the period, or filter with only`,
        );
      }
      const out = await ce.send(new GetCostAndUsageCommand({ ...input, NextPageToken: token }), {
        abortSignal: signal,
      });
      pages++;
      for (const r of out.ResultsByTime ?? []) {
        const date = r.TimePeriod?.Start ?? '';
        if (r.Estimated) estimated = true;
        if (grouped === 'none') add(date, '', r.Total?.UnblendedCost);
        for (const g of r.Groups ?? []) {
          const key = g.Keys?.[0] ?? '';
          // Tag groups come as `key$value` (`key$` without the tag).
          const group = grouped === 'tag' ? key.slice(key.indexOf('$') + 1) : key;
          add(date, group, g.Metrics?.UnblendedCost);
        }
      }
      token = out.NextPageToken || undefined;
    } while (token);
    return { rows, currency: currency ?? 'USD', estimated, pages };
  };

  return {
    kind: 'aws-cost-explorer',

    async dailySpend(query: DailySpendQuery): Promise<SpendReport> {
      const q = checkSpendQuery(query, {
        provider: 'aws',
        key: TAG_KEY,
        keyHelp: 'an AWS tag key (1-128 letters, digits, spaces and _ . : / = + - @)',
        account: ACCOUNT,
        accountHelp: 'a 12-digit AWS account id',
      });
      const input: GetCostAndUsageCommandInput = {
        TimePeriod: { Start: q.period.start, End: q.period.end },
        Granularity: 'DAILY',
        Metrics: ['UnblendedCost'],
        GroupBy: [
          q.groupBy.by === 'tag'
            ? { Type: 'TAG', Key: q.groupBy.key }
            : { Type: 'DIMENSION', Key: q.groupBy.by === 'account' ? 'LINKED_ACCOUNT' : 'SERVICE' },
        ],
      };
      if (q.only) input.Filter = filterOf(q.groupBy, q.only);
      return call('GetCostAndUsage', bounded(undefined, timeoutMs), async (signal) => {
        const res = await costAndUsage(input, q.groupBy.by, signal);
        const { days, total } = shapeDays(res.rows, q.maxGroups);
        return { currency: res.currency, period: q.period, days, total, estimated: res.estimated, pages: res.pages };
      });
    },

    async forecast(period: CostPeriod): Promise<SpendForecast> {
      const today = dayOf(now());
      const p = checkForecastPeriod('aws', period, today);
      const deadline = bounded(undefined, timeoutMs); // one bound for every request of the answer
      const from = p.start > today ? p.start : today; // GetCostForecast refuses a start before today
      let provider: { amount: number; lower?: number; upper?: number; currency?: string } | undefined;
      try {
        provider = await call('GetCostForecast', deadline, async (signal) => {
          const out = await ce.send(
            new GetCostForecastCommand({
              TimePeriod: { Start: from, End: p.end },
              Metric: 'UNBLENDED_COST',
              Granularity: 'MONTHLY',
              PredictionIntervalLevel: 80,
            }),
            { abortSignal: signal },
          );
          const amount = Number(out.Total?.Amount);
          if (!Number.isFinite(amount)) throw new CloudApiError('aws', 'Internal', 'GetCostForecast: no total amount');
          const months = out.ForecastResultsByTime ?? [];
          const sum = (pick: (m: (typeof months)[number]) => string | undefined) => {
            const values = months.map((m) => Number(pick(m)));
            return months.length && values.every(Number.isFinite) ? values.reduce((a, b) => a + b, 0) : undefined;
          };
          const lower = sum((m) => m.PredictionIntervalLowerBound);
          const upper = sum((m) => m.PredictionIntervalUpperBound);
          return {
            amount,
            ...(lower !== undefined ? { lower } : {}),
            ...(upper !== undefined ? { upper } : {}),
            ...(out.Total?.Unit ? { currency: out.Total.Unit } : {}),
          };
        });
      } catch (err) {
        if (!noForecast(err)) throw err;
      }

      if (provider) {
        let actual = 0;
        let pages = 1;
        let currency = provider.currency ?? 'USD';
        if (p.start < today) {
          const res = await call('GetCostAndUsage', deadline, (signal) =>
            costAndUsage(
              { TimePeriod: { Start: p.start, End: today }, Granularity: 'DAILY', Metrics: ['UnblendedCost'] },
              'none',
              signal,
            ),
          );
          actual = res.rows.reduce((a, r) => a + r.amount, 0);
          pages += res.pages;
          currency = provider.currency ?? res.currency;
        }
        const out: SpendForecast = {
          currency,
          period: p,
          amount: roundAmount(actual + provider.amount),
          method: 'provider',
          pages,
        };
        if (provider.lower !== undefined) out.lower = roundAmount(actual + provider.lower);
        if (provider.upper !== undefined) out.upper = roundAmount(actual + provider.upper);
        return out;
      }

      // Computed: whole days end before today (today's figures are still coming in).
      const series = forecastSeriesPeriod(p, today);
      const res = await call('GetCostAndUsage', deadline, (signal) =>
        costAndUsage(
          { TimePeriod: { Start: series.start, End: series.end }, Granularity: 'DAILY', Metrics: ['UnblendedCost'] },
          'none',
          signal,
        ),
      );
      const daily = new Map<string, number>();
      for (const r of res.rows) daily.set(r.date, (daily.get(r.date) ?? 0) + r.amount);
      return computeForecast({ period: p, completeEnd: today, daily, currency: res.currency, pages: res.pages });
    },
  };
}

/**
 * The Filter for `only`: services by name, linked accounts by id, or values of the grouping tag
 * (`''`: resources without it).
 */
function filterOf(groupBy: DailySpendQuery['groupBy'], only: string[]): Expression {
  if (groupBy.by === 'service') return { Dimensions: { Key: 'SERVICE', Values: only } };
  if (groupBy.by === 'account') return { Dimensions: { Key: 'LINKED_ACCOUNT', Values: only } };
  const values = only.filter((v) => v !== '');
  const parts: Expression[] = [];
  if (values.length) parts.push({ Tags: { Key: groupBy.key, Values: values } });
  if (values.length < only.length) parts.push({ Tags: { Key: groupBy.key, MatchOptions: ['ABSENT'] } });
  return parts.length === 1 ? (parts[0] as Expression) : { Or: parts };
}

/**
 * Whether Cost Explorer has no forecast to give: too little history (DataUnavailableException), or an
 * endpoint without the operation (moto_server answers an HTML 500 page; others UnknownOperationException).
 */
function noForecast(err: unknown): boolean {
  if (!(err instanceof CloudApiError)) return false;
  if (err.providerCode === 'DataUnavailableException' || err.providerCode === 'UnknownOperationException') return true;
  return err.code === 'Unavailable' && /not the Cost Explorer API/.test(err.message);
}
