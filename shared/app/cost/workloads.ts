import { capText } from '../../domain/bounds.ts';
import type { DayAmount } from '../../domain/cost/budgets.ts';
import {
  ALLOCATION_LIMITS,
  AllocationInputError,
  type AllocationReport,
  allocateCosts,
  type CostGroup,
} from '../../domain/cost/index.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { allocationInputOf, UsageSampleError, type UsageSummary } from '../repos/usage-samples.ts';

/*
 * Cost per workload from the stored usage samples (issue 14, item 2): OpenCost's allocation over a
 * window of hours (cost_workloads_list), and one allocation per complete UTC day per namespace and
 * label value (the cost check's namespace and label budgets and anomalies). Nothing here reaches a
 * cluster: the samples hold the pods, their requests and usage, and the nodes with their instance
 * types; prices are config.cost.instancePrices (the embedded list with COST_INSTANCE_PRICES over it).
 * A cluster without samples in the range is a per-cluster message saying how to get them, not an
 * exception: one unsampled cluster must not hide the others.
 */

export const WORKLOAD_COST_LIMITS = {
  maxHours: 720,
  maxDays: 31,
  /** Messages one cluster's daily costs carry (the rest are counted in the last). */
  errorsPerCluster: 20,
  errorChars: 400,
} as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const CLUSTER = /^[A-Za-z0-9@:._/-]{1,253}$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface WorkloadCostsInput {
  /** One cluster (a name or id clusters_list shows); omitted: every configured cluster. */
  cluster?: string;
  /** The window: the last this many hours (1..720). */
  hours: number;
  /** Which usage figure meets the request in max(request, usage) (default avg, as OpenCost). */
  usage?: 'avg' | 'max';
  /** Also roll costs up by this pod label. */
  labelKey?: string;
  /** Only this namespace's pods (node and idle costs then count only them against the nodes). */
  namespace?: string;
  /** Epoch ms the window ends at (default: the clock). */
  now?: number;
}

export type ClusterWorkloadCosts =
  | {
      cluster: string;
      report: AllocationReport;
      /** Sample times in the window. */
      samples: number;
      /** Hours of the window that have samples: the allocation's window. */
      coveredHours: number;
      /** What the reader left out (pods beyond the summary's cap, corrupt records), when anything. */
      notes?: string[];
    }
  | { cluster: string; error: string };

export interface WorkloadCosts {
  clusters: ClusterWorkloadCosts[];
}

export interface NamespaceDailyCostsInput {
  cluster?: string;
  /** The last this many complete UTC days, today excluded (1..31). */
  days: number;
  /** Also fill `labels[labelKey][value]` (pods without the label under `__unallocated__`). */
  labelKey?: string;
  now?: number;
}

export interface ClusterDailyCosts {
  cluster: string;
  /**
   * Namespace → its cost on each day that has samples, oldest first. A day without samples is absent
   * (not zero); on a day with samples a namespace seen on another day of the range but without pods
   * that day is 0; a namespace whose pods that day were all of unknown cost is absent (errors say why).
   */
  namespaces: Record<string, DayAmount[]>;
  /** labelKey → value → days, by the same rules. */
  labels?: Record<string, Record<string, DayAmount[]>>;
  /** Day → hours of it that have samples (a day's amounts cover only these hours). */
  coveredHours: Record<string, number>;
  /** No samples, unknown prices, records left out: what makes the amounts partial. */
  errors?: string[];
}

export interface NamespaceDailyCosts {
  byCluster: ClusterDailyCosts[];
}

/** The message for a cluster without samples in a range: what to turn on. */
export function noSamplesMessage(cluster: string, range: string): string {
  return (
    `no usage samples of cluster ${cluster} in ${range}: enable USAGE_SAMPLE_SCHEDULE (the local host; the ` +
    'usage-sample schedule on AWS or GCP) or run `cloudops-mcp sample usage`, then ask again once samples cover the range'
  );
}

