import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBearer, sendJson } from './compute.ts';
import { type FakeGoogleTokens, listenLoopback } from './identity.ts';

/**
 * A loopback BigQuery API v2 front end for the billing-export CostSource: jobs.query,
 * jobs.getQueryResults and jobs.get, answering and refusing as the REST reference says:
 * - https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query (QueryRequest, QueryResponse:
 *   `jobComplete`, `jobReference`, `rows`, `pageToken`, `totalRows`, `totalBytesProcessed`, `totalBytesBilled`)
 * - https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults (`pageToken`,
 *   `maxResults`, `location`, `timeoutMs`; GetQueryResultsResponse has no `totalBytesBilled`)
 * - https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/get (statistics.query.totalBytesBilled)
 * - https://cloud.google.com/bigquery/docs/reference/rest/v2/QueryParameter (typed named parameters)
 * - https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list#TableRow and
 *   https://cloud.google.com/bigquery/docs/reference/rest/v2/TableSchema (rows as `{f: [{v}]}`, every
 *   scalar a JSON string; schema types by their legacy names STRING, FLOAT, INTEGER)
 * - https://cloud.google.com/bigquery/docs/error-messages (`{error: {code, message, errors: [{reason,
 *   message, domain}], status}}`; reasons notFound, accessDenied, invalidQuery, invalid,
 *   bytesBilledLimitExceeded)
 * - https://cloud.google.com/bigquery/pricing#on_demand_pricing (bytes billed: at least 10 MB per
 *   query, rounded up to the next MB)
 *
 * It holds standard billing-export tables (rows of service.description, project.id, usage_start_time,
 * cost, currency, credits[].amount, labels[]) and evaluates exactly the query shape the adapter sends
 * (QUERY_SHAPE below); any other SQL is refused with 400. Where it is simpler than BigQuery: README.md.
 */

export interface FakeExportRow {
  /** service.description */
  service: string;
  /** project.id; absent: NULL (charges without a project, as support). */
  project?: string;
  /** usage_start_time, RFC 3339. */
  usageStart: string;
  cost: number;
  /** Default USD. */
  currency?: string;
  /** credits[].amount (negative numbers, as the export has them). */
  credits?: number[];
  /** labels[] (key, value). */
  labels?: Record<string, string>;
}

export interface FakeBillingTable {
  project: string;
  dataset: string;
  table: string;
  /** The dataset's location (default US). */
  location?: string;
  rows: FakeExportRow[];
  /** Bytes the query's columns hold, standing for a table larger than its seeded rows (default: measured from them). */
  bytes?: number;
}

export interface FakeBigQueryProject {
  id: string;
  /** Principals with bigquery.jobUser and bigquery.dataViewer on the project. */
  principals: string[];
  /** Accepts and never answers. */
  hang?: boolean;
}

export interface FakeBigQueryApi {
  /** Base URL; the API lives under `/bigquery/v2/`. */
  url: string;
  /** `METHOD path?query` of every request. */
  requests: string[];
  /** The SQL text and parameters of every jobs.query. */
  queries: Array<{ sql: string; parameters: unknown[] }>;
  /** The next job answers jobComplete false this many times (jobs.query, then getQueryResults) before its rows. */
  pendingPolls: number;
  /** Rows a result page holds at most (the real API cuts pages at 10 MB as well as at maxResults). */
  pageRows: number;
  close(): Promise<void>;
}

const MB = 1024 * 1024;
const MIN_BILLED = 10 * MB;

class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
};

