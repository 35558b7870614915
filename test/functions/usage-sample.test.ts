/**
 * The usage-sample function as EventBridge Scheduler invokes it: the schedule's input with Scheduler's
 * context attributes filled in (the very input the stack sets, USAGE_SAMPLE_SCHEDULE_INPUT), DynamoDB
 * (embedded), the kubeconfig from Secrets Manager (a loopback stand-in) naming two fake API servers:
 * one serving metrics.k8s.io, one without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { USAGE_SAMPLE_SCHEDULE_INPUT } from '../../functions/lib/cost-event.ts';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { createUsageSampleHandler } from '../../functions/usage-sample.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { UsageSamples } from '../../shared/app/repos/usage-samples.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { type FakeKube, type KubeObject, startFakeKube, USAGE_ANNOTATION } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { lambdaContext } from '../support/lambda.ts';

const TABLE = 'cloudops-usage-sample-test';
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const BOTH_ARN = SECRET('cloudops/kubeconfig-read');
const DOWN_ARN = SECRET('cloudops/kubeconfig-down');

/** What Scheduler sends: the stack's input, each `<aws.scheduler.…>` placeholder replaced by its value. */
function scheduledEvent(n: number): Record<string, string> {
  const filled: Record<string, string> = {
    '<aws.scheduler.schedule-arn>': 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/CloudopsUsageSample',
    '<aws.scheduler.scheduled-time>': new Date(Date.UTC(2026, 11, 7, 21, n * 5)).toISOString().replace('.000Z', 'Z'),
    '<aws.scheduler.execution-id>': `7f1d3c2a-1b2c-4d5e-8f90-${String(n).padStart(12, '0')}`,
    '<aws.scheduler.attempt-number>': '1',
  };
  const json = JSON.stringify(USAGE_SAMPLE_SCHEDULE_INPUT).replace(/<aws\.scheduler\.[a-z-]+>/g, (p) => filled[p] ?? p);
  return JSON.parse(json) as Record<string, string>;
}

/** One kubeconfig naming every given cluster (each fake writes its own with one context). */
function mergedKubeconfig(...yamls: string[]): string {
  const docs = yamls.map((y) => parse(y) as Record<string, unknown[]>);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: docs.flatMap((d) => d.clusters ?? []),
    users: docs.flatMap((d) => d.users ?? []),
    contexts: docs.flatMap((d) => d.contexts ?? []),
    'current-context': (parse(yamls[0] as string) as { 'current-context': string })['current-context'],
  });
}

const runningPod = (ns: string, name: string, cpu: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: ns,
    annotations: { [USAGE_ANNOTATION]: JSON.stringify({ app: { cpu, memory: '256Mi' } }) },
  },
  spec: {
    nodeName: 'node-1',
    containers: [{ name: 'app', image: 'nginx:1.25', resources: { requests: { cpu: '500m', memory: '512Mi' } } }],
  },
  status: { phase: 'Running' },
});

