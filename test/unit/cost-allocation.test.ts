import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALLOCATION_LIMITS,
  AllocationInputError,
  allocateCosts,
  type CostNodeInput,
  type CostPodInput,
  DEFAULT_INSTANCE_PRICES,
  DEFAULT_RESOURCE_RATES,
  GIB,
  instancePrices,
  nodePrice,
  PRICE_LIMITS,
  PriceConfigError,
  parseInstancePrices,
  quantityValue,
  splitNodePrice,
  UNALLOCATED_LABEL,
} from '../../shared/domain/cost/index.ts';

const MIB = 2 ** 20;

/*
 * WORKED EXAMPLE (derived by hand; the test checks the code against these numbers).
 *
 * One node, m6i.large at $0.096/h (the embedded us-east-1 list price), allocatable 2 vCPU and
 * 8 GiB (allocatable taken equal to capacity to keep the numbers round). Window: 24 h.
 *
 * Split by OpenCost's default rates ($0.031611 per vCPU-hour, $0.004237 per GiB-hour) as a ratio:
 *   CPU weight  = 2 × 0.031611 = 0.063222
 *   RAM weight  = 8 × 0.004237 = 0.033896
 *   cpuShare    = 0.063222 / (0.063222 + 0.033896) = 0.063222 / 0.097118 = 0.650981
 *   CPU per core-hour = 0.096 × 0.650981 / 2 = 0.0624942 / 2 = $0.0312471
 *   RAM per GiB-hour  = 0.096 × 0.349019 / 8 = 0.0335058 / 8 = $0.00418823
 *   check: 2 × 0.0312471 + 8 × 0.00418823 = 0.0624942 + 0.0335058 = 0.096 ✓
 *   node over 24 h = 0.096 × 24 = $2.304 (CPU part 0.0624942 × 24 = $1.49986, RAM part 0.0335058 × 24 = $0.80414)
 *
 * Pod shop/web-1 (ReplicaSet web-7d4b9 owned by Deployment web), one container:
 *   request 500m CPU, 1 GiB; usage average 800m (max 1.2), memory average 512 MiB (max 900 MiB).
 *   charged (average usage): CPU max(0.5, 0.8) = 0.8 cores (usage wins); RAM max(1, 0.5) = 1 GiB (request wins)
 *   CPU 0.8 × 0.0312471 × 24 = $0.599944; RAM 1 × 0.00418823 × 24 = $0.100518; total $0.700462 → $0.70
 *
 * Pod data/db-0 (StatefulSet db), one container:
 *   request 1 CPU, 4 GiB; usage average 300m (max 400m), memory average 5 GiB (max 6 GiB).
 *   charged: CPU max(1, 0.3) = 1 core (request wins); RAM max(4, 5) = 5 GiB (usage wins)
 *   CPU 1 × 0.0312471 × 24 = $0.749930; RAM 5 × 0.00418823 × 24 = $0.502588; total $1.252518 → $1.25
 *
 * Namespaces: data $1.25, shop $0.70 (data first: sorted by cost).
 * Allocated = 0.700462 + 1.252518 = $1.952980; idle = 2.304 − 1.952980 = $0.351020 → $0.35
 *   idle CPU = 1.49986 − (0.599944 + 0.749930) = $0.149986; idle RAM = 0.80414 − (0.100518 + 0.502588) = $0.201034
 *
 * With maximum usage instead: web-1 CPU max(0.5, 1.2) = 1.2 → 1.2 × 0.0312471 × 24 = $0.899917;
 * db-0 RAM max(4, 6) = 6 GiB → 6 × 0.00418823 × 24 = $0.603104.
 */
