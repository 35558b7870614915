import { capText } from '../../domain/bounds.ts';
import { nodePrice, quantityValue, splitNodePrice } from '../../domain/cost/index.ts';
import { defaultRightsizingPolicy, type RightsizingPolicy } from '../../domain/cost/policy.ts';
import {
  type ContainerResources,
  type ContainerSamples,
  type RightsizingResult,
  recommendRequests,
  type SizedResource,
  type WorkloadUsage,
} from '../../domain/cost/rightsizing.ts';
import { KubeApiError, type KubeClient, type KubeObject, UnknownClusterError } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { type ContainerSeries, USAGE_LIMITS, type UsageNode, UsageSampleError } from '../repos/usage-samples.ts';
import { clustersFor, noSamplesMessage } from './workloads.ts';

/*
 * Right-sizing from the stored usage samples (issue 14, item 4): each workload container's readings
 * over the policy's rightsizing.windowDays (usageSamples.workloadSeries), with what only the cluster
 * knows now: the pod template's requests and limits and the replicas of each Deployment and
 * StatefulSet (a DaemonSet: the nodes it is scheduled on), and the HorizontalPodAutoscalers
 * (autoscaling/v2) with the resources they scale on. The domain (recommendRequests) decides, refuses
 * with reasons and writes the k8s_resources_patch arguments. Prices per core-hour and GiB-hour are
 * those of the nodes the workload's pods ran on in the samples (each node's price split by
 * splitNodePrice, averaged over the priced nodes); a workload on no priced node is recommended without
 * a saving, and its notes say why.
 */

export const RECOMMENDATION_LIMITS = {
  pageSize: 500,
  /** Objects of one kind (Deployments, StatefulSets, DaemonSets, HPAs) read per cluster. */
  objectsPerKind: 20_000,
  notesPerCluster: 20,
  errorChars: 400,
} as const;

const DAY_MS = 86_400_000;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SIZED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

export interface RecommendationsInput {
  /** One cluster (a name or id clusters_list shows); omitted: every configured cluster. */
  cluster?: string;
  namespace?: string;
  /** Epoch ms the window ends at (default: the clock). */
  now?: number;
}

export type ClusterRecommendations =
  | {
      cluster: string;
      result: RightsizingResult;
      /** What narrowed the result (a shorter window, series left out, containers gone from the template). */
      notes?: string[];
    }
  | { cluster: string; error: string };

export interface Recommendations {
  clusters: ClusterRecommendations[];
}

type RecommendationsDeps = Pick<Deps, 'clusters' | 'usageSamples' | 'config' | 'clock' | 'policy'>;

/** Request recommendations per cluster, with savings and the patches that apply them. */
export async function recommendations(
  deps: RecommendationsDeps,
  input: RecommendationsInput,
): Promise<Recommendations> {
  if (input.namespace !== undefined && !NAMESPACE.test(input.namespace))
    throw new AppError('namespace must be a Kubernetes namespace name (lowercase letters, digits and "-")');
  const now = input.now ?? deps.clock.now();
  if (!Number.isFinite(now) || now < 0) throw new AppError('now must be a time in epoch milliseconds');
  const clusters = await clustersFor(deps, input.cluster);
  const out: ClusterRecommendations[] = [];
  for (const cluster of clusters) {
    try {
      out.push(await clusterRecommendations(deps, cluster, input.namespace, now));
    } catch (err) {
      const perCluster =
        err instanceof KubeApiError ||
        err instanceof UsageSampleError ||
        err instanceof UnknownClusterError ||
        err instanceof AppError;
      if (!perCluster) throw err;
      out.push({ cluster, error: capText(err.message, RECOMMENDATION_LIMITS.errorChars) });
    }
  }
  return { clusters: out };
}

