import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { budgetStatuses } from '../../shared/app/cost/check.ts';
import { recommendations } from '../../shared/app/cost/recommendations.ts';
import { sampleUsage } from '../../shared/app/cost/sample-usage.ts';
import { monthForecast, spendReports } from '../../shared/app/cost/spend.ts';
import { workloadCosts } from '../../shared/app/cost/workloads.ts';
import { buildDeps, type Deps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { defaultCostPolicy, defaultRightsizingPolicy } from '../../shared/domain/cost/policy.ts';
import type { WorkloadRecommendation } from '../../shared/domain/cost/rightsizing.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { InProcessToolRunner } from '../../shared/mcp/tool-runner.ts';
import type { CostSource } from '../../shared/ports/cost.ts';
import { costTools } from '../../shared/tools/cost/toolset.ts';
import { FakeCostSource, seedBill } from '../support/fake-cost-source.ts';
import { type FakeKube, type KubeObject, startFakeKube, USAGE_ANNOTATION } from '../support/fake-kube/index.ts';

/*
 * The cost tools (issue 14, item 6) through the in-process runner (strict arguments, role, the
 * handler, the output check) over Deps on the MemoryStore: spend from FakeCostSource (the adapters'
 * checks, shaping and paid pages), usage samples taken by sampleUsage from the fake API server every
 * 5 minutes of an injected clock, budgets and right-sizing settings in the policy. Every figure an
 * answer shows is checked against what the use case gives for the same arguments.
 */

const T0 = Date.parse('2026-12-07T10:00:30Z');
const SAMPLES = 12;
const PRICED = 'ip-10-0-1-10.ec2.internal';
const ACCOUNT = '123456789012';
const usage = (u: Record<string, { cpu: string; memory: string }>) => JSON.stringify(u);

interface Answer {
  isError: boolean;
  refused?: string;
  text: string;
  data: Record<string, unknown>;
  bytes: number;
}

let kube: FakeKube;
let now = T0;
const clock = { now: () => now };
let deps: Deps;
let aws: FakeCostSource;
let gcp: FakeCostSource;

function depsWith(costSources: CostSource[], env: Record<string, string | undefined> = {}): Deps {
  const vars = Object.entries({ STORE: 'memory', LOG_LEVEL: 'silent', COST_TAG_KEY: 'team', ...env });
  const config = loadConfig(Object.fromEntries(vars.filter((e): e is [string, string] => e[1] !== undefined)));
  const clusters = new KubeconfigClusters(
    { kubeconfig: kube.kubeconfigPath, timeoutMs: 10_000, discoveryTtlMs: 0 },
    {},
  );
  const policy = loadPolicy(undefined);
  policy.cost = {
    ...defaultCostPolicy(),
    budgets: [
      {
        name: 'aws-bill',
        scope: { account: ACCOUNT },
        monthlyUsd: 400,
        thresholds: { actual: [50, 100], forecast: [100] },
      },
      {
        name: 'gcp-bill',
        scope: { project: 'alpha-project' },
        monthlyUsd: 10_000,
        thresholds: { actual: [80], forecast: [100] },
      },
      {
        name: 'team-one',
        scope: { label: { key: 'team', value: 'team-1' } },
        monthlyUsd: 200,
        thresholds: { actual: [50, 80, 100], forecast: [100] },
      },
    ],
    rightsizing: { ...defaultRightsizingPolicy(), minSamples: 10 },
  };
  return buildDeps(config, new MemoryStore(clock), createLogger('silent'), {
    clusters,
    policy,
    workflows: () => ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
    metrics: new PrometheusSource(undefined),
    costSources,
    clock,
  });
}

function caller(d: Deps) {
  const runner = new InProcessToolRunner(costTools, d);
  let n = 0;
  return async (tool: string, args: Record<string, unknown> = {}): Promise<Answer> => {
    const out = await runner.run({
      v: 1,
      tool,
      args,
      caller: { subject: 'viewer-1', name: 'Vera', roles: ['viewer'], method: 'apiKey' },
      requestId: `req-${++n}`,
    });
    if (!out.ok) return { isError: true, refused: out.error.kind, text: out.error.message, data: {}, bytes: 0 };
    const r = out.result;
    return {
      isError: r.isError === true,
      text: (r.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n'),
      data: r.structuredContent ?? {},
      bytes: Buffer.byteLength(JSON.stringify(r), 'utf8'),
    };
  };
}
let call: ReturnType<typeof caller>;

/** Follows `continue` to the end: every page's items, each page's token in its text. */
async function allPages(tool: string, args: Record<string, unknown>) {
  const items: Array<Record<string, unknown>> = [];
  let page = await call(tool, args);
  const first = page;
  for (let i = 0; i < 100; i++) {
    expect(page.isError, page.text.slice(0, 300)).toBe(false);
    items.push(...(page.data.items as Array<Record<string, unknown>>));
    const token = page.data.continue as string | undefined;
    if (!token) break;
    expect(page.text).toContain(`continue: "${token}"`);
    page = await call(tool, { ...args, continue: token });
  }
  return { first, items };
}

async function seedCluster(): Promise<void> {
  for (const ns of ['shop', 'data']) kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  // A priced node (m6i.large: 2 CPU, 8 GiB) beside the seeded node-1, which has no instance type (no price).
  kube.store.put({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: PRICED, labels: { 'node.kubernetes.io/instance-type': 'm6i.large' } },
    status: { capacity: { cpu: '2', memory: '8Gi', pods: '29' }, allocatable: { cpu: '2', memory: '8Gi', pods: '29' } },
  });
  const template = (app: string, container: string, resources: object) => ({
    metadata: { labels: { app, team: 'shop' } },
    spec: { containers: [{ name: container, image: 'nginx:1.27', resources }] },
  });
  // api: two pods on the priced node that use far less than they request.
  kube.store.put({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', uid: 'u-api' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: template('api', 'api', { requests: { cpu: '1', memory: '2Gi' } }),
    },
  });
  kube.store.put({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'api-7f',
      namespace: 'shop',
      uid: 'u-api-rs',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: 'u-api', controller: true }],
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: template('api', 'api', {}) },
  });
  for (const [i, cpu] of [
    ['a', '200m'],
    ['b', '150m'],
  ] as const) {
    kube.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `api-7f-${i}`,
        namespace: 'shop',
        labels: { app: 'api', team: 'shop' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7f', uid: 'u-api-rs', controller: true },
        ],
        annotations: { [USAGE_ANNOTATION]: usage({ api: { cpu, memory: '300Mi' } }) },
      },
      spec: {
        nodeName: PRICED,
        containers: [{ name: 'api', image: 'nginx:1.27', resources: { requests: { cpu: '1', memory: '2Gi' } } }],
      },
      status: { phase: 'Running' },
    } as KubeObject);
  }
  // db: a StatefulSet pod on the priced node, OOM-killed in the window: refused.
  kube.store.put({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'data', uid: 'u-db' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'db' } },
      template: template('db', 'postgres', { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '8Gi' } }),
    },
  });
  kube.store.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'db-0',
      namespace: 'data',
      labels: { app: 'db' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u-db', controller: true }],
      annotations: { [USAGE_ANNOTATION]: usage({ postgres: { cpu: '300m', memory: '5Gi' } }) },
    },
    spec: {
      nodeName: PRICED,
      containers: [
        {
          name: 'postgres',
          image: 'postgres:16',
          resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '8Gi' } },
        },
      ],
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'postgres',
          restartCount: 3,
          ready: true,
          state: { running: { startedAt: '2026-12-07T09:58:00Z' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-12-07T09:57:58Z' } },
        },
      ],
    },
  } as KubeObject);
  // web: through the API, so the fake's controller runs its pods, on node-1 (no price); an HPA scales it on CPU.
  const res = await fetch(`${kube.url}/apis/apps/v1/namespaces/shop/deployments`, {
    method: 'POST',
    headers: { authorization: 'Bearer fake-token', 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: {
            labels: { app: 'web', team: 'storefront' },
            annotations: { [USAGE_ANNOTATION]: usage({ web: { cpu: '100m', memory: '100Mi' } }) },
          },
          spec: {
            containers: [{ name: 'web', image: 'nginx:1.25', resources: { requests: { cpu: '500m', memory: '1Gi' } } }],
          },
        },
      },
    }),
  });
  expect(res.status).toBe(201);
  kube.store.put({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
    },
  });
  for (let i = 0; i < 200; i++) {
    const running = kube.store
      .list('pods', 'shop')
      .filter((p) => (p.status as { phase?: string })?.phase === 'Running');
    if (running.length === 4) break;
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  kube = await startFakeKube({ readyDelayMs: 20 });
  await seedCluster();
  aws = new FakeCostSource({ now: clock.now, estimatedDays: 1, providerForecast: () => 700, pageRows: 50 });
  gcp = new FakeCostSource({ now: clock.now, kind: 'gcp-bigquery-billing' });
  seedBill(aws, { now: T0, days: 40, services: 8, teams: 3, account: ACCOUNT });
  seedBill(gcp, { now: T0, days: 10, services: 3, teams: 2, account: 'alpha-project' });
  deps = depsWith([aws, gcp]);
  call = caller(deps);
  // A sample every 5 minutes for an hour, as USAGE_SAMPLE_SCHEDULE would take them.
  for (let k = 0; k < SAMPLES; k++) {
    now = T0 + k * 300_000;
    const r = await sampleUsage({ clusters: deps.clusters, usageSamples: deps.usageSamples, clock });
    expect(r.status).toBe('stored');
  }
  now = T0 + SAMPLES * 300_000;
}, 60_000);

