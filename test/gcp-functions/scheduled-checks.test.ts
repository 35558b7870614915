/**
 * The GCP scheduled checks (drift, cost, usage) on the real functions-framework, invoked with the
 * request Cloud Scheduler sends for a job with an HTTP target and an OIDC token: POST, the job's body
 * as JSON, `Authorization: Bearer <ID token of the scheduler's service account>`, X-CloudScheduler,
 * X-CloudScheduler-JobName, X-CloudScheduler-ScheduleTime, User-Agent Google-Cloud-Scheduler
 * (https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget).
 * Firestore is the emulator; the kubeconfig and the Slack bot token come from Secret Manager (the
 * loopback fake); the cluster is the fake API server, Slack the loopback receiver, the billing export
 * the BigQuery fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCostCheckHandler } from '../../gcp-functions/cost-check.ts';
import { createDriftCheckHandler } from '../../gcp-functions/drift-check.ts';
import { GCP_FUNCTIONS } from '../../gcp-functions/layout.ts';
import { gcpCostSources } from '../../gcp-functions/lib/cost.ts';
import { gcpStore, loadGcpConfig } from '../../gcp-functions/lib/host.ts';
import { gcpNotifier } from '../../gcp-functions/lib/notifier.ts';
import { createUsageSampleHandler } from '../../gcp-functions/usage-sample.ts';
import type { FirestoreStore } from '../../shared/adapters/gcp/firestore-store.ts';
import { SecretManagerSecrets } from '../../shared/adapters/gcp/secret-manager.ts';
import { Baselines } from '../../shared/app/repos/baselines.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';
import { editDeployment, webDeployment } from '../support/drift.ts';
import { type FakeBigQueryApi, startFakeBigQuery } from '../support/fake-gcp/bigquery.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import {
  FUNCTION_SA,
  type GcpFunctionHost,
  SCHEDULER_SA,
  startGcpFunctionHost,
  WORKFLOWS_SA,
} from '../support/gcp-function-host.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const NS = 'payments';
const CLUSTER = 'prod';
const TABLE = 'billing-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9';
const url = (fn: string) => `https://${fn}-3kq2x7abcd-ew.a.run.app`;

let host: GcpFunctionHost;
let kube: FakeKube;
let slack: SlackReceiver;
let bigquery: FakeBigQueryApi;
let store: FirestoreStore;
let dir: string;
const served: ServedFunction[] = [];

/** A check's function served on functions-framework with the settings terraform gives it. */
async function serve(
  create: (opts: { env: Record<string, string> }) => Parameters<typeof serveHttpFunction>[0],
  fn: string,
  extra: Record<string, string> = {},
): Promise<ServedFunction> {
  const s = await serveHttpFunction(
    create({
      env: {
        ...host.env,
        ...host.oidcEnv(url(fn), SCHEDULER_SA),
        OIDC_TRUST_CLOUD_RUN_IAM: 'true',
        KUBECONFIG_SECRET: host.secret('kubeconfig-read'),
        SLACK_ALERTS_SECRET: host.secret('slack-alerts'),
        SLACK_CHANNEL: slack.channel,
        SLACK_API_URL: slack.apiUrl,
        // A group wait the run must wait out: its alerts still go out in the same invocation.
        ALERT_GROUP_WAIT: '1s',
        FUNCTION_TIMEOUT_SEC: '300',
        K8S_TIMEOUT_MS: '5000',
        ...extra,
      },
    }),
  );
  served.push(s);
  return s;
}