/** The clusters a call covers: the one named (by name or id, as its stored samples name it), else all. */
export async function clustersFor(deps: Pick<Deps, 'clusters'>, cluster: string | undefined): Promise<string[]> {
  if (cluster !== undefined && !CLUSTER.test(cluster))
    throw new AppError('cluster must be a cluster name as clusters_list shows it (at most 253 characters)');
  const configured = await deps.clusters.list();
  if (cluster === undefined) return configured.map((c) => c.name);
  const found = configured.find((c) => c.name === cluster || c.id === cluster);
  if (!found) {
    const known =
      configured
        .slice(0, 10)
        .map((c) => c.name)
        .join(', ') || 'none';
    throw new AppError(`unknown cluster ${cluster}; the configured clusters are: ${known}`);
  }
  return [found.name];
}

/** A qualified label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

function checkLabelKey(labelKey: string | undefined): void {
  if (labelKey !== undefined && (labelKey.length > ALLOCATION_LIMITS.labelKeyChars || !LABEL_KEY.test(labelKey)))
    throw new AppError(
      'labelKey must be a Kubernetes label key (an optional DNS prefix and "/", then letters, digits, "-", "_", "."), e.g. team or app.kubernetes.io/name',
    );
}

function checkNow(now: number | undefined, clock: Deps['clock']): number {
  const t = now ?? clock.now();
  if (!Number.isFinite(t) || t < 0) throw new AppError('now must be a time in epoch milliseconds');
  return t;
}

const summaryNotes = (s: UsageSummary): string[] => [
  ...(s.truncated
    ? [`more than ${ALLOCATION_LIMITS.pods} pods in the samples: the rest are left out of the allocation`]
    : []),
  ...(s.omittedPods > 0 ? [`the samples themselves left out up to ${s.omittedPods} pods (the sampler's cap)`] : []),
  ...(s.corrupt > 0 ? [`${s.corrupt} unreadable sample records were left out`] : []),
];

/** The allocation of each cluster's cost over the last `hours`, from its usage samples. */
export async function workloadCosts(
  deps: Pick<Deps, 'clusters' | 'usageSamples' | 'config' | 'clock'>,
  input: WorkloadCostsInput,
): Promise<WorkloadCosts> {
  if (!Number.isInteger(input.hours) || input.hours < 1 || input.hours > WORKLOAD_COST_LIMITS.maxHours)
    throw new AppError(`hours must be a whole number from 1 to ${WORKLOAD_COST_LIMITS.maxHours}`);
  if (input.usage !== undefined && input.usage !== 'avg' && input.usage !== 'max')
    throw new AppError('usage must be avg or max');
  if (input.namespace !== undefined && !NAMESPACE.test(input.namespace))
    throw new AppError('namespace must be a Kubernetes namespace name (lowercase letters, digits and "-")');
  checkLabelKey(input.labelKey);
  const now = checkNow(input.now, deps.clock);
  const clusters = await clustersFor(deps, input.cluster);
  const range = {
    from: now - input.hours * HOUR_MS,
    to: now,
    ...(input.namespace ? { namespace: input.namespace } : {}),
  };
  const out: ClusterWorkloadCosts[] = [];
  for (const cluster of clusters) {
    try {
      const summary = await deps.usageSamples.summarize(cluster, range);
      if (summary.sampleTimes === 0) {
        out.push({ cluster, error: noSamplesMessage(cluster, `the last ${input.hours} hours`) });
        continue;
      }
      const report = allocateCosts(
        allocationInputOf(summary, {
          prices: deps.config.cost.instancePrices,
          ...(input.usage ? { usage: input.usage } : {}),
          ...(input.labelKey !== undefined ? { labelKey: input.labelKey } : {}),
        }),
      );
      const notes = summaryNotes(summary);
      if (summary.coveredHours < input.hours - 1e-9)
        notes.push(
          `samples cover ${round(summary.coveredHours)} of the ${input.hours} hours asked: the costs are for those hours`,
        );
      out.push({
        cluster,
        report,
        samples: summary.sampleTimes,
        coveredHours: summary.coveredHours,
        ...(notes.length ? { notes } : {}),
      });
    } catch (err) {
      if (!(err instanceof UsageSampleError || err instanceof AllocationInputError)) throw err;
      out.push({ cluster, error: capText(err.message, WORKLOAD_COST_LIMITS.errorChars) });
    }
  }
  return { clusters: out };
}