const m6iLarge: CostNodeInput = {
  name: 'ip-10-0-1-10.ec2.internal',
  instanceType: 'm6i.large',
  cpuCores: 2,
  memoryBytes: 8 * GIB,
  price: nodePrice('m6i.large', instancePrices()),
};
const web1: CostPodInput = {
  namespace: 'shop',
  name: 'web-7d4b9-x2x9k',
  owner: { kind: 'ReplicaSet', name: 'web-7d4b9', owner: { kind: 'Deployment', name: 'web' } },
  labels: { team: 'storefront' },
  node: m6iLarge.name,
  containers: [
    {
      name: 'web',
      cpuRequestCores: 0.5,
      memoryRequestBytes: GIB,
      usage: { cpuCoresAvg: 0.8, cpuCoresMax: 1.2, memoryBytesAvg: 512 * MIB, memoryBytesMax: 900 * MIB },
    },
  ],
};
const db0: CostPodInput = {
  namespace: 'data',
  name: 'db-0',
  owner: { kind: 'StatefulSet', name: 'db' },
  labels: { team: 'platform' },
  node: m6iLarge.name,
  containers: [
    {
      name: 'postgres',
      cpuRequestCores: 1,
      memoryRequestBytes: 4 * GIB,
      usage: { cpuCoresAvg: 0.3, cpuCoresMax: 0.4, memoryBytesAvg: 5 * GIB, memoryBytesMax: 6 * GIB },
    },
  ],
};

const cents = (v: number | undefined) => Math.round((v ?? Number.NaN) * 100) / 100;

describe('cost allocation: the worked example (one m6i.large, two pods, 24 h)', () => {
  const report = allocateCosts({ nodes: [m6iLarge], pods: [web1, db0], windowHours: 24, labelKey: 'team' });

  it('splits the node price by the CPU/RAM rate ratio', () => {
    expect(m6iLarge.price).toEqual({ hourly: 0.096 });
    const split = splitNodePrice(0.096, 2, 8 * GIB);
    expect(split.cpuShare).toBeCloseTo(0.650981, 6);
    expect(split.cpuPricePerCoreHour).toBeCloseTo(0.0312471, 7);
    expect(split.ramPricePerGiBHour).toBeCloseTo(0.00418823, 7);
    expect(2 * split.cpuPricePerCoreHour + 8 * split.ramPricePerGiBHour).toBeCloseTo(0.096, 12);
    const node = report.nodes[0];
    expect(node?.cost).toBeCloseTo(2.304, 10);
    expect(node?.cpuPricePerCoreHour).toBeCloseTo(0.0312471, 7);
  });

  it('charges each pod max(request, average usage) at the node prices', () => {
    const [first, second] = report.pods;
    expect(first?.name).toBe('db-0');
    expect(first?.cpuCores).toBe(1);
    expect(first?.memoryGiB).toBe(5);
    expect(first?.cpuCost).toBeCloseTo(0.74993, 5);
    expect(first?.ramCost).toBeCloseTo(0.502588, 5);
    expect(cents(first?.totalCost)).toBe(1.25);
    expect(second?.name).toBe('web-7d4b9-x2x9k');
    expect(second?.cpuCores).toBe(0.8);
    expect(second?.memoryGiB).toBe(1);
    expect(second?.cpuCost).toBeCloseTo(0.599944, 5);
    expect(second?.ramCost).toBeCloseTo(0.100518, 5);
    expect(cents(second?.totalCost)).toBe(0.7);
  });

  it('rolls up by namespace, by workload (ReplicaSet to its Deployment) and by label', () => {
    expect(report.namespaces.map((g) => [g.key, cents(g.totalCost)])).toEqual([
      ['data', 1.25],
      ['shop', 0.7],
    ]);
    expect(report.workloads.map((w) => [w.namespace, w.kind, w.name, cents(w.totalCost)])).toEqual([
      ['data', 'StatefulSet', 'db', 1.25],
      ['shop', 'Deployment', 'web', 0.7],
    ]);
    expect(report.labels?.groups.map((g) => [g.key, cents(g.totalCost)])).toEqual([
      ['platform', 1.25],
      ['storefront', 0.7],
    ]);
  });

  it('reports the idle cost as node cost minus allocated, per resource', () => {
    const node = report.nodes[0];
    expect(node?.allocatedCost).toBeCloseTo(1.95298, 5);
    expect(cents(node?.idleCost)).toBe(0.35);
    expect(node?.idleCpuCost).toBeCloseTo(0.149986, 5);
    expect(node?.idleRamCost).toBeCloseTo(0.201034, 5);
    expect(node?.overAllocated).toBeUndefined();
    expect(cents(report.totals.idleCost)).toBe(0.35);
    expect(cents(report.totals.nodeCost)).toBe(2.3);
  });

  it('charges max(request, maximum usage) when asked', () => {
    const max = allocateCosts({ nodes: [m6iLarge], pods: [web1, db0], windowHours: 24, usage: 'max' });
    const web = max.pods.find((p) => p.name === web1.name);
    const db = max.pods.find((p) => p.name === 'db-0');
    expect(web?.cpuCost).toBeCloseTo(0.899917, 5); // 1.2 cores now
    expect(web?.ramCost).toBeCloseTo(0.100518, 5); // request 1 GiB still above 900 MiB
    expect(db?.cpuCost).toBeCloseTo(0.74993, 5); // request 1 still above 400m
    expect(db?.ramCost).toBeCloseTo(0.603104, 5); // 6 GiB now
  });
});

