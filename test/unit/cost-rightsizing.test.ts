import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRightsizingPolicy, type RightsizingPolicy } from '../../shared/domain/cost/policy.ts';
import {
  type ContainerSamples,
  MIB,
  nearestRank,
  recommendRequests,
  type UsageSample,
  type WorkloadUsage,
} from '../../shared/domain/cost/rightsizing.ts';
import { k8sResourcesPatchTool } from '../../shared/tools/k8s/resources-patch.tool.ts';
import { applyStrategicMergePatch } from '../support/fake-kube/patch.ts';

const NOW = Date.parse('2026-12-07T00:00:00Z');
const FIVE_MIN = 5 * 60_000;
const DAY = 86_400_000;
const POLICY: RightsizingPolicy = defaultRightsizingPolicy(); // P95, x1.15, 288 samples, 14 days, $5, 10m, 16Mi

/** n samples, the newest at NOW, one every 5 minutes; values by index. */
const samples = (n: number, cpu: (i: number) => number, memMiB: (i: number) => number, endMs = NOW): UsageSample[] =>
  Array.from({ length: n }, (_, i) => ({
    atMs: endMs - i * FIVE_MIN,
    cpuMillicores: cpu(i),
    memoryBytes: memMiB(i) * MIB,
  }));

// web: CPU 3..302m, so P95 (nearest rank 285 of 300) is 287m -> 290m; memory peaks at 200Mi -> x1.15 = 230Mi.
const webSamples = samples(
  300,
  (i) => i + 3,
  (i) => 100 + (i % 101),
);
const web = (over: Partial<ContainerSamples> = {}): ContainerSamples => ({
  name: 'web',
  requests: { cpuMillicores: 500, memoryBytes: 512 * MIB },
  limits: { cpuMillicores: 1000, memoryBytes: 1024 * MIB },
  samples: webSamples,
  ...over,
});
// istio-proxy: 50m flat and 64Mi flat -> 50m and 73.6 -> 74Mi: exactly what it requests already.
const sidecar: ContainerSamples = {
  name: 'istio-proxy',
  requests: { cpuMillicores: 50, memoryBytes: 74 * MIB },
  limits: {},
  samples: samples(
    300,
    () => 50,
    () => 64,
  ),
};
const workload = (over: Partial<WorkloadUsage> = {}): WorkloadUsage => ({
  cluster: 'prod',
  namespace: 'payments',
  kind: 'Deployment',
  name: 'api',
  replicas: 3,
  containers: [web(), sidecar],
  prices: { cpuCoreHour: 0.04, memoryGiBHour: 0.005 },
  ...over,
});
const where = { cluster: 'prod', namespace: 'payments', kind: 'Deployment', name: 'api' };