const round = (n: number) => Math.round(n * 100) / 100;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Each namespace's (and label value's) allocated cost per complete UTC day, from one allocation of
 * each day's samples: the spend the cost check holds namespace and label budgets against and judges
 * anomalies on. Idle cost is no namespace's.
 */
export async function namespaceDailyCosts(
  deps: Pick<Deps, 'clusters' | 'usageSamples' | 'config' | 'clock'>,
  input: NamespaceDailyCostsInput,
): Promise<NamespaceDailyCosts> {
  if (!Number.isInteger(input.days) || input.days < 1 || input.days > WORKLOAD_COST_LIMITS.maxDays)
    throw new AppError(`days must be a whole number from 1 to ${WORKLOAD_COST_LIMITS.maxDays}`);
  checkLabelKey(input.labelKey);
  const now = checkNow(input.now, deps.clock);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const clusters = await clustersFor(deps, input.cluster);
  const byCluster: ClusterDailyCosts[] = [];
  for (const cluster of clusters) {
    const errors: string[] = [];
    let more = 0;
    const note = (m: string) => {
      if (errors.length < WORKLOAD_COST_LIMITS.errorsPerCluster - 1)
        errors.push(capText(m, WORKLOAD_COST_LIMITS.errorChars));
      else more++;
    };
    const days: Array<{ date: string; namespaces: CostGroup[]; labels?: CostGroup[] }> = [];
    const coveredHours: Record<string, number> = {};
    for (let day = today - input.days * DAY_MS; day < today; day += DAY_MS) {
      const date = dateOf(day);
      try {
        const summary = await deps.usageSamples.summarize(cluster, { from: day, to: day + DAY_MS });
        if (summary.sampleTimes === 0) continue;
        coveredHours[date] = summary.coveredHours;
        for (const n of summaryNotes(summary)) note(`${date}: ${n}`);
        const report = allocateCosts(
          allocationInputOf(summary, {
            prices: deps.config.cost.instancePrices,
            ...(input.labelKey !== undefined ? { labelKey: input.labelKey } : {}),
          }),
        );
        const unknown = report.pods.filter((p) => p.unknown);
        if (unknown.length)
          note(
            `${date}: ${unknown.length} pod${unknown.length === 1 ? '' : 's'} of unknown cost left out (${unknown[0]?.unknown})`,
          );
        days.push({ date, namespaces: report.namespaces, ...(report.labels ? { labels: report.labels.groups } : {}) });
      } catch (err) {
        if (!(err instanceof UsageSampleError || err instanceof AllocationInputError)) throw err;
        note(`${date}: ${err.message}`);
      }
    }
    if (days.length === 0 && errors.length === 0)
      note(noSamplesMessage(cluster, `the ${input.days} complete UTC days before ${dateOf(today)}`));
    if (more) errors.push(`and ${more} more`);
    byCluster.push({
      cluster,
      namespaces: series(days.map((d) => ({ date: d.date, groups: d.namespaces }))),
      ...(input.labelKey !== undefined
        ? {
            labels: Object.fromEntries([
              [input.labelKey, series(days.map((d) => ({ date: d.date, groups: d.labels ?? [] })))],
            ]),
          }
        : {}),
      coveredHours,
      ...(errors.length ? { errors } : {}),
    });
  }
  return { byCluster };
}

/**
 * Per group key, its amount on each day: 0 on a day the group had no pods, absent on a day all its
 * pods were of unknown cost (a key with no amount at all is left out).
 */
function series(days: ReadonlyArray<{ date: string; groups: readonly CostGroup[] }>): Record<string, DayAmount[]> {
  const byDay = days.map((d) => ({ date: d.date, groups: new Map(d.groups.map((g) => [g.key, g])) }));
  const keys = [...new Set(days.flatMap((d) => d.groups.map((g) => g.key)))].sort();
  // fromEntries defines own properties: no key can reach the prototype.
  return Object.fromEntries(
    keys
      .map((key): [string, DayAmount[]] => [
        key,
        byDay.flatMap((d) => {
          const g = d.groups.get(key);
          return g && g.unknownPods === g.pods ? [] : [{ date: d.date, amount: g?.totalCost ?? 0 }];
        }),
      ])
      .filter(([, days]) => days.length > 0),
  );
}
