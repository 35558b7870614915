import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../shared/tools/index.ts';
import { FakeAws, FakeGcp } from '../support/fake-cloud-reads.ts';
import { FakeCostSource, seedBill } from '../support/fake-cost-source.ts';
import { LOG_LINES_ANNOTATION } from '../support/fake-kube/index.ts';
import { type Harness, startHarness } from '../support/k8s-harness.ts';

// Paging and bounds (issue 9, item 9): every read tool, driven against a large cluster and large
// stores, answers within OUTPUT_BUDGET_BYTES as the client receives it (text and structuredContent
// together), and a list that was cut says how to get the rest in its text, not only in structuredContent.

const BUDGET = 8192;
const NS = 'big';
const HUGE = 'h'.repeat(20_000);
/** Every `rare`-th object carries a huge value; the rest are ordinary (the cluster stays quick to list). */
const big = (i: number, rare: number, ordinary = 100) => (i % rare === 0 ? HUGE : 'o'.repeat(ordinary));

let h: Harness;

/** Arguments that make each read tool's answer large. A new read tool must be added here. */
const READ_CALLS: Record<string, Record<string, unknown>> = {
  server_info: {},
  audit_events_list: { limit: 100 },
  admin_config_get: {},
  k8s_clusters_list: {},
  k8s_api_resources_list: {},
  k8s_namespaces_list: {},
  k8s_resources_list: { kind: 'ConfigMap', namespace: NS, limit: 1000 },
  k8s_resources_get: { kind: 'ConfigMap', namespace: NS, name: 'cm-0001' },
  k8s_pods_logs: { namespace: NS, name: 'chatty', tailLines: 5000 },
  k8s_events_list: { namespace: NS, limit: 500 },
  k8s_metrics_top: { namespace: NS, limit: 500 },
  k8s_rollouts_status: { namespace: NS, name: 'web' },
  k8s_rollouts_history: { namespace: NS, name: 'web' },
  delivery_rollouts_plan: { namespace: NS, name: 'web', image: 'nginx:1.28' },
  delivery_rollouts_get: { operationId: 'op-0000' },
  ops_operations_list: { limit: 50 },
  ops_operations_get: { operationId: 'op-0000' },
  ops_approvals_list: { limit: 50 },
  drift_findings_list: { limit: 200 },
  alerts_outbox_list: { limit: 200 },
  aws_eks_clusters_describe: { name: 'big' },
  aws_ec2_instances_list: { limit: 200 },
  aws_cloudwatch_metrics_get: {
    queries: Array.from({ length: 10 }, (_, i) => ({
      namespace: 'AWS/EC2',
      metric: 'CPUUtilization',
      dimensions: { InstanceId: `i-${String(i).padStart(17, '0')}` },
    })),
    sinceMinutes: 1440,
  },
  gcp_gke_clusters_describe: { location: 'us-central1', name: 'big' },
  gcp_compute_instances_list: { limit: 200 },
  gcp_monitoring_timeseries_query: { metricType: 'compute.googleapis.com/instance/cpu/utilization', limit: 50 },
  cost_reports_get: { by: 'service', days: 92, maxGroups: 50 },
  cost_workloads_list: { by: 'workload', hours: 720, limit: 500 },
  cost_recommendations_list: { limit: 200 },
  cost_budgets_list: { limit: 200 },
};

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const PROJECT = 'alpha-project';

