import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { sampleUsage } from '../../shared/app/cost/sample-usage.ts';
import {
  allocationInputOf,
  USAGE_LIMITS,
  type UsagePodSample,
  UsageSampleError,
  UsageSamples,
} from '../../shared/app/repos/usage-samples.ts';
import { allocateCosts, instancePrices } from '../../shared/domain/cost/index.ts';
import { itemBytes } from '../../shared/domain/store-items.ts';
import {
  type FakeKube,
  type KubeObject,
  NODE_NAME,
  startFakeKube,
  USAGE_ANNOTATION,
} from '../support/fake-kube/index.ts';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const T0 = Date.parse('2026-12-07T10:00:30Z');

describe('usage samples against the fake API server', () => {
  let kube: FakeKube;
  let clusters: KubeconfigClusters;
  let now = T0;
  const clock = { now: () => now };
  let store: MemoryStore;
  let samples: UsageSamples;
  const deps = () => ({ clusters, usageSamples: samples, clock });
  const hourRange = (from = T0 - 30_000, hours = 1) => ({ from, to: from + hours * 3_600_000 });

  const usage = (u: Record<string, { cpu: string; memory: string }>) => JSON.stringify(u);
  function setPodUsage(ns: string, name: string, u: Record<string, { cpu: string; memory: string }>) {
    const pod = kube.store.get('pods', ns, name) as KubeObject;
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [USAGE_ANNOTATION]: usage(u) };
    kube.store.put(pod);
  }
  const runningPod = (ns: string, name: string, extra: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...((extra.metadata as object) ?? {}) } as KubeObject['metadata'],
    spec: extra.spec as object,
    status: { phase: 'Running', ...((extra.status as object) ?? {}) },
  });

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    clusters = new KubeconfigClusters({ kubeconfig: kube.kubeconfigPath, timeoutMs: 10_000, discoveryTtlMs: 0 }, {});
    for (const ns of ['shop', 'data', 'batch'])
      kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // A priced node (m6i.large, 2 CPU / 8 GiB allocatable) beside the seeded node-1, which has no instance type.
    kube.store.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'ip-10-0-1-10.ec2.internal',
        labels: { 'node.kubernetes.io/instance-type': 'm6i.large', 'kubernetes.io/hostname': 'ip-10-0-1-10' },
      },
      status: {
        capacity: { cpu: '2', memory: '8Gi', pods: '29' },
        allocatable: { cpu: '2', memory: '8Gi', pods: '29' },
      },
    });
    // A Deployment through the API: the fake's controller makes its ReplicaSet and two pods on node-1.
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
              annotations: { [USAGE_ANNOTATION]: usage({ web: { cpu: '800m', memory: '512Mi' } }) },
            },
            spec: {
              containers: [
                { name: 'web', image: 'nginx:1.25', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
              ],
            },
          },
        },
      }),
    });
    expect(res.status).toBe(201);
    // A StatefulSet pod on the priced node that was OOMKilled, and a CronJob's Job pod.
    kube.store.put(
      runningPod('data', 'db-0', {
        metadata: {
          labels: { team: 'platform' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u-db', controller: true }],
          annotations: { [USAGE_ANNOTATION]: usage({ postgres: { cpu: '300m', memory: '5Gi' } }) },
        },
        spec: {
          nodeName: 'ip-10-0-1-10.ec2.internal',
          containers: [
            {
              name: 'postgres',
              image: 'postgres:16',
              resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '8Gi' } },
            },
          ],
        },
        status: {
          containerStatuses: [
            {
              name: 'postgres',
              restartCount: 3,
              ready: true,
              state: { running: { startedAt: '2026-12-07T09:58:00Z' } },
              lastState: {
                terminated: {
                  exitCode: 137,
                  reason: 'OOMKilled',
                  startedAt: '2026-12-07T09:40:00Z',
                  finishedAt: '2026-12-07T09:57:58Z',
                },
              },
            },
          ],
        },
      }),
    );
    kube.store.put({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'report-29001',
        namespace: 'batch',
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'u-cj', controller: true }],
      },
      spec: { template: { spec: { containers: [{ name: 'r', image: 'busybox' }], restartPolicy: 'Never' } } },
    });
    kube.store.put(
      runningPod('batch', 'report-29001-abcde', {
        metadata: {
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'Job', name: 'report-29001', uid: 'u-job', controller: true },
          ],
        },
        spec: {
          nodeName: NODE_NAME,
          containers: [{ name: 'r', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
        },
      }),
    );
    // Pending: not sampled (no node, no usage).
    kube.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waiting', namespace: 'data' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Pending' },
    });
    // Wait until the Deployment's pods run.
    for (let i = 0; i < 200; i++) {
      const pods = kube.store.list('pods', 'shop').filter((p) => (p.status as { phase?: string })?.phase === 'Running');
      if (pods.length === 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  afterAll(async () => {
    await kube?.close();
  });
  beforeEach(() => {
    kube.clearFailures();
    kube.setMetricsAvailable(true);
    now = T0;
    store = new MemoryStore(clock);
    samples = new UsageSamples(store, clock);
  });

  it('stores one sample of every running pod and reads it back with owners, requests, usage and OOMKills', async () => {
    const report = await sampleUsage(deps());
    expect(report).toMatchObject({ cluster: 'fake', status: 'stored', pods: 4, podsWithoutMetrics: 0, omittedPods: 0 });
    expect(report.status === 'stored' && report.oomKilledContainers).toBe(1);

    const summary = await samples.summarize('fake', hourRange());
    expect(summary.sampleTimes).toBe(1);
    expect(summary.pods.map((p) => `${p.namespace}/${p.workload.kind}/${p.workload.name}`)).toEqual([
      'batch/CronJob/report',
      'data/StatefulSet/db',
      'shop/Deployment/web',
      'shop/Deployment/web',
    ]);
    const web = summary.pods.find((p) => p.namespace === 'shop');
    expect(web?.owner?.kind).toBe('ReplicaSet');
    expect(web?.labels?.team).toBe('storefront');
    expect(web?.node).toBe(NODE_NAME);
    expect(web?.containers[0]).toMatchObject({
      name: 'web',
      cpuRequestCores: 0.5,
      memoryRequestBytes: GIB,
      readings: 1,
      usage: { cpuCoresAvg: 0.8, cpuCoresMax: 0.8, memoryBytesAvg: 512 * MIB, memoryBytesMax: 512 * MIB },
    });
    const db = summary.pods.find((p) => p.name === 'db-0');
    expect(db?.containers[0]).toMatchObject({
      restarts: 3,
      lastOomKilledAt: '2026-12-07T09:57:58Z',
      oomKills: [],
    });
    // The OOMKill was before the range asked about; a range that covers it counts it.
    const wider = await samples.summarize('fake', { from: T0 - 3_600_000, to: T0 + 3_600_000 });
    expect(wider.pods.find((p) => p.name === 'db-0')?.containers[0]?.oomKills).toEqual(['2026-12-07T09:57:58Z']);
    expect(summary.nodes).toEqual([
      { name: 'ip-10-0-1-10.ec2.internal', instanceType: 'm6i.large', cpuCores: 2, memoryBytes: 8 * GIB, hours: 1 },
      { name: NODE_NAME, cpuCores: 4, memoryBytes: 16272600 * 1024, hours: 1 },
    ]);
  });

  it('averages and keeps the maximum over several samples, and gives each workload container its series', async () => {
    for (const [cpu, memory] of [
      ['300m', '5Gi'],
      ['500m', '6Gi'],
      ['400m', '4Gi'],
    ] as const) {
      setPodUsage('data', 'db-0', { postgres: { cpu, memory } });
      const r = await sampleUsage(deps());
      expect(r.status).toBe('stored');
      now += 5 * 60_000;
    }
    const summary = await samples.summarize('fake', hourRange());
    expect(summary.sampleTimes).toBe(3);
    const db = summary.pods.find((p) => p.name === 'db-0');
    expect(db?.samples).toBe(3);
    expect(db?.containers[0]?.usage?.cpuCoresAvg).toBeCloseTo(0.4, 9);
    expect(db?.containers[0]?.usage?.cpuCoresMax).toBe(0.5);
    expect(db?.containers[0]?.usage?.memoryBytesAvg).toBe(5 * GIB);
    expect(db?.containers[0]?.usage?.memoryBytesMax).toBe(6 * GIB);

    const { series, sampleTimes } = await samples.workloadSeries('fake', { ...hourRange(), namespace: 'data' });
    expect(sampleTimes).toBe(3);
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({
      namespace: 'data',
      workload: { kind: 'StatefulSet', name: 'db' },
      container: 'postgres',
      atMs: [T0, T0 + 300_000, T0 + 600_000],
      cpuCores: [0.3, 0.5, 0.4],
      memoryBytes: [5 * GIB, 6 * GIB, 4 * GIB],
      cpuRequestCores: 1,
      memoryRequestBytes: 4 * GIB,
      memoryLimitBytes: 8 * GIB,
      pods: 1,
    });
    const shop = await samples.workloadSeries('fake', { ...hourRange(), namespace: 'shop' });
    expect(shop.series.map((s) => [s.workload.name, s.container, s.pods, s.cpuCores.length])).toEqual([
      ['web', 'web', 2, 6],
    ]);

    // The summary feeds the allocation: db-0 on the m6i.large is charged max(1, 0.4) CPU and max(4, 5) GiB.
    // Over the hour 10:00-11:00, all three samples had every pod: each is charged the whole hour.
    expect(summary.coveredHours).toBe(1);
    const report = allocateCosts(allocationInputOf(summary, { prices: instancePrices(), labelKey: 'team' }));
    const dbCost = report.pods.find((p) => p.name === 'db-0');
    expect(dbCost?.hours).toBe(1);
    expect(dbCost?.cpuCores).toBe(1);
    expect(dbCost?.memoryGiB).toBe(5);
    expect(dbCost?.totalCost).toBeCloseTo(0.0312471 + 5 * 0.00418823, 6);
    expect(report.nodes.find((n) => n.instanceType === 'm6i.large')?.cost).toBeCloseTo(0.096, 10);
    expect(report.pods.find((p) => p.namespace === 'shop')?.unknown).toMatch(/instance-type label/);
    // Only db-0 is on a priced node; the other groups hold pods of unknown cost only (0, then by key).
    expect(report.labels?.groups.map((g) => [g.key, g.unknownPods])).toEqual([
      ['platform', 0],
      ['__unallocated__', 1],
      ['storefront', 2],
    ]);

    // Half an hour later a pod that was in one of two samples of the new hour is charged half of it.
    now = Date.parse('2026-12-07T11:10:00Z');
    await sampleUsage(deps());
    const db0 = kube.store.get('pods', 'data', 'db-0') as KubeObject;
    kube.store.delete('pods', 'data', 'db-0');
    now = Date.parse('2026-12-07T11:40:00Z');
    await sampleUsage(deps()).finally(() => kube.store.put(db0));
    const later = await samples.summarize('fake', { from: Date.parse('2026-12-07T11:00:00Z'), to: now + 60_000 });
    const input = allocationInputOf(later, { prices: instancePrices() });
    expect(input.windowHours).toBeCloseTo(41 / 60, 10);
    expect(input.pods.find((p) => p.name === 'db-0')?.hours).toBeCloseTo(41 / 120, 10);
    expect(() =>
      allocationInputOf({ ...later, sampleTimes: 0, coveredHours: 0 }, { prices: instancePrices() }),
    ).toThrow(/no usage samples of cluster fake/);
  });

  it('keeps samples for the retention and no longer', async () => {
    await sampleUsage(deps());
    const hourPk = 'usage#fake#2026-12-07T10';
    const index = await store.get(hourPk, 'i#');
    // Expires 14 days after the end of the sample's hour.
    expect(index?.expiresAt).toBe(Date.parse('2026-12-07T11:00:00Z') / 1000 + 14 * 86_400);
    now = T0 + 14 * 86_400_000; // still within 14 days of the hour's end
    expect((await samples.summarize('fake', hourRange())).sampleTimes).toBe(1);
    now = Date.parse('2026-12-21T11:00:00Z');
    expect((await samples.summarize('fake', hourRange())).sampleTimes).toBe(0);
    // A sample older than the retention is refused, and so is a range over 31 days.
    await expect(samples.write({ cluster: 'fake', at: T0, nodes: [], pods: [] })).rejects.toThrow(
      /older than the retention \(14 days\)/,
    );
    await expect(samples.summarize('fake', { from: T0, to: T0 + 32 * 86_400_000 })).rejects.toThrow(UsageSampleError);
    const short = new UsageSamples(store, clock, { retentionDays: 1 });
    now = T0;
    await short.write({ cluster: 'short', at: T0, nodes: [], pods: [] });
    expect((await store.get('usage#short#2026-12-07T10', 'i#'))?.expiresAt).toBe(
      Date.parse('2026-12-07T11:00:00Z') / 1000 + 86_400,
    );
    expect(() => new UsageSamples(store, clock, { retentionDays: 0 })).toThrow(/from 1 to 90/);
  });

  it('bounds what one sample stores: pods, containers, labels, samples per hour', async () => {
    const pod = (i: number, containers = 1, labels = 0): UsagePodSample => ({
      namespace: 'bulk',
      name: `p-${String(i).padStart(6, '0')}`,
      node: 'n1',
      labels: Object.fromEntries(Array.from({ length: labels }, (_, j) => [`k${j}`, 'v'])),
      containers: Array.from({ length: containers }, (_, j) => ({
        name: `c${j}`,
        cpuRequestCores: 0.1,
        memoryRequestBytes: 64 * MIB,
      })),
      usage: Array.from({ length: containers }, () => ({ cpuCores: 0.05, memoryBytes: 32 * MIB })),
    });
    const many = Array.from({ length: USAGE_LIMITS.podsPerSample + 5 }, (_, i) => pod(i));
    many[0] = pod(0, USAGE_LIMITS.containersPerPod + 3, USAGE_LIMITS.labelsPerPod + 2);
    const written = await samples.write({ cluster: 'big', at: T0, nodes: [], pods: many, omittedPods: 7 });
    expect(written).toMatchObject({
      pods: USAGE_LIMITS.podsPerSample,
      omittedPods: 12,
      omittedContainers: 3,
      omittedLabels: 2,
    });
    expect(written.chunks).toBeGreaterThan(1); // split to stay under the Store's item limit
    const summary = await samples.summarize('big', hourRange());
    expect(summary.pods).toHaveLength(USAGE_LIMITS.podsPerSample);
    expect(summary.omittedPods).toBe(12);
    expect(summary.pods[0]?.containers).toHaveLength(USAGE_LIMITS.containersPerPod);
    expect(Object.keys(summary.pods[0]?.labels ?? {})).toHaveLength(USAGE_LIMITS.labelsPerPod);
    expect(summary.pods.at(-1)?.name).toBe(`p-${String(USAGE_LIMITS.podsPerSample - 1).padStart(6, '0')}`);

    // One sample every 30 s at most: the 121st of an hour is refused; the same time again replaces its sample.
    now = T0 + 3_000_000;
    for (let i = 0; i < USAGE_LIMITS.samplesPerHour; i++)
      await samples.write({ cluster: 'busy', at: T0 + i * 25_000, nodes: [], pods: [pod(1)] });
    await expect(samples.write({ cluster: 'busy', at: T0 + 3_000_000, nodes: [], pods: [pod(1)] })).rejects.toThrow(
      /already has 120 samples in the hour/,
    );
    await samples.write({ cluster: 'busy', at: T0, nodes: [], pods: [pod(2)] });
    const busy = await samples.summarize('busy', hourRange());
    expect(busy.sampleTimes).toBe(USAGE_LIMITS.samplesPerHour);
    expect(busy.pods.find((p) => p.name === 'p-000002')?.samples).toBe(1);
    await expect(samples.write({ cluster: 'busy', at: now + 11 * 60_000, nodes: [], pods: [] })).rejects.toThrow(
      /ahead of this server's clock/,
    );
  });

  it('reports a cluster without metrics.k8s.io clearly, and a failing API as an error result', async () => {
    kube.setMetricsAvailable(false);
    const off = await sampleUsage(deps());
    expect(off).toMatchObject({ cluster: 'fake', status: 'no-metrics' });
    expect(off.status !== 'stored' && off.message).toMatch(
      /metrics.k8s.io is not served by cluster fake .*install metrics-server/,
    );
    expect((await samples.summarize('fake', hourRange())).sampleTimes).toBe(0);

    // In discovery but its APIService unavailable (metrics-server down): 503 on the path.
    kube.setMetricsAvailable(true);
    // The client retries a 503 on a read, so it answers 503 until cleared, as a down APIService does.
    kube.injectFailure({ pathPattern: /^\/apis\/metrics\.k8s\.io\/v1beta1\/pods$/, status: 503, times: Infinity });
    const down = await sampleUsage(deps());
    expect(down).toMatchObject({ status: 'no-metrics' });
    expect(down.status !== 'stored' && down.message).toMatch(/answered 503/);

    kube.clearFailures();
    kube.injectFailure({ method: 'GET', pathPattern: /^\/api\/v1\/pods$/, status: 500, times: Infinity });
    const failed = await sampleUsage(deps());
    expect(failed).toMatchObject({ cluster: 'fake', status: 'error' });
    expect((await samples.summarize('fake', hourRange())).sampleTimes).toBe(0);
  });

  it('keeps every sample when samplers write the same hour at once (the index is a conditional write)', async () => {
    now = T0 + 600_000;
    const pod: UsagePodSample = {
      namespace: 'a',
      name: 'p',
      node: 'n',
      containers: [{ name: 'c', cpuRequestCores: 0.1, memoryRequestBytes: MIB }],
      usage: [{ cpuCores: 0.05, memoryBytes: MIB }],
    };
    const write = (at: number) => samples.write({ cluster: 'race', at, nodes: [], pods: [pod] });
    await Promise.all([write(T0), write(T0 + 60_000), write(T0 + 120_000), write(T0 + 180_000)]);
    const summary = await samples.summarize('race', hourRange());
    expect(summary.sampleTimes).toBe(4);
    expect(summary.pods[0]?.samples).toBe(4);
  });

  it('leaves out a corrupt record and reads the rest', async () => {
    await sampleUsage(deps());
    const pk = 'usage#fake#2026-12-07T10';
    const item = await store.get(pk, 'p#data/db-0');
    await store.put({ pk, sk: 'p#data/db-0', data: { ...item?.data, containers: 'not a list' } });
    const summary = await samples.summarize('fake', hourRange());
    expect(summary.corrupt).toBe(1);
    expect(summary.pods.map((p) => p.name)).not.toContain('db-0');
    expect(summary.pods).toHaveLength(3);
  });

  it('the Store arithmetic: items and bytes of an hour of 2,000 pods sampled every 5 minutes', async () => {
    const pods: UsagePodSample[] = Array.from({ length: 2000 }, (_, i) => {
      const containers = i % 2 === 0 ? 2 : 1; // 1.5 containers per pod
      return {
        namespace: `team-${i % 40}`,
        name: `service-${i % 97}-7d4b9c5f6-${String(i).padStart(5, '0')}`,
        node: `ip-10-0-${i % 50}-10.ec2.internal`,
        owner: {
          kind: 'ReplicaSet',
          name: `service-${i % 97}-7d4b9c5f6`,
          owner: { kind: 'Deployment', name: `service-${i % 97}` },
        },
        labels: { app: `service-${i % 97}`, team: `team-${i % 40}`, 'pod-template-hash': '7d4b9c5f6' },
        containers: Array.from({ length: containers }, (_, j) => ({
          name: j === 0 ? 'app' : 'istio-proxy',
          cpuRequestCores: 0.25,
          memoryRequestBytes: 512 * MIB,
          restarts: 0,
        })),
        usage: Array.from({ length: containers }, (_, j) => ({
          cpuCores: 0.012 + ((i * 7 + j) % 300) / 1000,
          memoryBytes: (180 + ((i * 13 + j) % 400)) * MIB,
        })),
      };
    });
    const nodes = Array.from({ length: 50 }, (_, i) => ({
      name: `ip-10-0-${i}-10.ec2.internal`,
      instanceType: 'm6i.2xlarge',
      cpuCores: 7.91,
      memoryBytes: 30 * GIB,
    }));
    let metaWrites = 0;
    let chunkWrites = 0;
    now = T0 + 3_300_000;
    for (let s = 0; s < 12; s++) {
      const w = await samples.write({ cluster: 'arith', at: T0 + s * 300_000, nodes, pods });
      metaWrites += w.metaWrites;
      chunkWrites += w.chunks;
    }
    // Only the first sample of the hour writes metadata; the others write their readings.
    expect(metaWrites).toBe(2050);
    expect(chunkWrites).toBe(12);
    let items = 0;
    let bytes = 0;
    let chunkBytes = 0;
    let metaBytes = 0;
    let after: string | undefined;
    do {
      const page = await store.query({ pk: 'usage#arith#2026-12-07T10', limit: 1000, ...(after ? { after } : {}) });
      for (const i of page.items) {
        const b = itemBytes(i);
        items++;
        bytes += b;
        if (i.sk.startsWith('s#')) chunkBytes += b;
        else if (!i.sk.startsWith('i#')) metaBytes += b;
      }
      after = page.lastKey;
    } while (after);
    expect(items).toBe(2000 + 50 + 12 + 1);
    // Figures quoted in shared/app/repos/usage-samples.ts come from this print.
    console.log(
      `usage-samples arithmetic: ${items} items, ${Math.round(bytes / 1024)} KiB per hour; ` +
        `chunk ${Math.round(chunkBytes / 12 / 1024)} KiB per sample; metadata ${Math.round(metaBytes / 2050)} B per item`,
    );
    expect(chunkBytes / 12).toBeLessThan(USAGE_LIMITS.chunkBytes);
    expect(metaBytes / 2050).toBeLessThan(1024); // one DynamoDB write unit each
  });
});