describe('cost allocation: the edges', () => {
  it('charges the request when usage is lower and the usage when it is higher, per container', () => {
    const pod: CostPodInput = {
      namespace: 'a',
      name: 'p',
      node: m6iLarge.name,
      containers: [
        {
          name: 'under',
          cpuRequestCores: 1,
          memoryRequestBytes: GIB,
          usage: { cpuCoresAvg: 0.1, cpuCoresMax: 0.1, memoryBytesAvg: 0.1 * GIB, memoryBytesMax: 0.1 * GIB },
        },
        {
          name: 'over',
          cpuRequestCores: 0.1,
          memoryRequestBytes: 0.1 * GIB,
          usage: { cpuCoresAvg: 0.5, cpuCoresMax: 0.5, memoryBytesAvg: 2 * GIB, memoryBytesMax: 2 * GIB },
        },
        { name: 'no-readings', cpuRequestCores: 0.25, memoryRequestBytes: 0.5 * GIB },
      ],
    };
    const [p] = allocateCosts({ nodes: [m6iLarge], pods: [pod], windowHours: 1 }).pods;
    expect(p?.cpuCores).toBeCloseTo(1 + 0.5 + 0.25, 12);
    expect(p?.memoryGiB).toBeCloseTo(1 + 2 + 0.5, 12);
    expect(p?.workload).toEqual({ kind: 'Pod', name: 'p' });
  });

  it('reports pods on a node of unknown price as unknown, with the reason, never a guess', () => {
    const custom: CostNodeInput = {
      name: 'n-custom',
      instanceType: 'x9.huge',
      cpuCores: 4,
      memoryBytes: 16 * GIB,
      price: nodePrice('x9.huge', instancePrices()),
    };
    const bare: CostNodeInput = {
      name: 'n-bare',
      cpuCores: 4,
      memoryBytes: 16 * GIB,
      price: nodePrice(undefined, instancePrices()),
    };
    const r = allocateCosts({
      nodes: [m6iLarge, custom, bare],
      pods: [
        web1,
        { ...db0, node: 'n-custom' },
        { ...db0, name: 'db-1', node: 'n-bare' },
        { ...db0, name: 'db-2', node: 'gone' },
      ],
      windowHours: 24,
    });
    const db = (name: string) => r.pods.find((p) => p.name === name);
    expect(db('db-0')?.totalCost).toBeUndefined();
    expect(db('db-0')?.unknown).toMatch(/no price for instance type "x9.huge": add it to COST_INSTANCE_PRICES/);
    expect(db('db-1')?.unknown).toMatch(/no node.kubernetes.io\/instance-type label/);
    expect(db('db-2')?.unknown).toMatch(/node gone was not among the nodes read/);
    expect(r.pods.at(-1)?.totalCost).toBeUndefined(); // unknowns sort last
    expect(r.pods[0]?.name).toBe(web1.name);
    expect(r.totals.unknownCostPods).toBe(3);
    expect(r.totals.unknownPriceNodes).toBe(2);
    expect(r.namespaces.find((g) => g.key === 'data')).toMatchObject({ totalCost: 0, pods: 3, unknownPods: 3 });
    expect(r.nodes.find((n) => n.name === 'n-custom')?.cost).toBeUndefined();
  });

  it('reports over-allocation and never a negative idle cost', () => {
    // web-1's usage of 3 cores alone is more than the node's 2 allocatable cores.
    const hot: CostPodInput = {
      ...web1,
      containers: [
        {
          name: 'web',
          cpuRequestCores: 0.5,
          memoryRequestBytes: GIB,
          usage: { cpuCoresAvg: 3, cpuCoresMax: 3, memoryBytesAvg: GIB, memoryBytesMax: GIB },
        },
      ],
    };
    const node = allocateCosts({ nodes: [m6iLarge], pods: [hot, db0], windowHours: 24 }).nodes[0];
    // CPU charged: (3 + 1) × 0.0312471 × 24 = $2.99972 against a CPU part of $1.49986: $1.49986 over.
    expect(node?.idleCpuCost).toBe(0);
    expect(node?.overAllocated?.cpuCost).toBeCloseTo(1.49986, 4);
    expect(node?.overAllocated?.ramCost).toBe(0);
    expect(node?.idleRamCost).toBeCloseTo(0.201034, 5);
    expect((node?.allocatedCost ?? 0) + (node?.idleCost ?? 0) - (node?.overAllocated?.totalCost ?? 0)).toBeCloseTo(
      node?.cost ?? 0,
      10,
    );
  });

  it('puts pods without the label under __unallocated__ and counts unscheduled pods apart', () => {
    const r = allocateCosts({
      nodes: [m6iLarge],
      pods: [web1, { ...db0, labels: {} }, { ...db0, name: 'pending', node: undefined }],
      windowHours: 24,
      labelKey: 'team',
    });
    expect(r.labels?.groups.map((g) => g.key)).toEqual([UNALLOCATED_LABEL, 'storefront']);
    expect(r.totals.unscheduledPods).toBe(1);
    expect(r.pods.map((p) => p.name)).not.toContain('pending');
  });

  it('charges a pod, and a node, only for the hours it ran in the window', () => {
    const half = allocateCosts({ nodes: [m6iLarge], pods: [{ ...db0, hours: 12 }], windowHours: 24 }).pods[0];
    expect(half?.totalCost).toBeCloseTo(1.252518 / 2, 5);
    const capped = allocateCosts({ nodes: [m6iLarge], pods: [{ ...db0, hours: 99 }], windowHours: 24 }).pods[0];
    expect(capped?.hours).toBe(24);
    // A node that ran 12 of the 24 hours (scaled in) costs 0.096 × 12 = $1.152.
    const node = allocateCosts({ nodes: [{ ...m6iLarge, hours: 12 }], pods: [], windowHours: 24 }).nodes[0];
    expect(node?.cost).toBeCloseTo(1.152, 10);
    expect(node?.idleCost).toBeCloseTo(1.152, 10);
  });

  it('gives the same report whatever order nodes and pods come in', () => {
    const a = allocateCosts({ nodes: [m6iLarge], pods: [web1, db0], windowHours: 24, labelKey: 'team' });
    const b = allocateCosts({ nodes: [m6iLarge], pods: [db0, web1], windowHours: 24, labelKey: 'team' });
    expect(b).toEqual(a);
  });

  it('refuses input outside its bounds with a message naming what is wrong', () => {
    const run = (over: Partial<Parameters<typeof allocateCosts>[0]>) => () =>
      allocateCosts({ nodes: [m6iLarge], pods: [web1], windowHours: 24, ...over });
    expect(run({ windowHours: 0 })).toThrow(/windowHours must be more than 0/);
    expect(run({ windowHours: ALLOCATION_LIMITS.windowHours + 1 })).toThrow(AllocationInputError);
    expect(run({ pods: [web1, web1] })).toThrow(/pod shop\/web-7d4b9-x2x9k is given twice/);
    expect(run({ nodes: [m6iLarge, m6iLarge] })).toThrow(/is given twice/);
    expect(
      run({ pods: [{ ...web1, containers: [{ name: 'c', cpuRequestCores: -1, memoryRequestBytes: 0 }] }] }),
    ).toThrow(/container c: requests and usage must be non-negative/);
    expect(
      run({ pods: [{ ...web1, containers: [{ name: 'c', cpuRequestCores: Number.NaN, memoryRequestBytes: 0 }] }] }),
    ).toThrow(AllocationInputError);
    expect(run({ labelKey: 'k'.repeat(ALLOCATION_LIMITS.labelKeyChars + 1) })).toThrow(/labelKey/);
    expect(run({ rates: { cpuPerCoreHour: 0, ramPerGiBHour: 1 } })).toThrow(/cpuPerCoreHour/);
    expect(
      run({
        pods: Array.from({ length: ALLOCATION_LIMITS.pods + 1 }, (_, i) => ({ ...web1, name: `p${i}` })),
      }),
    ).toThrow(/at most 150000 are allowed/);
  });

  it('allocated + idle − over-allocated equals the node cost on every node (property)', () => {
    const nodeArb = fc.record({
      cpu: fc.integer({ min: 1, max: 64 }),
      memGiB: fc.integer({ min: 1, max: 512 }),
      hourly: fc.double({ min: 0.001, max: 50, noNaN: true }),
      hours: fc.option(fc.integer({ min: 0, max: 800 }), { nil: undefined }),
    });
    const containerArb = fc.record({
      req: fc.double({ min: 0, max: 8, noNaN: true }),
      reqGiB: fc.double({ min: 0, max: 32, noNaN: true }),
      use: fc.double({ min: 0, max: 8, noNaN: true }),
      useGiB: fc.double({ min: 0, max: 32, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.array(containerArb, { minLength: 1, maxLength: 3 })), { maxLength: 12 }),
        fc.integer({ min: 1, max: 720 }),
        (nodeSpecs, podSpecs, hours) => {
          const nodes = nodeSpecs.map((n, i) => ({
            name: `n${i}`,
            cpuCores: n.cpu,
            memoryBytes: n.memGiB * GIB,
            price: { hourly: n.hourly },
            ...(n.hours !== undefined ? { hours: n.hours } : {}),
          }));
          const pods = podSpecs.map(([at, cs], i) => ({
            namespace: 'ns',
            name: `p${i}`,
            node: `n${at % nodes.length}`,
            containers: cs.map((c, j) => ({
              name: `c${j}`,
              cpuRequestCores: c.req,
              memoryRequestBytes: c.reqGiB * GIB,
              usage: {
                cpuCoresAvg: c.use,
                cpuCoresMax: c.use,
                memoryBytesAvg: c.useGiB * GIB,
                memoryBytesMax: c.useGiB * GIB,
              },
            })),
          }));
          const r = allocateCosts({ nodes, pods, windowHours: hours });
          for (const n of r.nodes) {
            const spec = nodeSpecs[Number(n.name.slice(1))];
            const cost = (spec?.hourly ?? 0) * Math.min(spec?.hours ?? hours, hours);
            expect(n.cost).toBeCloseTo(cost, 6);
            expect(n.idleCost).toBeGreaterThanOrEqual(0);
            const over = n.overAllocated?.totalCost ?? 0;
            expect((n.allocatedCost ?? 0) + (n.idleCost ?? 0) - over).toBeCloseTo(cost, 6);
            if (over === 0) expect((n.allocatedCost ?? 0) + (n.idleCost ?? 0)).toBeCloseTo(cost, 6);
          }
          const podSum = r.pods.reduce((s, p) => s + (p.totalCost ?? 0), 0);
          expect(podSum).toBeCloseTo(r.totals.allocatedCost, 6);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('instance prices', () => {
  it('has the common AWS and GCP types at list price', () => {
    expect(DEFAULT_INSTANCE_PRICES['m6i.large']).toBe(0.096);
    expect(DEFAULT_INSTANCE_PRICES['m6g.xlarge']).toBe(0.154);
    expect(DEFAULT_INSTANCE_PRICES['n2-standard-4']).toBe(0.194236);
    expect(Object.values(DEFAULT_INSTANCE_PRICES).every((v) => v > 0 && v < 5)).toBe(true);
    expect(DEFAULT_RESOURCE_RATES).toEqual({ cpuPerCoreHour: 0.031611, ramPerGiBHour: 0.004237 });
  });

  it('COST_INSTANCE_PRICES overrides a listed type and adds new ones', () => {
    const overrides = parseInstancePrices('{"m6i.large": 0.07, "e2-custom-4-8192": 0.11}');
    const prices = instancePrices(overrides);
    expect(nodePrice('m6i.large', prices)).toEqual({ hourly: 0.07 });
    expect(nodePrice('e2-custom-4-8192', prices)).toEqual({ hourly: 0.11 });
    expect(nodePrice('m5.large', prices)).toEqual({ hourly: 0.096 });
    expect(parseInstancePrices(undefined)).toEqual({});
    expect(parseInstancePrices('  ')).toEqual({});
    // The override changes the worked example's node: 0.07 × 24 = $1.68.
    const r = allocateCosts({
      nodes: [{ ...m6iLarge, price: nodePrice('m6i.large', prices) }],
      pods: [],
      windowHours: 24,
    });
    expect(r.nodes[0]?.idleCost).toBeCloseTo(1.68, 10);
  });

  it('refuses a bad COST_INSTANCE_PRICES naming the entry', () => {
    const bad = (text: string) => () => parseInstancePrices(text);
    expect(bad('{"m6i.large": 0.096')).toThrow(/COST_INSTANCE_PRICES is not JSON/);
    expect(bad('[1,2]')).toThrow(/must be a JSON object/);
    expect(bad('{"m6i.large": -1}')).toThrow(/entry "m6i.large": the price must be a positive number/);
    expect(bad('{"m6i.large": 0}')).toThrow(/entry "m6i.large"/);
    expect(bad('{"m6i.large": "0.096"}')).toThrow(/entry "m6i.large".*not "0.096"/);
    expect(bad('{"m6i.large": 1e400}')).toThrow(/entry "m6i.large"/); // JSON.parse gives Infinity
    expect(bad(`{"big": ${PRICE_LIMITS.maxHourly + 1}}`)).toThrow(/entry "big"/);
    expect(bad(`{"${'x'.repeat(65)}": 1}`)).toThrow(/at most 64 characters/);
    expect(bad('{"m6i large": 1}')).toThrow(/entry "m6i large": an instance type name is letters/);
    const many = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`t${i}`, 1]));
    expect(bad(JSON.stringify(many))).toThrow(/501 entries; at most 500/);
    expect(bad(`{"a": 1, "pad": "${'x'.repeat(PRICE_LIMITS.jsonBytes)}"}`)).toThrow(PriceConfigError);
  });

  it('reads Kubernetes quantities as base units', () => {
    expect(quantityValue('250m')).toBe(0.25);
    expect(quantityValue('128Mi')).toBe(128 * MIB);
    expect(quantityValue('1066771n')).toBeCloseTo(0.001066771, 12);
    expect(quantityValue('13176Ki')).toBe(13176 * 1024);
    expect(quantityValue('2')).toBe(2);
    expect(quantityValue('-1')).toBeUndefined();
    expect(quantityValue('lots')).toBeUndefined();
  });
});