/** A large AWS account: 3,000 instances with many long tags, an EKS cluster with 100 node groups, ten busy metrics. */
function bigAws(): FakeAws {
  const aws = new FakeAws([ACCOUNT], [REGION]);
  const tags = (i: number) =>
    Object.fromEntries(
      Array.from({ length: i % 7 === 0 ? 50 : 3 }, (_, t) => [`tag-${t}`, big(i + t, 11, 40).slice(0, 256)]),
    );
  aws.instances.set(
    `${ACCOUNT}/${REGION}`,
    Array.from({ length: 3000 }, (_, i) => ({
      id: `i-${String(i).padStart(17, '0')}`,
      name: `web-${i}-${'n'.repeat(i % 13 === 0 ? 200 : 5)}`,
      state: i % 3 ? 'running' : 'stopped',
      type: 'm6i.large',
      zone: 'eu-west-1a',
      privateIp: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      launchTime: new Date(Date.now() - i * 60_000).toISOString(),
      tags: tags(i),
    })),
  );
  const many = <T>(n: number, make: (i: number) => T) => ({
    available: true as const,
    truncated: false,
    items: Array.from({ length: n }, (_, i) => make(i)),
  });
  aws.clusters.set(`${ACCOUNT}/${REGION}/big`, {
    name: 'big',
    status: 'ACTIVE',
    version: '1.31',
    platformVersion: 'eks.7',
    nodegroups: many(100, (i) => ({
      name: `ng-${i}-${'g'.repeat(60)}`,
      status: 'ACTIVE',
      instanceTypes: ['m6i.large', 'm6a.large', 'c6i.xlarge'],
      scaling: { min: 1, desired: 3, max: 10 },
      version: '1.31',
      capacityType: 'ON_DEMAND',
    })),
    addons: many(40, (i) => ({ name: `addon-${i}-${'a'.repeat(40)}`, version: 'v1.0.0-eksbuild.1', status: 'ACTIVE' })),
    insights: many(60, (i) => ({
      id: `ins-${i}`,
      name: `Deprecated APIs ${'d'.repeat(80)}`,
      category: 'UPGRADE_READINESS',
      status: 'ERROR',
      kubernetesVersion: '1.32',
    })),
  });
  const start = Date.now() - 1440 * 60_000;
  aws.metrics.set(
    `${ACCOUNT}/${REGION}`,
    Array.from({ length: 10 }, (_, m) => ({
      namespace: 'AWS/EC2',
      metric: 'CPUUtilization',
      dimensions: { InstanceId: `i-${String(m).padStart(17, '0')}` },
      points: Array.from({ length: 1440 }, (_, i) => ({ t: start + i * 60_000, v: (i * (m + 1)) % 97 })),
    })),
  );
  return aws;
}

/** A large GCP project: 2,000 VMs with many labels, a GKE cluster with many pools, 300 series. */
function bigGcp(): FakeGcp {
  const zones = ['us-central1-a', 'us-central1-b', 'europe-west1-b'];
  const gcp = new FakeGcp([PROJECT], zones);
  gcp.instances.set(
    PROJECT,
    Array.from({ length: 2000 }, (_, i) => ({
      name: `vm-${i}`,
      id: String(1000 + i),
      zone: zones[i % 3] as string,
      status: i % 5 === 0 ? 'TERMINATED' : 'RUNNING',
      machineType: 'e2-medium',
      labels: Object.fromEntries(
        Array.from({ length: i % 9 === 0 ? 64 : 4 }, (_, l) => [`label-${l}`, 'v'.repeat(63)]),
      ),
      internalIp: `10.1.${Math.floor(i / 250)}.${i % 250}`,
      created: new Date(Date.now() - i * 60_000).toISOString(),
    })),
  );
  gcp.clusters.set(`${PROJECT}/us-central1/big`, {
    id: 'gke-big',
    project: PROJECT,
    location: 'us-central1',
    name: 'big',
    status: 'RUNNING',
    version: '1.31.2-gke.1000',
    nodeVersion: '1.31.2-gke.1000',
    releaseChannel: 'REGULAR',
    autopilot: false,
    currentNodeCount: 300,
    nodePools: Array.from({ length: 100 }, (_, i) => ({
      name: `pool-${i}-${'p'.repeat(30)}`,
      machineType: 'e2-standard-4',
      version: '1.31.2-gke.1000',
      status: 'RUNNING',
      autoscaling: { minNodeCount: 1, maxNodeCount: 10 },
      initialNodeCountPerZone: 1,
      zones,
    })),
    nodePoolsOmitted: 0,
  });
  const start = Date.now() - 180 * 60_000;
  gcp.series.set(
    PROJECT,
    Array.from({ length: 300 }, (_, s) => ({
      metricType: 'compute.googleapis.com/instance/cpu/utilization',
      resourceType: 'gce_instance',
      labels: { 'resource.zone': zones[s % 3] as string, instance_name: `vm-${s}-${'i'.repeat(50)}` },
      unit: '10^2.%',
      points: Array.from({ length: 36 }, (_, i) => ({
        time: new Date(start + i * 300_000).toISOString(),
        value: (s + i) / 400,
      })),
    })),
  );
  return gcp;
}

