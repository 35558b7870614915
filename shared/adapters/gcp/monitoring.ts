import type { GcpTimeSeriesQuery, Page, TimeSeries } from '../../ports/cloud.ts';
import { checkProject } from './compute.ts';
import { cloudError, type RestCall } from './google-rest.ts';

/**
 * Cloud Monitoring v3 projects.timeSeries.list over REST
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list), view FULL.
 *
 * The caller's limit counts series; Monitoring's pageSize counts points under view FULL. The page
 * asks for `limit` series' worth of aligned points, and when it still brings more than `limit`
 * series (sparse ones), the answer keeps the first `limit` and its token says to read the same
 * page again past them, so every series is returned once and no page is longer than the limit.
 */

const MAX_FILTER = 4000;
const MAX_GROUP_BY = 20;
const MAX_PAGE_POINTS = 100_000;
const MAX_ALIGNMENT_S = 104 * 7 * 86_400;
const ALIGNER = /^ALIGN_[A-Z0-9_]{1,40}$/;
const REDUCER = /^REDUCE_[A-Z0-9_]{1,40}$/;
const GROUP_BY = /^[a-z][A-Za-z0-9_.]{0,200}$/;
const TOKEN_PREFIX = 'ts1.';

function invalid(message: string): never {
  throw cloudError('InvalidArgument', message);
}

interface Cursor {
  /** Monitoring's pageToken of the page to read (absent: the first). */
  t?: string;
  /** Series of that page already returned. */
  s: number;
}

function encodeCursor(c: Cursor): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(token: string | undefined): Cursor {
  if (token === undefined) return { s: 0 };
  const bad = () => invalid('not a page token of this time series query: pass nextToken exactly as it came');
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 8192) return bad();
  try {
    const c = JSON.parse(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')) as Cursor;
    const okSkip = Number.isInteger(c.s) && c.s >= 0 && c.s <= MAX_PAGE_POINTS;
    const okToken = c.t === undefined || (typeof c.t === 'string' && c.t.length > 0 && c.t.length <= 4096);
    return okSkip && okToken ? c : bad();
  } catch {
    return bad();
  }
}

interface ApiPoint {
  interval?: { startTime?: string; endTime?: string };
  value?: {
    doubleValue?: number | string;
    int64Value?: string | number;
    boolValue?: boolean;
    distributionValue?: { mean?: number };
  };
}

interface ApiSeries {
  metric?: { type?: string; labels?: Record<string, string> };
  resource?: { type?: string; labels?: Record<string, string> };
  unit?: string;
  points?: ApiPoint[];
}

/** A point's number: int64 comes as a JSON string, doubles may be "NaN"/"Infinity" strings (skipped). */
function pointValue(v: ApiPoint['value']): number | undefined {
  if (!v) return undefined;
  let n: number | undefined;
  if (v.doubleValue !== undefined) n = Number(v.doubleValue);
  else if (v.int64Value !== undefined) n = Number(v.int64Value);
  else if (v.boolValue !== undefined) n = v.boolValue ? 1 : 0;
  else if (v.distributionValue) n = v.distributionValue.mean ?? 0;
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

function toSeries(s: ApiSeries): TimeSeries {
  const labels: Record<string, string> = { ...(s.metric?.labels ?? {}) };
  for (const [k, v] of Object.entries(s.resource?.labels ?? {})) labels[`resource.${k}`] = v;
  const points: TimeSeries['points'] = [];
  // Monitoring answers newest first; the port wants oldest first.
  for (const p of [...(s.points ?? [])].reverse()) {
    const value = pointValue(p.value);
    const at = Date.parse(p.interval?.endTime ?? '');
    if (value === undefined || Number.isNaN(at)) continue;
    points.push({ time: new Date(at).toISOString(), value });
  }
  return {
    metricType: s.metric?.type ?? '',
    resourceType: s.resource?.type ?? '',
    labels,
    ...(s.unit ? { unit: s.unit } : {}),
    points,
  };
}

export async function queryTimeSeries(rest: RestCall, base: string, q: GcpTimeSeriesQuery): Promise<Page<TimeSeries>> {
  checkProject(q.project);
  if (typeof q.filter !== 'string' || q.filter.trim() === '' || q.filter.length > MAX_FILTER) {
    invalid(`filter must be a Monitoring filter of 1-${MAX_FILTER} characters naming metric.type`);
  }
  const start = q.start.getTime();
  const end = q.end.getTime();
  if (Number.isNaN(start) || Number.isNaN(end) || start >= end) invalid('start must be a time before end');
  const period = q.alignmentPeriodSeconds;
  if (!Number.isInteger(period) || period < 60 || period > MAX_ALIGNMENT_S) {
    invalid('alignmentPeriodSeconds must be a whole number of seconds from 60 (Monitoring minimum) to 104 weeks');
  }
  if (!ALIGNER.test(q.aligner))
    invalid(`not a Monitoring aligner (ALIGN_MEAN, ALIGN_MAX, ...): ${q.aligner.slice(0, 48)}`);
  if (q.reducer !== undefined && !REDUCER.test(q.reducer)) {
    invalid(`not a Monitoring reducer (REDUCE_MEAN, REDUCE_SUM, ...): ${q.reducer.slice(0, 48)}`);
  }
  const groupBy = q.groupBy ?? [];
  if (groupBy.length > MAX_GROUP_BY) invalid(`at most ${MAX_GROUP_BY} groupBy fields`);
  for (const g of groupBy) {
    if (!GROUP_BY.test(g)) invalid(`not a Monitoring label path (like resource.label.zone): ${g.slice(0, 64)}`);
  }
  if (groupBy.length && !q.reducer) invalid('groupBy needs a reducer (REDUCE_MEAN, REDUCE_SUM, ...)');
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000) invalid('limit must be an integer from 1 to 1000');
  const cursor = decodeCursor(q.nextToken);

  const pointsPerSeries = Math.floor((end - start) / 1000 / period) + 1;
  const pageSize = Math.min(MAX_PAGE_POINTS, Math.max(q.limit, q.limit * pointsPerSeries));
  const res = await rest<{ timeSeries?: ApiSeries[]; nextPageToken?: string; unit?: string }>(
    `querying time series of ${q.project}`,
    {
      url: `${base}/v3/projects/${q.project}/timeSeries`,
      params: {
        filter: q.filter,
        'interval.startTime': new Date(start).toISOString(),
        'interval.endTime': new Date(end).toISOString(),
        'aggregation.alignmentPeriod': `${period}s`,
        'aggregation.perSeriesAligner': q.aligner,
        'aggregation.crossSeriesReducer': q.reducer,
        'aggregation.groupByFields': groupBy.length ? groupBy : undefined,
        view: 'FULL',
        pageSize,
        pageToken: cursor.t,
      },
      signal: q.signal,
    },
  );
  const remaining = (res.timeSeries ?? []).slice(cursor.s);
  const items = remaining.slice(0, q.limit).map(toSeries);
  if (remaining.length > q.limit) {
    const again: Cursor = { s: cursor.s + q.limit };
    if (cursor.t !== undefined) again.t = cursor.t;
    return { items, nextToken: encodeCursor(again) };
  }
  return res.nextPageToken ? { items, nextToken: encodeCursor({ t: res.nextPageToken, s: 0 }) } : { items };
}
