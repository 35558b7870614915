import type { GoogleAuth } from 'google-auth-library';
import type {
  CostPeriod,
  CostSource,
  DailySpend,
  DailySpendQuery,
  SpendForecast,
  SpendReport,
} from '../../ports/cost.ts';
import {
  addDays,
  checkForecastPeriod,
  checkSpendQuery,
  computeForecast,
  dayOf,
  forecastSeriesPeriod,
  MAX_GROUPS,
  shapeDays,
} from '../cost-series.ts';
import { GCP_PATTERNS } from './compute.ts';
import { defaultGoogleAuth } from './google-auth.ts';
import { cloudError, googleRest, type RestCall, restBase } from './google-rest.ts';

/*
 * The CostSource port over the Cloud Billing export in BigQuery (issue 14): one Standard SQL query on
 * the standard usage cost table (gcp_billing_export_v1_<BILLING_ACCOUNT>), sent with BigQuery's REST
 * jobs.query (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/query) through
 * google-auth-library, then jobs.getQueryResults for a job still running or further pages
 * (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults). Not the
 * @google-cloud/bigquery client: 47 packages and 14 MB installed for one POST and one GET.
 *
 * Amounts are cost after credits (cost + the sum of credits[].amount, credits being negative), per UTC
 * day of usage_start_time, grouped by service.description, by project.id ('' for charges without a
 * project, as support) or by the value of one resource label ('' without it). The `maxGroups` largest groups are decided in the query, the rest summed there as
 * `other`, so no more rows come back than days × (maxGroups + 1). Values only ever travel as named
 * query parameters; the table name is checked against a strict pattern when the source is made and
 * backquoted. `maxBytesBilled` goes with every query: BigQuery fails a query that would bill more
 * rather than run it.
 *
 * The export lags: Google gives "no delivery or latency guarantees" and services report at different
 * intervals (https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables), so the figures
 * of yesterday and today are still rising: a report that reaches them is `estimated`, and the computed
 * forecast (the only kind here: BigQuery has no forecast of its own) averages the 7 days before them.
 */

export interface BigQueryBillingOptions {
  /** `project.dataset.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX` (the resource-level table works too). */
  table: string;
  /** The project the query jobs run in and are billed to (default: the table's). */
  project?: string;
  /** Default: Application Default Credentials with the cloud-platform scope. */
  auth?: GoogleAuth;
  /** Base URL (tests: the fake's); default https://bigquery.googleapis.com. Plain http only to loopback. */
  endpoint?: string;
  /** Bound of each method call, every request and poll together (default 30 s, at most 300 s). */
  timeoutMs?: number;
  /** The dataset's location (US, EU, europe-west1, ...); BigQuery finds it from the table when absent. */
  location?: string;
  /** Bytes a query may bill at most (default 10 GiB, at least BigQuery's 10 MiB minimum charge). */
  maxBytesBilled?: number;
  now?: () => number;
}

const TABLE =
  /^((?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9])\.([A-Za-z0-9_]{1,1024})\.(gcp_billing_export_(?:resource_)?v1_[0-9A-Z]{6}_[0-9A-Z]{6}_[0-9A-Z]{6})$/;
/** GCP label keys: a lowercase letter, then lowercase letters, digits, `_` and `-`; at most 63. */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LOCATION = /^[A-Za-z]+(?:-[a-z]+\d+)?$/;
const MIN_BYTES = 10 * 1024 * 1024;
const DEFAULT_BYTES = 10 * 1024 ** 3;
const MAX_BYTES = 1024 ** 4;
/** Rows per result page asked for (BigQuery may send fewer: a page is also cut at 10 MB). */
const PAGE_ROWS = 10_000;
/** A job id and page token as BigQuery makes them, bounded before they go back into a URL. */
const JOB_ID = /^[A-Za-z0-9_-]{1,1024}$/;
const MAX_TOKEN = 4096;
/** The newest days whose export is not complete: yesterday and today. */
const LAG_DAYS = 2;

interface BqRow {
  f?: Array<{ v?: unknown }>;
}
interface BqResult {
  jobComplete?: boolean;
  jobReference?: { projectId?: string; jobId?: string; location?: string };
  rows?: BqRow[];
  pageToken?: string;
  totalRows?: string;
  totalBytesBilled?: string;
}