/**
 * Large cost data: two spend sources with 92 days of 60 services and 40 team tags (paid pages
 * counted), 150 budgets, and 12 usage samples of 600 pods in 200 Deployments on priced nodes (the
 * Deployments exist on the cluster, so each gets a recommendation or refusals).
 */
async function seedCost(): Promise<void> {
  const deps = h.server.deps;
  const now = Date.now();
  const aws = new FakeCostSource({ now: () => now, estimatedDays: 2 });
  const gcp = new FakeCostSource({ now: () => now, kind: 'gcp-bigquery-billing' });
  seedBill(aws, { now, days: 92, services: 60, teams: 40 });
  seedBill(gcp, { now, days: 92, services: 60, teams: 40 });
  Object.assign(deps, { costSources: [aws, gcp] });
  const base = deps.policy.cost ?? { budgets: [], anomaly: undefined as never, rightsizing: undefined as never };
  deps.policy.cost = {
    ...base,
    budgets: Array.from({ length: 150 }, (_, i) => ({
      name: `budget-${String(i).padStart(3, '0')}-${'b'.repeat(40)}`,
      scope: i % 3 === 2 ? { namespace: `team-${i}` } : { account: ACCOUNT },
      monthlyUsd: 100 * (i + 1),
      thresholds: { actual: [50, 80, 100], forecast: [100] },
    })),
    rightsizing: { ...(deps.policy.cost?.rightsizing as object), minSamples: 10 } as never,
  };
  const cluster = (await deps.clusters.list())[0]?.name as string;
  const nodes = Array.from({ length: 20 }, (_, i) => ({
    name: `ip-10-0-0-${i}.ec2.internal`,
    instanceType: 'm6i.large',
    cpuCores: 8,
    memoryBytes: 32 * 2 ** 30,
  }));
  for (let n = 0; n < 20; n++)
    h.kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `cost-${n}` } } as never);
  for (let d = 0; d < 200; d++) {
    const ns = `cost-${d % 20}`;
    h.kube.store.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `svc-${d}-${'w'.repeat(40)}`, namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: `svc-${d}` } },
        template: {
          metadata: { labels: { app: `svc-${d}` } },
          spec: {
            containers: ['app', 'sidecar'].map((name) => ({
              name,
              image: 'nginx:1.27',
              resources: { requests: { cpu: '2', memory: '4Gi' } },
            })),
          },
        },
      },
    } as never);
  }
  for (let k = 12; k >= 1; k--) {
    await deps.usageSamples.write({
      cluster,
      at: now - k * 5 * 60_000,
      nodes,
      pods: Array.from({ length: 600 }, (_, p) => {
        const d = p % 200;
        return {
          namespace: `cost-${d % 20}`,
          name: `svc-${d}-${'w'.repeat(40)}-${p}`,
          node: nodes[p % 20]?.name as string,
          owner: {
            kind: 'ReplicaSet',
            name: `svc-${d}-rs`,
            owner: { kind: 'Deployment', name: `svc-${d}-${'w'.repeat(40)}` },
          },
          labels: { app: `svc-${d}`, team: `team-${d % 7}` },
          containers: ['app', 'sidecar'].map((name) => ({
            name,
            cpuRequestCores: 2,
            memoryRequestBytes: 4 * 2 ** 30,
          })),
          usage: [
            { cpuCores: 0.1 + (k % 3) / 100, memoryBytes: 200 * 2 ** 20 },
            { cpuCores: 0.05, memoryBytes: 50 * 2 ** 20 },
          ],
        };
      }),
    });
  }
}

/** Pages followed per list at most, so a loop cannot run away. */
const MAX_PAGES = 400;
/** Pages the every-tool check follows; the events and logs tests below follow them all. */
const CHECKED_PAGES = 12;
const EVENTS = 1200;
const LOG_LINES = 600;