/** What Cloud Scheduler sends for job `job` due at `scheduleTime`. */
async function schedulerPost(
  target: ServedFunction,
  fn: string,
  body: string,
  over: { headers?: Record<string, string | undefined>; token?: string | null } = {},
) {
  const token = over.token === undefined ? await host.idToken(url(fn), SCHEDULER_SA) : over.token;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    'content-type': 'application/json',
    'user-agent': 'Google-Cloud-Scheduler',
    'x-cloudscheduler': 'true',
    'x-cloudscheduler-jobname': `cloudops-${fn}`,
    'x-cloudscheduler-scheduletime': '2026-12-07T21:10:00Z',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...over.headers,
  })) {
    if (v !== undefined) headers[k] = v;
  }
  const res = await fetch(target.url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  [kube, slack] = await Promise.all([startFakeKube({ readyDelayMs: 20, clusterName: CLUSTER }), startSlackReceiver()]);
  host = await startGcpFunctionHost({
    collection: 'gcp-scheduled-checks-test',
    secrets: { 'kubeconfig-read': kube.kubeconfigYaml, 'slack-alerts': slack.token },
  });
  // The billing export: web-project spends 5 USD a day, yesterday 60 (an anomaly, and over budget).
  bigquery = await startFakeBigQuery(host.tokens, {
    projects: [{ id: 'billing-project', principals: [FUNCTION_SA] }],
    tables: [
      {
        project: 'billing-project',
        dataset: 'billing_export',
        table: TABLE.split('.')[2] as string,
        rows: Array.from({ length: 40 }, (_, i) => ({
          service: 'Compute Engine',
          project: 'web-project',
          usageStart: `${day(i - 40)}T06:00:00Z`,
          cost: i === 39 ? 60 : 5,
          currency: 'USD',
        })),
      },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'gcp-cost-check-'));
  writeFileSync(
    join(dir, 'policy.yaml'),
    [
      'cost:',
      '  budgets:',
      '    - name: web-project',
      '      scope: { project: web-project }',
      '      monthlyUsd: 20',
      '      thresholds: { actual: [100], forecast: [] }',
      '  anomaly: { minRatio: 2, minAmountUsd: 20, baselineDays: 14, minBaselineDays: 7 }',
      '',
    ].join('\n'),
  );
  store = gcpStore(loadGcpConfig(host.env, []));
  kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const deployment: KubeObject = webDeployment(NS);
  kube.store.put(deployment as Parameters<FakeKube['store']['put']>[0]);
  await new Baselines(store, systemClock).record({
    cluster: CLUSTER,
    manifest: deployment,
    appliedBy: 'alice',
    requestId: 'r-1',
  });
}, 120_000);
afterAll(async () => {
  await Promise.all(served.map((s) => s.close()));
  await store?.close();
  await bigquery?.close();
  await host?.close();
  await slack?.close();
  await kube?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => slack.heal());

describe('drift check invoked as Cloud Scheduler invokes it', () => {
  let drift: ServedFunction;
  beforeAll(async () => {
    drift = await serve(createDriftCheckHandler, 'drift-check');
  });

  it('finds the drift, records it, posts one Slack alert in the same invocation, and answers 200 with counts only', async () => {
    await editDeployment(kube, NS, 'web', {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    });
    const out = await schedulerPost(drift, 'drift-check', '{"check":"drift"}');
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      job: 'cloudops-drift-check',
      scheduleTime: '2026-12-07T21:10:00Z',
      clusters: [CLUSTER],
      counts: { objects: 1, drifted: 1 },
      alerts: { reconcile: { opened: 1 } },
    });
    const posted = slack.messages().filter((m) => !m.thread_ts);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.blocks)).toContain('nginx:1.26');
    // Counts, never a finding's values or a secret.
    expect(JSON.stringify(out.body)).not.toContain('nginx:1.26');
    expect(JSON.stringify(out.body)).not.toContain(slack.token);

    // Scheduler's next run: the same drift, nothing new posted.
    const again = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', {
      headers: { 'x-cloudscheduler-scheduletime': '2026-12-07T21:20:00Z' },
    });
    expect(again.body).toMatchObject({ counts: { drifted: 1 }, alerts: { reconcile: { opened: 0, unchanged: 1 } } });
    expect(slack.messages().filter((m) => !m.thread_ts)).toHaveLength(1);
  }, 60_000);

  it("another check's body, or a request Scheduler would not send: 4xx, nothing checked", async () => {
    const before = slack.messages().length;
    const wrong = await schedulerPost(drift, 'drift-check', '{"check":"cost"}');
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/runs the drift check.*"cost"/);
    const extra = await schedulerPost(drift, 'drift-check', '{"check":"drift","dryRun":true}');
    expect(extra.status).toBe(400);
    const notScheduler = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', {
      headers: { 'x-cloudscheduler': undefined },
    });
    expect(notScheduler.status).toBe(400);
    const noJob = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', {
      headers: { 'x-cloudscheduler-jobname': undefined },
    });
    expect(noJob.status).toBe(400);
    const badTime = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', {
      headers: { 'x-cloudscheduler-scheduletime': 'yesterday' },
    });
    expect(badTime.status).toBe(400);
    const form = await schedulerPost(drift, 'drift-check', 'check=drift', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(slack.messages()).toHaveLength(before);
  });

  it('no token, a bad one, or the workflows service account: 401/403 before anything is read', async () => {
    expect((await schedulerPost(drift, 'drift-check', '{"check":"drift"}', { token: null })).status).toBe(401);
    const forged = await host.idToken(url('drift-check'), SCHEDULER_SA, { foreignKey: true });
    expect((await schedulerPost(drift, 'drift-check', '{"check":"drift"}', { token: forged })).status).toBe(401);
    const workflows = await host.idToken(url('drift-check'), WORKFLOWS_SA);
    const refused = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', { token: workflows });
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden' } });
  });

  it("behind Cloud Run: the scheduler's token with the signature Cloud Run removed is accepted (terraform's OIDC_TRUST_CLOUD_RUN_IAM), its claims still checked", async () => {
    const unsigned = (token: string) => `${token.split('.').slice(0, 2).join('.')}.SIGNATURE_REMOVED_BY_GOOGLE`;
    const ok = await schedulerPost(drift, 'drift-check', '{"check":"drift"}', {
      token: unsigned(await host.idToken(url('drift-check'), SCHEDULER_SA)),
      headers: { 'x-cloudscheduler-scheduletime': '2026-12-07T21:30:00Z' },
    });
    expect(ok.status).toBe(200);
    const other = unsigned(await host.idToken(url('drift-check'), WORKFLOWS_SA));
    expect((await schedulerPost(drift, 'drift-check', '{"check":"drift"}', { token: other })).status).toBe(403);
    const elsewhere = unsigned(await host.idToken(url('cost-check'), SCHEDULER_SA));
    expect((await schedulerPost(drift, 'drift-check', '{"check":"drift"}', { token: elsewhere })).status).toBe(401);
  });

  it('a check that cannot run answers 500, so Scheduler retries it', async () => {
    // The kubeconfig's secret is not granted to the function: the cold start fails.
    const locked = await serve(createDriftCheckHandler, 'drift-check', {
      KUBECONFIG_SECRET: 'projects/ops-project/secrets/not-granted/versions/latest',
    });
    const out = await schedulerPost(locked, 'drift-check', '{"check":"drift"}');
    expect(out.status).toBe(500);
    expect(out.body.message).toContain('drift check could not run');
  });
});