afterAll(async () => {
  await kube?.close();
});

describe('cost_reports_get', () => {
  it('gives month-to-date spend per source with totals per group, the daily series, the forecast and its method, and what it paid', async () => {
    const paidBefore = aws.pagesPaid;
    const r = await call('cost_reports_get');
    expect(r.isError, r.text).toBe(false);
    const paid = aws.pagesPaid - paidBefore;
    expect(paid).toBeGreaterThan(0);
    expect(r.text).toContain(`This answer cost $${(paid * 0.01).toFixed(2)} in Cost Explorer pages`);
    expect(r.text.split('\n')[0]).toBe(
      'Cloud spend by service, month to date 2026-12-01 to 2026-12-07 (UTC, today so far): 2 sources',
    );
    if (process.env.COST_SAMPLE_ANSWERS)
      console.log(`cost_reports_get (${r.bytes} bytes as sent, text ${Buffer.byteLength(r.text)} bytes):\n${r.text}`);

    // The same figures as the use case's (now from the cache the tool filled).
    const query = {
      period: { start: '2026-12-01', end: '2026-12-08' },
      groupBy: { by: 'service' as const },
      maxGroups: 10,
    };
    const reports = await spendReports(deps, query);
    const sources = r.data.sources as Array<Record<string, unknown>>;
    for (const [i, s] of reports.entries()) {
      if (!s.ok) throw new Error(s.error);
      const shown = sources[i] as {
        total: number;
        groups: Array<{ group: string; total: number }>;
        daily: Array<{ date: string; amount: number }>;
      };
      expect(shown.total).toBe(Math.round(s.report.total * 100) / 100);
      const byGroup = new Map<string, number>();
      const byDay = new Map<string, number>();
      for (const d of s.report.days) {
        byGroup.set(d.group, (byGroup.get(d.group) ?? 0) + d.amount);
        byDay.set(d.date, (byDay.get(d.date) ?? 0) + d.amount);
      }
      expect(Object.fromEntries(shown.groups.map((g) => [g.group, g.total]))).toEqual(
        Object.fromEntries([...byGroup].map(([g, a]) => [g, Math.round(a * 100) / 100])),
      );
      // Largest first; six whole days of December (the bill ends yesterday).
      expect(shown.groups.map((g) => g.total)).toEqual([...shown.groups.map((g) => g.total)].sort((a, b) => b - a));
      expect(shown.daily.map((d) => d.date)).toEqual([...byDay.keys()].sort());
      expect(shown.daily).toHaveLength(6);
    }
    const [awsForecast, gcpForecast] = await Promise.all([
      monthForecast(deps, aws, now),
      monthForecast(deps, gcp, now),
    ]);
    expect(sources[0]?.forecast).toMatchObject({
      amount: Math.round(awsForecast.amount * 100) / 100,
      method: 'provider',
    });
    expect(sources[1]?.forecast).toMatchObject({
      amount: Math.round(gcpForecast.amount * 100) / 100,
      method: 'computed',
    });
    expect(r.text).toContain("the provider's forecast");
    expect(r.text).toContain('computed here from the last 7 days');
    expect(sources[0]?.estimated).toBe(true);
  });

  it('pays nothing when asked again within COST_CACHE_TTL, and says so', async () => {
    await call('cost_reports_get');
    const before = { ...aws.calls };
    const r = await call('cost_reports_get');
    expect(aws.calls).toEqual(before);
    expect(r.data.pagesPaid).toBe(0);
    expect(r.text).toContain('This answer paid for no pages: every figure came from the cache.');
    expect(r.text).toMatch(/AWS Cost Explorer: .*\n {2}from the cache \(fetched /);
  });

  it('groups by COST_TAG_KEY over the last N days, spend without the tag as (untagged)', async () => {
    const r = await call('cost_reports_get', { by: 'tag', days: 10, maxGroups: 3 });
    expect(r.isError, r.text).toBe(false);
    expect(r.data).toMatchObject({
      groupBy: 'tag',
      tagKey: 'team',
      period: { start: '2026-11-28', end: '2026-12-07' },
    });
    const reports = await spendReports(deps, {
      period: { start: '2026-11-28', end: '2026-12-08' },
      groupBy: { by: 'tag', key: 'team' },
      maxGroups: 3,
    });
    const awsShown = (r.data.sources as Array<{ total: number; groups: Array<{ group: string }> }>)[0];
    const awsReport = reports[0];
    if (!awsReport?.ok) throw new Error('aws failed');
    expect(awsShown?.total).toBe(Math.round(awsReport.report.total * 100) / 100);
    // The three largest, and the rest summed as other.
    expect(awsShown?.groups.length).toBe(4);
    expect(awsShown?.groups.map((g) => g.group)).toContain('other');
    const all = await call('cost_reports_get', { by: 'tag', days: 10 });
    const groups = (all.data.sources as Array<{ groups: Array<{ group: string }> }>)[0]?.groups.map((g) => g.group);
    expect(groups?.sort()).toEqual(['(untagged)', 'team-0', 'team-1', 'team-2']);
  });

  it('a summarized series for a long window', async () => {
    const r = await call('cost_reports_get', { days: 40 });
    const s = (r.data.sources as Array<Record<string, unknown>>)[0] as {
      dailySummary?: { count: number };
      daily?: unknown;
    };
    expect(s.daily).toBeUndefined();
    // The bill ends yesterday: 39 of the 40 days have spend.
    expect(s.dailySummary?.count).toBe(39);
    expect(r.text).toMatch(/daily \(summarized\): n=39 /);
  });

  it('refuses what it cannot do, saying what to set or change', async () => {
    const none = await caller(depsWith([]))('cost_reports_get');
    expect(none.isError).toBe(true);
    expect(none.text).toMatch(/COST_AWS=true.*GCP_BILLING_TABLE/);
    const noTag = await caller(depsWith([aws], { COST_TAG_KEY: undefined }))('cost_reports_get', { by: 'tag' });
    expect(noTag.isError).toBe(true);
    expect(noTag.text).toContain('COST_TAG_KEY');
    const tooLong = await call('cost_reports_get', { days: 93 });
    expect(tooLong.refused).toBe('invalid_arguments');
    const typo = await call('cost_reports_get', { dayz: 3 });
    expect(typo.refused).toBe('invalid_arguments');
    expect(typo.text).toContain('unknown argument `dayz` (did you mean `days`?)');
  });

  it('reports a source that fails beside the one that answers', async () => {
    const failing = new FakeCostSource({ now: clock.now, kind: 'gcp-bigquery-billing' });
    const { CloudApiError } = await import('../../shared/ports/cloud.ts');
    failing.failWith = new CloudApiError('gcp', 'Unavailable', 'BigQuery could not be reached');
    const r = await caller(depsWith([aws, failing]))('cost_reports_get');
    expect(r.isError).toBe(false);
    expect(r.text).toContain('GCP billing export: could not be read: BigQuery could not be reached');
    expect((r.data.sources as Array<Record<string, unknown>>)[1]).toMatchObject({ error: expect.any(String) });
  });
});

describe('cost_workloads_list', () => {
  it("shows each namespace's cost as the allocation gives it, idle and unknown-price pods per cluster", async () => {
    const r = await call('cost_workloads_list');
    expect(r.isError, r.text).toBe(false);
    const { clusters } = await workloadCosts(deps, { hours: 24, usage: 'avg', now });
    const c = clusters[0];
    if (!c || !('report' in c)) throw new Error('no report');
    const rows = r.data.items as Array<{ key: string; total: number; cpuCost: number; ramCost: number; pods: number }>;
    expect(rows.map((x) => [x.key, x.total, x.cpuCost, x.ramCost, x.pods])).toEqual(
      c.report.namespaces.map((g) => [
        g.key,
        Math.round(g.totalCost * 100) / 100,
        Math.round(g.cpuCost * 100) / 100,
        Math.round(g.ramCost * 100) / 100,
        g.pods,
      ]),
    );
    const summary = (r.data.clusters as Array<Record<string, unknown>>)[0];
    expect(summary).toMatchObject({
      cluster: 'fake',
      idleCost: Math.round(c.report.totals.idleCost * 100) / 100,
      nodeCost: Math.round(c.report.totals.nodeCost * 100) / 100,
      samples: SAMPLES,
      // web's two pods run on node-1, which has no instance type: no price.
      unknownCostPods: 2,
    });
    expect(c.report.totals.unknownCostPods).toBe(2);
    expect(r.text).toMatch(/2 pods of unknown cost \(2: node node-1: /);
    expect(r.text).toContain(`idle ${'$'}${(Math.round(c.report.totals.idleCost * 100) / 100).toFixed(2)}`);
  });

  it('pages workloads, every one once, with the window pinned to the first page', async () => {
    const { first, items } = await allPages('cost_workloads_list', { by: 'workload', limit: 1 });
    const { clusters } = await workloadCosts(deps, { hours: 24, usage: 'avg', now });
    const c = clusters[0];
    if (!c || !('report' in c)) throw new Error('no report');
    expect(first.data.total).toBe(c.report.workloads.length);
    expect(items.map((i) => i.key).sort()).toEqual(c.report.workloads.map((w) => w.key).sort());
    expect(items.find((i) => i.key === 'shop/Deployment/api')).toMatchObject({ pods: 2, cores: 2, memGiB: 4 });
    expect(first.text).toMatch(/^More: \d+ more workloads; call cost_workloads_list again with continue: "/m);
  });

  it('rolls up by label, and refuses a token given with other arguments', async () => {
    const r = await call('cost_workloads_list', { by: 'label', labelKey: 'team', limit: 1 });
    expect(r.isError, r.text).toBe(false);
    const { clusters } = await workloadCosts(deps, { hours: 24, usage: 'avg', labelKey: 'team', now });
    const c = clusters[0];
    if (!c || !('report' in c)) throw new Error('no report');
    expect(r.data.total).toBe(c.report.labels?.groups.length);
    const other = await call('cost_workloads_list', { by: 'label', labelKey: 'app', continue: r.data.continue });
    expect(other.isError).toBe(true);
    expect(other.text).toContain('belongs to a different query');
    const noKey = await call('cost_workloads_list', { by: 'label' });
    expect(noKey.isError).toBe(true);
    expect(noKey.text).toContain('labelKey');
  });
});

describe('cost_recommendations_list', () => {
  it('lists the use case recommendations, largest saving first, with the exact patch and the refusals', async () => {
    const r = await call('cost_recommendations_list');
    expect(r.isError, r.text).toBe(false);
    if (process.env.COST_SAMPLE_ANSWERS)
      console.log(
        `cost_recommendations_list (${r.bytes} bytes as sent, text ${Buffer.byteLength(r.text)} bytes):\n${r.text}`,
      );
    const got = await recommendations(deps, { now });
    const c = got.clusters[0];
    if (!c || !('result' in c)) throw new Error('no result');
    const items = r.data.items as Array<Record<string, unknown>>;
    const recs = items.filter((i) => i.type === 'recommendation');
    expect(recs.map((i) => [i.name, i.monthlySavingsUsd, i.patch])).toEqual(
      c.result.recommendations.map((w) => [w.name, w.monthlySavingsUsd, w.patch]),
    );
    const api = c.result.recommendations.find((w) => w.name === 'api') as WorkloadRecommendation;
    expect(api.monthlySavingsUsd).toBeGreaterThan(0);
    expect(recs[0]?.name).toBe('api');
    expect(r.text).toContain(`apply: k8s_resources_patch ${JSON.stringify(api.patch.arguments)}`);
    expect(r.text).toMatch(/api \(24 samples\): cpu 1000m -> 200m \(P95 200m\), memory 2048Mi -> 345Mi/);
    const refusals = items.filter((i) => i.type === 'refusal');
    expect(refusals.map((i) => [i.name, i.code])).toEqual(c.result.refusals.map((x) => [x.name, x.code]));
    expect(refusals.map((i) => i.code).sort()).toEqual(['hpa', 'oom-killed']);
    expect(r.text).toMatch(/REFUSED data\/statefulset\/db on fake container postgres \(cpu, memory\): oom-killed: /);
    expect(r.text).toMatch(/REFUSED shop\/deployment\/web on fake container web \(cpu\): hpa: /);
  });

  it('the patch it gives applies on the API server as it says', async () => {
    const r = await call('cost_recommendations_list', { namespace: 'shop' });
    const api = (r.data.items as Array<Record<string, unknown>>).find((i) => i.name === 'api');
    const args = (api as { patch: WorkloadRecommendation['patch'] }).patch.arguments;
    const res = await fetch(
      `${kube.url}/apis/apps/v1/namespaces/${args.namespace}/deployments/${args.name}?dryRun=All`,
      {
        method: 'PATCH',
        headers: { authorization: 'Bearer fake-token', 'content-type': 'application/strategic-merge-patch+json' },
        body: args.patch,
      },
    );
    expect(res.status).toBe(200);
    const patched = (await res.json()) as {
      spec: { template: { spec: { containers: Array<{ resources: unknown }> } } };
    };
    expect(patched.spec.template.spec.containers[0]?.resources).toEqual({
      requests: { cpu: '200m', memory: '345Mi' },
    });
  });

  it('pages every recommendation and refusal once', async () => {
    const { first, items } = await allPages('cost_recommendations_list', { limit: 1 });
    expect(items).toHaveLength(first.data.total as number);
    expect(new Set(items.map((i) => JSON.stringify(i))).size).toBe(items.length);
  });
});

describe('cost_budgets_list', () => {
  it('shows each budget as the check judges it: month to date, forecast and method, percent, thresholds crossed and since when', async () => {
    const r = await call('cost_budgets_list');
    expect(r.isError, r.text).toBe(false);
    const s = await budgetStatuses(deps, now);
    const rows = r.data.items as Array<Record<string, unknown>>;
    expect(rows.map((x) => x.budget)).toEqual(['aws-bill', 'gcp-bill', 'team-one']);
    for (const [i, b] of s.budgets.entries()) {
      const row = rows[i] as Record<string, unknown>;
      if (!b.evaluated) {
        expect(row).toMatchObject({ evaluated: false, why: b.why });
        continue;
      }
      expect(row).toMatchObject({
        evaluated: true,
        monthToDate: b.actual,
        percent: b.actualPercent,
      });
      // A label budget has no forecast (the providers forecast whole bills); the bills' budgets do.
      expect([row.forecast, row.forecastMethod]).toEqual([b.forecast, b.forecastMethod]);
      const findings = s.findings.filter((f) => f.budget === b.budget);
      expect(row.crossed).toEqual(
        findings.map((f) => ({ kind: f.kind, threshold: f.threshold, since: f.since, over: f.over })),
      );
    }
    const awsBill = s.findings.filter((f) => f.budget === 'aws-bill');
    expect(awsBill.length).toBeGreaterThan(0);
    const a = awsBill[0];
    expect(r.text).toContain(`aws-bill (account=${ACCOUNT}), $400.00 a month: month to date`);
    expect(r.text).toContain(`${a?.kind} ${a?.threshold}%`);
    expect(r.text).toContain(`since ${a?.since}`);
  });

  it('says how to add budgets when there are none', async () => {
    const d = depsWith([aws]);
    (d.policy.cost as { budgets: unknown[] }).budgets = [];
    const r = await caller(d)('cost_budgets_list');
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(/^No budgets: add them under cost.budgets in the policy file/);
    expect(r.data.total).toBe(0);
  });
});
