/**
 * The drift-check function as EventBridge Scheduler invokes it: the schedule's input with Scheduler's
 * context attributes filled in (the very input the stack sets, DRIFT_SCHEDULE_INPUT), DynamoDB
 * (embedded), the kubeconfig and the Slack bot token from Secrets Manager (a loopback stand-in), the
 * fake API server and a loopback Slack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDriftCheckHandler } from '../../functions/drift-check.ts';
import { DRIFT_SCHEDULE_INPUT } from '../../functions/lib/drift-event.ts';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { Baselines } from '../../shared/app/repos/baselines.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';
import { editDeployment, webDeployment } from '../support/drift.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { lambdaContext } from '../support/lambda.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const TABLE = 'cloudops-drift-check-test';
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const KUBECONFIG_ARN = SECRET('cloudops/kubeconfig-read');
const SLACK_ARN = SECRET('cloudops/slack-alerts');
const BAD_SLACK_ARN = SECRET('cloudops/slack-bad');
const NS = 'payments';

/** What Scheduler sends: the stack's input, each `<aws.scheduler.…>` placeholder replaced by its value. */
function scheduledEvent(n: number): Record<string, string> {
  const filled: Record<string, string> = {
    '<aws.scheduler.schedule-arn>': 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/CloudopsDriftCheck',
    '<aws.scheduler.scheduled-time>': new Date(Date.UTC(2026, 11, 7, 21, n * 10)).toISOString().replace('.000Z', 'Z'),
    '<aws.scheduler.execution-id>': `0e4a7a4c-6c2b-4b47-9f5c-${String(n).padStart(12, '0')}`,
    '<aws.scheduler.attempt-number>': '1',
  };
  const json = JSON.stringify(DRIFT_SCHEDULE_INPUT).replace(/<aws\.scheduler\.[a-z-]+>/g, (p) => filled[p] ?? p);
  return JSON.parse(json) as Record<string, string>;
}

const deployment: KubeObject = webDeployment(NS);