describe('request right-sizing from usage samples', () => {
  it('recommends P95 CPU and peak memory x 1.15, with the monthly saving and the exact patch', () => {
    const r = recommendRequests([workload()], POLICY, NOW);
    expect(r.refusals).toEqual([]);
    expect(r.notListed).toEqual([]);
    expect(r.recommendations).toHaveLength(1);
    const rec = r.recommendations[0];
    // CPU: -210m x $0.04/core-h x 730 h x 3 = -$18.396; memory: -282Mi = -0.2754 GiB x $0.005 x 730 x 3 = -$3.0155.
    expect(rec).toMatchObject({
      ...where,
      replicas: 3,
      monthlySavingsUsd: 21.41,
      notes: [],
      containers: [
        {
          container: 'web',
          samples: 300,
          cpu: { current: 500, recommended: 290, quantity: '290m', observed: 287 },
          memory: { current: 512 * MIB, recommended: 230 * MIB, quantity: '230Mi', observed: 200 * MIB },
          monthlyCostDeltaUsd: -21.41,
        },
      ],
    });
    expect(rec?.containers[0]?.cpu?.note).toBeUndefined();
    expect(rec?.patch).toEqual({
      tool: 'k8s_resources_patch',
      arguments: {
        ...where,
        apiVersion: 'apps/v1',
        patchType: 'strategic',
        patch:
          '{"spec":{"template":{"spec":{"containers":[{"name":"web","resources":{"requests":{"cpu":"290m","memory":"230Mi"}}}]}}}}',
      },
    });
  });

  it('the patch is valid k8s_resources_patch input and changes only the requests it names', () => {
    const args = recommendRequests([workload()], POLICY, NOW).recommendations[0]?.patch.arguments;
    expect(k8sResourcesPatchTool.input.safeParse(args).success).toBe(true);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'payments' },
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                image: 'web:1',
                resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
              },
              { name: 'istio-proxy', image: 'proxy:1', resources: { requests: { cpu: '50m', memory: '74Mi' } } },
            ],
          },
        },
      },
    };
    const patched = applyStrategicMergePatch(structuredClone(deployment), JSON.parse(args?.patch ?? ''), {
      kind: 'Deployment',
      builtIn: true,
    });
    const expected = structuredClone(deployment);
    const c0 = expected.spec.template.spec.containers[0];
    if (c0?.resources) c0.resources.requests = { cpu: '290m', memory: '230Mi' };
    expect(patched).toEqual(expected);
  });

  it('refuses a container with too few samples in the window, counting none older than it', () => {
    // 288 samples, the oldest exactly 14 days before now (outside: the window is (now - 14 d, now]),
    // plus 50 from three weeks ago.
    const inWindow = samples(
      287,
      () => 100,
      () => 100,
    );
    const edge = { atMs: NOW - 14 * DAY, cpuMillicores: 100, memoryBytes: 100 * MIB };
    const old = samples(
      50,
      () => 100,
      () => 100,
      NOW - 21 * DAY,
    );
    const r = recommendRequests(
      [workload({ containers: [web({ samples: [...inWindow, edge, ...old] })] })],
      POLICY,
      NOW,
    );
    expect(r.recommendations).toEqual([]);
    expect(r.notListed).toEqual([]);
    expect(r.refusals).toEqual([
      {
        ...where,
        container: 'web',
        resources: ['cpu', 'memory'],
        code: 'too-few-samples',
        why: '287 usage samples in the last 14 days; at least 288 are needed (rightsizing.minSamples)',
      },
    ]);
    // One more inside the window is enough.
    const enough = [...inWindow, { ...edge, atMs: edge.atMs + 1 }];
    expect(recommendRequests([workload({ containers: [web({ samples: enough })] })], POLICY, NOW).refusals).toEqual([]);
  });

  it('refuses the resource an HPA scales on, and sizes the other', () => {
    const r = recommendRequests(
      [workload({ hpa: [{ resource: 'cpu' }] })],
      { ...POLICY, minMonthlySavingsUsd: 1 },
      NOW,
    );
    expect(r.refusals).toEqual([
      {
        ...where,
        container: 'web',
        resources: ['cpu'],
        code: 'hpa',
        why: 'an HPA scales Deployment api on cpu: its utilization is usage divided by the cpu request, so a new request would change when it scales',
      },
      expect.objectContaining({ container: 'istio-proxy', resources: ['cpu'], code: 'hpa' }),
    ]);
    const rec = r.recommendations[0];
    expect(rec?.containers.map((c) => [c.container, c.cpu, c.memory?.quantity])).toEqual([['web', undefined, '230Mi']]);
    expect(rec?.monthlySavingsUsd).toBe(3.02);
    expect(JSON.parse(rec?.patch.arguments.patch ?? '')).toEqual({
      spec: { template: { spec: { containers: [{ name: 'web', resources: { requests: { memory: '230Mi' } } }] } } },
    });
    // A ContainerResource metric on another container leaves web alone.
    const other = recommendRequests([workload({ hpa: [{ resource: 'cpu', container: 'istio-proxy' }] })], POLICY, NOW);
    expect(other.recommendations[0]?.containers[0]?.cpu?.quantity).toBe('290m');
    // HPAs on both resources: refused twice, not "already matches".
    const both = recommendRequests(
      [workload({ containers: [web()], hpa: [{ resource: 'cpu' }, { resource: 'memory' }] })],
      POLICY,
      NOW,
    );
    expect(both.refusals.map((f) => f.resources)).toEqual([['cpu'], ['memory']]);
    expect(both.notListed).toEqual([]);
  });

  it('refuses a container OOM-killed in the window; an older OOMKill does not count', () => {
    const r = recommendRequests([workload({ oomKills: [{ container: 'web', atMs: NOW - DAY }] })], POLICY, NOW);
    expect(r.recommendations).toEqual([]);
    expect(r.refusals).toEqual([
      {
        ...where,
        container: 'web',
        resources: ['cpu', 'memory'],
        code: 'oom-killed',
        why: 'OOM-killed 1 time in the window (last 2026-12-06T00:00:00.000Z): its memory peak is the limit it was killed at, not what it needs; fix that first',
      },
    ]);
    // The sidecar already matches: the workload is said to need nothing else.
    expect(r.notListed).toEqual([{ ...where, why: 'the requests it may change already match its usage' }]);
    const old = recommendRequests([workload({ oomKills: [{ container: 'web', atMs: NOW - 15 * DAY }] })], POLICY, NOW);
    expect(old.refusals).toEqual([]);
    expect(old.recommendations).toHaveLength(1);
  });

  it('refuses kinds whose pod template is not theirs to keep', () => {
    const r = recommendRequests([workload({ kind: 'ReplicaSet', name: 'api-5d8f' })], POLICY, NOW);
    expect(r.recommendations).toEqual([]);
    expect(r.refusals).toEqual([
      {
        ...where,
        kind: 'ReplicaSet',
        name: 'api-5d8f',
        resources: ['cpu', 'memory'],
        code: 'unsupported-kind',
        why: "a ReplicaSet is not sized: only a Deployment's, StatefulSet's or DaemonSet's pod template sets its pods' requests for good; size its owner",
      },
    ]);
    for (const kind of ['StatefulSet', 'DaemonSet']) {
      expect(recommendRequests([workload({ kind })], POLICY, NOW).recommendations[0]?.patch.arguments).toMatchObject({
        kind,
        apiVersion: 'apps/v1',
      });
    }
  });

  it('never above the limit: capped, and says what usage wanted', () => {
    const limited = web({ limits: { cpuMillicores: 200, memoryBytes: 220 * MIB } });
    const c = recommendRequests([workload({ containers: [limited] })], POLICY, NOW).recommendations[0]?.containers[0];
    expect(c?.cpu).toMatchObject({ recommended: 200, quantity: '200m', observed: 287 });
    expect(c?.cpu?.note).toBe(
      'usage wants 290m (P95 287m), above the limit 200m: capped at the limit; the container is likely throttled, raise the limit to let it have more',
    );
    expect(c?.memory).toMatchObject({ recommended: 220 * MIB, quantity: '220Mi' });
    expect(c?.memory?.note).toBe(
      'usage wants 230Mi (peak 200.0Mi x 1.15), above the limit: capped at 220Mi; the container runs close to its limit, raise the limit before it is OOM-killed',
    );
    // A limit that is not a whole MiB (100M = 95.37Mi): the largest whole MiB within it.
    const decimal = web({
      limits: { memoryBytes: 100_000_000 },
      samples: samples(
        300,
        () => 100,
        () => 90,
      ),
    });
    const m = recommendRequests([workload({ containers: [decimal] })], POLICY, NOW).recommendations[0]?.containers[0]
      ?.memory;
    expect(m).toMatchObject({ recommended: 95 * MIB, quantity: '95Mi' });
    expect(m?.recommended).toBeLessThanOrEqual(100_000_000);
  });

  it('never below the floors', () => {
    const idle = web({
      samples: samples(
        300,
        () => 1,
        () => 1,
      ),
    });
    const c = recommendRequests([workload({ containers: [idle] })], POLICY, NOW).recommendations[0]?.containers[0];
    expect(c?.cpu).toMatchObject({
      recommended: 10,
      quantity: '10m',
      observed: 1,
      note: 'raised to the floor 10m (rightsizing.minCpuMillicores)',
    });
    expect(c?.memory).toMatchObject({
      recommended: 16 * MIB,
      quantity: '16Mi',
      note: 'raised to the floor 16Mi (rightsizing.minMemoryMiB)',
    });
  });

  it('raises a request usage outgrows, as a cost, and sets one that is missing', () => {
    const small = web({ requests: { cpuMillicores: 100, memoryBytes: 128 * MIB } });
    const up = recommendRequests([workload({ containers: [small] })], POLICY, NOW).recommendations[0];
    // +190m -> 0.19 x 0.04 x 2190 = $16.644; +102Mi -> 102/1024 x 0.005 x 2190 = $1.0907.
    expect(up?.monthlySavingsUsd).toBe(-17.73);
    const none = web({ requests: {} });
    const set = recommendRequests([workload({ containers: [none] })], POLICY, NOW).recommendations[0]?.containers[0];
    expect(set?.cpu).toEqual({ recommended: 290, quantity: '290m', observed: 287 });
    expect(set?.memory?.current).toBeUndefined();
    // 0.29 x 0.04 x 2190 = $25.404; 230/1024 x 0.005 x 2190 = $2.4595.
    expect(set?.monthlyCostDeltaUsd).toBe(27.86);
  });

  it('does not list a change under the minimum saving, or a workload already sized', () => {
    const near = web({ requests: { cpuMillicores: 300, memoryBytes: 240 * MIB } });
    // -10m -> $0.876, -10Mi -> $0.107: under $5.
    const r = recommendRequests(
      [workload({ containers: [near] }), workload({ name: 'proxy', containers: [sidecar] })],
      POLICY,
      NOW,
    );
    expect(r.recommendations).toEqual([]);
    expect(r.notListed).toEqual([
      {
        ...where,
        why: 'the change moves its cost by 0.98 USD a month, under rightsizing.minMonthlySavingsUsd (5)',
      },
      { ...where, name: 'proxy', why: 'the requests it may change already match its usage' },
    ]);
    expect(
      recommendRequests([workload({ containers: [near] })], { ...POLICY, minMonthlySavingsUsd: 0.5 }, NOW)
        .recommendations,
    ).toHaveLength(1);
  });

  it('says when Guaranteed pods would become Burstable', () => {
    const guaranteed = web({ requests: { cpuMillicores: 1000, memoryBytes: 1024 * MIB } });
    const r = recommendRequests([workload({ containers: [guaranteed] })], POLICY, NOW);
    expect(r.recommendations[0]?.notes).toEqual([
      'every container requests exactly its limits today, so the pods are Guaranteed; with these requests they become Burstable and are evicted before Guaranteed pods under node pressure',
    ]);
  });

  it('nearest rank is a value of the series, never an interpolation', () => {
    const oneToTwenty = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(nearestRank(oneToTwenty, 95)).toBe(19);
    expect(nearestRank(oneToTwenty, 100)).toBe(20);
    expect(nearestRank([4, 1, 3, 2], 50)).toBe(2);
    expect(nearestRank([7], 95)).toBe(7);
    expect(() => nearestRank([], 95)).toThrow();
  });

  it('property: a recommendation covers P95 and peak x 1.15, within its floor and limit, in 5m and whole MiB', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 8192 })), {
          minLength: 288,
          maxLength: 400,
        }),
        fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
        (values, cpuLimit, memLimitMiB) => {
          const c = web({
            requests: {},
            limits: {
              ...(cpuLimit !== undefined ? { cpuMillicores: cpuLimit } : {}),
              ...(memLimitMiB !== undefined ? { memoryBytes: memLimitMiB * MIB } : {}),
            },
            samples: values.map(([cpu, mem], i) => ({
              atMs: NOW - i * FIVE_MIN,
              cpuMillicores: cpu,
              memoryBytes: mem * MIB,
            })),
          });
          const rec = recommendRequests([workload({ containers: [c] })], { ...POLICY, minMonthlySavingsUsd: 0 }, NOW)
            .recommendations[0]?.containers[0];
          const cpu = rec?.cpu?.recommended ?? 0;
          const mem = rec?.memory?.recommended ?? 0;
          const p95 = nearestRank(
            values.map(([v]) => v),
            95,
          );
          const peak = Math.max(...values.map(([, m]) => m)) * MIB;
          if (cpuLimit === undefined || cpuLimit >= 10) {
            expect(cpu % 5 === 0 || cpu === cpuLimit).toBe(true);
            expect(cpu).toBeGreaterThanOrEqual(Math.min(Math.max(p95, 10), cpuLimit ?? Number.POSITIVE_INFINITY));
          }
          expect(cpu).toBeLessThanOrEqual(cpuLimit ?? Number.POSITIVE_INFINITY);
          expect(mem % MIB).toBe(0);
          expect(mem).toBeLessThanOrEqual(memLimitMiB !== undefined ? memLimitMiB * MIB : Number.POSITIVE_INFINITY);
          if (memLimitMiB === undefined) {
            expect(mem).toBeGreaterThanOrEqual(Math.max(peak * 1.15 - 1, 16 * MIB));
            expect(mem).toBeLessThan(Math.max(peak * 1.15, 16 * MIB) + MIB);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
