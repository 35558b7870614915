import { createHash } from 'node:crypto';
import * as z from 'zod';
import { capText, jsonBytes } from '../../domain/bounds.ts';
import { canonicalJson } from '../../domain/k8s/index.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CostPeriod, CostSource, DailySpendQuery, SpendForecast, SpendReport } from '../../ports/cost.ts';
import type { Store } from '../../ports/store.ts';
import { AppError } from '../errors.ts';
import { CorruptRecordError, decodeRecord } from '../repos/codec.ts';

/*
 * Cloud spend through the Store (issue 14): every Cost Explorer request page costs $0.01 and every
 * BigQuery query bills the bytes it scans, so each answer is kept for COST_CACHE_TTL under its source
 * kind and the canonical query (period, grouping by service, tag or account, `only` sorted, maxGroups), with when it was fetched
 * and what it paid. A cached answer reports `pages: 0` and `cachedAt`.
 *
 * Concurrent callers of one query: within one process they share the fetch in flight (one pays);
 * across processes (Lambda replicas, a CLI beside the server) the race is accepted: each may pay once,
 * which is the query's pages (usually 1-3, i.e. $0.01-0.03 on AWS) per concurrent replica and TTL,
 * cheaper than a lease that would make every other caller wait on a Store poll.
 *
 * Records are bounded: a query spans at most SPEND_LIMITS.periodDays days and maxGroups groups, and an
 * answer whose record would exceed SPEND_LIMITS.recordBytes is served but not cached (said in `note`).
 */

export const SPEND_LIMITS = {
  periodDays: 400,
  maxGroups: 50,
  only: 50,
  /** Below DynamoDB's 400 KiB item limit with room for the keys and the record's other fields. */
  recordBytes: 300 * 1024,
  errorChars: 400,
} as const;

export interface SpendDeps {
  store: Store;
  clock: Clock;
  config: { cost: { cacheTtlMs: number } };
  costSources: readonly CostSource[];
}

interface CacheMeta {
  /** When the provider answered (ISO); set on a cache hit. */
  cachedAt?: string;
  /** The answer was too large to keep: the next caller pays again. */
  note?: string;
}

export type SourceSpend =
  | { source: string; ok: true; report: SpendReport & CacheMeta }
  | { source: string; ok: false; error: string };

export type CachedForecast = SpendForecast & CacheMeta;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const PK = (kind: string) => `cost-cache#${kind}`;

/** YYYY-MM-DD of a time (UTC). */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (date: string, n: number) => dayOf(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS);

/** The calendar month (UTC) of `now` as a period, and YYYY-MM. */
export function monthOf(now: number): { month: string; period: CostPeriod } {
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { month: dayOf(start).slice(0, 7), period: { start: dayOf(start), end: dayOf(end) } };
}

/** The query as its cache key reads it; a query out of bounds is the caller's mistake (AppError). */
export function canonicalQuery(q: DailySpendQuery): DailySpendQuery {
  const { start, end } = q.period;
  if (!DATE.test(start) || !DATE.test(end) || !(start < end))
    throw new AppError('period must be YYYY-MM-DD dates with start before end');
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY_MS;
  if (!(days <= SPEND_LIMITS.periodDays))
    throw new AppError(`period must span at most ${SPEND_LIMITS.periodDays} days`);
  if (!Number.isInteger(q.maxGroups) || q.maxGroups < 1 || q.maxGroups > SPEND_LIMITS.maxGroups)
    throw new AppError(`maxGroups must be 1..${SPEND_LIMITS.maxGroups}`);
  if (q.only && (q.only.length === 0 || q.only.length > SPEND_LIMITS.only))
    throw new AppError(`only must name 1..${SPEND_LIMITS.only} groups`);
  const groupBy: DailySpendQuery['groupBy'] =
    q.groupBy.by === 'tag'
      ? { by: 'tag', key: q.groupBy.key }
      : { by: q.groupBy.by === 'account' ? 'account' : 'service' };
  return {
    period: { start, end },
    groupBy,
    maxGroups: q.maxGroups,
    ...(q.only ? { only: [...new Set(q.only)].sort() } : {}),
  };
}

const ReportSchema = z.looseObject({
  currency: z.string(),
  period: z.object({ start: z.string(), end: z.string() }),
  days: z.array(z.object({ date: z.string(), group: z.string(), amount: z.number() })),
  total: z.number(),
  estimated: z.boolean(),
  pages: z.number(),
  bytesBilled: z.number().optional(),
});
const ForecastSchema = z.looseObject({
  currency: z.string(),
  period: z.object({ start: z.string(), end: z.string() }),
  amount: z.number(),
  lower: z.number().optional(),
  upper: z.number().optional(),
  method: z.enum(['provider', 'computed']),
  pages: z.number(),
  bytesBilled: z.number().optional(),
});
const RecordSchema = z.looseObject({ fetchedAt: z.string(), pages: z.number(), answer: z.unknown() });