describe('cost check invoked as Cloud Scheduler invokes it', () => {
  it('reads the billing export in BigQuery, judges the budget and the anomaly, posts the alerts; 200 with counts', async () => {
    const cost = await serve(createCostCheckHandler, 'cost-check', {
      GCP_BILLING_TABLE: TABLE,
      BIGQUERY_URL: bigquery.url,
      POLICY_FILE: join(dir, 'policy.yaml'),
    });
    const before = slack.messages().filter((m) => !m.thread_ts).length;
    const out = await schedulerPost(cost, 'cost-check', '{"check":"cost"}');
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({
      job: 'cloudops-cost-check',
      month: day(0).slice(0, 7),
      sources: [{ source: 'gcp-bigquery-billing', errors: 0 }],
      budgets: 1,
      budgetsNotEvaluated: 0,
      errors: 0,
    });
    expect(bigquery.queries.length).toBeGreaterThanOrEqual(1);
    expect(out.body.anomalies).toBe(1);
    expect(out.body.budgetFindings).toBeGreaterThanOrEqual(1);
    const posted = slack.messages().filter((m) => !m.thread_ts);
    expect(posted.length).toBeGreaterThan(before);
    expect(JSON.stringify(posted.slice(before).map((m) => m.blocks ?? m.text))).toContain('web-project');
  }, 60_000);

  it('COST_AWS=true on GCP is refused by name: the run answers 500', async () => {
    const cost = await serve(createCostCheckHandler, 'cost-check', { COST_AWS: 'true' });
    const out = await schedulerPost(cost, 'cost-check', '{"check":"cost"}');
    expect(out).toMatchObject({ status: 500, body: { error: 'ConfigError' } });
    expect(() => gcpCostSources(loadConfig({ COST_AWS: 'true' }), {})).toThrow(/COST_AWS: .*no AWS Cost Explorer/);
    expect(() => gcpCostSources(loadConfig({ GCP_BILLING_TABLE: 'not-a-table' }), {})).toThrow(/GCP_BILLING_TABLE/);
  });
});

describe('usage sample invoked as Cloud Scheduler invokes it', () => {
  it('samples the cluster and answers 200 with its status', async () => {
    const usage = await serve(createUsageSampleHandler, 'usage-sample');
    const out = await schedulerPost(usage, 'usage-sample', '{"check":"usage"}');
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ job: 'cloudops-usage-sample', counts: { stored: 1, error: 0 } });
    const drift = await schedulerPost(usage, 'usage-sample', '{"check":"drift"}');
    expect(drift.status).toBe(400);
  }, 60_000);
});

describe('gcpNotifier: Slack from a Secret Manager version', () => {
  const secrets = () => new SecretManagerSecrets({ baseUrl: host.secretManager.url });

  it('names SLACK_ALERTS_SECRET when it is not a version name or its value is no token, never quoting the value', async () => {
    await expect(gcpNotifier({ SLACK_ALERTS_SECRET: 'slack-alerts' }, secrets())).rejects.toThrow(
      /SLACK_ALERTS_SECRET: must be a Secret Manager version name/,
    );
    host.secretManager.addVersion('ops-project', 'slack-odd', 'not-a-token-but-secret-text', [FUNCTION_SA]);
    const odd = await gcpNotifier({ SLACK_ALERTS_SECRET: host.secret('slack-odd') }, secrets()).then(
      () => expect.unreachable('accepted a value that is no token'),
      (err: Error) => err,
    );
    expect(odd.message).toMatch(/SLACK_ALERTS_SECRET: .*webhook URL .*or a bot token/);
    expect(odd.message).not.toContain('not-a-token-but-secret-text');
    await expect(gcpNotifier({ SLACK_BOT_TOKEN: 'xoxb-1' }, secrets())).rejects.toThrow(
      /on GCP keep them in Secret Manager/,
    );
    await expect(gcpNotifier({}, secrets())).resolves.toBeUndefined();
  });
});

describe('the bundles', () => {
  it('each registers its entry point with functions-framework, as terraform deploys it', async () => {
    for (const name of ['workflow-step', 'drift-check', 'cost-check', 'usage-sample', 'slack-actions'] as const) {
      const entry = GCP_FUNCTIONS[name];
      const mod = (await import(`../../${entry.source}`)) as { handler: unknown };
      expect(getFunction(entry.entryPoint), name).toBe(mod.handler);
    }
  });
});
