/**
 * Request right-sizing (issue 14, item 4), after Kubecost's request sizing: from a container's usage
 * samples in the window, the CPU request is the `cpuPercentile` (nearest rank: the smallest sample with
 * at least that share of samples at or below it, never an interpolation) rounded up to 5m, and the
 * memory request the largest sample times `memoryHeadroom` rounded up to a MiB; never below the floors
 * (`minCpuMillicores`, `minMemoryMiB`), never above the container's limit (a request above its limit is
 * refused by the API server; the recommendation says when usage would want more). CPU takes a
 * percentile because a container over its CPU request is only slowed down when the node is busy;
 * memory takes the peak because a container over its memory request is the first evicted under
 * memory pressure, and one over its limit is killed.
 *
 * Refused, with the reason: fewer than `minSamples` samples in the window; a resource an HPA of the
 * workload scales on (an HPA's utilization is usage divided by the request, so a new request changes
 * when it scales, not only what the pod reserves); a container OOM-killed in the window (its memory
 * peak is the limit it was killed at, not what it needs, and a crashing container is fixed before it
 * is sized). Only Deployments, StatefulSets and DaemonSets are sized: their pod template is the one
 * place a request can be changed for good (a ReplicaSet's or Job's pods come from an owner above it).
 *
 * The saving: the request delta times the price per core-hour and per GiB-hour of the node the pods
 * run on (inputs) times 730 hours a month, times the workload's replicas. The patch: the exact
 * `k8s_resources_patch` arguments, a strategic merge patch of
 * spec.template.spec.containers[name].resources.requests (containers merge by name).
 */
import type { RightsizingPolicy } from './policy.ts';

export interface UsageSample {
  /** Epoch milliseconds. */
  atMs: number;
  cpuMillicores: number;
  memoryBytes: number;
}

export interface ContainerResources {
  cpuMillicores?: number;
  memoryBytes?: number;
}

export interface ContainerSamples {
  name: string;
  /** As the API server holds them (it sets a request missing beside a limit to the limit). */
  requests: ContainerResources;
  limits: ContainerResources;
  /** Samples of this container in every pod of the workload (metrics.k8s.io readings the checks stored). */
  samples: readonly UsageSample[];
}

export type SizedResource = 'cpu' | 'memory';

export interface WorkloadUsage {
  cluster: string;
  namespace: string;
  /** Deployment, StatefulSet or DaemonSet (others are refused). */
  kind: string;
  name: string;
  /** The pods it runs (a DaemonSet: the nodes it is scheduled on). */
  replicas: number;
  containers: readonly ContainerSamples[];
  /**
   * The resources the workload's HPAs scale on: a `Resource` metric (every container, no `container`)
   * or a `ContainerResource` metric (one container).
   */
  hpa?: ReadonlyArray<{ resource: SizedResource; container?: string }>;
  /** OOMKills of its containers (a pod's lastState.terminated.reason OOMKilled, or the kubelet's event). */
  oomKills?: ReadonlyArray<{ container: string; atMs: number }>;
  /** USD per core-hour and per GiB-hour of the nodes its pods run on. */
  prices: { cpuCoreHour: number; memoryGiBHour: number };
}

export type RefusalCode = 'too-few-samples' | 'hpa' | 'oom-killed' | 'unsupported-kind';

export interface Refusal {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
  /** Absent when the whole workload is refused. */
  container?: string;
  resources: SizedResource[];
  code: RefusalCode;
  why: string;
}

export interface ResourceChange {
  /** The request now (millicores or bytes); absent when none is set. */
  current?: number;
  recommended: number;
  /** As it goes in the patch (`125m`, `200Mi`). */
  quantity: string;
  /** What usage gave before floors and limits: the percentile (CPU) or the largest sample (memory). */
  observed: number;
  /** Why the recommendation is not what usage gave (a floor, the limit). */
  note?: string;
}

export interface ContainerRecommendation {
  container: string;
  samples: number;
  cpu?: ResourceChange;
  memory?: ResourceChange;
  /** The whole workload's monthly cost change from this container's new requests (negative: a saving). */
  monthlyCostDeltaUsd: number;
}

export interface PatchArguments {
  cluster: string;
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  patch: string;
  patchType: 'strategic';
}

export interface WorkloadRecommendation {
  cluster: string;
  namespace: string;
  kind: string;
  name: string;
  replicas: number;
  containers: ContainerRecommendation[];
  /** Positive: the requests cost this much less a month across the replicas; negative: more. */
  monthlySavingsUsd: number;
  notes: string[];
  /** The call that applies it (try it with dryRun: true first). */
  patch: { tool: 'k8s_resources_patch'; arguments: PatchArguments };
}

export interface RightsizingResult {
  recommendations: WorkloadRecommendation[];
  refusals: Refusal[];
  /** Workloads with a change too small to list (under minMonthlySavingsUsd), or none. */
  notListed: Array<{ cluster: string; namespace: string; kind: string; name: string; why: string }>;
}