export function createBigQueryBillingSource(opts: BigQueryBillingOptions): CostSource {
  const m = typeof opts.table === 'string' ? TABLE.exec(opts.table) : null;
  if (!m) {
    throw new Error(
      'BigQuery billing table must be project.dataset.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX ' +
        `(the standard usage cost export), not ${String(opts.table).slice(0, 120)}`,
    );
  }
  const table = opts.table;
  const project = opts.project ?? (m[1] as string);
  if (!GCP_PATTERNS.project.test(project))
    throw new Error(`BigQuery project: not a project id: ${project.slice(0, 64)}`);
  if (opts.location !== undefined && !LOCATION.test(opts.location)) {
    throw new Error(`BigQuery location: not a location like US, EU or europe-west1: ${opts.location.slice(0, 40)}`);
  }
  const maxBytes = opts.maxBytesBilled ?? DEFAULT_BYTES;
  if (!(Number.isInteger(maxBytes) && maxBytes >= MIN_BYTES && maxBytes <= MAX_BYTES)) {
    throw new Error(`BigQuery maxBytesBilled must be an integer from ${MIN_BYTES} (10 MiB) to ${MAX_BYTES} (1 TiB)`);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 100 && timeoutMs <= 300_000)) {
    throw new Error('BigQuery timeoutMs must be an integer from 100 to 300000');
  }
  const base = `${restBase('BigQuery endpoint', opts.endpoint, 'https://bigquery.googleapis.com')}/bigquery/v2`;
  const rest = googleRest(opts.auth ?? defaultGoogleAuth(), timeoutMs);
  const now = opts.now ?? Date.now;

  const spend = async (q: DailySpendQuery) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const endAt = Date.now() + timeoutMs;
    try {
      return await runQuery(rest, base, { project, table, location: opts.location, maxBytes, q, deadline, endAt });
    } catch (err) {
      if (deadline.aborted) {
        throw cloudError('Timeout', `querying ${table}: no answer within ${timeoutMs} ms`, 'DEADLINE_EXCEEDED');
      }
      throw err;
    }
  };

  return {
    kind: 'gcp-bigquery-billing',

    async dailySpend(query: DailySpendQuery): Promise<SpendReport> {
      const q = checkSpendQuery(query, {
        provider: 'gcp',
        key: LABEL_KEY,
        keyHelp: 'a GCP label key (a lowercase letter, then lowercase letters, digits, _ and -; at most 63)',
        account: GCP_PATTERNS.project,
        accountHelp: 'a GCP project id',
      });
      const res = await spend(q);
      const { days, total } = shapeDays(res.rows, q.maxGroups + 1); // `other` is already one of them
      const firstIncomplete = addDays(dayOf(now()), 1 - LAG_DAYS);
      return {
        currency: res.currency,
        period: q.period,
        days,
        total,
        estimated: q.period.end > firstIncomplete,
        pages: res.pages,
        bytesBilled: res.bytesBilled,
      };
    },

    async forecast(period: CostPeriod): Promise<SpendForecast> {
      const today = dayOf(now());
      const p = checkForecastPeriod('gcp', period, today);
      const completeEnd = addDays(today, 1 - LAG_DAYS);
      // Grouped by service with every group kept (the rest as `other`): each day's sum is its total.
      const res = await spend({
        period: forecastSeriesPeriod(p, completeEnd),
        groupBy: { by: 'service' },
        maxGroups: MAX_GROUPS,
      });
      const daily = new Map<string, number>();
      for (const r of res.rows) daily.set(r.date, (daily.get(r.date) ?? 0) + r.amount);
      return {
        ...computeForecast({ period: p, completeEnd, daily, currency: res.currency, pages: res.pages }),
        bytesBilled: res.bytesBilled,
      };
    },
  };
}

/** The query's text: values only as parameters (@start, @end, @max_groups, @label_key, @only). */
export function billingSql(table: string, groupBy: DailySpendQuery['groupBy'], withOnly: boolean): string {
  const group =
    groupBy.by === 'service'
      ? 'IFNULL(service.description, "")'
      : groupBy.by === 'account'
        ? 'IFNULL(project.id, "")'
        : 'IFNULL((SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @label_key LIMIT 1), "")';
  return [
    'WITH spend AS (',
    '  SELECT',
    "    FORMAT_DATE('%F', DATE(usage_start_time)) AS day,",
    `    ${group} AS grp,`,
    '    currency,',
    '    cost + IFNULL((SELECT SUM(c.amount) FROM UNNEST(credits) AS c), 0) AS amount',
    `  FROM \`${table}\``,
    '  WHERE usage_start_time >= TIMESTAMP(@start) AND usage_start_time < TIMESTAMP(@end)',
    '),',
    `filtered AS (SELECT * FROM spend${withOnly ? ' WHERE grp IN UNNEST(@only)' : ''}),`,
    'ranked AS (SELECT grp FROM filtered GROUP BY grp ORDER BY SUM(amount) DESC, grp LIMIT @max_groups)',
    "SELECT day, IF(grp IN (SELECT grp FROM ranked), grp, 'other') AS grp_out, currency, SUM(amount) AS amount",
    'FROM filtered',
    'GROUP BY 1, 2, 3',
    'ORDER BY 1, 2',
  ].join('\n');
}