/** Whitespace-normalised; the adapter's query in the one shape this fake evaluates (parameter names captured). */
const QUERY_SHAPE = new RegExp(
  [
    "^WITH spend AS \\( SELECT FORMAT_DATE\\('%F', DATE\\(usage_start_time\\)\\) AS day, ",
    '(?:(?<service>IFNULL\\(service\\.description, ""\\))|(?<project>IFNULL\\(project\\.id, ""\\))|IFNULL\\(\\(SELECT l\\.value FROM UNNEST\\(labels\\) AS l WHERE l\\.key = @(?<labelKey>\\w+) LIMIT 1\\), ""\\)) AS grp, ',
    'currency, cost \\+ IFNULL\\(\\(SELECT SUM\\(c\\.amount\\) FROM UNNEST\\(credits\\) AS c\\), 0\\) AS amount ',
    'FROM `[^`]+` WHERE usage_start_time >= TIMESTAMP\\(@(?<start>\\w+)\\) AND usage_start_time < TIMESTAMP\\(@(?<end>\\w+)\\) \\), ',
    'filtered AS \\(SELECT \\* FROM spend(?: WHERE grp IN UNNEST\\(@(?<only>\\w+)\\))?\\), ',
    'ranked AS \\(SELECT grp FROM filtered GROUP BY grp ORDER BY SUM\\(amount\\) DESC, grp LIMIT @(?<maxGroups>\\w+)\\) ',
    "SELECT day, IF\\(grp IN \\(SELECT grp FROM ranked\\), grp, 'other'\\) AS grp_out, currency, SUM\\(amount\\) AS amount ",
    'FROM filtered GROUP BY 1, 2, 3 ORDER BY 1, 2$',
  ].join(''),
);

const SCHEMA = {
  fields: [
    { name: 'day', type: 'STRING', mode: 'NULLABLE' },
    { name: 'grp_out', type: 'STRING', mode: 'NULLABLE' },
    { name: 'currency', type: 'STRING', mode: 'NULLABLE' },
    { name: 'amount', type: 'FLOAT', mode: 'NULLABLE' },
  ],
};

type ParamValue = string | string[];

interface Job {
  project: string;
  id: string;
  location: string;
  rows: Array<{ f: Array<{ v: string }> }>;
  bytesProcessed: number;
  bytesBilled: number;
  pending: number;
}

/** A typed named parameter's value, or 400 as BigQuery refuses a malformed one. */
function paramValue(p: unknown): { name: string; type: string; value: ParamValue } {
  const q = p as {
    name?: unknown;
    parameterType?: { type?: unknown; arrayType?: { type?: unknown } };
    parameterValue?: { value?: unknown; arrayValues?: Array<{ value?: unknown }> };
  };
  if (typeof q?.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(q.name)) {
    throw new ApiError(400, 'invalid', 'Query parameter name must be a valid identifier (parameterMode NAMED)');
  }
  const type = q.parameterType?.type;
  const bad = (why: string) =>
    new ApiError(400, 'invalidQuery', `Invalid value for query parameter @${q.name}: ${why}`);
  const scalar = (t: unknown, v: unknown): string => {
    if (typeof v !== 'string') throw bad('a value must be a string');
    if (t === 'STRING') return v;
    if (t === 'INT64') {
      if (!/^-?\d{1,19}$/.test(v)) throw bad(`Could not parse '${v}' as INT64`);
      return v;
    }
    if (t === 'DATE') {
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(v) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
      if (!ok) throw bad(`Invalid date: '${v}'`);
      return v;
    }
    throw bad(`unsupported parameter type ${String(t)} in this fake`);
  };
  if (type === 'ARRAY') {
    const values = q.parameterValue?.arrayValues;
    if (!Array.isArray(values)) throw bad('an ARRAY parameter needs parameterValue.arrayValues');
    return {
      name: q.name,
      type: `ARRAY<${String(q.parameterType?.arrayType?.type)}>`,
      value: values.map((x) => scalar(q.parameterType?.arrayType?.type, x?.value)),
    };
  }
  if (typeof type !== 'string') throw bad('parameterType.type is required');
  return { name: q.name, type, value: scalar(type, q.parameterValue?.value) };
}

/**
 * The bytes the query reads: its columns over the whole table (no partition filter in the query):
 * usage_start_time, cost, currency, credits and the grouping column (service.description, project.id or labels).
 */
function bytesRead(rows: FakeExportRow[], group: 'service' | 'project' | 'labels'): number {
  const str = (s: string) => 2 + Buffer.byteLength(s);
  let n = 0;
  for (const r of rows) {
    n += 8 + 8 + str(r.currency ?? 'USD') + 8 * (r.credits?.length ?? 0);
    if (group === 'service') n += str(r.service);
    if (group === 'project') n += r.project === undefined ? 0 : str(r.project);
    if (group === 'labels') for (const [k, v] of Object.entries(r.labels ?? {})) n += str(k) + str(v);
  }
  return n;
}