/** Fetches in flight per Store and key: concurrent callers in one process share one (see above). */
const inFlight = new WeakMap<Store, Map<string, Promise<unknown>>>();

async function cached<T extends { pages: number; bytesBilled?: number }>(
  deps: SpendDeps,
  kind: string,
  what: string,
  key: unknown,
  schema: z.ZodType<T>,
  fetch: () => Promise<T>,
): Promise<T & CacheMeta> {
  const pk = PK(kind);
  const sk = `${what}#${createHash('sha256').update(canonicalJson(key)).digest('hex').slice(0, 40)}`;
  const ttl = deps.config.cost.cacheTtlMs;
  const item = await deps.store.get(pk, sk);
  if (item) {
    try {
      const rec = decodeRecord(RecordSchema, pk, sk, item.data);
      const at = Date.parse(rec.fetchedAt);
      if (Number.isFinite(at) && deps.clock.now() - at < ttl && deps.clock.now() >= at) {
        const answer = decodeRecord(schema, pk, sk, rec.answer);
        return {
          ...answer,
          pages: 0,
          ...(answer.bytesBilled !== undefined ? { bytesBilled: 0 } : {}),
          cachedAt: rec.fetchedAt,
        };
      }
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      // A corrupt record is a miss: the fetch below writes over it.
    }
  }
  let flights = inFlight.get(deps.store);
  if (!flights) {
    flights = new Map();
    inFlight.set(deps.store, flights);
  }
  const flightKey = `${pk}|${sk}`;
  const running = flights.get(flightKey) as Promise<T & CacheMeta> | undefined;
  if (running) {
    // Shared: the first caller paid; the others report the answer as cached.
    const shared = await running;
    return { ...shared, pages: 0, cachedAt: shared.cachedAt ?? new Date(deps.clock.now()).toISOString() };
  }
  const flight = (async (): Promise<T & CacheMeta> => {
    const answer = await fetch();
    const now = deps.clock.now();
    const data = { fetchedAt: new Date(now).toISOString(), pages: answer.pages, answer };
    if (jsonBytes(data) > SPEND_LIMITS.recordBytes) {
      return { ...answer, note: 'too large to cache: the next check pays again (narrow the period or maxGroups)' };
    }
    await deps.store.put({ pk, sk, data, expiresAt: Math.ceil((now + ttl) / 1000) });
    return answer;
  })();
  flights.set(flightKey, flight);
  try {
    return await flight;
  } finally {
    flights.delete(flightKey);
  }
}

export const errorText = (err: unknown): string =>
  capText(err instanceof Error ? err.message : String(err), SPEND_LIMITS.errorChars).replace(/\s+/g, ' ');

/** One source's daily spend for the query, from the cache when fresh. */
export function sourceSpend(
  deps: SpendDeps,
  source: CostSource,
  query: DailySpendQuery,
): Promise<SpendReport & CacheMeta> {
  const q = canonicalQuery(query);
  return cached(deps, source.kind, 'spend', q, ReportSchema as z.ZodType<SpendReport>, () => source.dailySpend(q));
}

/** Daily spend of every configured source for one query; a source that fails is reported, never skipped. */
export async function spendReports(
  deps: SpendDeps,
  q: { period: CostPeriod; groupBy: DailySpendQuery['groupBy']; maxGroups: number; only?: string[] },
): Promise<SourceSpend[]> {
  const query = canonicalQuery(q);
  return Promise.all(
    deps.costSources.map(async (source): Promise<SourceSpend> => {
      try {
        return { source: source.kind, ok: true, report: await sourceSpend(deps, source, query) };
      } catch (err) {
        if (err instanceof AppError) throw err;
        return { source: source.kind, ok: false, error: errorText(err) };
      }
    }),
  );
}

/**
 * The expected total of the calendar month of `now` (the provider's forecast or one computed from the
 * daily series, as the answer's `method` says), cached like spend. The key holds the day: a forecast
 * made yesterday is not today's.
 */
export function monthForecast(deps: SpendDeps, source: CostSource, now: number): Promise<CachedForecast> {
  const { period } = monthOf(now);
  return cached(
    deps,
    source.kind,
    'forecast',
    { period, day: dayOf(now) },
    ForecastSchema as z.ZodType<SpendForecast>,
    () => source.forecast(period),
  );
}