export const HOURS_PER_MONTH = 730;
export const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DAY_MS = 86_400_000;
/** CPU requests are rounded up to this many millicores. */
export const CPU_STEP_MILLICORES = 5;
/** More samples than this for one container is a caller's mistake (14 days at one a minute from 50 pods is ~1M). */
export const MAX_SAMPLES_PER_CONTAINER = 1_000_000;

const SIZED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** The nearest-rank percentile: sorted[ceil(p/100 x n) - 1]. */
export function nearestRank(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Rounds up to a multiple of step, forgiving float noise (200Mi x 1.15 is 229.99999999999997Mi, 230Mi x 1 must stay 230Mi). */
const ceilTo = (v: number, step: number) => Math.ceil(v / step - 1e-9) * step;

export const cpuQuantity = (m: number) => `${m}m`;
export const memoryQuantity = (bytes: number) => `${bytes / MIB}Mi`;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Recommends requests for each workload's containers under the policy, judged at `nowMs`. */
export function recommendRequests(
  workloads: readonly WorkloadUsage[],
  policy: RightsizingPolicy,
  nowMs: number,
): RightsizingResult {
  const from = nowMs - policy.windowDays * DAY_MS;
  const result: RightsizingResult = { recommendations: [], refusals: [], notListed: [] };
  for (const w of workloads) {
    const where = { cluster: w.cluster, namespace: w.namespace, kind: w.kind, name: w.name };
    if (!SIZED_KINDS.has(w.kind)) {
      result.refusals.push({
        ...where,
        resources: ['cpu', 'memory'],
        code: 'unsupported-kind',
        why: `a ${w.kind} is not sized: only a Deployment's, StatefulSet's or DaemonSet's pod template sets its pods' requests for good; size its owner`,
      });
      continue;
    }
    const perMonth = HOURS_PER_MONTH * Math.max(0, w.replicas);
    const containers: ContainerRecommendation[] = [];
    const after = new Map<string, ContainerResources>();
    let fullyRefused = 0;
    for (const c of w.containers) {
      if (c.samples.length > MAX_SAMPLES_PER_CONTAINER) {
        throw new Error(`${c.samples.length} samples for container ${c.name}; at most ${MAX_SAMPLES_PER_CONTAINER}`);
      }
      const refuse = (resources: SizedResource[], code: RefusalCode, why: string) =>
        result.refusals.push({ ...where, container: c.name, resources, code, why });
      const samples = c.samples.filter(
        (s) =>
          s.atMs > from &&
          s.atMs <= nowMs &&
          Number.isFinite(s.cpuMillicores) &&
          Number.isFinite(s.memoryBytes) &&
          s.cpuMillicores >= 0 &&
          s.memoryBytes >= 0,
      );
      if (samples.length < policy.minSamples) {
        refuse(
          ['cpu', 'memory'],
          'too-few-samples',
          `${samples.length} usage samples in the last ${policy.windowDays} days; at least ${policy.minSamples} are needed (rightsizing.minSamples)`,
        );
        fullyRefused += 1;
        continue;
      }
      const oom = (w.oomKills ?? []).filter((o) => o.container === c.name && o.atMs > from && o.atMs <= nowMs);
      if (oom.length > 0) {
        const lastOom = new Date(oom.reduce((m, o) => Math.max(m, o.atMs), 0)).toISOString();
        refuse(
          ['cpu', 'memory'],
          'oom-killed',
          `OOM-killed ${oom.length} time${oom.length === 1 ? '' : 's'} in the window (last ${lastOom}): its memory peak is the limit it was killed at, not what it needs; fix that first`,
        );
        fullyRefused += 1;
        continue;
      }
      const hpaOn = (r: SizedResource) =>
        (w.hpa ?? []).some((h) => h.resource === r && (h.container === undefined || h.container === c.name));
      const change: ContainerRecommendation = { container: c.name, samples: samples.length, monthlyCostDeltaUsd: 0 };
      const next: ContainerResources = { ...c.requests };
      for (const r of ['cpu', 'memory'] as const) {
        if (hpaOn(r)) {
          refuse(
            [r],
            'hpa',
            `an HPA scales ${w.kind} ${w.name} on ${r}: its utilization is usage divided by the ${r} request, so a new request would change when it scales`,
          );
          continue;
        }
        const rc = r === 'cpu' ? sizeCpu(c, samples, policy) : sizeMemory(c, samples, policy);
        if (rc.recommended === rc.current) continue;
        change[r] = rc;
        if (r === 'cpu') next.cpuMillicores = rc.recommended;
        else next.memoryBytes = rc.recommended;
      }
      if (hpaOn('cpu') && hpaOn('memory')) fullyRefused += 1;
      if (!change.cpu && !change.memory) continue;
      const dCores = change.cpu ? (change.cpu.recommended - (change.cpu.current ?? 0)) / 1000 : 0;
      const dGiB = change.memory ? (change.memory.recommended - (change.memory.current ?? 0)) / GIB : 0;
      change.monthlyCostDeltaUsd = round2((dCores * w.prices.cpuCoreHour + dGiB * w.prices.memoryGiBHour) * perMonth);
      containers.push(change);
      after.set(c.name, next);
    }
    if (containers.length === 0) {
      if (fullyRefused < w.containers.length) {
        result.notListed.push({ ...where, why: 'the requests it may change already match its usage' });
      }
      continue;
    }
    const savings = round2(-containers.reduce((s, c) => s + c.monthlyCostDeltaUsd, 0));
    if (Math.abs(savings) < policy.minMonthlySavingsUsd) {
      result.notListed.push({
        ...where,
        why: `the change moves its cost by ${Math.abs(savings).toFixed(2)} USD a month, under rightsizing.minMonthlySavingsUsd (${policy.minMonthlySavingsUsd})`,
      });
      continue;
    }
    const notes: string[] = [];
    if (
      isGuaranteed(w.containers) &&
      !isGuaranteed(w.containers.map((c) => ({ ...c, requests: after.get(c.name) ?? c.requests })))
    ) {
      notes.push(
        'every container requests exactly its limits today, so the pods are Guaranteed; with these requests they become Burstable and are evicted before Guaranteed pods under node pressure',
      );
    }
    result.recommendations.push({
      ...where,
      replicas: w.replicas,
      containers,
      monthlySavingsUsd: savings,
      notes,
      patch: { tool: 'k8s_resources_patch', arguments: patchArguments(w, containers) },
    });
  }
  result.recommendations.sort((a, b) => b.monthlySavingsUsd - a.monthlySavingsUsd);
  return result;
}

function sizeCpu(c: ContainerSamples, samples: readonly UsageSample[], policy: RightsizingPolicy): ResourceChange {
  const observed = nearestRank(
    samples.map((s) => s.cpuMillicores),
    policy.cpuPercentile,
  );
  const fromUsage = ceilTo(observed, CPU_STEP_MILLICORES);
  let recommended = Math.max(fromUsage, policy.minCpuMillicores);
  let note =
    recommended > fromUsage
      ? `raised to the floor ${cpuQuantity(policy.minCpuMillicores)} (rightsizing.minCpuMillicores)`
      : undefined;
  const limit = c.limits.cpuMillicores;
  if (limit !== undefined && recommended > limit) {
    recommended = limit;
    note = `usage wants ${cpuQuantity(Math.max(fromUsage, policy.minCpuMillicores))} (P${policy.cpuPercentile} ${observed}m), above the limit ${cpuQuantity(limit)}: capped at the limit; the container is likely throttled, raise the limit to let it have more`;
  }
  return {
    ...(c.requests.cpuMillicores !== undefined ? { current: c.requests.cpuMillicores } : {}),
    recommended,
    quantity: cpuQuantity(recommended),
    observed,
    ...(note ? { note } : {}),
  };
}

function sizeMemory(c: ContainerSamples, samples: readonly UsageSample[], policy: RightsizingPolicy): ResourceChange {
  const observed = samples.reduce((m, s) => Math.max(m, s.memoryBytes), 0);
  const fromUsage = ceilTo(observed * policy.memoryHeadroom, MIB);
  const floor = policy.minMemoryMiB * MIB;
  let recommended = Math.max(fromUsage, floor);
  let note =
    recommended > fromUsage ? `raised to the floor ${policy.minMemoryMiB}Mi (rightsizing.minMemoryMiB)` : undefined;
  const limit = c.limits.memoryBytes;
  if (limit !== undefined && recommended > limit) {
    // A request must not exceed the limit: the largest whole MiB within it.
    recommended = Math.floor(limit / MIB) * MIB;
    note = `usage wants ${memoryQuantity(Math.max(fromUsage, floor))} (peak ${(observed / MIB).toFixed(1)}Mi x ${policy.memoryHeadroom}), above the limit: capped at ${memoryQuantity(recommended)}; the container runs close to its limit, raise the limit before it is OOM-killed`;
  }
  return {
    ...(c.requests.memoryBytes !== undefined ? { current: c.requests.memoryBytes } : {}),
    recommended,
    quantity: memoryQuantity(recommended),
    observed,
    ...(note ? { note } : {}),
  };
}

const isGuaranteed = (cs: ReadonlyArray<Pick<ContainerSamples, 'requests' | 'limits'>>) =>
  cs.length > 0 &&
  cs.every(
    (c) =>
      c.limits.cpuMillicores !== undefined &&
      c.limits.memoryBytes !== undefined &&
      c.requests.cpuMillicores === c.limits.cpuMillicores &&
      c.requests.memoryBytes === c.limits.memoryBytes,
  );

/** A strategic merge patch of the changed requests only: containers merge by name, other fields are kept. */
function patchArguments(w: WorkloadUsage, containers: readonly ContainerRecommendation[]): PatchArguments {
  const patch = {
    spec: {
      template: {
        spec: {
          containers: containers.map((c) => ({
            name: c.container,
            resources: {
              requests: {
                ...(c.cpu ? { cpu: c.cpu.quantity } : {}),
                ...(c.memory ? { memory: c.memory.quantity } : {}),
              },
            },
          })),
        },
      },
    },
  };
  return {
    cluster: w.cluster,
    kind: w.kind,
    apiVersion: 'apps/v1',
    namespace: w.namespace,
    name: w.name,
    patch: JSON.stringify(patch),
    patchType: 'strategic',
  };
}
