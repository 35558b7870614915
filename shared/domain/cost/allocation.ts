/**
 * Cost per workload, OpenCost's method (issue 14): each pod is charged, per container,
 * max(request, usage) of CPU and of memory at its node's CPU and RAM prices for the hours it ran;
 * a node's hourly price is split between CPU and RAM by the ratio of ResourceRates; what the
 * node's pods do not take is idle. Pure and deterministic: the same input gives the same report,
 * in whatever order pods and nodes come.
 *
 * A node's price per core-hour and per GiB-hour:
 *   cpuShare            = cores×cpuRate / (cores×cpuRate + GiB×ramRate)
 *   cpuPricePerCoreHour = hourly × cpuShare / cores
 *   ramPricePerGiBHour  = hourly × (1 − cpuShare) / GiB
 * so cores × cpuPricePerCoreHour + GiB × ramPricePerGiBHour = hourly: a node whose allocatable
 * CPU and memory are all requested for the whole window has no idle cost.
 */
import { checkResourceRates, DEFAULT_RESOURCE_RATES, type NodePrice, type ResourceRates } from './prices.ts';

export const GIB = 2 ** 30;

export interface CostNodeInput {
  name: string;
  /** The `node.kubernetes.io/instance-type` label, for the report. */
  instanceType?: string;
  /** Allocatable CPU, in cores. */
  cpuCores: number;
  /** Allocatable memory, in bytes. */
  memoryBytes: number;
  /** From nodePrice(): the hourly price, or why it is unknown. */
  price: NodePrice;
  /** Hours the node ran within the window (default: the whole window; capped at it). */
  hours?: number;
}

/** Usage over the window, from the stored samples (average and maximum of the readings). */
export interface ContainerUsage {
  cpuCoresAvg: number;
  cpuCoresMax: number;
  memoryBytesAvg: number;
  memoryBytesMax: number;
}

export interface CostContainerInput {
  name: string;
  cpuRequestCores: number;
  memoryRequestBytes: number;
  /** Absent: no reading in the window; the request alone is charged. */
  usage?: ContainerUsage;
}

export interface WorkloadRef {
  kind: string;
  name: string;
}

export interface CostPodInput {
  namespace: string;
  name: string;
  /**
   * The pod's controller (ownerReference with controller: true) and, when known, that
   * controller's own controller (a ReplicaSet's Deployment, a Job's CronJob). The pod rolls up to
   * the outermost one given; a pod without an owner is its own workload (kind Pod).
   */
  owner?: WorkloadRef & { owner?: WorkloadRef };
  labels?: Record<string, string>;
  /** spec.nodeName; a pod on no node is not charged (counted as unscheduled). */
  node?: string;
  containers: CostContainerInput[];
  /** Hours the pod ran within the window (default: the whole window; capped at it). */
  hours?: number;
}

export interface AllocationInput {
  nodes: CostNodeInput[];
  pods: CostPodInput[];
  windowHours: number;
  /** Which usage figure meets the request in max(request, usage): OpenCost uses the average. */
  usage?: 'avg' | 'max';
  /** The CPU/RAM split basis (default DEFAULT_RESOURCE_RATES). */
  rates?: ResourceRates;
  /** Also roll costs up by the values of this label. */
  labelKey?: string;
}

export interface PodCost {
  namespace: string;
  name: string;
  node?: string;
  workload: WorkloadRef;
  hours: number;
  /** Σ over containers of max(request, usage), the amounts charged. */
  cpuCores: number;
  memoryGiB: number;
  /** USD over the pod's hours; absent when the cost is unknown. */
  cpuCost?: number;
  ramCost?: number;
  totalCost?: number;
  /** Why the cost is unknown (the node's price is unknown, or the node was not read). */
  unknown?: string;
}

export interface NodeCost {
  name: string;
  instanceType?: string;
  /** Hours of the window the node is charged for. */
  hours?: number;
  hourlyPrice?: number;
  cpuPricePerCoreHour?: number;
  ramPricePerGiBHour?: number;
  /** USD over the window; absent when the price is unknown. */
  cost?: number;
  allocatedCpuCost?: number;
  allocatedRamCost?: number;
  allocatedCost?: number;
  /** Node cost not taken by its pods, per resource and in all; never negative. */
  idleCpuCost?: number;
  idleRamCost?: number;
  idleCost?: number;
  /**
   * Present when the pods on the node were charged more than the node costs (usage above
   * allocatable, or requests over it): by how much, per resource. allocated − over + idle = cost.
   */
  overAllocated?: { cpuCost: number; ramCost: number; totalCost: number };
  unknown?: string;
  pods: number;
}