/** What the adapter's query computes, over the table's rows. */
function evaluate(
  rows: FakeExportRow[],
  shape: Record<string, string | undefined>,
  params: Map<string, { type: string; value: ParamValue }>,
): Array<{ f: Array<{ v: string }> }> {
  const want = (name: string | undefined, type: string): ParamValue => {
    const p = name ? params.get(name) : undefined;
    if (!p) throw new ApiError(400, 'invalidQuery', `Query parameter '${name}' not found`);
    if (p.type !== type) {
      throw new ApiError(400, 'invalidQuery', `No matching signature for @${name} of type ${p.type} (wants ${type})`);
    }
    return p.value;
  };
  const start = Date.parse(`${want(shape.start, 'DATE')}T00:00:00Z`);
  const end = Date.parse(`${want(shape.end, 'DATE')}T00:00:00Z`);
  const labelKey = shape.service || shape.project ? undefined : (want(shape.labelKey, 'STRING') as string);
  const only = shape.only ? new Set(want(shape.only, 'ARRAY<STRING>') as string[]) : undefined;
  const limit = Number(want(shape.maxGroups, 'INT64'));
  if (limit < 0) throw new ApiError(400, 'invalidQuery', 'LIMIT expects a non-negative integer');

  const spend = rows
    .filter((r) => Date.parse(r.usageStart) >= start && Date.parse(r.usageStart) < end)
    .map((r) => ({
      day: new Date(Date.parse(r.usageStart)).toISOString().slice(0, 10),
      grp: shape.service ? r.service : shape.project ? (r.project ?? '') : (r.labels?.[labelKey as string] ?? ''),
      currency: r.currency ?? 'USD',
      amount: r.cost + (r.credits ?? []).reduce((a, b) => a + b, 0),
    }))
    .filter((r) => !only || only.has(r.grp));
  const totals = new Map<string, number>();
  for (const r of spend) totals.set(r.grp, (totals.get(r.grp) ?? 0) + r.amount);
  const ranked = new Set(
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([g]) => g),
  );
  const out = new Map<string, { day: string; grp: string; currency: string; amount: number }>();
  for (const r of spend) {
    const grp = ranked.has(r.grp) ? r.grp : 'other';
    const key = JSON.stringify([r.day, grp, r.currency]);
    const cell = out.get(key) ?? { day: r.day, grp, currency: r.currency, amount: 0 };
    cell.amount += r.amount;
    out.set(key, cell);
  }
  return [...out.values()]
    .sort((a, b) => (a.day !== b.day ? (a.day < b.day ? -1 : 1) : a.grp < b.grp ? -1 : a.grp > b.grp ? 1 : 0))
    .map((c) => ({ f: [{ v: c.day }, { v: c.grp }, { v: c.currency }, { v: String(c.amount) }] }));
}

