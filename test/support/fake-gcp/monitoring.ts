import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBearer, sendJson } from './compute.ts';
import { type FakeGoogleTokens, listenLoopback } from './identity.ts';

/**
 * A loopback Cloud Monitoring API v3 `projects.timeSeries.list`, for the GCP inventory adapter.
 *
 * Built from https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list,
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#Aggregation (aligner,
 * reducer and alignment period rules), https://cloud.google.com/monitoring/api/v3/filters,
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TimeSeries (point and value shapes) and
 * https://cloud.google.com/apis/design/errors:
 * - `GET /v3/projects/{p}/timeSeries` with `filter` (required; must select a `metric.type`),
 *   `interval.endTime` (required), `interval.startTime` (default: the end time; later than the end
 *   is 400), `aggregation.alignmentPeriod` (a Duration like "60s"; with an aligner other than
 *   ALIGN_NONE it is required and at least 60 s), `aggregation.perSeriesAligner`,
 *   `aggregation.crossSeriesReducer` (needs an aligner other than ALIGN_NONE), `aggregation.groupByFields`
 *   (repeated), `view` (FULL or HEADERS), `pageSize` (FULL: points per page, HEADERS: series;
 *   empty or above 100000 means 100000, as documented; negative is 400), `pageToken`;
 * - points newest first, each `{interval: {startTime, endTime}, value}`; `int64Value` as a JSON
 *   string (proto3 JSON), `doubleValue` as a number, `distributionValue` with `count` (string) and `mean`;
 * - the aligned value type as Monitoring documents it: ALIGN_MEAN and ALIGN_RATE give DOUBLE,
 *   ALIGN_COUNT INT64, ALIGN_SUM/MAX/MIN keep the type; ALIGN_RATE on a GAUGE metric is 400;
 * - errors `{error: {code, message, status}}`: 400 INVALID_ARGUMENT for the above; 401 without a valid
 *   token; 403 `Permission monitoring.timeSeries.list denied (or the resource may not exist).` for an
 *   unknown project or a principal without monitoring.viewer.
 * Simpler than the real API: see README.md.
 */

export type MetricKind = 'GAUGE' | 'DELTA' | 'CUMULATIVE';
export type ValueType = 'DOUBLE' | 'INT64' | 'BOOL' | 'DISTRIBUTION';

export interface FakeTimeSeries {
  metricType: string;
  metricLabels?: Record<string, string>;
  resourceType: string;
  resourceLabels?: Record<string, string>;
  metricKind?: MetricKind;
  valueType: ValueType;
  unit?: string;
  /** Raw points, any order; `time` is RFC 3339. A DISTRIBUTION point's value is its mean. */
  points: Array<{ time: string; value: number }>;
}

export interface FakeMonitoringProject {
  id: string;
  series: FakeTimeSeries[];
  /** Principals with monitoring.viewer. */
  viewers: string[];
  hang?: boolean;
}

export interface FakeMonitoringApi {
  /** Base URL (`http://127.0.0.1:<port>`); the API lives under `/v3/`. */
  url: string;
  requests: string[];
  projects: Map<string, FakeMonitoringProject>;
  close(): Promise<void>;
}

const SUPPORTED_ALIGNERS = [
  'ALIGN_NONE',
  'ALIGN_MEAN',
  'ALIGN_MAX',
  'ALIGN_MIN',
  'ALIGN_SUM',
  'ALIGN_COUNT',
  'ALIGN_RATE',
];
const SUPPORTED_REDUCERS = ['REDUCE_NONE', 'REDUCE_MEAN', 'REDUCE_SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_COUNT'];
const MAX_PAGE = 100_000;

class BadRequest extends Error {}

function fieldError(field: string, value: string, why: string): never {
  throw new BadRequest(`Field ${field} had an invalid value of "${value}": ${why}`);
}

type Term = { key: string; op: '=' | '!='; value: string };

/** The conjunction subset of the Monitoring filter language: `key = "v"` / `key != "v"` joined by AND. */
export function parseMonitoringFilter(filter: string): Term[] | undefined {
  const terms: Term[] = [];
  for (const part of filter.trim().split(/\s+AND\s+/)) {
    const m =
      /^(metric\.type|resource\.type|(?:metric|resource)\.labels?\.[A-Za-z_][\w]*)\s*(!=|=)\s*"((?:[^"\\]|\\.)*)"$/.exec(
        part.trim(),
      );
    if (!m) return undefined;
    terms.push({ key: (m[1] as string).replace('.labels.', '.label.'), op: m[2] as Term['op'], value: m[3] as string });
  }
  return terms;
}

