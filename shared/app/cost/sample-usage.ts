import type { Logger } from 'pino';
import { capText } from '../../domain/bounds.ts';
import { ALLOCATION_LIMITS, quantityValue, type WorkloadRef } from '../../domain/cost/index.ts';
import type { Clock } from '../../ports/clock.ts';
import { type Clusters, KubeApiError, type KubeClient, type KubeObject, type ResourceInfo } from '../../ports/kube.ts';
import {
  type ContainerReading,
  USAGE_LIMITS,
  type UsageNode,
  type UsagePodSample,
  UsageSampleError,
  type UsageSamples,
} from '../repos/usage-samples.ts';

/**
 * One usage sample of a cluster (issue 14): metrics.k8s.io PodMetrics of every namespace, with
 * the running pods' requests, owners, nodes and OOMKills and the nodes' instance types and
 * allocatable resources, stored through UsageSamples. A cluster that does not serve
 * metrics.k8s.io, or one that cannot be read, is a report saying so, not an exception: a
 * schedule samples every cluster and one failing must not stop the others.
 */

export interface SampleUsageDeps {
  clusters: Clusters;
  usageSamples: UsageSamples;
  clock: Clock;
  log?: Logger;
}

interface Counts {
  pods: number;
  nodes: number;
  /** Running pods metrics.k8s.io had no reading of (just started, or a metrics gap): stored with requests only. */
  podsWithoutMetrics: number;
  omittedPods: number;
  omittedContainers: number;
  /** Containers whose last termination (or current state) is OOMKilled. */
  oomKilledContainers: number;
  chunks: number;
}

export type SampleUsageReport =
  | ({ cluster: string; status: 'stored'; at: string } & Counts)
  | { cluster: string; status: 'no-metrics'; at: string; message: string }
  | { cluster: string; status: 'error'; at: string; message: string };

export const SAMPLE_LIMITS = {
  pageSize: 500,
  /** Pods counted beyond USAGE_LIMITS.podsPerSample, to say how many were left out. */
  podsCounted: ALLOCATION_LIMITS.pods,
  nodes: USAGE_LIMITS.nodesPerSample,
  /** ReplicaSets and Jobs read to find a pod's Deployment or CronJob. */
  owners: 100_000,
} as const;

const METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/pods';
const INSTANCE_TYPE = 'node.kubernetes.io/instance-type';

export async function sampleUsage(deps: SampleUsageDeps, input: { cluster?: string } = {}): Promise<SampleUsageReport> {
  const client = await deps.clusters.client(input.cluster);
  const cluster = client.cluster;
  const now = deps.clock.now();
  const at = new Date(now).toISOString();
  const missing = (detail: string) => ({
    cluster,
    status: 'no-metrics' as const,
    at,
    message: capText(
      `metrics.k8s.io is not served by cluster ${cluster} (${detail}): install metrics-server (or another metrics API ` +
        'provider) to sample usage; cost allocation then charges requests only',
      400,
    ),
  });
  try {
    const served = (await client.resources()).some((r) => r.group === 'metrics.k8s.io');
    if (!served) return missing('not in discovery');
    let metrics: KubeObject;
    try {
      // metrics-server serves the list whole (it has no paging); one reading per running pod.
      metrics = await client.getPath(METRICS_PATH);
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 503))
        return missing(`${METRICS_PATH} answered ${err.status}`);
      throw err;
    }
    const readings = podReadings(metrics);
    const nodes = await readNodes(client);
    const { pods: podObjects, omitted } = await readRunningPods(client);
    const owners = await readOwners(client, podObjects);
    let podsWithoutMetrics = 0;
    let oomKilledContainers = 0;
    const pods: UsagePodSample[] = [];
    for (const p of podObjects) {
      const sample = podSample(p, owners, readings);
      if (!sample) continue;
      if (!readings.has(`${sample.namespace}/${sample.name}`)) podsWithoutMetrics++;
      oomKilledContainers += sample.containers.filter((c) => c.lastOomKilledAt).length;
      pods.push(sample);
    }
    const written = await deps.usageSamples.write({ cluster, at: now, nodes, pods, omittedPods: omitted });
    deps.log?.info({ cluster, pods: written.pods, chunks: written.chunks }, 'usage sample stored');
    return {
      cluster,
      status: 'stored',
      at: written.at,
      pods: written.pods,
      nodes: written.nodes,
      podsWithoutMetrics,
      omittedPods: written.omittedPods,
      omittedContainers: written.omittedContainers,
      oomKilledContainers,
      chunks: written.chunks,
    };
  } catch (err) {
    if (err instanceof KubeApiError || err instanceof UsageSampleError) {
      deps.log?.warn({ cluster, err: err.message }, 'usage sample failed');
      return { cluster, status: 'error', at, message: capText(err.message, 400) };
    }
    throw err;
  }
}

const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** PodMetrics by `namespace/name`: per container name, its usage in cores and bytes. */
function podReadings(list: KubeObject): Map<string, Map<string, ContainerReading>> {
  const out = new Map<string, Map<string, ContainerReading>>();
  for (const item of arr(list.items)) {
    const meta = rec(rec(item).metadata);
    const ns = str(meta.namespace);
    const name = str(meta.name);
    if (!ns || !name) continue;
    const containers = new Map<string, ContainerReading>();
    for (const c of arr(rec(item).containers)) {
      const usage = rec(rec(c).usage);
      const cpu = quantityValue(usage.cpu);
      const mem = quantityValue(usage.memory);
      const cname = str(rec(c).name);
      if (cname !== undefined && cpu !== undefined && mem !== undefined)
        containers.set(cname, { cpuCores: cpu, memoryBytes: mem });
    }
    out.set(`${ns}/${name}`, containers);
  }
  return out;
}