describe('drift-check function (EventBridge Scheduler event)', () => {
  let dynamo: EmbeddedDynamo;
  let kube: FakeKube;
  let secrets: FakeSecretsManager;
  let slack: SlackReceiver;
  let env: Record<string, string>;
  let handler: ReturnType<typeof createDriftCheckHandler>;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    kube = await startFakeKube({ readyDelayMs: 20 });
    slack = await startSlackReceiver();
    secrets = await startFakeSecretsManager({
      [KUBECONFIG_ARN]: kube.kubeconfigYaml,
      [SLACK_ARN]: slack.token,
      [BAD_SLACK_ARN]: 'not-a-token-or-url-but-secret-text',
    });
    env = {
      DYNAMODB_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      KUBECONFIG_SECRET: KUBECONFIG_ARN,
      SLACK_ALERTS_SECRET: SLACK_ARN,
      SLACK_CHANNEL: slack.channel,
      SLACK_API_URL: slack.apiUrl,
      // A group wait the run must wait out: its alerts still go out in the same invocation.
      ALERT_GROUP_WAIT: '1s',
      K8S_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'silent',
    };
    handler = createDriftCheckHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // What an apply through the server leaves: the object, and its baseline in the table.
    kube.store.put(deployment as Parameters<FakeKube['store']['put']>[0]);
    await new Baselines(dynamo.store, systemClock).record({
      cluster: 'fake',
      manifest: deployment,
      appliedBy: 'alice',
      requestId: 'r-1',
    });
  }, 60_000);
  afterAll(async () => {
    await secrets?.close();
    await slack?.close();
    await kube?.close();
    await dynamo?.store.close();
  });
  beforeEach(() => slack.heal());

  it('nothing changed: a clean check, no message', async () => {
    const out = await handler(scheduledEvent(1), lambdaContext('DriftCheck'));
    expect(out).toMatchObject({
      scheduledTime: '2026-12-07T21:10:00Z',
      clusters: ['fake'],
      counts: { objects: 1, clean: 1, drifted: 0, deleted: 0, error: 0 },
    });
    expect(slack.messages()).toHaveLength(0);
  }, 60_000);

  it('a field changed by another manager: found, alerted once; the next run sends nothing new', async () => {
    await editDeployment(kube, NS, 'web', {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    });
    const out = await handler(scheduledEvent(2), lambdaContext('DriftCheck'));
    expect(out.counts).toMatchObject({ objects: 1, drifted: 1 });
    expect(out.alerts?.reconcile.opened).toBe(1);
    expect(out.alerts?.deliver.sent).toBeGreaterThanOrEqual(1);
    const posted = slack.messages().filter((m) => !m.thread_ts);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]?.blocks)).toContain('nginx:1.26');
    expect(JSON.stringify(posted[0]?.blocks)).toContain('kubectl-edit');
    const again = await handler(scheduledEvent(3), lambdaContext('DriftCheck'));
    expect(again.counts.drifted).toBe(1);
    expect(again.alerts?.reconcile).toMatchObject({ opened: 0, unchanged: 1 });
    expect(slack.messages().filter((m) => !m.thread_ts)).toHaveLength(1);
  }, 60_000);

  it('Slack failing during runs (503, then a closed port), then back: the new drift is posted exactly once', async () => {
    const api = webDeployment(NS, 'api');
    kube.store.put(api as Parameters<FakeKube['store']['put']>[0]);
    await new Baselines(dynamo.store, systemClock).record({
      cluster: 'fake',
      manifest: api,
      appliedBy: 'alice',
      requestId: 'r-2',
    });
    await editDeployment(kube, NS, 'api', { spec: { replicas: 7 } });
    const aboutApi = () => slack.messages().filter((m) => JSON.stringify(m.blocks ?? m.text).includes(`${NS}/api`));
    slack.failWith({ kind: 'status', status: 503 });
    const down = await handler(scheduledEvent(5), lambdaContext('DriftCheck'));
    expect(down.alerts?.reconcile.opened).toBe(1);
    expect(down.alerts?.deliver.pending).toBeGreaterThanOrEqual(1);
    await slack.stopListening();
    try {
      const closed = await handler(scheduledEvent(6), lambdaContext('DriftCheck'));
      expect(closed.alerts?.deliver.pending).toBeGreaterThanOrEqual(1);
    } finally {
      await slack.reopen();
    }
    slack.heal();
    expect(aboutApi()).toHaveLength(0);
    // The entry's backoff may still be running: runs go on until it falls due, as the schedule's would.
    for (let run = 7; run < 30 && aboutApi().length === 0; run++) {
      await handler(scheduledEvent(run), lambdaContext('DriftCheck'));
      if (aboutApi().length === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(aboutApi()).toHaveLength(1);
    await handler(scheduledEvent(40), lambdaContext('DriftCheck'));
    expect(aboutApi()).toHaveLength(1);
  }, 60_000);

  it("an event that is not the schedule's is refused before any work", async () => {
    const calls = slack.requests();
    await expect(handler({ step: 'rollbacks.reconcile' }, lambdaContext('DriftCheck'))).rejects.toThrow(
      /expected the schedule's input/,
    );
    await expect(
      handler({ ...scheduledEvent(4), executionId: 'x'.repeat(500) }, lambdaContext('DriftCheck')),
    ).rejects.toThrow(/expected the schedule's input/);
    expect(slack.requests()).toBe(calls);
  });

  it('a Slack secret that holds neither a webhook URL nor a bot token fails the cold start, naming the setting, not the value', async () => {
    const bad = createDriftCheckHandler({
      env: { ...env, SLACK_ALERTS_SECRET: BAD_SLACK_ARN },
      readSecret: secretsManagerReader(secrets.client),
    });
    const err = await bad(scheduledEvent(5), lambdaContext('DriftCheck')).then(
      () => new Error('the cold start succeeded'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain('SLACK_ALERTS_SECRET');
    expect(err.message).not.toContain('secret-text');
  });
});