interface Live {
  /** `namespace/name` → object, per kind. */
  objects: Map<string, Map<string, KubeObject>>;
  /** Kinds whose list stopped at the bound. */
  partial: Set<string>;
  /** `namespace/kind/name` of a scale target → what its HPAs scale on. */
  hpa: Map<string, Array<{ resource: SizedResource; container?: string }>>;
}

async function clusterRecommendations(
  deps: RecommendationsDeps,
  cluster: string,
  namespace: string | undefined,
  now: number,
): Promise<ClusterRecommendations> {
  const configured = deps.policy.cost?.rightsizing ?? defaultRightsizingPolicy();
  const notes: string[] = [];
  const note = (m: string) => {
    if (notes.length < RECOMMENDATION_LIMITS.notesPerCluster) notes.push(capText(m, RECOMMENDATION_LIMITS.errorChars));
  };
  const maxDays = Math.min(USAGE_LIMITS.rangeHours / 24, deps.usageSamples.retentionDays);
  const policy: RightsizingPolicy =
    configured.windowDays > maxDays ? { ...configured, windowDays: maxDays } : configured;
  if (policy !== configured)
    note(
      `rightsizing.windowDays is ${configured.windowDays} but samples are kept ${deps.usageSamples.retentionDays} days and read at most 31: the window is ${maxDays} days`,
    );
  const read = await deps.usageSamples.workloadSeries(cluster, {
    from: now - policy.windowDays * DAY_MS,
    to: now + 1,
    ...(namespace !== undefined ? { namespace } : {}),
  });
  if (read.sampleTimes === 0)
    return { cluster, error: noSamplesMessage(cluster, `the last ${policy.windowDays} days`) };
  if (read.truncated)
    note(`more than ${USAGE_LIMITS.series} container series or too many readings: the rest are left out`);
  if (read.corrupt > 0) note(`${read.corrupt} unreadable sample records were left out`);

  const workloads = new Map<string, ContainerSeries[]>();
  for (const s of read.series) {
    const key = `${s.namespace}/${s.workload.kind}/${s.workload.name}`;
    workloads.set(key, [...(workloads.get(key) ?? []), s]);
  }
  const kinds = new Set([...workloads.values()].map((s) => s[0]?.workload.kind ?? ''));
  const sizedKinds = SIZED_KINDS.filter((k) => kinds.has(k));
  const live = sizedKinds.length
    ? await readLive(await deps.clusters.client(cluster), sizedKinds, namespace)
    : { objects: new Map(), partial: new Set<string>(), hpa: new Map() };
  const nodes = new Map(read.nodes.map((n) => [n.name, n]));

  const priced: WorkloadUsage[] = [];
  const unpriced = new Map<string, string>(); // workload key → why its saving is unknown
  const unpricedUsage: WorkloadUsage[] = [];
  const notListed: RightsizingResult['notListed'] = [];
  for (const [key, series] of workloads) {
    const first = series[0] as ContainerSeries;
    const where = { cluster, namespace: first.namespace, kind: first.workload.kind, name: first.workload.name };
    const base = { ...where, replicas: 0, containers: [], prices: { cpuCoreHour: 0, memoryGiBHour: 0 } };
    if (!(SIZED_KINDS as readonly string[]).includes(where.kind)) {
      priced.push(base); // refused by the domain, with the reason
      continue;
    }
    const obj = live.objects.get(where.kind)?.get(`${where.namespace}/${where.name}`);
    if (!obj) {
      notListed.push({
        ...where,
        why: live.partial.has(where.kind)
          ? `not among the first ${RECOMMENDATION_LIMITS.objectsPerKind} ${where.kind}s read: name its namespace`
          : `not on the cluster now (removed since it was sampled)`,
      });
      continue;
    }
    const replicas = replicasOf(obj);
    if (replicas === 0) {
      notListed.push({ ...where, why: 'it runs no pods now (0 replicas): nothing to save' });
      continue;
    }
    const template = templateContainers(obj);
    const containers: ContainerSamples[] = [];
    for (const s of series) {
      const t = template.get(s.container);
      if (!t) {
        note(`${key}: container ${s.container} is no longer in the pod template; not sized`);
        continue;
      }
      containers.push({
        name: s.container,
        ...t,
        samples: s.atMs.map((atMs, i) => ({
          atMs,
          cpuMillicores: Math.round((s.cpuCores[i] ?? 0) * 1000),
          memoryBytes: s.memoryBytes[i] ?? 0,
        })),
      });
    }
    if (!containers.length) continue;
    const price = workloadPrice(series, nodes, deps.config.cost.instancePrices);
    const w: WorkloadUsage = {
      ...where,
      replicas,
      containers,
      oomKills: series.flatMap((s) => s.oomKills.map((at) => ({ container: s.container, atMs: Date.parse(at) }))),
      prices: 'unknown' in price ? { cpuCoreHour: 0, memoryGiBHour: 0 } : price,
    };
    const hpa = live.hpa.get(key);
    if (hpa) w.hpa = hpa;
    if ('unknown' in price) {
      unpriced.set(key, price.unknown);
      unpricedUsage.push(w);
    } else priced.push(w);
  }

  const result = recommendRequests(priced, policy, now);
  // Without a price the saving is unknown, so the savings floor cannot judge it: listed when it changes anything.
  const withoutPrice = recommendRequests(unpricedUsage, { ...policy, minMonthlySavingsUsd: 0 }, now);
  for (const r of withoutPrice.recommendations) {
    r.monthlySavingsUsd = 0; // not -0
    r.notes.unshift(
      `the saving is unknown (${unpriced.get(`${r.namespace}/${r.kind}/${r.name}`)}): the monthly figures are 0, the requests are as usage gives them`,
    );
  }
  return {
    cluster,
    result: {
      recommendations: [...result.recommendations, ...withoutPrice.recommendations].sort(
        (a, b) => b.monthlySavingsUsd - a.monthlySavingsUsd,
      ),
      refusals: [...result.refusals, ...withoutPrice.refusals],
      notListed: [...result.notListed, ...withoutPrice.notListed, ...notListed],
    },
    ...(notes.length ? { notes } : {}),
  };
}

