/**
 * The cost-check function as EventBridge Scheduler invokes it: the schedule's input with Scheduler's
 * context attributes filled in (the very input the stack sets, COST_SCHEDULE_INPUT), DynamoDB
 * (embedded), Cost Explorer from moto_server (COST_AWS, AWS_ENDPOINT_URL; its answers queued through
 * moto's static results), the Slack bot token from Secrets Manager (a loopback stand-in) and a
 * loopback Slack. The days are relative to the real clock: the function runs on it, as on Lambda (a
 * run that straddles 00:00 UTC between seeding and checking would see its days shifted by one).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCostCheckHandler } from '../../functions/cost-check.ts';
import { COST_SCHEDULE_INPUT } from '../../functions/lib/cost-event.ts';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { UsageSamples } from '../../shared/app/repos/usage-samples.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { lambdaContext } from '../support/lambda.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const TABLE = 'cloudops-cost-check-test';
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const SLACK_ARN = SECRET('cloudops/slack-alerts');
const KUBECONFIG_ARN = SECRET('cloudops/kubeconfig-read');
const EC2 = 'Amazon Elastic Compute Cloud - Compute';

/** What Scheduler sends: the stack's input, each `<aws.scheduler.…>` placeholder replaced by its value. */
function scheduledEvent(n: number): Record<string, string> {
  const filled: Record<string, string> = {
    '<aws.scheduler.schedule-arn>': 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/CloudopsCostCheck',
    '<aws.scheduler.scheduled-time>': new Date(Date.UTC(2026, 11, 7, 18 + n)).toISOString().replace('.000Z', 'Z'),
    '<aws.scheduler.execution-id>': `3c9e8d1a-5b6f-4a2e-9d0c-${String(n).padStart(12, '0')}`,
    '<aws.scheduler.attempt-number>': '1',
  };
  const json = JSON.stringify(COST_SCHEDULE_INPUT).replace(/<aws\.scheduler\.[a-z-]+>/g, (p) => filled[p] ?? p);
  return JSON.parse(json) as Record<string, string>;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const usd = (amount: string) => ({ UnblendedCost: { Amount: amount, Unit: 'USD' } });

describe('cost-check function (EventBridge Scheduler event)', () => {
  let dynamo: EmbeddedDynamo;
  let moto: MotoServer;
  let secrets: FakeSecretsManager;
  let slack: SlackReceiver;
  let kube: FakeKube;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // The SDK's default chain, as the function role's credentials are found on Lambda.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    [dynamo, moto, slack, kube] = await Promise.all([
      startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' }),
      startMoto(),
      startSlackReceiver(),
      startFakeKube({ readyDelayMs: 20, clusterName: 'prod' }),
    ]);
    secrets = await startFakeSecretsManager({ [SLACK_ARN]: slack.token, [KUBECONFIG_ARN]: kube.kubeconfigYaml });
    dir = mkdtempSync(join(tmpdir(), 'cost-check-'));
    writeFileSync(
      join(dir, 'policy.yaml'),
      [
        'cost:',
        '  budgets:',
        '    - name: aws-main',
        "      scope: { account: '123456789012' }",
        '      monthlyUsd: 50',
        '      thresholds: { actual: [80, 100], forecast: [100] }',
        '  anomaly: { minRatio: 2, minAmountUsd: 20, baselineDays: 14, minBaselineDays: 7 }',
        '',
      ].join('\n'),
    );
    // Cost Explorer's answers, in the order of the check's distinct requests: the daily spend by
    // service (the month and the anomaly window; yesterday EC2 spiked to 10x), then the month-end
    // forecast's ungrouped series (moto has no GetCostForecast: the source computes the forecast), then
    // the month by linked account for the account budget.
    const days = Array.from({ length: 45 }, (_, i) => day(i - 44));
    const res = await fetch(`${moto.url}/moto-api/static/ce/cost-and-usage-results`, {
      method: 'POST',
      body: JSON.stringify({
        results: [
          {
            ResultsByTime: days.map((d, i) => ({
              TimePeriod: { Start: d, End: day(i - 43) },
              Total: {},
              Groups: [
                { Keys: [EC2], Metrics: usd(i === 43 ? '400' : '40') },
                { Keys: ['Amazon Simple Storage Service'], Metrics: usd('2') },
              ],
              Estimated: i >= 43,
            })),
          },
          {
            ResultsByTime: days.map((d, i) => ({
              TimePeriod: { Start: d, End: day(i - 43) },
              Total: usd(i === 43 ? '402' : '42'),
              Groups: [],
              Estimated: i >= 43,
            })),
          },
          {
            ResultsByTime: days.map((d, i) => ({
              TimePeriod: { Start: d, End: day(i - 43) },
              Total: {},
              Groups: [{ Keys: ['123456789012'], Metrics: usd(i === 43 ? '402' : '42') }],
              Estimated: i >= 43,
            })),
          },
        ],
      }),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(201);
    env = {
      DYNAMODB_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: moto.url,
      COST_AWS: 'true',
      POLICY_FILE: join(dir, 'policy.yaml'),
      SLACK_ALERTS_SECRET: SLACK_ARN,
      SLACK_CHANNEL: slack.channel,
      SLACK_API_URL: slack.apiUrl,
      ALERT_GROUP_WAIT: '1s',
      LOG_LEVEL: 'silent',
    };
  }, 90_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await secrets?.close();
    await slack?.close();
    await moto?.stop();
    await kube?.close();
    await dynamo?.store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads Cost Explorer, judges the budget and the anomaly, posts the alerts in the same invocation; a second run within COST_CACHE_TTL pays nothing and posts nothing new', async () => {
    const handler = createCostCheckHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    const out = await handler(scheduledEvent(1), lambdaContext('CostCheck'));
    expect(out).toMatchObject({
      scheduledTime: '2026-12-07T19:00:00Z',
      month: day(0).slice(0, 7),
      sources: [{ source: 'aws-cost-explorer', scope: 'aws', errors: 0, cacheHits: 0 }],
      budgets: 1,
      anomalies: 1,
      errors: 0,
    });
    // The service query, the forecast's series and the account's: one page each, $0.01 each.
    expect(out.pages).toBe(3);
    expect(out.budgetFindings).toBeGreaterThanOrEqual(1);
    expect(out.alerts?.reconcile.opened).toBeGreaterThanOrEqual(2);
    expect(out.alerts?.deliver.pending).toBe(0);
    const posted = slack.messages().filter((m) => !m.thread_ts);
    const text = JSON.stringify(posted.map((m) => m.blocks ?? m.text));
    expect(text).toContain('aws-main');
    expect(text).toContain(EC2);
    // Nothing of a secret in what the invocation returns (and logs).
    expect(JSON.stringify(out)).not.toContain(slack.token);

    const again = await handler(scheduledEvent(2), lambdaContext('CostCheck'));
    expect(again.pages).toBe(0);
    expect(again.sources[0]?.cacheHits).toBe(3);
    expect(again.alerts?.reconcile.opened).toBe(0);
    expect(slack.messages().filter((m) => !m.thread_ts)).toHaveLength(posted.length);
  }, 90_000);

  it('namespace budgets: the clusters of the kubeconfig (listed, no API server called) priced from the usage samples in the table', async () => {
    writeFileSync(
      join(dir, 'namespaces.yaml'),
      [
        'cost:',
        '  budgets:',
        '    - name: shop',
        '      scope: { namespace: shop, cluster: prod }',
        '      monthlyUsd: 0.01',
        '      thresholds: { actual: [100], forecast: [] }',
        '',
      ].join('\n'),
    );
    // One sample at noon on each of the last three days: shop/api requests 1 of the node's 4 cores.
    const samples = new UsageSamples(dynamo.store, systemClock);
    for (const offset of [-3, -2, -1]) {
      await samples.write({
        cluster: 'prod',
        at: Date.parse(`${day(offset)}T12:00:00Z`),
        nodes: [{ name: 'n1', instanceType: 'test-4x16', cpuCores: 4, memoryBytes: 16 * 1024 ** 3 }],
        pods: [
          {
            namespace: 'shop',
            name: 'api-1',
            node: 'n1',
            containers: [{ name: 'api', cpuRequestCores: 1, memoryRequestBytes: 1024 ** 3 }],
            usage: [{ cpuCores: 0.5, memoryBytes: 512 * 1024 ** 2 }],
          },
        ],
      });
    }
    const handler = createCostCheckHandler({
      env: {
        ...env,
        POLICY_FILE: join(dir, 'namespaces.yaml'),
        KUBECONFIG_SECRET: KUBECONFIG_ARN,
        COST_INSTANCE_PRICES: JSON.stringify({ 'test-4x16': 0.2 }),
      },
      readSecret: secretsManagerReader(secrets.client),
    });
    const out = await handler(scheduledEvent(5), lambdaContext('CostCheck'));
    expect(out.clusters).toEqual([expect.objectContaining({ cluster: 'prod', namespaces: 1 })]);
    // On the 1st no whole day of this month has samples yet: the budget says so instead of judging.
    const firstOfMonth = day(0).endsWith('-01');
    expect(out.budgetsNotEvaluated).toBe(firstOfMonth ? 1 : 0);
    if (!firstOfMonth) expect(out.budgetFindings).toBe(1);
    expect(kube.requests).toHaveLength(0);
  }, 60_000);

  it('GCP_BILLING_TABLE on Lambda fails the cold start by name (the AWS functions hold no Google credentials)', async () => {
    const handler = createCostCheckHandler({
      env: { ...env, GCP_BILLING_TABLE: 'billing-project.billing.gcp_billing_export_v1_0123' },
      readSecret: secretsManagerReader(secrets.client),
    });
    const err = await handler(scheduledEvent(3), lambdaContext('CostCheck')).then(
      () => new Error('the cold start succeeded'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/GCP_BILLING_TABLE: .*no Google credentials/);
  });

  it("an event that is not the schedule's is refused before any work", async () => {
    const handler = createCostCheckHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    const calls = slack.requests();
    await expect(handler({ ...scheduledEvent(4), check: 'drift' }, lambdaContext('CostCheck'))).rejects.toThrow(
      /expected the schedule's input/,
    );
    await expect(
      handler({ ...scheduledEvent(4), executionId: 'x'.repeat(500) }, lambdaContext('CostCheck')),
    ).rejects.toThrow(/expected the schedule's input/);
    expect(slack.requests()).toBe(calls);
  });
});
