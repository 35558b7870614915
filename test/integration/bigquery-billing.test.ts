import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BigQueryBillingOptions,
  createBigQueryBillingSource,
} from '../../shared/adapters/gcp/bigquery-billing.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import type { DailySpendQuery } from '../../shared/ports/cost.ts';
import { type FakeBigQueryApi, type FakeExportRow, startFakeBigQuery } from '../support/fake-gcp/bigquery.ts';
import { CLOUD_PLATFORM_SCOPE, FakeGoogleTokens } from '../support/fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from '../support/fake-gcp/metadata.ts';
import { freePort } from '../support/moto.ts';

/**
 * The BigQuery billing-export CostSource through google-auth-library (ADC finding the fake metadata
 * server, as on Cloud Functions) against a loopback fake of BigQuery's jobs.query / getQueryResults /
 * jobs.get REST calls that evaluates the adapter's query over seeded export rows and refuses what
 * BigQuery refuses (test/support/fake-gcp/README.md, bigquery.ts).
 */

const SA = 'cloudops@ops-project.iam.gserviceaccount.com';
const TABLE = 'billing-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9';
const BIG = 'billing-project.billing_export.gcp_billing_export_v1_0BADBE_EF0000_000000';
const LOCKED = 'locked-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9';
/** The injected clock: 2026-12-10, midday UTC; the export's yesterday (Dec 9) and today still lag. */
const NOW = Date.parse('2026-12-10T12:00:00Z');
const MIB10 = 10 * 1024 * 1024;

/**
 * Each day Dec 1-9, in EUR: Compute Engine 8 after credits (two rows), Cloud Storage 1.5, Cloud Run 0.5,
 * BigQuery 0.25; by project: web-project 8.5, data-project 1.5, none (BigQuery here) 0.25.
 */
const exportRows: FakeExportRow[] = Array.from({ length: 9 }, (_, i) => {
  const at = (h: number) => `2026-12-0${i + 1}T${String(h).padStart(2, '0')}:00:00Z`;
  const rows: FakeExportRow[] = [
    {
      service: 'Compute Engine',
      project: 'web-project',
      usageStart: at(1),
      cost: 6,
      credits: [-1, -0.5],
      labels: { team: 'web' },
    },
    {
      service: 'Compute Engine',
      project: 'web-project',
      usageStart: at(13),
      cost: 4,
      credits: [-0.5],
      labels: { team: 'web', env: 'prod' },
    },
    { service: 'Cloud Storage', project: 'data-project', usageStart: at(2), cost: 1.5, labels: { team: 'data' } },
    {
      service: 'Cloud Run',
      project: 'web-project',
      usageStart: at(23),
      cost: 0.75,
      credits: [-0.25],
      labels: { team: 'web' },
    },
    { service: 'BigQuery', usageStart: at(5), cost: 0.25 },
  ];
  return rows.map((r) => ({ ...r, currency: 'EUR' }));
}).flat();

let tokens: FakeGoogleTokens;
let metadata: FakeMetadataServer;
let api: FakeBigQueryApi;
let gcloudDir: string;
const savedEnv: Record<string, string | undefined> = {};

const source = (over: Partial<BigQueryBillingOptions> = {}) =>
  createBigQueryBillingSource({ table: TABLE, endpoint: api.url, now: () => NOW, timeoutMs: 10_000, ...over });

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  metadata = await startFakeMetadataServer(tokens, { serviceAccount: SA, projectId: 'ops-project' });
  api = await startFakeBigQuery(tokens, {
    projects: [
      { id: 'billing-project', principals: [SA] },
      { id: 'ops-project', principals: [SA] },
      { id: 'locked-project', principals: ['someone@else.iam.gserviceaccount.com'] },
      { id: 'stuck-project', principals: [SA], hang: true },
    ],
    tables: [
      {
        project: 'billing-project',
        dataset: 'billing_export',
        table: TABLE.split('.')[2] as string,
        location: 'EU',
        rows: exportRows,
      },
      {
        project: 'billing-project',
        dataset: 'billing_export',
        table: BIG.split('.')[2] as string,
        location: 'EU',
        rows: exportRows,
        bytes: 3 * 1024 ** 3,
      },
      { project: 'locked-project', dataset: 'billing_export', table: LOCKED.split('.')[2] as string, rows: [] },
    ],
  });
  gcloudDir = mkdtempSync(join(tmpdir(), 'bq-billing-adc-'));
  const keys = ['GCE_METADATA_HOST', 'GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION'];
  for (const k of [...keys, 'GOOGLE_CLOUD_PROJECT']) {
    savedEnv[k] = process.env[k];
    delete process.env[k];
  }
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.CLOUDSDK_CONFIG = gcloudDir;
  process.env.GOOGLE_CLOUD_PROJECT = 'ops-project';
});

afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await Promise.all([api?.close(), metadata?.close()]);
  if (gcloudDir) rmSync(gcloudDir, { recursive: true, force: true });
});

beforeEach(() => {
  api.requests.length = 0;
  api.queries.length = 0;
  api.pendingPolls = 0;
  api.pageRows = 100_000;
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a CloudApiError');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(CloudApiError);
      return err as CloudApiError;
    },
  );

const query = (over: Partial<DailySpendQuery> = {}): DailySpendQuery => ({
  period: { start: '2026-12-01', end: '2026-12-04' },
  groupBy: { by: 'service' },
  maxGroups: 10,
  ...over,
});

const day = (date: string, amounts: Record<string, number>) =>
  Object.entries(amounts).map(([group, amount]) => ({ date, group, amount }));

describe('daily spend from the billing export', () => {
  it('groups by service, cost after credits, in the export’s currency', async () => {
    const report = await source().dailySpend(query());
    const each = { BigQuery: 0.25, 'Cloud Run': 0.5, 'Cloud Storage': 1.5, 'Compute Engine': 8 };
    expect(report).toEqual({
      currency: 'EUR',
      period: { start: '2026-12-01', end: '2026-12-04' },
      days: [...day('2026-12-01', each), ...day('2026-12-02', each), ...day('2026-12-03', each)],
      total: 30.75,
      estimated: false,
      pages: 1,
      bytesBilled: MIB10,
    });
    expect(api.requests.map((r) => r.split('?')[0])).toEqual(['POST /bigquery/v2/projects/billing-project/queries']);
  });

  it('groups by a label, "" for spend without it, and filters with only', async () => {
    const all = await source().dailySpend(
      query({ groupBy: { by: 'tag', key: 'team' }, period: { start: '2026-12-02', end: '2026-12-03' } }),
    );
    expect(all.days).toEqual(day('2026-12-02', { '': 0.25, data: 1.5, web: 8.5 }));
    const some = await source().dailySpend(
      query({
        groupBy: { by: 'tag', key: 'team' },
        only: ['web', ''],
        period: { start: '2026-12-02', end: '2026-12-03' },
      }),
    );
    expect(some.days).toEqual(day('2026-12-02', { '': 0.25, web: 8.5 }));
    expect(some.total).toBe(8.75);
  });

  it('groups by project.id ("" without a project) and filters with only, the ids as an array parameter', async () => {
    const dec2 = { start: '2026-12-02', end: '2026-12-03' };
    const all = await source().dailySpend(query({ groupBy: { by: 'account' }, period: dec2 }));
    expect(all.days).toEqual(day('2026-12-02', { '': 0.25, 'data-project': 1.5, 'web-project': 8.5 }));
    const some = await source().dailySpend(
      query({ groupBy: { by: 'account' }, only: ['web-project', 'data-project'], period: dec2 }),
    );
    expect(some.days).toEqual(day('2026-12-02', { 'data-project': 1.5, 'web-project': 8.5 }));
    expect(some.total).toBe(10);
    const sent = api.queries[1];
    expect(sent?.sql).toContain('IFNULL(project.id, "") AS grp');
    expect(sent?.sql).toContain('WHERE grp IN UNNEST(@only)');
    expect(sent?.sql).not.toMatch(/web-project|data-project/);
    expect(sent?.parameters).toContainEqual({
      name: 'only',
      parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } },
      parameterValue: { arrayValues: [{ value: 'web-project' }, { value: 'data-project' }] },
    });
    // Only project ids in only: anything else is refused before a query.
    for (const bad of [['Web_Project'], [''], ["web-project' OR TRUE --"]]) {
      const err = await failure(source().dailySpend(query({ groupBy: { by: 'account' }, only: bad })));
      expect([err.code, err.message]).toEqual([
        'InvalidArgument',
        expect.stringMatching(/only: each a GCP project id/),
      ]);
    }
    expect(api.queries).toHaveLength(2);
  });

  it('keeps the largest groups and sums the rest as other, in the query', async () => {
    const report = await source().dailySpend(
      query({ maxGroups: 1, period: { start: '2026-12-05', end: '2026-12-07' } }),
    );
    expect(report.days).toEqual([
      ...day('2026-12-05', { 'Compute Engine': 8, other: 2.25 }),
      ...day('2026-12-06', { 'Compute Engine': 8, other: 2.25 }),
    ]);
    // BigQuery answered no more than the kept group and `other` per day.
    expect(api.queries[0]?.parameters).toContainEqual({
      name: 'max_groups',
      parameterType: { type: 'INT64' },
      parameterValue: { value: '1' },
    });
  });

  it('reads every result page, counting the pages', async () => {
    api.pageRows = 5;
    const report = await source().dailySpend(query({ period: { start: '2026-12-01', end: '2026-12-08' } }));
    expect(report.days).toHaveLength(28);
    expect(report.total).toBe(71.75);
    expect(report.pages).toBe(6);
    const reads = api.requests.filter((r) => r.startsWith('GET /bigquery/v2/projects/billing-project/queries/'));
    expect(reads).toHaveLength(5);
    expect(reads.every((r) => /[?&]pageToken=/.test(r) && /[?&]location=EU\b/.test(r))).toBe(true);
  });

  it('polls a job that is not complete yet, then asks the job for its bytes billed', async () => {
    api.pendingPolls = 3;
    const report = await source().dailySpend(query());
    expect(report).toMatchObject({ total: 30.75, pages: 1, bytesBilled: MIB10 });
    const paths = api.requests.map((r) => r.split('?')[0]?.replace(/job_[\w]+/, 'JOB'));
    expect(paths).toEqual([
      'POST /bigquery/v2/projects/billing-project/queries',
      'GET /bigquery/v2/projects/billing-project/queries/JOB',
      'GET /bigquery/v2/projects/billing-project/queries/JOB',
      'GET /bigquery/v2/projects/billing-project/queries/JOB',
      'GET /bigquery/v2/projects/billing-project/jobs/JOB',
    ]);
  });

  it('says a report is estimated when it reaches the days the export still lags on', async () => {
    const report = await source().dailySpend(query({ period: { start: '2026-12-08', end: '2026-12-10' } }));
    expect(report.estimated).toBe(true);
    expect(report.days.map((d) => d.date)).toEqual([...Array(4).fill('2026-12-08'), ...Array(4).fill('2026-12-09')]);
  });

  it('sends every value as a typed named parameter, never in the SQL text', async () => {
    await source().dailySpend(query({ groupBy: { by: 'tag', key: 'team' }, only: ['web', "x' OR 1=1 --"] }));
    const [sent] = api.queries;
    if (!sent) throw new Error('no query sent');
    for (const value of ['team', 'web', 'OR 1=1', '2026-12-01', '2026-12-04']) expect(sent.sql).not.toContain(value);
    expect(sent.sql).toContain(`FROM \`${TABLE}\``);
    expect(sent.parameters).toEqual([
      { name: 'start', parameterType: { type: 'DATE' }, parameterValue: { value: '2026-12-01' } },
      { name: 'end', parameterType: { type: 'DATE' }, parameterValue: { value: '2026-12-04' } },
      { name: 'max_groups', parameterType: { type: 'INT64' }, parameterValue: { value: '10' } },
      { name: 'label_key', parameterType: { type: 'STRING' }, parameterValue: { value: 'team' } },
      {
        name: 'only',
        parameterType: { type: 'ARRAY', arrayType: { type: 'STRING' } },
        parameterValue: { arrayValues: [{ value: 'web' }, { value: "x' OR 1=1 --" }] },
      },
    ]);
  });

  it('passes maxBytesBilled, and a query over it fails rather than costs', async () => {
    // The same rows in a table whose columns hold 3 GiB, as a year of a large account's export might.
    const err = await failure(source({ table: BIG, maxBytesBilled: 1024 ** 3 }).dailySpend(query()));
    expect([err.code, err.providerCode]).toEqual(['InvalidArgument', 'INVALID_ARGUMENT']);
    expect(err.message).toMatch(/exceeded limit for bytes billed: 1073741824\. 3221225472 or higher required/);
    const roomy = await source({ table: BIG, maxBytesBilled: 4 * 1024 ** 3 }).dailySpend(query());
    expect(roomy).toMatchObject({ total: 30.75, bytesBilled: 3 * 1024 ** 3 });
  });
});