describe('usage-sample function (EventBridge Scheduler event)', () => {
  let dynamo: EmbeddedDynamo;
  let alpha: FakeKube;
  let beta: FakeKube;
  let secrets: FakeSecretsManager;
  let env: Record<string, string>;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    alpha = await startFakeKube({ readyDelayMs: 20, clusterName: 'alpha' });
    // A cluster without metrics-server: a result, not a failure.
    beta = await startFakeKube({ readyDelayMs: 20, clusterName: 'beta', metricsAvailable: false });
    const closed = await startFakeKube({ readyDelayMs: 20, clusterName: 'gone' });
    const goneYaml = closed.kubeconfigYaml;
    await closed.close();
    secrets = await startFakeSecretsManager({
      [BOTH_ARN]: mergedKubeconfig(alpha.kubeconfigYaml, beta.kubeconfigYaml),
      [DOWN_ARN]: goneYaml,
    });
    env = {
      DYNAMODB_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      KUBECONFIG_SECRET: BOTH_ARN,
      K8S_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'silent',
    };
    for (const kube of [alpha, beta]) {
      kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      kube.store.put(runningPod('shop', 'web-1', '300m'));
      kube.store.put(runningPod('shop', 'web-2', '700m'));
    }
  }, 60_000);
  afterAll(async () => {
    await secrets?.close();
    await alpha?.close();
    await beta?.close();
    await dynamo?.store.close();
  });

  it('samples every cluster: stored where metrics.k8s.io is served, a no-metrics result where not', async () => {
    const handler = createUsageSampleHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    const before = Date.now();
    const out = await handler(scheduledEvent(1), lambdaContext('UsageSample'));
    expect(out.scheduledTime).toBe('2026-12-07T21:05:00Z');
    expect(out.counts).toEqual({ stored: 1, noMetrics: 1, error: 0, skipped: 0 });
    const byCluster = Object.fromEntries(out.clusters.map((r) => [r.cluster, r]));
    expect(byCluster.alpha).toMatchObject({ status: 'stored', pods: 2, podsWithoutMetrics: 0 });
    expect(byCluster.beta).toMatchObject({ status: 'no-metrics' });
    expect(byCluster.beta && 'message' in byCluster.beta && byCluster.beta.message).toMatch(/metrics-server/);

    // What the cost tools read back from the table: the readings the fake API server served.
    const samples = new UsageSamples(dynamo.store, systemClock);
    const summary = await samples.summarize('alpha', { from: before - 3_600_000, to: Date.now() + 60_000 });
    expect(summary.sampleTimes).toBe(1);
    const cpu = Object.fromEntries(summary.pods.map((p) => [p.name, p.containers[0]?.usage?.cpuCoresAvg]));
    expect(cpu).toEqual({ 'web-1': 0.3, 'web-2': 0.7 });
    const none = await samples.summarize('beta', { from: before - 3_600_000, to: Date.now() + 60_000 });
    expect(none.sampleTimes).toBe(0);
  }, 60_000);

  it('no cluster could be sampled: the invocation fails (the Errors alarm), naming the cluster', async () => {
    const handler = createUsageSampleHandler({
      env: { ...env, KUBECONFIG_SECRET: DOWN_ARN },
      readSecret: secretsManagerReader(secrets.client),
    });
    const err = await handler(scheduledEvent(2), lambdaContext('UsageSample')).then(
      () => new Error('the run succeeded'),
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe('UsageSampleFailedError');
    expect(err.message).toMatch(/no cluster could be sampled: gone: /);
    expect(err.message).not.toContain('ran out of time');
  }, 60_000);

  it('bounded by the invocation: with too little time left no cluster is started, and the run says so', async () => {
    const handler = createUsageSampleHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    const requests = alpha.requests.length;
    const context = { ...lambdaContext('UsageSample'), getRemainingTimeInMillis: () => 5_000 };
    await expect(handler(scheduledEvent(3), context)).rejects.toThrow(
      /no cluster could be sampled: .*the invocation ran out of time/,
    );
    // Listing the clusters reads the kubeconfig only: no request reached an API server.
    expect(alpha.requests.length).toBe(requests);
  }, 60_000);

  it("an event that is not the schedule's is refused before any work", async () => {
    const handler = createUsageSampleHandler({ env, readSecret: secretsManagerReader(secrets.client) });
    const requests = alpha.requests.length;
    await expect(handler({ ...scheduledEvent(4), check: 'drift' }, lambdaContext('UsageSample'))).rejects.toThrow(
      /expected the schedule's input/,
    );
    await expect(
      handler({ ...scheduledEvent(4), scheduledTime: 'x'.repeat(100) }, lambdaContext('UsageSample')),
    ).rejects.toThrow(/expected the schedule's input/);
    expect(alpha.requests.length).toBe(requests);
  });
});