const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Deployments and StatefulSets: spec.replicas (default 1); a DaemonSet: the nodes it is scheduled on. */
function replicasOf(obj: KubeObject): number {
  const n = obj.kind === 'DaemonSet' ? rec(obj.status).currentNumberScheduled : (rec(obj.spec).replicas ?? 1);
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/**
 * The pod template's containers with their requests and limits as the pods get them: the API server
 * sets a request missing beside a limit to the limit.
 */
function templateContainers(obj: KubeObject): Map<string, Pick<ContainerSamples, 'requests' | 'limits'>> {
  const out = new Map<string, Pick<ContainerSamples, 'requests' | 'limits'>>();
  for (const c of arr(rec(rec(rec(obj.spec).template).spec).containers)) {
    const name = str(rec(c).name);
    if (!name) continue;
    const res = rec(rec(c).resources);
    const of = (q: Record<string, unknown>): ContainerResources => {
      const cpu = quantityValue(q.cpu);
      const memory = quantityValue(q.memory);
      return {
        ...(cpu !== undefined ? { cpuMillicores: Math.round(cpu * 1000) } : {}),
        ...(memory !== undefined ? { memoryBytes: memory } : {}),
      };
    };
    const limits = of(rec(res.limits));
    out.set(name, { requests: { ...limits, ...of(rec(res.requests)) }, limits });
  }
  return out;
}

/** The mean price per core-hour and GiB-hour of the priced nodes the workload's pods ran on. */
function workloadPrice(
  series: readonly ContainerSeries[],
  nodes: ReadonlyMap<string, UsageNode>,
  prices: Readonly<Record<string, number>>,
): { cpuCoreHour: number; memoryGiBHour: number } | { unknown: string } {
  const names = [...new Set(series.flatMap((s) => s.nodes))];
  let cpu = 0;
  let ram = 0;
  let n = 0;
  let why = names.length ? undefined : 'no reading says which node its pods ran on';
  for (const name of names) {
    const node = nodes.get(name);
    const p = nodePrice(node?.instanceType, prices);
    if (!node || !('hourly' in p) || node.cpuCores <= 0 || node.memoryBytes <= 0) {
      why ??= `node ${name}: ${'unknown' in p ? p.unknown : 'no allocatable CPU or memory'}`;
      continue;
    }
    const split = splitNodePrice(p.hourly, node.cpuCores, node.memoryBytes);
    cpu += split.cpuPricePerCoreHour;
    ram += split.ramPricePerGiBHour;
    n++;
  }
  return n ? { cpuCoreHour: cpu / n, memoryGiBHour: ram / n } : { unknown: why ?? 'no priced node' };
}

async function listBounded(
  client: KubeClient,
  kind: string,
  apiVersion: string,
  namespace: string | undefined,
): Promise<{ items: KubeObject[]; partial: boolean }> {
  const res = await client.resolve(kind, apiVersion);
  const items: KubeObject[] = [];
  let cont: string | undefined;
  do {
    const page = await client.list(res, {
      ...(namespace !== undefined ? { namespace } : {}),
      limit: RECOMMENDATION_LIMITS.pageSize,
      ...(cont ? { continue: cont } : {}),
    });
    items.push(...page.items);
    cont = page.continue;
  } while (cont && items.length < RECOMMENDATION_LIMITS.objectsPerKind);
  return { items: items.slice(0, RECOMMENDATION_LIMITS.objectsPerKind), partial: Boolean(cont) };
}

async function readLive(client: KubeClient, kinds: readonly string[], namespace: string | undefined): Promise<Live> {
  const live: Live = { objects: new Map(), partial: new Set(), hpa: new Map() };
  for (const kind of kinds) {
    const { items, partial } = await listBounded(client, kind, 'apps/v1', namespace);
    live.objects.set(
      kind,
      new Map(items.map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, { ...o, kind }])),
    );
    if (partial) live.partial.add(kind);
  }
  const hpas = await listBounded(client, 'HorizontalPodAutoscaler', 'autoscaling/v2', namespace);
  if (hpas.partial)
    throw new AppError(
      `cluster ${client.cluster} has more than ${RECOMMENDATION_LIMITS.objectsPerKind} HorizontalPodAutoscalers${namespace ? ` in ${namespace}` : ''}: ask for one namespace`,
    );
  for (const h of hpas.items) {
    const spec = rec(h.spec);
    const ref = rec(spec.scaleTargetRef);
    const kind = str(ref.kind);
    const name = str(ref.name);
    if (!kind || !name) continue;
    const key = `${h.metadata?.namespace ?? ''}/${kind}/${name}`;
    const on = [...(live.hpa.get(key) ?? []), ...hpaResources(arr(spec.metrics))];
    live.hpa.set(key, on);
  }
  return live;
}

/** What an autoscaling/v2 HPA scales on, of CPU and memory; no metrics is its default, 80% CPU. */
function hpaResources(metrics: unknown[]): Array<{ resource: SizedResource; container?: string }> {
  if (metrics.length === 0) return [{ resource: 'cpu' }];
  const out: Array<{ resource: SizedResource; container?: string }> = [];
  for (const m of metrics.map(rec)) {
    if (m.type === 'Resource') {
      const r = str(rec(m.resource).name);
      if (r === 'cpu' || r === 'memory') out.push({ resource: r });
    } else if (m.type === 'ContainerResource') {
      const r = str(rec(m.containerResource).name);
      const container = str(rec(m.containerResource).container);
      if ((r === 'cpu' || r === 'memory') && container) out.push({ resource: r, container });
    }
  }
  return out;
}