describe('refusals', () => {
  it('a table whose project the principal may not read is Forbidden', async () => {
    const err = await failure(source({ table: LOCKED, project: 'ops-project' }).dailySpend(query()));
    expect([err.code, err.providerCode]).toEqual(['Forbidden', 'PERMISSION_DENIED']);
    expect(err.message).toMatch(/permission to query table/);
    const jobs = await failure(source({ table: LOCKED }).dailySpend(query()));
    expect(jobs.message).toMatch(/bigquery\.jobs\.create/);
  });

  it('a table that does not exist is NotFound', async () => {
    const missing = 'billing-project.billing_export.gcp_billing_export_v1_000000_000000_000000';
    const err = await failure(source({ table: missing }).dailySpend(query()));
    expect([err.code, err.providerCode]).toEqual(['NotFound', 'NOT_FOUND']);
    expect(err.message).toMatch(/Not found: Table billing-project:billing_export/);
    const elsewhere = await failure(source({ location: 'US' }).dailySpend(query()));
    expect(elsewhere.code).toBe('NotFound');
  });

  it('refuses a table name that is not a billing export table before any call', () => {
    const before = api.requests.length;
    for (const table of [
      'billing-project.billing_export.some_other_table',
      'billing-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9` WHERE 1=1 --',
      'billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9',
      'Billing-Project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9',
      'billing-project.billing-export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9',
      'billing-project.billing_export.gcp_billing_export_v1_01a2b3_c4d5e6_f7a8b9',
      '',
    ]) {
      expect(() => createBigQueryBillingSource({ table, endpoint: api.url })).toThrow(/gcp_billing_export_v1_/);
    }
    expect(() => createBigQueryBillingSource({ table: TABLE, maxBytesBilled: 1000 })).toThrow(/maxBytesBilled/);
    expect(() => createBigQueryBillingSource({ table: TABLE, endpoint: 'http://example.com' })).toThrow(/https/);
    expect(api.requests.length).toBe(before);
  });

  it('refuses bad periods and label keys before any call', async () => {
    for (const over of [
      { period: { start: '2026-12-04', end: '2026-12-01' } },
      { period: { start: '2025-01-01', end: '2026-12-01' } },
      { groupBy: { by: 'tag' as const, key: 'Team' } },
      { groupBy: { by: 'tag' as const, key: 'team`' } },
      { maxGroups: 201 },
    ]) {
      expect((await failure(source().dailySpend(query(over)))).code).toBe('InvalidArgument');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('an endpoint nobody listens on is Unavailable', async () => {
    const err = await failure(source({ endpoint: `http://127.0.0.1:${await freePort()}` }).dailySpend(query()));
    expect(err.code).toBe('Unavailable');
  });

  it('a query that gets no answer is a Timeout within the bound', async () => {
    const stuck = 'stuck-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9';
    const err = await failure(source({ table: stuck, timeoutMs: 500 }).dailySpend(query()));
    expect(err.code).toBe('Timeout');
  });
});

describe('forecast', () => {
  it('is computed from the daily series, the lagging days projected rather than summed', async () => {
    const forecast = await source().forecast({ start: '2026-12-01', end: '2027-01-01' });
    // Whole days Dec 1-8 (Dec 9 and 10 still lag): actual 8 × 10.25 = 82; mean of Dec 2-8 = 10.25;
    // Dec 9-31 = 23 days → 82 + 23 × 10.25 = 317.75.
    expect(forecast).toEqual({
      currency: 'EUR',
      period: { start: '2026-12-01', end: '2027-01-01' },
      amount: 317.75,
      method: 'computed',
      pages: 1,
      bytesBilled: MIB10,
    });
    const [sent] = api.queries;
    expect(sent?.parameters.slice(0, 2)).toEqual([
      { name: 'start', parameterType: { type: 'DATE' }, parameterValue: { value: '2026-12-01' } },
      { name: 'end', parameterType: { type: 'DATE' }, parameterValue: { value: '2026-12-09' } },
    ]);
  });

  it('refuses a period that is over', async () => {
    expect((await failure(source().forecast({ start: '2026-11-01', end: '2026-12-01' }))).code).toBe('InvalidArgument');
  });
});

describe('the fake refuses what BigQuery refuses', () => {
  const post = async (body: Record<string, unknown>) => {
    const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    const client = await auth.getClient();
    const res = await client
      .request<{ error?: { code: number; message: string; errors: Array<{ reason: string }> } }>({
        url: `${api.url}/bigquery/v2/projects/billing-project/queries`,
        method: 'POST',
        data: body,
        retry: false,
      })
      .catch((e: { response?: { status: number; data: unknown } }) => e.response);
    return res as { status: number; data: { error?: { message: string; errors: Array<{ reason: string }> } } };
  };
  const sql = `SELECT 1 FROM \`${TABLE}\` WHERE x = @x`;

  it('legacy SQL by default, undeclared parameters, untyped values and other SQL', async () => {
    const legacy = await post({ query: sql });
    expect([legacy.status, legacy.data.error?.errors[0]?.reason]).toEqual([400, 'invalidQuery']);
    expect(legacy.data.error?.message).toMatch(/Try using standard SQL/);
    const undeclared = await post({ query: sql, useLegacySql: false });
    expect(undeclared.data.error?.message).toMatch(/Query parameter 'x' not found/);
    const badDate = await post({
      query: sql,
      useLegacySql: false,
      parameterMode: 'NAMED',
      queryParameters: [{ name: 'x', parameterType: { type: 'DATE' }, parameterValue: { value: '2026-02-30' } }],
    });
    expect(badDate.data.error?.message).toMatch(/Invalid date/);
    const other = await post({
      query: sql,
      useLegacySql: false,
      parameterMode: 'NAMED',
      queryParameters: [{ name: 'x', parameterType: { type: 'STRING' }, parameterValue: { value: 'y' } }],
    });
    expect([other.status, other.data.error?.errors[0]?.reason]).toEqual([400, 'invalidQuery']);
  });
});