function labelOf(s: FakeTimeSeries, key: string): string | undefined {
  if (key === 'metric.type') return s.metricType;
  if (key === 'resource.type') return s.resourceType;
  const m = /^(metric|resource)\.labels?\.(.+)$/.exec(key);
  if (!m) return undefined;
  return (m[1] === 'metric' ? s.metricLabels : s.resourceLabels)?.[m[2] as string];
}

function outLabel(s: OutSeries, key: string): string | undefined {
  if (key === 'metric.type') return s.metric.type;
  if (key === 'resource.type') return s.resource.type;
  const m = /^(metric|resource)\.labels?\.(.+)$/.exec(key);
  return m ? s[m[1] as 'metric' | 'resource'].labels[m[2] as string] : undefined;
}

/** ALIGN_RATE: a DELTA window's sum, or a CUMULATIVE window's increase, per second. */
function rate(values: number[], kind: MetricKind, seconds: number): number {
  return (kind === 'DELTA' ? aggregate(values, 'SUM') : Math.max(...values) - Math.min(...values)) / seconds;
}

function parseTime(field: string, value: string | null): number {
  const t =
    value && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) fieldError(field, value ?? '', 'must be an RFC 3339 timestamp');
  return t;
}

function aggregate(values: number[], how: string): number {
  switch (how) {
    case 'MEAN':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SUM':
      return values.reduce((a, b) => a + b, 0);
    case 'MAX':
      return Math.max(...values);
    case 'MIN':
      return Math.min(...values);
    default:
      return values.length; // COUNT
  }
}

function valueJson(type: ValueType, v: number) {
  if (type === 'INT64') return { int64Value: String(Math.round(v)) };
  if (type === 'BOOL') return { boolValue: v !== 0 };
  if (type === 'DISTRIBUTION') return { distributionValue: { count: '1', mean: v } };
  return { doubleValue: v };
}

interface OutSeries {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: string; labels: Record<string, string> };
  metricKind: MetricKind;
  valueType: ValueType;
  unit?: string;
  /** Oldest first here; reversed on the wire. */
  points: Array<{ start: number; end: number; value: number }>;
}

