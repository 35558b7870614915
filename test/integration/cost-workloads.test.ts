import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { recommendations } from '../../shared/app/cost/recommendations.ts';
import { sampleUsage } from '../../shared/app/cost/sample-usage.ts';
import { namespaceDailyCosts, workloadCosts } from '../../shared/app/cost/workloads.ts';
import { buildDeps, type Deps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { defaultCostPolicy, defaultRightsizingPolicy } from '../../shared/domain/cost/policy.ts';
import type { RightsizingResult } from '../../shared/domain/cost/rightsizing.ts';
import { defaultPolicy } from '../../shared/domain/guardrails/index.ts';
import { InProcessToolRunner } from '../../shared/mcp/tool-runner.ts';
import { k8sResourcesPatchTool } from '../../shared/tools/k8s/resources-patch.tool.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import {
  type FakeKube,
  type KubeObject,
  NODE_NAME,
  startFakeKube,
  USAGE_ANNOTATION,
} from '../support/fake-kube/index.ts';

/*
 * Cost per workload and right-sizing as use cases (issue 14, items 2 and 4): usage samples taken with
 * sampleUsage from the fake API server at injected clock times, stored in a MemoryStore, read back by
 * workloadCosts, namespaceDailyCosts and recommendations over Deps as a host builds them.
 *
 * The one node is priced through COST_INSTANCE_PRICES: `test-4x16` at 0.192 USD/hour, 4 cores and
 * 16 GiB allocatable. By hand, with OpenCost's rates (0.031611 per core-hour, 0.004237 per GiB-hour)
 * as the split ratio:
 *   cpu weight = 4 × 0.031611 = 0.126444;  ram weight = 16 × 0.004237 = 0.067792;  sum 0.194236
 *   per core-hour = 0.192 × 0.126444 / 0.194236 / 4  ≈ 0.0312472
 *   per GiB-hour  = 0.192 × 0.067792 / 0.194236 / 16 ≈ 0.0041882
 */
const HOURLY = 0.192;
const CPU_W = 4 * 0.031611;
const RAM_W = 16 * 0.004237;
const CPU_PRICE = (HOURLY * CPU_W) / (CPU_W + RAM_W) / 4;
const RAM_PRICE = (HOURLY * RAM_W) / (CPU_W + RAM_W) / 16;
const PRICES = JSON.stringify({ 'test-4x16': HOURLY });
const MIB = 2 ** 20;
const T0 = Date.parse('2026-12-07T10:00:30Z');
const STEP = 5 * 60_000;
const round2 = (n: number) => Math.round(n * 100) / 100;