export interface CostGroup {
  key: string;
  cpuCost: number;
  ramCost: number;
  totalCost: number;
  pods: number;
  /** Pods in the group whose cost is unknown (not in the sums). */
  unknownPods: number;
}

export interface WorkloadCost extends CostGroup {
  namespace: string;
  kind: string;
  name: string;
}

export interface AllocationReport {
  windowHours: number;
  usage: 'avg' | 'max';
  rates: ResourceRates;
  /** By total cost, highest first; pods of unknown cost last. */
  pods: PodCost[];
  nodes: NodeCost[];
  namespaces: CostGroup[];
  workloads: WorkloadCost[];
  /** By the label's value; pods without the label under UNALLOCATED_LABEL. */
  labels?: { key: string; groups: CostGroup[] };
  totals: {
    /** Nodes of known price over the window. */
    nodeCost: number;
    allocatedCost: number;
    idleCost: number;
    overAllocatedCost: number;
    unknownPriceNodes: number;
    unknownCostPods: number;
    unscheduledPods: number;
  };
}

/** OpenCost's name for the group of pods that lack the label. */
export const UNALLOCATED_LABEL = '__unallocated__';

export const ALLOCATION_LIMITS = {
  /** Kubernetes' own scalability limits: 5,000 nodes and 150,000 pods per cluster. */
  nodes: 5000,
  pods: 150_000,
  containersPerPod: 100,
  /** A year and a day. */
  windowHours: 24 * 366,
  /** A qualified label key: a 253-character prefix, `/`, a 63-character name. */
  labelKeyChars: 317,
} as const;

export class AllocationInputError extends Error {
  override name = 'AllocationInputError';
}

interface NodeState {
  input: CostNodeInput;
  hourly?: number;
  cpuPrice: number;
  ramPrice: number;
  cpuAllocated: number;
  ramAllocated: number;
  pods: number;
}

const amount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The node's price per core-hour and per GiB-hour, split by the ratio of `rates`. */
export function splitNodePrice(
  hourly: number,
  cpuCores: number,
  memoryBytes: number,
  rates: ResourceRates = DEFAULT_RESOURCE_RATES,
): { cpuShare: number; cpuPricePerCoreHour: number; ramPricePerGiBHour: number } {
  const gib = memoryBytes / GIB;
  const cpuWeight = cpuCores * rates.cpuPerCoreHour;
  const ramWeight = gib * rates.ramPerGiBHour;
  const cpuShare = cpuWeight + ramWeight > 0 ? cpuWeight / (cpuWeight + ramWeight) : 0;
  return {
    cpuShare,
    cpuPricePerCoreHour: cpuCores > 0 ? (hourly * cpuShare) / cpuCores : 0,
    ramPricePerGiBHour: gib > 0 ? (hourly * (1 - cpuShare)) / gib : 0,
  };
}

function checkInput(input: AllocationInput): void {
  const L = ALLOCATION_LIMITS;
  if (!amount(input.windowHours) || input.windowHours <= 0 || input.windowHours > L.windowHours)
    throw new AllocationInputError(`windowHours must be more than 0 and at most ${L.windowHours}`);
  if (input.nodes.length > L.nodes)
    throw new AllocationInputError(`${input.nodes.length} nodes given; at most ${L.nodes} are allowed`);
  if (input.pods.length > L.pods)
    throw new AllocationInputError(`${input.pods.length} pods given; at most ${L.pods} are allowed`);
  if (input.labelKey !== undefined && (input.labelKey === '' || input.labelKey.length > L.labelKeyChars))
    throw new AllocationInputError(`labelKey must be a label key of 1 to ${L.labelKeyChars} characters`);
  if (input.rates) checkResourceRates(input.rates);
  const names = new Set<string>();
  for (const n of input.nodes) {
    if (names.has(n.name)) throw new AllocationInputError(`node ${n.name} is given twice`);
    names.add(n.name);
    if (!amount(n.cpuCores) || !amount(n.memoryBytes))
      throw new AllocationInputError(`node ${n.name}: allocatable CPU and memory must be non-negative numbers`);
    if (n.hours !== undefined && !amount(n.hours))
      throw new AllocationInputError(`node ${n.name}: hours must be a non-negative number`);
    if ('hourly' in n.price && (!amount(n.price.hourly) || n.price.hourly <= 0))
      throw new AllocationInputError(`node ${n.name}: the hourly price must be a positive number`);
  }
  const pods = new Set<string>();
  for (const p of input.pods) {
    const id = `${p.namespace}/${p.name}`;
    if (pods.has(id)) throw new AllocationInputError(`pod ${id} is given twice`);
    pods.add(id);
    if (p.containers.length > L.containersPerPod)
      throw new AllocationInputError(`pod ${id} has ${p.containers.length} containers; at most ${L.containersPerPod}`);
    if (p.hours !== undefined && !amount(p.hours))
      throw new AllocationInputError(`pod ${id}: hours must be a non-negative number`);
    for (const c of p.containers) {
      const u = c.usage;
      const values = [c.cpuRequestCores, c.memoryRequestBytes];
      if (u) values.push(u.cpuCoresAvg, u.cpuCoresMax, u.memoryBytesAvg, u.memoryBytesMax);
      if (!values.every(amount))
        throw new AllocationInputError(
          `pod ${id} container ${c.name}: requests and usage must be non-negative numbers`,
        );
    }
  }
}