async function callRaw(name: string, args: Record<string, unknown>) {
  const r = (await h.client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content?: Array<{ type: string; text?: string }>;
    structuredContent?: Record<string, unknown>;
  };
  const text = (r.content ?? []).map((c) => c.text ?? '').join('\n');
  return { raw: r, text, data: r.structuredContent ?? {}, bytes: Buffer.byteLength(JSON.stringify(r), 'utf8') };
}

beforeAll(async () => {
  // Every toolset (drift and alerts are not served by default).
  h = await startHarness(
    {
      OUTPUT_BUDGET_BYTES: String(BUDGET),
      TOOLSETS: [...new Set(allTools.map((t) => t.group))].join(','),
    },
    { cloud: { aws: bigAws(), gcp: bigGcp() } },
  );
  const put = (o: Record<string, unknown>) => h.kube.store.put(o as never);
  put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (let i = 0; i < 300; i++) {
    put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}`, annotations: { note: big(i, 60) } } });
  }
  for (let i = 0; i < 2000; i++) {
    put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${String(i).padStart(4, '0')}`, namespace: NS, annotations: { note: big(i, 100) } },
      data: { big: i === 1 ? 'v'.repeat(200_000) : 'v' },
    });
  }
  const now = Date.now();
  for (let i = 0; i < EVENTS; i++) {
    put({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `ev-${i}`, namespace: NS },
      involvedObject: { kind: 'Pod', name: `pod-${i}`, namespace: NS },
      reason: 'BackOff',
      type: 'Warning',
      message: `${i} ${big(i, 250, 150)}`,
      lastTimestamp: new Date(now - i * 1000).toISOString(),
      count: 1,
    });
  }
  // Many ReplicaSets of one Deployment, each with a huge change cause.
  const deployment = put({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS, annotations: { 'deployment.kubernetes.io/revision': '120' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    },
    status: {
      observedGeneration: 1,
      replicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: HUGE }],
    },
  });
  for (let r = 1; r <= 120; r++) {
    put({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `web-${r}`,
        namespace: NS,
        labels: { app: 'web', 'pod-template-hash': `h${r}` },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata.uid, controller: true },
        ],
        annotations: { 'deployment.kubernetes.io/revision': String(r), 'kubernetes.io/change-cause': big(r, 25, 2000) },
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web', 'pod-template-hash': `h${r}` } },
        template: {
          metadata: { labels: { app: 'web', 'pod-template-hash': `h${r}` } },
          spec: { containers: [{ name: 'app', image: `nginx:1.${r}` }] },
        },
      },
    });
  }
  // Long log lines, with characters that grow when escaped as JSON.
  const lines = Array.from(
    { length: LOG_LINES },
    (_, i) => `${i} "quoted" \\ ${'\u0001'.repeat(50)} ${'l'.repeat(i % 100 === 0 ? 20_000 : 200)} #${i}`,
  );
  h.kube.store.put(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'chatty', namespace: NS, annotations: { [LOG_LINES_ANNOTATION]: JSON.stringify(lines) } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    } as never,
    { reconcile: true },
  );
  for (let i = 0; i < 400; i++) {
    put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p-${i}`, namespace: NS, annotations: { note: big(i, 100) } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      status: { phase: 'Running' },
    });
  }
  const deps = h.server.deps;
  for (let i = 0; i < 120; i++) {
    const id = `op-${String(i).padStart(4, '0')}`;
    await deps.operations.create({
      id,
      kind: 'rollout',
      target: { cluster: 'fake', namespace: NS, kind: 'Deployment', name: 'web' },
      requester: { subject: 'local', name: 'local' },
      status: 'working',
      statusMessage: HUGE,
      input: { name: 'web', note: HUGE },
      changeHash: 'a'.repeat(64),
      steps: Array.from({ length: 12 }, (_, s) => ({ name: `step-${s}`, status: 'pending', message: HUGE })) as never,
      progress: { nextActions: [HUGE] },
      requests: {},
      ttlSeconds: 3600,
      pollIntervalMs: 1000,
    });
    await deps.approvals.request({
      operationId: id,
      summary: HUGE,
      changeHash: 'a'.repeat(64),
      requester: { subject: 'someone', name: 'someone' },
      reason: HUGE,
      ttlSeconds: 3600,
    });
  }
  // Many drift findings with long values, and many alerts with long summaries.
  const checkedAt = new Date().toISOString();
  const findings = Array.from({ length: 400 }, (_, i) => ({
    cluster: 'fake',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: NS,
    name: `cm-${String(i).padStart(4, '0')}`,
    state: 'drifted' as const,
    changes: [{ path: 'data.big', baseline: big(i, 40), live: big(i + 1, 40), manager: 'kubectl-edit' }],
    changesTotal: 1,
    checkedAt,
    firstSeenAt: checkedAt,
  }));
  await deps.driftFindings.replace({
    cluster: 'fake',
    checkedAt,
    findings,
    counts: new Map([[NS, { objects: 400, clean: 0, drifted: 400, deleted: 0, error: 0 }]]),
    previous: new Map(),
  });
  await deps.alerting.reconcile({
    source: 'drift',
    scope: 'fake',
    firing: findings.map((f) => ({
      fingerprint: `drift-${f.name}`,
      groupKey: `drift:fake/${NS}`,
      status: 'firing' as const,
      severity: 'warning' as const,
      summary: `ConfigMap ${f.name} drifted ${big(Number(f.name.slice(3)), 40, 50)}`,
      fields: [{ label: 'change', value: HUGE }],
      startsAt: checkedAt,
    })),
  });
  await seedCost();
  // Large audit records: calls with long arguments.
  for (let i = 0; i < 30; i++)
    await h.call('k8s_resources_list', { kind: 'ConfigMap', namespace: NS, labelSelector: `x=${'a'.repeat(3000)}` });
  const deadline = Date.now() + 20_000;
  while ((h.kube.store.get('pods', NS, 'chatty') as { status?: { phase?: string } }).status?.phase !== 'Running') {
    if (Date.now() > deadline) throw new Error('pod chatty did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('every read tool stays within OUTPUT_BUDGET_BYTES, text and structuredContent together', () => {
  const readTools = allTools.filter((t) => t.annotations.readOnlyHint);

  it('covers every read tool of the registry', () => {
    expect(readTools.map((t) => t.name).filter((n) => !(n in READ_CALLS))).toEqual([]);
  });

  for (const tool of readTools) {
    it(tool.name, async () => {
      const args = READ_CALLS[tool.name] ?? {};
      const first = await callRaw(tool.name, args);
      expect(first.bytes, `${tool.name}: ${first.text.slice(0, 300)}`).toBeLessThanOrEqual(BUDGET);
      // Follow the pages: each within budget, each token in the text with a More line, and the
      // pages together give every item once.
      let page = first;
      const seen: unknown[] = [];
      let exhausted = false;
      for (let n = 0; n < CHECKED_PAGES; n++) {
        expect(page.bytes, `${tool.name} page ${n}`).toBeLessThanOrEqual(BUDGET);
        const items = (page.data.items ?? page.data.events) as unknown[] | undefined;
        if (items) seen.push(...items.map((i) => JSON.stringify(i)));
        const token = (page.data.continue ?? page.data.cursor) as string | undefined;
        if (!token) {
          exhausted = true;
          break;
        }
        const arg = page.data.continue !== undefined ? 'continue' : 'cursor';
        expect(page.text, `${tool.name} page ${n}: the token is in the text`).toContain(`${arg}: "${token}"`);
        expect(page.text).toMatch(/^More: .+; call \w+ again with (continue|cursor): ".+"/m);
        page = await callRaw(tool.name, { ...args, [arg]: token });
        expect(page.raw.isError, page.text.slice(0, 300)).not.toBe(true);
      }
      const total = first.data.total as number | undefined;
      if (exhausted && typeof total === 'number') {
        expect(new Set(seen).size, `${tool.name}: every item once`).toBe(total);
      }
    });
  }

  it('delivery_rollouts_get keeps the summary, then where the rollout stands, when it is cut', async () => {
    const r = await callRaw('delivery_rollouts_get', { operationId: 'op-0000' });
    expect(r.raw.isError).not.toBe(true);
    expect(r.text).toMatch(/^op-0000 rollout deployment\/web in big on fake: WORKING/);
    expect(r.data.operationId).toBe('op-0000');
  });

  it('writes that answer with an operation record stay within budget too: promote, abort, cancel, decide', async () => {
    const deps = h.server.deps;
    // A paused rollout, so promote has something to continue.
    await deps.operations.update('op-0010', (o) => {
      o.status = 'input_required';
      o.progress.pausedFor = 'step';
      return undefined;
    });
    for (const [name, args] of [
      ['delivery_rollouts_promote', { operationId: 'op-0010' }],
      ['delivery_rollouts_abort', { operationId: 'op-0011' }],
      ['ops_operations_cancel', { operationId: 'op-0012' }],
      ['ops_approvals_decide', { operationId: 'op-0013', decision: 'approve', reason: 'looks fine' }],
    ] as const) {
      const r = await callRaw(name, args);
      expect(r.raw.isError, `${name}: ${r.text.slice(0, 300)}`).not.toBe(true);
      expect(r.bytes, name).toBeLessThanOrEqual(BUDGET);
      expect(r.text.split('\n')[0], name).toMatch(/requested|Cancel|Approved/);
    }
  });

  it('lists that are cut offer a token: events, namespaces, config maps, revisions, operations, approvals, logs', async () => {
    for (const [name, args] of [
      ['k8s_events_list', { namespace: NS, limit: 500 }],
      ['k8s_namespaces_list', {}],
      ['k8s_resources_list', { kind: 'ConfigMap', namespace: NS, limit: 1000 }],
      ['k8s_rollouts_history', { namespace: NS, name: 'web' }],
      ['k8s_metrics_top', { namespace: NS, limit: 500 }],
      ['ops_operations_list', { limit: 50 }],
      ['ops_approvals_list', { limit: 50 }],
      ['k8s_pods_logs', { namespace: NS, name: 'chatty', tailLines: 5000 }],
    ] as const) {
      const r = await callRaw(name, args);
      expect(r.data.continue ?? r.data.cursor, `${name}: ${r.text.slice(0, 200)}`).toBeTruthy();
      expect(r.text).toMatch(new RegExp(`^More: .*call ${name} again with`, 'm'));
    }
  });

  it('events page through all of them, newest first, in the order of the first page', async () => {
    const times: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await callRaw('k8s_events_list', { namespace: NS, limit: 500, ...(token ? { continue: token } : {}) });
      const items = r.data.items as Array<{ name: string; message?: string }>;
      // The controller adds events of its own (the chatty pod's); the seeded ones carry their index.
      for (const i of items.filter((e) => /^\d+ [oh]/.test(String(e.message ?? ''))))
        times.push(Number(String(i.message).split(' ')[0]));
      token = r.data.continue as string | undefined;
      pages++;
    } while (token && pages < MAX_PAGES);
    expect(times.length).toBe(EVENTS);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('logs: the newest lines come first, older ones page back with continue, none twice', async () => {
    const first = await callRaw('k8s_pods_logs', { namespace: NS, name: 'chatty', tailLines: 5000 });
    expect(first.text).toMatch(new RegExp(`^${LOG_LINES - 1} "quoted"`, 'm'));
    const numbers: number[] = [];
    let page = first;
    for (let n = 0; n < MAX_PAGES; n++) {
      // Each line ends with its number: a line longer than the page is shown cut from its start.
      const body = page.text.split('\n').filter((l) => / #\d+$/.test(l));
      numbers.unshift(...body.map((l) => Number(l.slice(l.lastIndexOf('#') + 1))));
      const token = page.data.continue as string | undefined;
      if (!token) break;
      page = await callRaw('k8s_pods_logs', { namespace: NS, name: 'chatty', tailLines: 5000, continue: token });
      expect(page.bytes).toBeLessThanOrEqual(BUDGET);
    }
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.at(-1)).toBe(LOG_LINES - 1);
    expect(numbers[0]).toBe(0);
  });

  it('a token from elsewhere is refused with what to do', async () => {
    for (const name of ['k8s_events_list', 'k8s_namespaces_list', 'k8s_api_resources_list', 'k8s_clusters_list']) {
      const r = await callRaw(
        name,
        name === 'k8s_events_list' ? { namespace: NS, continue: 'nope' } : { continue: 'nope' },
      );
      expect(r.raw.isError, name).toBe(true);
      expect(r.text).toContain('start again without it');
    }
  });
});