describe('cost per workload and right-sizing from usage samples', () => {
  let kube: FakeKube;
  let clusters: KubeconfigClusters;
  let now = T0;
  const clock = { now: () => now };
  const rightsizing = { ...defaultRightsizingPolicy(), minSamples: 6, minMonthlySavingsUsd: 1 };
  const policy = { ...defaultPolicy(), cost: { ...defaultCostPolicy(), rightsizing } };
  let deps: Deps;

  function makeDeps(
    store = new MemoryStore(clock),
    env: Record<string, string> = { COST_INSTANCE_PRICES: PRICES },
    pol = policy,
  ) {
    return buildDeps(loadConfig({ STORE: 'memory', LOG_LEVEL: 'silent', ...env }), store, pino({ level: 'silent' }), {
      clusters,
      policy: pol,
      metrics: new PrometheusSource(undefined),
      workflows: () =>
        ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
      clock,
    });
  }
  const pods = (ns: string, prefix: string) =>
    kube.store
      .list('pods', ns)
      .filter(
        (p) => (p.metadata.name ?? '').startsWith(prefix) && (p.status as { phase?: string })?.phase === 'Running',
      )
      .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  function setUsage(pod: KubeObject, u: Record<string, { cpu: string; memory: string }>) {
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [USAGE_ANNOTATION]: JSON.stringify(u) };
    kube.store.put(pod);
  }
  async function sampleAt(d: Deps, at: number) {
    now = at;
    const r = await sampleUsage(d);
    expect(r.status).toBe('stored');
  }
  async function api(method: string, path: string, body: unknown) {
    const res = await fetch(`${kube.url}${path}`, {
      method,
      headers: {
        authorization: 'Bearer fake-token',
        'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return (await res.json()) as KubeObject;
  }
  const deployment = (
    name: string,
    replicas: number,
    container: Record<string, unknown>,
    labels = {},
    namespace = 'shop',
  ) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [container] } },
    },
  });
  async function waitForPods(ns: string, prefix: string, count: number) {
    for (let i = 0; i < 400 && pods(ns, prefix).length !== count; i++) await new Promise((r) => setTimeout(r, 25));
    expect(pods(ns, prefix)).toHaveLength(count);
  }

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    clusters = new KubeconfigClusters({ kubeconfig: kube.kubeconfigPath, timeoutMs: 10_000, discoveryTtlMs: 0 }, {});
    for (const ns of ['shop', 'data', 'ops'])
      kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const node = kube.store.get('nodes', undefined, NODE_NAME) as KubeObject;
    node.metadata.labels = { ...(node.metadata.labels ?? {}), 'node.kubernetes.io/instance-type': 'test-4x16' };
    node.status = { ...(node.status as object), allocatable: { cpu: '4', memory: '16Gi', pods: '110' } };
    kube.store.put(node);

    // shop/api over-requests CPU and memory (2 replicas); shop/scaled has an HPA on CPU.
    await api(
      'POST',
      '/apis/apps/v1/namespaces/shop/deployments',
      deployment(
        'api',
        2,
        {
          name: 'app',
          image: 'api:1',
          resources: { requests: { cpu: '1', memory: '512Mi' }, limits: { memory: '1Gi' } },
        },
        { team: 'storefront' },
      ),
    );
    await api(
      'POST',
      '/apis/apps/v1/namespaces/shop/deployments',
      deployment('scaled', 1, {
        name: 'app',
        image: 'scaled:1',
        resources: { requests: { cpu: '500m', memory: '2Gi' } },
      }),
    );
    await api('POST', '/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'scaled', namespace: 'shop' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scaled' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      },
    });
    // data/db: a StatefulSet whose pod was OOM-killed ten minutes before the first sample.
    const template = {
      metadata: { labels: { app: 'db' } },
      spec: {
        containers: [
          {
            name: 'postgres',
            image: 'postgres:16',
            resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '8Gi' } },
          },
        ],
      },
    };
    await api('POST', '/apis/apps/v1/namespaces/data/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'data' },
      spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template },
    });
    kube.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'db-0',
        namespace: 'data',
        labels: { app: 'db' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u-db', controller: true }],
      },
      spec: { nodeName: NODE_NAME, ...template.spec },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'postgres',
            restartCount: 1,
            ready: true,
            state: { running: { startedAt: '2026-12-07T09:50:40Z' } },
            lastState: {
              terminated: {
                exitCode: 137,
                reason: 'OOMKilled',
                startedAt: '2026-12-07T09:00:00Z',
                finishedAt: '2026-12-07T09:50:30Z',
              },
            },
          },
        ],
      },
    });
    // ops/agent: a DaemonSet (the fake schedules it on its one node; its pod is put by hand below).
    await api('POST', '/apis/apps/v1/namespaces/ops/daemonsets', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'ops' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: {
            containers: [
              { name: 'agent', image: 'agent:1', resources: { requests: { cpu: '200m', memory: '256Mi' } } },
            ],
          },
        },
      },
    });
    // ops/cache: an HPA on the memory of its container; ops/worker: an HPA naming no metric (80% CPU).
    for (const name of ['cache', 'worker']) {
      await api(
        'POST',
        '/apis/apps/v1/namespaces/ops/deployments',
        deployment(
          name,
          1,
          { name, image: `${name}:1`, resources: { requests: { cpu: '500m', memory: '1Gi' } } },
          {},
          'ops',
        ),
      );
      await api('POST', '/apis/autoscaling/v2/namespaces/ops/horizontalpodautoscalers', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name, namespace: 'ops' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          maxReplicas: 3,
          ...(name === 'cache'
            ? {
                metrics: [
                  {
                    type: 'ContainerResource',
                    containerResource: {
                      name: 'memory',
                      container: 'cache',
                      target: { type: 'Utilization', averageUtilization: 80 },
                    },
                  },
                ],
              }
            : {}),
        },
      });
    }
    await waitForPods('shop', 'api-', 2);
    await waitForPods('shop', 'scaled-', 1);
    await waitForPods('ops', 'cache-', 1);
    await waitForPods('ops', 'worker-', 1);
    for (const name of ['cache', 'worker'])
      for (const p of pods('ops', `${name}-`)) setUsage(p, { [name]: { cpu: '50m', memory: '100Mi' } });

    // Ten samples five minutes apart (10:00:30 .. 10:45:30). api's two pods use 100m..180m and 200Mi,
    // then in the last sample one of them 500m and 300Mi, the other 190m; scaled uses 100m and 200Mi;
    // db-0 uses 300m and 5Gi, 6Gi once; the agent's pod runs for the last two samples only.
    deps = makeDeps();
    for (const s of [...pods('shop', 'scaled-'), ...pods('data', 'db-')])
      setUsage(
        s,
        (s.metadata.name ?? '').startsWith('db')
          ? { postgres: { cpu: '300m', memory: '5Gi' } }
          : { app: { cpu: '100m', memory: '200Mi' } },
      );
    for (let i = 0; i < 10; i++) {
      const [a, b] = pods('shop', 'api-') as [KubeObject, KubeObject];
      if (i < 9) {
        for (const p of [a, b]) setUsage(p, { app: { cpu: `${100 + 10 * i}m`, memory: '200Mi' } });
      } else {
        setUsage(a, { app: { cpu: '500m', memory: '300Mi' } });
        setUsage(b, { app: { cpu: '190m', memory: '200Mi' } });
      }
      setUsage(kube.store.get('pods', 'data', 'db-0') as KubeObject, {
        postgres: { cpu: '300m', memory: i === 4 ? '6Gi' : '5Gi' },
      });
      if (i === 8)
        kube.store.put({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: 'agent-x7k2p',
            namespace: 'ops',
            labels: { app: 'agent' },
            annotations: { [USAGE_ANNOTATION]: JSON.stringify({ agent: { cpu: '20m', memory: '64Mi' } }) },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u-ds', controller: true },
            ],
          },
          spec: {
            nodeName: NODE_NAME,
            containers: [
              { name: 'agent', image: 'agent:1', resources: { requests: { cpu: '200m', memory: '256Mi' } } },
            ],
          },
          status: { phase: 'Running' },
        });
      await sampleAt(deps, T0 + i * STEP);
    }
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('workloadCosts: the allocation of the last hours matches the hand computation', async () => {
    const end = Date.parse('2026-12-07T11:00:00Z');
    const avg = await workloadCosts(deps, { hours: 1, namespace: 'data', now: end });
    expect(avg.clusters).toHaveLength(1);
    const c = avg.clusters[0];
    if (!c || 'error' in c) throw new Error(`expected a report, got ${JSON.stringify(c)}`);
    expect(c).toMatchObject({ cluster: 'fake', samples: 10, coveredHours: 1 });
    // db-0 for the hour: CPU max(request 1, usage 0.3) = 1 core; memory max(request 4 GiB, average
    // (9 × 5 + 6) / 10 = 5.1 GiB) = 5.1 GiB. Cost = 1 × 0.0312472 + 5.1 × 0.0041882 ≈ 0.0526070.
    const db = 1 * CPU_PRICE + 5.1 * RAM_PRICE;
    expect(c.report.pods.map((p) => p.name)).toEqual(['db-0']);
    expect(c.report.pods[0]?.memoryGiB).toBeCloseTo(5.1, 9);
    expect(c.report.pods[0]?.totalCost).toBeCloseTo(db, 9);
    expect(c.report.workloads[0]).toMatchObject({ namespace: 'data', kind: 'StatefulSet', name: 'db' });
    // The node ran the whole hour: 0.192; what the asked namespace does not take is idle.
    expect(c.report.totals.nodeCost).toBeCloseTo(HOURLY, 12);
    expect(c.report.totals.idleCost).toBeCloseTo(HOURLY - db, 9);

    // usage: max charges the peak, 6 GiB.
    const max = await workloadCosts(deps, { hours: 1, namespace: 'data', usage: 'max', now: end });
    const m = max.clusters[0];
    expect(m && 'report' in m && m.report.pods[0]?.totalCost).toBeCloseTo(CPU_PRICE + 6 * RAM_PRICE, 9);

    // The whole cluster over 24 hours: the same hour is all that is sampled, and it says so. shop holds
    // api (2 × (1 core + 0.5 GiB), requests above usage) and scaled (0.5 core + 2 GiB); the label rolls up.
    const all = await workloadCosts(deps, { hours: 24, labelKey: 'team', now: end });
    const a = all.clusters[0];
    if (!a || 'error' in a) throw new Error('expected a report');
    expect(a.coveredHours).toBe(1);
    expect(a.notes).toEqual(['samples cover 1 of the 24 hours asked: the costs are for those hours']);
    const shop = a.report.namespaces.find((n) => n.key === 'shop');
    expect(shop?.totalCost).toBeCloseTo(2.5 * CPU_PRICE + 3 * RAM_PRICE, 9);
    expect(a.report.labels?.groups.find((g) => g.key === 'storefront')?.totalCost).toBeCloseTo(
      2 * (CPU_PRICE + 0.5 * RAM_PRICE),
      9,
    );
    // The agent's pod was in 2 of the 10 samples: charged a fifth of the hour.
    expect(a.report.pods.find((p) => p.name.startsWith('agent-'))?.hours).toBeCloseTo(0.2, 9);
    expect(a.report.totals.allocatedCost + a.report.totals.idleCost - a.report.totals.overAllocatedCost).toBeCloseTo(
      HOURLY,
      9,
    );

    await expect(workloadCosts(deps, { hours: 721 })).rejects.toThrow(/hours must be a whole number from 1 to 720/);
    await expect(workloadCosts(deps, { hours: 1, cluster: 'prod' })).rejects.toThrow(
      /unknown cluster prod; the configured clusters are: fake/,
    );
    await expect(workloadCosts(deps, { hours: 1, labelKey: 'bad key' })).rejects.toThrow(/labelKey must be/);
  });

  it('namespaceDailyCosts: one allocation per complete UTC day; days without samples are absent', async () => {
    const daily = makeDeps();
    // 2026-12-06: two samples in two hours; 2026-12-07: one; 2026-12-05 none; 2026-12-08 is today.
    for (const at of ['2026-12-06T22:10:00Z', '2026-12-06T23:40:00Z', '2026-12-07T10:10:00Z', '2026-12-08T00:30:00Z'])
      await sampleAt(daily, Date.parse(at));
    now = Date.parse('2026-12-08T06:00:00Z');
    const r = await namespaceDailyCosts(daily, { days: 3, labelKey: 'team' });
    expect(r.byCluster).toHaveLength(1);
    const c = r.byCluster[0];
    expect(c?.cluster).toBe('fake');
    expect(c?.coveredHours).toEqual({ '2026-12-06': 2, '2026-12-07': 1 });
    // shop per hour: 2.5 cores and 3 GiB (requests above usage), charged for the hours sampled.
    const shopHour = 2.5 * CPU_PRICE + 3 * RAM_PRICE;
    expect(c?.namespaces.shop?.map((d) => d.date)).toEqual(['2026-12-06', '2026-12-07']);
    expect(c?.namespaces.shop?.[0]?.amount).toBeCloseTo(2 * shopHour, 9);
    expect(c?.namespaces.shop?.[1]?.amount).toBeCloseTo(shopHour, 9);
    expect(Object.keys(c?.namespaces ?? {}).sort()).toEqual(['data', 'ops', 'shop']);
    expect(c?.labels?.team?.storefront?.map((d) => [d.date, round2(d.amount * 1e4)])).toEqual([
      ['2026-12-06', round2(4 * (CPU_PRICE + 0.5 * RAM_PRICE) * 1e4)],
      ['2026-12-07', round2(2 * (CPU_PRICE + 0.5 * RAM_PRICE) * 1e4)],
    ]);
    expect(c?.labels?.team?.__unallocated__).toHaveLength(2);
    expect(c?.errors).toBeUndefined();

    // Without a price for the node, every pod's cost is unknown: no amounts, and the errors say why.
    const unpriced = makeDeps(daily.store as MemoryStore, {});
    const u = (await namespaceDailyCosts(unpriced, { days: 3 })).byCluster[0];
    expect(u?.namespaces).toEqual({});
    expect(u?.errors?.[0]).toMatch(
      /^2026-12-06: \d+ pods of unknown cost left out \(node .*no price for instance type "test-4x16"/,
    );

    await expect(namespaceDailyCosts(daily, { days: 32 })).rejects.toThrow(/days must be a whole number from 1 to 31/);
  });

  it('a cluster without samples is a message saying how to take them, in every use case', async () => {
    const empty = makeDeps();
    now = Date.parse('2026-12-08T06:00:00Z');
    const costs = await workloadCosts(empty, { hours: 24 });
    expect(costs.clusters).toEqual([
      {
        cluster: 'fake',
        error: expect.stringMatching(
          /^no usage samples of cluster fake in the last 24 hours: enable USAGE_SAMPLE_SCHEDULE .*`cloudops-mcp sample usage`/,
        ),
      },
    ]);
    const daily = await namespaceDailyCosts(empty, { days: 7 });
    expect(daily.byCluster[0]).toMatchObject({ cluster: 'fake', namespaces: {}, coveredHours: {} });
    expect(daily.byCluster[0]?.errors).toEqual([
      expect.stringMatching(
        /^no usage samples of cluster fake in the 7 complete UTC days before 2026-12-08: enable USAGE_SAMPLE_SCHEDULE/,
      ),
    ]);
    const recs = await recommendations(empty, {});
    expect(recs.clusters).toEqual([
      { cluster: 'fake', error: expect.stringMatching(/^no usage samples of cluster fake in the last 14 days/) },
    ]);
  });

  it('recommendations: P95 CPU and peak memory × 1.15 with the saving over the replicas, and the refusals with reasons', async () => {
    const end = T0 + 10 * STEP;
    now = end;
    const r = await recommendations(deps, {});
    const c = r.clusters[0];
    if (!c || 'error' in c) throw new Error(`expected a result, got ${JSON.stringify(c)}`);
    const result: RightsizingResult = c.result;
    const api = result.recommendations.find((x) => x.name === 'api');
    // 20 readings of CPU: 100..180m twice, 190m, 500m; nearest rank ceil(0.95 × 20) = 19th = 190m.
    // Memory peak 300Mi × 1.15 = 345Mi.
    expect(api).toMatchObject({
      cluster: 'fake',
      namespace: 'shop',
      kind: 'Deployment',
      replicas: 2,
      containers: [
        {
          container: 'app',
          samples: 20,
          cpu: { current: 1000, recommended: 190, quantity: '190m', observed: 190 },
          memory: { current: 512 * MIB, recommended: 345 * MIB, quantity: '345Mi', observed: 300 * MIB },
        },
      ],
    });
    // By hand: (0.81 cores × 0.0312472 + (167/1024) GiB × 0.0041882) × 730 h × 2 replicas ≈ 37.95 USD a month.
    const perReplica = 0.81 * CPU_PRICE + (167 / 1024) * RAM_PRICE;
    expect(api?.monthlySavingsUsd).toBe(round2(perReplica * 730 * 2));
    expect(api?.patch).toEqual({
      tool: 'k8s_resources_patch',
      arguments: {
        cluster: 'fake',
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        namespace: 'shop',
        name: 'api',
        patchType: 'strategic',
        patch:
          '{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"190m","memory":"345Mi"}}}]}}}}',
      },
    });

    // scaled: its HPA scales on CPU, so only memory is sized (peak 200Mi × 1.15 = 230Mi).
    expect(result.refusals).toContainEqual(
      expect.objectContaining({
        name: 'scaled',
        container: 'app',
        code: 'hpa',
        resources: ['cpu'],
        why: expect.stringMatching(/an HPA scales Deployment scaled on cpu/),
      }),
    );
    const scaled = result.recommendations.find((x) => x.name === 'scaled');
    expect(scaled?.containers[0]?.cpu).toBeUndefined();
    expect(scaled?.containers[0]?.memory?.quantity).toBe('230Mi');
    // db: OOM-killed at 09:50:30, within the window.
    expect(result.refusals).toContainEqual(
      expect.objectContaining({
        kind: 'StatefulSet',
        name: 'db',
        code: 'oom-killed',
        why: expect.stringMatching(/^OOM-killed 1 time in the window \(last 2026-12-07T09:50:30.000Z\)/),
      }),
    );
    // agent: two samples, six needed.
    expect(result.refusals).toContainEqual(
      expect.objectContaining({
        kind: 'DaemonSet',
        name: 'agent',
        code: 'too-few-samples',
        why: expect.stringMatching(/^2 usage samples in the last 14 days; at least 6/),
      }),
    );
    // cache: its HPA scales on the memory of container cache, so only CPU is sized; worker: an HPA
    // without metrics scales on CPU (autoscaling/v2's default), so only memory (100Mi × 1.15 = 115Mi).
    expect(result.refusals).toContainEqual(
      expect.objectContaining({ name: 'cache', container: 'cache', code: 'hpa', resources: ['memory'] }),
    );
    expect(result.refusals).toContainEqual(
      expect.objectContaining({ name: 'worker', container: 'worker', code: 'hpa', resources: ['cpu'] }),
    );
    const cache = result.recommendations.find((x) => x.name === 'cache')?.containers[0];
    expect([cache?.cpu?.quantity, cache?.memory]).toEqual(['50m', undefined]);
    const worker = result.recommendations.find((x) => x.name === 'worker')?.containers[0];
    expect([worker?.cpu, worker?.memory?.quantity]).toEqual([undefined, '115Mi']);
    expect(result.recommendations.map((x) => x.name).sort()).toEqual(['api', 'cache', 'scaled', 'worker']);

    // With two samples enough, the agent is sized: a DaemonSet's replicas are the nodes it is scheduled
    // on (the fake's one node). 20m; 64Mi × 1.15 = 73.6 → 74Mi; (0.18 cores, 182/1024 GiB) × 730 × 1.
    const lenient = { ...policy, cost: { ...defaultCostPolicy(), rightsizing: { ...rightsizing, minSamples: 2 } } };
    const ops = await recommendations(makeDeps(deps.store as MemoryStore, undefined, lenient), { namespace: 'ops' });
    const o = ops.clusters[0];
    const agent = o && 'result' in o ? o.result.recommendations.find((x) => x.name === 'agent') : undefined;
    expect(agent).toMatchObject({ kind: 'DaemonSet', name: 'agent', replicas: 1 });
    expect(agent?.containers[0]?.cpu?.quantity).toBe('20m');
    expect(agent?.containers[0]?.memory?.quantity).toBe('74Mi');
    expect(agent?.monthlySavingsUsd).toBe(round2((0.18 * CPU_PRICE + (182 / 1024) * RAM_PRICE) * 730));

    // The replicas are the cluster's now: api scaled to 4 doubles its saving.
    await api4();
    const again = await recommendations(deps, { namespace: 'shop' });
    const c2 = again.clusters[0];
    const api2 = c2 && 'result' in c2 ? c2.result.recommendations.find((x) => x.name === 'api') : undefined;
    expect(api2?.replicas).toBe(4);
    expect(api2?.monthlySavingsUsd).toBe(round2(perReplica * 730 * 4));

    // Without a price for the node the recommendation stands, without a saving, and says why.
    const unpriced = await recommendations(makeDeps(deps.store as MemoryStore, {}), { namespace: 'shop' });
    const u = unpriced.clusters[0];
    const uApi = u && 'result' in u ? u.result.recommendations.find((x) => x.name === 'api') : undefined;
    expect(uApi?.monthlySavingsUsd).toBe(0);
    expect(uApi?.containers[0]?.cpu?.quantity).toBe('190m');
    expect(uApi?.notes[0]).toMatch(/^the saving is unknown \(node .*: no price for instance type "test-4x16"/);
  });

  async function api4() {
    await api('PATCH', '/apis/apps/v1/namespaces/shop/deployments/api', { spec: { replicas: 4 } });
  }

  it('the patch, applied through the real k8s_resources_patch tool, changes only the requests', async () => {
    now = T0 + 10 * STEP;
    const r = await recommendations(deps, { namespace: 'shop' });
    const c = r.clusters[0];
    const rec = c && 'result' in c ? c.result.recommendations.find((x) => x.name === 'api') : undefined;
    expect(rec).toBeDefined();
    const before = kube.store.get('deployments.apps', 'shop', 'api') as KubeObject;
    const runner = new InProcessToolRunner([k8sResourcesPatchTool as unknown as AnyTool], deps);
    const out = await runner.run({
      v: 1,
      tool: 'k8s_resources_patch',
      args: { ...rec?.patch.arguments },
      caller: { subject: 'op-1', name: 'Otto', roles: ['operator'], method: 'apiKey' },
      requestId: 'req-patch',
    });
    if (!out.ok || out.result.isError) throw new Error(`the patch failed: ${JSON.stringify(out)}`);
    const after = kube.store.get('deployments.apps', 'shop', 'api') as KubeObject;
    const spec = (o: KubeObject) =>
      structuredClone(o.spec) as { template: { spec: { containers: Array<{ resources: unknown }> } } };
    expect(spec(after).template.spec.containers[0]?.resources).toEqual({
      requests: { cpu: '190m', memory: '345Mi' },
      limits: { memory: '1Gi' },
    });
    const expected = spec(before);
    (expected.template.spec.containers[0] as { resources: unknown }).resources = {
      requests: { cpu: '190m', memory: '345Mi' },
      limits: { memory: '1Gi' },
    };
    expect(spec(after)).toEqual(expected);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
  });
});