const byCost =
  <T extends { totalCost?: number }>(key: (x: T) => string) =>
  (a: T, b: T) =>
    (b.totalCost ?? -1) - (a.totalCost ?? -1) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function group(map: Map<string, CostGroup>, key: string, pod: PodCost): CostGroup {
  let g = map.get(key);
  if (!g) {
    g = { key, cpuCost: 0, ramCost: 0, totalCost: 0, pods: 0, unknownPods: 0 };
    map.set(key, g);
  }
  g.pods++;
  if (pod.totalCost === undefined) g.unknownPods++;
  else {
    g.cpuCost += pod.cpuCost ?? 0;
    g.ramCost += pod.ramCost ?? 0;
    g.totalCost += pod.totalCost;
  }
  return g;
}

/** The workload a pod rolls up to: the outermost owner given, else the pod itself. */
export function workloadOf(pod: Pick<CostPodInput, 'name' | 'owner'>): WorkloadRef {
  const o = pod.owner?.owner ?? pod.owner;
  return o ? { kind: o.kind, name: o.name } : { kind: 'Pod', name: pod.name };
}

/** Allocates the nodes' cost over the window to pods, namespaces, workloads and label values. */
export function allocateCosts(input: AllocationInput): AllocationReport {
  checkInput(input);
  const rates = input.rates ?? { ...DEFAULT_RESOURCE_RATES };
  const usage = input.usage ?? 'avg';
  const window = input.windowHours;
  const nodes = new Map<string, NodeState>();
  for (const n of [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const state: NodeState = { input: n, cpuPrice: 0, ramPrice: 0, cpuAllocated: 0, ramAllocated: 0, pods: 0 };
    if ('hourly' in n.price) {
      state.hourly = n.price.hourly;
      const split = splitNodePrice(n.price.hourly, n.cpuCores, n.memoryBytes, rates);
      state.cpuPrice = split.cpuPricePerCoreHour;
      state.ramPrice = split.ramPricePerGiBHour;
    }
    nodes.set(n.name, state);
  }

  const pods: PodCost[] = [];
  const labelOf = new Map<PodCost, string | undefined>();
  let unscheduled = 0;
  const sorted = [...input.pods].sort((a, b) => {
    const ka = `${a.namespace}/${a.name}`;
    const kb = `${b.namespace}/${b.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  for (const p of sorted) {
    if (!p.node) {
      unscheduled++;
      continue;
    }
    let cpuCores = 0;
    let memBytes = 0;
    for (const c of p.containers) {
      const u = c.usage;
      cpuCores += Math.max(c.cpuRequestCores, u ? (usage === 'avg' ? u.cpuCoresAvg : u.cpuCoresMax) : 0);
      memBytes += Math.max(c.memoryRequestBytes, u ? (usage === 'avg' ? u.memoryBytesAvg : u.memoryBytesMax) : 0);
    }
    const hours = Math.min(p.hours ?? window, window);
    const cost: PodCost = {
      namespace: p.namespace,
      name: p.name,
      node: p.node,
      workload: workloadOf(p),
      hours,
      cpuCores,
      memoryGiB: memBytes / GIB,
    };
    if (input.labelKey !== undefined) labelOf.set(cost, p.labels?.[input.labelKey]);
    const node = nodes.get(p.node);
    if (!node) cost.unknown = `node ${p.node} was not among the nodes read`;
    else {
      node.pods++;
      if (node.hourly === undefined) {
        const why = 'unknown' in node.input.price ? node.input.price.unknown : 'no price';
        cost.unknown = `node ${p.node}: ${why}`;
      } else {
        cost.cpuCost = cpuCores * node.cpuPrice * hours;
        cost.ramCost = (memBytes / GIB) * node.ramPrice * hours;
        cost.totalCost = cost.cpuCost + cost.ramCost;
        node.cpuAllocated += cost.cpuCost;
        node.ramAllocated += cost.ramCost;
      }
    }
    pods.push(cost);
  }

  const totals: AllocationReport['totals'] = {
    nodeCost: 0,
    allocatedCost: 0,
    idleCost: 0,
    overAllocatedCost: 0,
    unknownPriceNodes: 0,
    unknownCostPods: pods.filter((p) => p.totalCost === undefined).length,
    unscheduledPods: unscheduled,
  };
  const nodeCosts: NodeCost[] = [];
  for (const s of nodes.values()) {
    const n = s.input;
    const out: NodeCost = { name: n.name, pods: s.pods };
    if (n.instanceType !== undefined) out.instanceType = n.instanceType;
    if (s.hourly === undefined) {
      out.unknown = 'unknown' in n.price ? n.price.unknown : 'no price';
      totals.unknownPriceNodes++;
      nodeCosts.push(out);
      continue;
    }
    const nodeHours = Math.min(n.hours ?? window, window);
    const cpuCost = n.cpuCores * s.cpuPrice * nodeHours;
    const ramCost = (n.memoryBytes / GIB) * s.ramPrice * nodeHours;
    const cost = cpuCost + ramCost;
    const idleCpu = Math.max(0, cpuCost - s.cpuAllocated);
    const idleRam = Math.max(0, ramCost - s.ramAllocated);
    const overCpu = Math.max(0, s.cpuAllocated - cpuCost);
    const overRam = Math.max(0, s.ramAllocated - ramCost);
    Object.assign(out, {
      hours: nodeHours,
      hourlyPrice: s.hourly,
      cpuPricePerCoreHour: s.cpuPrice,
      ramPricePerGiBHour: s.ramPrice,
      cost,
      allocatedCpuCost: s.cpuAllocated,
      allocatedRamCost: s.ramAllocated,
      allocatedCost: s.cpuAllocated + s.ramAllocated,
      idleCpuCost: idleCpu,
      idleRamCost: idleRam,
      idleCost: idleCpu + idleRam,
    });
    if (overCpu + overRam > 0) out.overAllocated = { cpuCost: overCpu, ramCost: overRam, totalCost: overCpu + overRam };
    totals.nodeCost += cost;
    totals.allocatedCost += s.cpuAllocated + s.ramAllocated;
    totals.idleCost += idleCpu + idleRam;
    totals.overAllocatedCost += overCpu + overRam;
    nodeCosts.push(out);
  }

  const namespaces = new Map<string, CostGroup>();
  const workloads = new Map<string, CostGroup>();
  const labels = new Map<string, CostGroup>();
  const workloadOfKey = new Map<string, { namespace: string; kind: string; name: string }>();
  for (const p of pods) {
    group(namespaces, p.namespace, p);
    const key = `${p.namespace}/${p.workload.kind}/${p.workload.name}`;
    group(workloads, key, p);
    workloadOfKey.set(key, { namespace: p.namespace, kind: p.workload.kind, name: p.workload.name });
    if (input.labelKey !== undefined) group(labels, labelOf.get(p) ?? UNALLOCATED_LABEL, p);
  }
  const groupKey = (g: CostGroup) => g.key;
  const podKey = (p: PodCost) => `${p.namespace}/${p.name}`;
  return {
    windowHours: window,
    usage,
    rates: { ...rates },
    pods: pods.sort(byCost(podKey)),
    nodes: nodeCosts.sort(
      (a, b) => (b.cost ?? -1) - (a.cost ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    ),
    namespaces: [...namespaces.values()].sort(byCost(groupKey)),
    workloads: [...workloads.values()]
      .map((g) => ({ ...(workloadOfKey.get(g.key) as { namespace: string; kind: string; name: string }), ...g }))
      .sort(byCost(groupKey)),
    ...(input.labelKey !== undefined
      ? { labels: { key: input.labelKey, groups: [...labels.values()].sort(byCost(groupKey)) } }
      : {}),
    totals,
  };
}