async function runQuery(
  rest: RestCall,
  base: string,
  a: {
    project: string;
    table: string;
    location: string | undefined;
    maxBytes: number;
    q: DailySpendQuery;
    /** Aborts when the method's time is up; `endAt` is when (epoch ms). */
    deadline: AbortSignal;
    endAt: number;
  },
): Promise<{ rows: DailySpend[]; currency: string; pages: number; bytesBilled: number }> {
  const { q, deadline } = a;
  const parameters: unknown[] = [
    { name: 'start', parameterType: { type: 'DATE' }, parameterValue: { value: q.period.start } },
    { name: 'end', parameterType: { type: 'DATE' }, parameterValue: { value: q.period.end } },
    { name: 'max_groups', parameterType: { type: 'INT64' }, parameterValue: { value: String(q.maxGroups) } },
  ];
  if (q.groupBy.by === 'tag') {
    parameters.push({ name: 'label_key', parameterType: { type: 'STRING' }, parameterValue: { value: q.groupBy.key } });
  }
  if (q.only) {
    parameters.push({
      name: 'only',
      parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } },
      parameterValue: { arrayValues: q.only.map((value) => ({ value })) },
    });
  }
  const what = `querying ${a.table}`;
  // How long BigQuery may hold a call waiting for the job: up to 10 s, and answering within our own bound.
  const serverWait = () => Math.max(0, Math.min(10_000, a.endAt - Date.now() - 500));
  let res = await rest<BqResult>(what, {
    url: `${base}/projects/${a.project}/queries`,
    method: 'POST',
    body: {
      query: billingSql(a.table, q.groupBy, q.only !== undefined),
      useLegacySql: false,
      parameterMode: 'NAMED',
      queryParameters: parameters,
      maximumBytesBilled: String(a.maxBytes),
      maxResults: PAGE_ROWS,
      timeoutMs: serverWait(),
      ...(a.location ? { location: a.location } : {}),
    },
    signal: deadline,
  });
  const job = res.jobReference;
  if (!job?.jobId || !JOB_ID.test(job.jobId)) {
    throw cloudError('Internal', `${what}: BigQuery answered without a job reference`);
  }
  const location = job.location ?? a.location;
  const results = (pageToken?: string) =>
    rest<BqResult>(what, {
      url: `${base}/projects/${a.project}/queries/${job.jobId}`,
      params: { location, pageToken, maxResults: PAGE_ROWS, timeoutMs: serverWait() },
      signal: deadline,
    });

  // A job still running: wait on getQueryResults (it holds the call up to timeoutMs), backing off when it does not.
  for (let wait = 100; res.jobComplete !== true; wait = Math.min(wait * 2, 1000)) {
    await sleep(wait, deadline);
    res = await results();
  }
  let bytesBilled = res.totalBytesBilled !== undefined ? Number(res.totalBytesBilled) : undefined;
  const rows: DailySpend[] = [];
  let currency: string | undefined;
  let pages = 0;
  for (;;) {
    pages++;
    for (const row of res.rows ?? []) {
      const [day, group, cur, amount] = (row.f ?? []).map((c) => c?.v);
      const n = Number(amount);
      if (typeof day !== 'string' || typeof group !== 'string' || !Number.isFinite(n)) {
        throw cloudError('Internal', `${what}: a result row not of the query's shape`);
      }
      if (typeof cur === 'string') {
        if (currency !== undefined && cur !== currency) {
          throw cloudError('Internal', `${what}: the export holds costs in both ${currency} and ${cur}`);
        }
        currency = cur;
      }
      rows.push({ date: day, group, amount: n });
    }
    const token = res.pageToken;
    if (!token) break;
    if (token.length > MAX_TOKEN) throw cloudError('Internal', `${what}: a page token longer than ${MAX_TOKEN}`);
    res = await results(token);
  }
  // getQueryResults carries no totalBytesBilled: a job that outlived jobs.query is asked for it (jobs.get).
  if (bytesBilled === undefined) {
    const j = await rest<{ statistics?: { query?: { totalBytesBilled?: string } } }>(what, {
      url: `${base}/projects/${a.project}/jobs/${job.jobId}`,
      params: { location },
      signal: deadline,
    });
    bytesBilled = Number(j.statistics?.query?.totalBytesBilled ?? 0);
  }
  // No rows: nothing spent, and nothing to say the currency; BigQuery's own reports default to USD too.
  return { rows, currency: currency ?? 'USD', pages, bytesBilled: Number.isFinite(bytesBilled) ? bytesBilled : 0 };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