export async function startFakeBigQuery(
  tokens: FakeGoogleTokens,
  setup: { projects: FakeBigQueryProject[]; tables: FakeBillingTable[]; pageRows?: number },
): Promise<FakeBigQueryApi> {
  const projects = new Map(setup.projects.map((p) => [p.id, p]));
  const jobs = new Map<string, Job>();
  const state = {
    requests: [] as string[],
    queries: [] as Array<{ sql: string; parameters: unknown[] }>,
    pendingPolls: 0,
    pageRows: setup.pageRows ?? 100_000,
  };

  const allowed = (project: string, principal: string, permission: string) => {
    const p = projects.get(project);
    if (!p?.principals.includes(principal)) {
      throw new ApiError(
        403,
        'accessDenied',
        `Access Denied: Project ${project}: User does not have ${permission} permission in project ${project}.`,
      );
    }
    return p;
  };

  const page = (job: Job, offset: number, maxResults: number | undefined) => {
    const size = Math.min(maxResults ?? Number.POSITIVE_INFINITY, state.pageRows);
    const rows = job.rows.slice(offset, offset + Math.max(1, size));
    const next = offset + rows.length;
    return {
      schema: SCHEMA,
      jobReference: { projectId: job.project, jobId: job.id, location: job.location },
      totalRows: String(job.rows.length),
      ...(rows.length ? { rows } : {}),
      ...(next < job.rows.length
        ? { pageToken: Buffer.from(JSON.stringify({ j: job.id, o: next })).toString('base64url') }
        : {}),
      totalBytesProcessed: String(job.bytesProcessed),
      jobComplete: true,
      cacheHit: false,
    };
  };

  const intParam = (name: string, raw: unknown): number | undefined => {
    if (raw === undefined || raw === null) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new ApiError(400, 'invalid', `Invalid value for ${name}: ${String(raw)}`);
    return n;
  };

  const query = (project: string, principal: string, body: Record<string, unknown>) => {
    allowed(project, principal, 'bigquery.jobs.create');
    const sql = typeof body.query === 'string' ? body.query : '';
    if (!sql) throw new ApiError(400, 'required', 'Required parameter is missing: query');
    const parameters = Array.isArray(body.queryParameters) ? body.queryParameters : [];
    state.queries.push({ sql, parameters });
    const tableRef = /`([^`]+)`/.exec(sql)?.[1] ?? '';
    // useLegacySql defaults to true; legacy SQL reads a backquoted name as no table at all.
    if (body.useLegacySql !== false) {
      throw new ApiError(
        400,
        'invalidQuery',
        `Invalid table name: \`${tableRef}\` [Try using standard SQL (https://cloud.google.com/bigquery/docs/reference/standard-sql/enabling-standard-sql)].`,
      );
    }
    if (parameters.length && body.parameterMode !== 'NAMED') {
      throw new ApiError(
        400,
        'invalid',
        'Query parameters require parameterMode NAMED or POSITIONAL (this fake: NAMED)',
      );
    }
    const params = new Map<string, { type: string; value: ParamValue }>();
    for (const p of parameters) {
      const v = paramValue(p);
      params.set(v.name, v);
    }
    // Every @name the text uses must be declared (string literals hold none in this shape).
    for (const m of sql.matchAll(/@(\w+)/g)) {
      if (!params.has(m[1] as string)) throw new ApiError(400, 'invalidQuery', `Query parameter '${m[1]}' not found`);
    }
    const maxBytes = intParam('maximumBytesBilled', body.maximumBytesBilled);
    const maxResults = intParam('maxResults', body.maxResults);
    intParam('timeoutMs', body.timeoutMs);

    const ref = /^(?<p>[^.]+)\.(?<d>[^.]+)\.(?<t>[^.]+)$/.exec(tableRef)?.groups;
    const location = typeof body.location === 'string' ? body.location : undefined;
    const table = setup.tables.find((t) => ref && t.project === ref.p && t.dataset === ref.d && t.table === ref.t);
    const tableLocation = table?.location ?? 'US';
    if (!ref || !table || (location && location.toUpperCase() !== tableLocation.toUpperCase())) {
      const name = ref ? `${ref.p}:${ref.d}.${ref.t}` : tableRef;
      throw new ApiError(
        404,
        'notFound',
        `Not found: Table ${name} was not found in location ${location ?? tableLocation}`,
      );
    }
    if (!projects.get(table.project)?.principals.includes(principal)) {
      const name = `${table.project}:${table.dataset}.${table.table}`;
      throw new ApiError(
        403,
        'accessDenied',
        `Access Denied: Table ${name}: User does not have permission to query table ${name}, or perhaps it does not exist.`,
      );
    }
    const shape = QUERY_SHAPE.exec(sql.replace(/\s+/g, ' ').trim())?.groups;
    if (!shape) throw new ApiError(400, 'invalidQuery', 'This fake evaluates only the billing adapter’s query shape');

    const rows = evaluate(table.rows, shape, params);
    const bytesProcessed =
      table.bytes ?? bytesRead(table.rows, shape.service ? 'service' : shape.project ? 'project' : 'labels');
    const bytesBilled = Math.max(MIN_BILLED, Math.ceil(bytesProcessed / MB) * MB);
    if (maxBytes !== undefined && bytesBilled > maxBytes) {
      throw new ApiError(
        400,
        'bytesBilledLimitExceeded',
        `Query exceeded limit for bytes billed: ${maxBytes}. ${bytesBilled} or higher required.`,
      );
    }
    const job: Job = {
      project,
      id: `job_${randomBytes(12).toString('base64url').replace(/-/g, '_')}`,
      location: tableLocation,
      rows,
      bytesProcessed,
      bytesBilled,
      pending: state.pendingPolls,
    };
    state.pendingPolls = 0;
    jobs.set(`${project}/${job.id}`, job);
    if (job.pending > 0) {
      job.pending--;
      return {
        kind: 'bigquery#queryResponse',
        jobReference: { projectId: project, jobId: job.id, location: job.location },
        jobComplete: false,
      };
    }
    return { kind: 'bigquery#queryResponse', ...page(job, 0, maxResults), totalBytesBilled: String(bytesBilled) };
  };

  const findJob = (project: string, jobId: string, q: URLSearchParams): Job => {
    const job = jobs.get(`${project}/${jobId}`);
    const location = q.get('location');
    if (!job || (location && location.toUpperCase() !== job.location.toUpperCase())) {
      throw new ApiError(404, 'notFound', `Not found: Job ${project}:${location ?? 'US'}.${jobId}`);
    }
    return job;
  };

  const getQueryResults = (project: string, jobId: string, principal: string, q: URLSearchParams) => {
    allowed(project, principal, 'bigquery.jobs.get');
    const job = findJob(project, jobId, q);
    const maxResults = intParam('maxResults', q.get('maxResults') ?? undefined);
    intParam('timeoutMs', q.get('timeoutMs') ?? undefined);
    const etag = randomBytes(8).toString('base64');
    if (job.pending > 0) {
      job.pending--;
      return {
        kind: 'bigquery#getQueryResultsResponse',
        etag,
        jobReference: { projectId: project, jobId: job.id, location: job.location },
        jobComplete: false,
      };
    }
    let offset = 0;
    const token = q.get('pageToken');
    if (token) {
      let decoded: { j?: unknown; o?: unknown } = {};
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {}
      if (decoded.j !== job.id || !Number.isInteger(decoded.o)) {
        throw new ApiError(400, 'invalid', `Invalid page token: ${token.slice(0, 40)}`);
      }
      offset = decoded.o as number;
    }
    return { kind: 'bigquery#getQueryResultsResponse', etag, ...page(job, offset, maxResults) };
  };

  const getJob = (project: string, jobId: string, principal: string, q: URLSearchParams) => {
    allowed(project, principal, 'bigquery.jobs.get');
    const job = findJob(project, jobId, q);
    const done = job.pending === 0;
    return {
      kind: 'bigquery#job',
      id: `${project}:${job.location}.${job.id}`,
      jobReference: { projectId: project, jobId: job.id, location: job.location },
      status: { state: done ? 'DONE' : 'RUNNING' },
      statistics: {
        ...(done ? { totalBytesProcessed: String(job.bytesProcessed) } : {}),
        query: done
          ? {
              totalBytesProcessed: String(job.bytesProcessed),
              totalBytesBilled: String(job.bytesBilled),
              cacheHit: false,
            }
          : {},
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://bigquery.googleapis.com');
    const grant = checkBearer(req, res, tokens);
    if (!grant) return;
    const fail = (err: ApiError) =>
      sendJson(res, err.code, {
        error: {
          code: err.code,
          message: err.message,
          errors: [{ message: err.message, domain: 'global', reason: err.reason }],
          status: STATUS[err.code] ?? 'UNKNOWN',
        },
      });
    try {
      const m = /^\/bigquery\/v2\/projects\/([^/]+)\/(queries|jobs)(?:\/([^/]+))?$/.exec(url.pathname);
      const project = m ? decodeURIComponent(m[1] as string) : '';
      if (m && projects.get(project)?.hang) return; // accepted, never answered
      if (m && m[2] === 'queries' && !m[3] && req.method === 'POST') {
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
          throw new ApiError(400, 'parseError', 'This API does not support parsing form-encoded input.');
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw new ApiError(400, 'parseError', 'Invalid JSON payload received.');
        }
        return sendJson(res, 200, query(project, grant.principal, (body ?? {}) as Record<string, unknown>));
      }
      if (m?.[3] && req.method === 'GET') {
        const jobId = decodeURIComponent(m[3]);
        const out =
          m[2] === 'queries'
            ? getQueryResults(project, jobId, grant.principal, url.searchParams)
            : getJob(project, jobId, grant.principal, url.searchParams);
        return sendJson(res, 200, out);
      }
      throw new ApiError(404, 'notFound', `Not found: ${req.method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof ApiError) return fail(err);
      throw err;
    }
  };

  const listening = await listenLoopback((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
  });
  const { port } = listening;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: listening.close,
  });
}