async function listAll(
  client: KubeClient,
  res: ResourceInfo,
  max: number,
  opts: { fieldSelector?: string } = {},
): Promise<{ items: KubeObject[]; more: number }> {
  const items: KubeObject[] = [];
  let more = 0;
  let cont: string | undefined;
  do {
    const page = await client.list(res, {
      ...opts,
      limit: SAMPLE_LIMITS.pageSize,
      ...(cont ? { continue: cont } : {}),
    });
    for (const i of page.items) {
      if (items.length < max) items.push(i);
      else more++;
    }
    cont = page.continue;
  } while (cont && items.length + more < SAMPLE_LIMITS.podsCounted);
  if (cont) more += 1; // at least one more beyond what was counted
  return { items, more };
}

async function readNodes(client: KubeClient): Promise<UsageNode[]> {
  const { items } = await listAll(client, await client.resolve('nodes', 'v1'), SAMPLE_LIMITS.nodes);
  return items.flatMap((n) => {
    const name = n.metadata?.name;
    if (!name) return [];
    const alloc = rec(rec(n.status).allocatable);
    const instanceType = n.metadata?.labels?.[INSTANCE_TYPE];
    return [
      {
        name,
        ...(instanceType ? { instanceType: instanceType.slice(0, 64) } : {}),
        cpuCores: quantityValue(alloc.cpu) ?? 0,
        memoryBytes: quantityValue(alloc.memory) ?? 0,
      },
    ];
  });
}

/** Running pods only: pending pods hold no node, finished ones no resources. */
async function readRunningPods(client: KubeClient): Promise<{ pods: KubeObject[]; omitted: number }> {
  const { items, more } = await listAll(client, await client.resolve('pods', 'v1'), USAGE_LIMITS.podsPerSample, {
    fieldSelector: 'status.phase=Running',
  });
  return { pods: items, omitted: more };
}

const controllerOf = (o: KubeObject): WorkloadRef | undefined => {
  const ref = (o.metadata?.ownerReferences ?? []).find((r) => r.controller) ?? undefined;
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
};

/** The controllers of the ReplicaSets and Jobs the pods belong to (a Deployment, a CronJob), by `kind/ns/name`. */
async function readOwners(client: KubeClient, pods: KubeObject[]): Promise<Map<string, WorkloadRef>> {
  const out = new Map<string, WorkloadRef>();
  const kinds = new Set(pods.map((p) => controllerOf(p)?.kind));
  for (const [kind, apiVersion] of [
    ['ReplicaSet', 'apps/v1'],
    ['Job', 'batch/v1'],
  ] as const) {
    if (!kinds.has(kind)) continue;
    let res: ResourceInfo;
    try {
      res = await client.resolve(kind, apiVersion);
    } catch {
      continue; // not served: pods roll up to the ReplicaSet or Job itself
    }
    const { items } = await listAll(client, res, SAMPLE_LIMITS.owners);
    for (const o of items) {
      const owner = controllerOf(o);
      if (owner) out.set(`${kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, owner);
    }
  }
  return out;
}

function podSample(
  p: KubeObject,
  owners: Map<string, WorkloadRef>,
  readings: Map<string, Map<string, ContainerReading>>,
): UsagePodSample | undefined {
  const namespace = p.metadata?.namespace;
  const name = p.metadata?.name;
  if (!namespace || !name) return undefined;
  const spec = rec(p.spec);
  const statuses = new Map(arr(rec(p.status).containerStatuses).map((s) => [str(rec(s).name) ?? '', rec(s)]));
  const reading = readings.get(`${namespace}/${name}`);
  const containers = arr(spec.containers).map((c) => {
    const cname = str(rec(c).name) ?? '';
    const requests = rec(rec(rec(c).resources).requests);
    const limits = rec(rec(rec(c).resources).limits);
    const cpuLimit = quantityValue(limits.cpu);
    const memoryLimit = quantityValue(limits.memory);
    const status = statuses.get(cname) ?? {};
    const restarts = typeof status.restartCount === 'number' ? status.restartCount : undefined;
    const oom = [rec(rec(status.lastState).terminated), rec(rec(status.state).terminated)]
      .filter((t) => t.reason === 'OOMKilled')
      .map((t) => str(t.finishedAt) ?? '')
      .filter(Boolean)
      .sort()
      .at(-1);
    return {
      name: cname,
      cpuRequestCores: quantityValue(requests.cpu) ?? 0,
      memoryRequestBytes: quantityValue(requests.memory) ?? 0,
      ...(cpuLimit !== undefined ? { cpuLimitCores: cpuLimit } : {}),
      ...(memoryLimit !== undefined ? { memoryLimitBytes: memoryLimit } : {}),
      ...(restarts !== undefined ? { restarts } : {}),
      ...(oom ? { lastOomKilledAt: oom } : {}),
    };
  });
  const controller = controllerOf(p);
  const parent = controller ? owners.get(`${controller.kind}/${namespace}/${controller.name}`) : undefined;
  const node = str(spec.nodeName);
  return {
    namespace,
    name,
    ...(node ? { node } : {}),
    ...(controller ? { owner: { ...controller, ...(parent ? { owner: parent } : {}) } } : {}),
    ...(p.metadata?.labels ? { labels: { ...p.metadata.labels } } : {}),
    containers,
    usage: containers.map((c) => reading?.get(c.name) ?? null),
  };
}