export async function startFakeMonitoringApi(
  tokens: FakeGoogleTokens,
  projects: FakeMonitoringProject[],
): Promise<FakeMonitoringApi> {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const requests: string[] = [];
  const error = (res: ServerResponse, code: number, status: string, message: string) =>
    sendJson(res, code, { error: { code, message, status } });

  const query = (project: FakeMonitoringProject, q: URLSearchParams): { series: OutSeries[]; view: string } => {
    const filter = q.get('filter') ?? '';
    const terms = filter ? parseMonitoringFilter(filter) : undefined;
    if (!terms) fieldError('filter', filter, 'the filter could not be parsed');
    if (!terms.some((t) => t.key === 'metric.type' && t.op === '=')) {
      fieldError('filter', filter, 'a filter must specify a metric type');
    }
    const end = parseTime('interval.endTime', q.get('interval.endTime'));
    const start = q.has('interval.startTime') ? parseTime('interval.startTime', q.get('interval.startTime')) : end;
    if (start > end)
      fieldError(
        'interval.startTime',
        q.get('interval.startTime') ?? '',
        'the start time must not be later than the end time',
      );
    const view = q.get('view') ?? 'FULL';
    if (view !== 'FULL' && view !== 'HEADERS')
      throw new BadRequest(
        `Invalid value at 'view' (type.googleapis.com/google.monitoring.v3.ListTimeSeriesRequest.TimeSeriesView), "${view}"`,
      );

    const aligner = q.get('aggregation.perSeriesAligner') ?? 'ALIGN_NONE';
    const reducer = q.get('aggregation.crossSeriesReducer') ?? 'REDUCE_NONE';
    if (!/^ALIGN_[A-Z0-9_]+$/.test(aligner))
      throw new BadRequest(
        `Invalid value at 'aggregation.per_series_aligner' (type.googleapis.com/google.monitoring.v3.Aggregation.Aligner), "${aligner}"`,
      );
    if (!/^REDUCE_[A-Z0-9_]+$/.test(reducer))
      throw new BadRequest(
        `Invalid value at 'aggregation.cross_series_reducer' (type.googleapis.com/google.monitoring.v3.Aggregation.Reducer), "${reducer}"`,
      );
    if (!SUPPORTED_ALIGNERS.includes(aligner))
      fieldError('aggregation.perSeriesAligner', aligner, 'not supported by this fake');
    if (!SUPPORTED_REDUCERS.includes(reducer))
      fieldError('aggregation.crossSeriesReducer', reducer, 'not supported by this fake');
    const periodRaw = q.get('aggregation.alignmentPeriod');
    let period = 0;
    if (periodRaw !== null) {
      const m = /^(\d+(?:\.\d{1,9})?)s$/.exec(periodRaw);
      if (!m) fieldError('aggregation.alignmentPeriod', periodRaw, 'not a Duration like "60s"');
      period = Number(m[1]) * 1000;
    }
    if (aligner !== 'ALIGN_NONE' && period < 60_000) {
      fieldError('aggregation.alignmentPeriod', periodRaw ?? '', 'The alignment period must be at least 60 seconds.');
    }
    if (reducer !== 'REDUCE_NONE' && aligner === 'ALIGN_NONE') {
      fieldError(
        'aggregation.perSeriesAligner',
        aligner,
        'a cross-series reducer requires a per-series aligner other than ALIGN_NONE',
      );
    }
    const groupBy = q.getAll('aggregation.groupByFields');
    for (const g of groupBy) {
      if (!/^(metric\.type|resource\.type|(?:metric|resource)\.labels?\.[A-Za-z_]\w*)$/.test(g)) {
        fieldError('aggregation.groupByFields', g, 'not a label of the time series');
      }
    }

    let out: OutSeries[] = [];
    for (const s of project.series) {
      if (!terms.every((t) => (labelOf(s, t.key) === t.value) === (t.op === '='))) continue;
      const raw = s.points
        .map((p) => ({ t: Date.parse(p.time), v: p.value }))
        .filter((p) => p.t >= start && p.t <= end)
        .sort((a, b) => a.t - b.t);
      if (!raw.length) continue;
      const kind = s.metricKind ?? 'GAUGE';
      let valueType = s.valueType;
      let points = raw.map((p) => ({ start: p.t, end: p.t, value: p.v }));
      if (aligner !== 'ALIGN_NONE') {
        const how = aligner.slice('ALIGN_'.length);
        if (how === 'RATE' && kind === 'GAUGE') {
          fieldError(
            'aggregation.perSeriesAligner',
            aligner,
            `The aligner cannot be applied to metrics with kind GAUGE and value type ${valueType}.`,
          );
        }
        if (valueType === 'DISTRIBUTION' && !['MEAN', 'COUNT'].includes(how)) {
          fieldError('aggregation.perSeriesAligner', aligner, 'not supported by this fake for DISTRIBUTION values');
        }
        points = [];
        // Windows (end - (k+1)·period, end - k·period], aligned to the request's end time.
        for (let we = end; we > start; we -= period) {
          const inWindow = raw.filter((p) => p.t > we - period && p.t <= we).map((p) => p.v);
          if (!inWindow.length) continue;
          const value = how === 'RATE' ? rate(inWindow, kind, period / 1000) : aggregate(inWindow, how);
          points.unshift({ start: kind === 'GAUGE' ? we : we - period, end: we, value });
        }
        valueType = how === 'MEAN' || how === 'RATE' ? 'DOUBLE' : how === 'COUNT' ? 'INT64' : valueType;
      }
      out.push({
        metric: { type: s.metricType, labels: { ...(s.metricLabels ?? {}) } },
        resource: { type: s.resourceType, labels: { ...(s.resourceLabels ?? {}) } },
        metricKind: kind,
        valueType,
        ...(s.unit ? { unit: s.unit } : {}),
        points,
      });
    }

    if (reducer !== 'REDUCE_NONE') {
      const how = reducer.slice('REDUCE_'.length);
      const groups = new Map<string, OutSeries[]>();
      for (const s of out) {
        const key = JSON.stringify(groupBy.map((g) => outLabel(s, g) ?? ''));
        groups.set(key, [...(groups.get(key) ?? []), s]);
      }
      out = [...groups.values()].map((members) => {
        const first = members[0] as OutSeries;
        const pick = (prefix: 'metric' | 'resource', labels: Record<string, string>) => {
          const kept: Record<string, string> = {};
          for (const g of groupBy) {
            const m = new RegExp(`^${prefix}\\.labels?\\.(.+)$`).exec(g);
            if (m?.[1] && labels[m[1]] !== undefined) kept[m[1]] = labels[m[1]] as string;
          }
          return kept;
        };
        const byEnd = new Map<number, { start: number; values: number[] }>();
        for (const s of members) {
          for (const p of s.points) {
            const slot = byEnd.get(p.end) ?? { start: p.start, values: [] };
            slot.values.push(p.value);
            byEnd.set(p.end, slot);
          }
        }
        return {
          metric: { type: first.metric.type, labels: pick('metric', first.metric.labels) },
          resource: { type: first.resource.type, labels: pick('resource', first.resource.labels) },
          metricKind: first.metricKind,
          valueType: how === 'MEAN' ? 'DOUBLE' : how === 'COUNT' ? 'INT64' : first.valueType,
          ...(first.unit ? { unit: first.unit } : {}),
          points: [...byEnd.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([pEnd, slot]) => ({ start: slot.start, end: pEnd, value: aggregate(slot.values, how) })),
        };
      });
    }
    return { series: out, view };
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://monitoring.googleapis.com');
    const grant = checkBearer(req, res, tokens);
    if (!grant) return;
    const m = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec(url.pathname);
    if (!m || req.method !== 'GET')
      return error(res, 404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found.`);
    const project = byId.get(m[1] as string);
    if (!project?.viewers.includes(grant.principal)) {
      return error(
        res,
        403,
        'PERMISSION_DENIED',
        'Permission monitoring.timeSeries.list denied (or the resource may not exist).',
      );
    }
    if (project.hang) return;
    const q = url.searchParams;
    try {
      const sizeRaw = q.get('pageSize');
      const size = sizeRaw === null ? 0 : Number(sizeRaw);
      if (!Number.isInteger(size) || size < 0) fieldError('pageSize', sizeRaw ?? '', 'must be a positive number');
      const pageSize = size === 0 || size > MAX_PAGE ? MAX_PAGE : size;
      const { series, view } = query(project, q);
      // A page token is bound to the query it came from.
      const bound = JSON.stringify([...q.entries()].filter(([k]) => k !== 'pageToken' && k !== 'pageSize').sort());
      let offset = 0;
      const token = q.get('pageToken');
      if (token) {
        let decoded: { o?: unknown; q?: unknown } = {};
        try {
          decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
        } catch {}
        if (!Number.isInteger(decoded.o) || decoded.q !== bound)
          fieldError('pageToken', token, 'the page token is not valid for this request');
        offset = decoded.o as number;
      }
      const page: OutSeries[] = [];
      let used = 0;
      for (const s of series.slice(offset)) {
        const cost = view === 'FULL' ? s.points.length : 1;
        if (page.length > 0 && used + cost > pageSize) break;
        page.push(s);
        used += cost;
      }
      const nextOffset = offset + page.length;
      const iso = (t: number) => new Date(t).toISOString();
      return sendJson(res, 200, {
        ...(page.length
          ? {
              timeSeries: page.map((s) => ({
                metric: s.metric,
                resource: s.resource,
                metricKind: s.metricKind,
                valueType: s.valueType,
                ...(view === 'FULL'
                  ? {
                      points: [...s.points].reverse().map((p) => ({
                        interval: { startTime: iso(p.start), endTime: iso(p.end) },
                        value: valueJson(s.valueType, p.value),
                      })),
                    }
                  : {}),
                ...(s.unit ? { unit: s.unit } : {}),
              })),
            }
          : {}),
        ...(nextOffset < series.length
          ? { nextPageToken: Buffer.from(JSON.stringify({ o: nextOffset, q: bound })).toString('base64url') }
          : {}),
      });
    } catch (err) {
      if (err instanceof BadRequest) return error(res, 400, 'INVALID_ARGUMENT', err.message);
      throw err;
    }
  };

  const listening = await listenLoopback(handle);
  const { port } = listening;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    projects: byId,
    close: listening.close,
  };
}
