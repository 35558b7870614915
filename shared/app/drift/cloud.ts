import type { Logger } from 'pino';
import { capText } from '../../domain/bounds.ts';
import {
  CLOUD_FACT_LIMITS,
  type CloudClusterFacts,
  type CloudClusterRef,
  cloudRestoreHint,
  compareCloudFacts,
  type EksClusterFacts,
  type GkeClusterFacts,
} from '../../domain/drift/index.ts';
import type { Policy } from '../../domain/guardrails/index.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  type Availability,
  CloudApiError,
  type CloudInventory,
  type EksClusterDescription,
  type GkeClusterDescription,
} from '../../ports/cloud.ts';
import { awsScope, CLOUD_PATTERNS, gcpProject } from '../cloud/scope.ts';
import { AppError } from '../errors.ts';
import type { CloudBaselineRecord, CloudBaselines } from '../repos/cloud-baselines.ts';
import type { DriftObjectResult } from './types.ts';

/**
 * Cloud drift (issue 13): EKS and GKE clusters as baselines of their own. adoptCloudBaseline
 * describes a cluster through the CloudInventory port and records its facts (what an operator
 * decides: versions, node group and pool sizes, add-on versions; shared/domain/drift/cloud.ts says
 * what and why); checkCloudBaselines describes each recorded cluster again, a few at a time and
 * each bounded in time, and compares. A result is a DriftObjectResult (kind EksCluster or
 * GkeCluster, namespace '', cluster = the cloud id), so findings, counts and alerts treat a cloud
 * cluster like any object. A cluster the provider no longer has is `deleted`; one that cannot be
 * described is `error`, never skipped.
 */

export const CLOUD_DRIFT = {
  eks: { kind: 'EksCluster', apiVersion: 'eks.amazonaws.com/v1' },
  gke: { kind: 'GkeCluster', apiVersion: 'container.googleapis.com/v1' },
} as const;

export const CLOUD_DRIFT_LIMITS = {
  /** Clusters described at once. */
  concurrency: 4,
  /**
   * One description (EKS: DescribeCluster and its node group, add-on and insight lists; GKE: one
   * GetCluster) at most this long, whatever the adapter's own bounds: then the result is `error`.
   */
  describeTimeoutMs: 60_000,
  /**
   * All descriptions of one check within this (by the check's clock): a cluster not described by
   * then is an `error` for this check, so silent providers cannot hold a scheduled check (the AWS
   * drift-check function has 5 minutes) past its end.
   */
  budgetMs: 120_000,
  changes: 20,
  errorChars: 300,
} as const;

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const GKE_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;
/** GKE node auto-provisioning names the pools it creates and deletes `nap-…`: they are GKE's, not an operator's. */
const AUTOPROVISIONED_POOL = /^nap-/;

export const isCloudClusterId = (s: string): boolean => s.startsWith('eks:') || s.startsWith('gke:');

/** A finding of a cloud cluster (as stored under a cluster's findings). */
export const isCloudResult = (r: Pick<DriftObjectResult, 'apiVersion' | 'kind'>): boolean =>
  Object.values(CLOUD_DRIFT).some((c) => c.apiVersion === r.apiVersion && c.kind === r.kind);

/** `eks:<account>/<region>/<name>` or `gke:<project>/<location>/<name>`, checked part by part. */
export function parseCloudClusterId(id: string): CloudClusterRef {
  const shown = capText(id, 200);
  const [a = '', b = '', name = '', ...rest] = id.slice(4).split('/');
  if (id.startsWith('eks:')) {
    if (rest.length || !CLOUD_PATTERNS.account.test(a) || !CLOUD_PATTERNS.region.test(b) || !EKS_NAME.test(name))
      throw new AppError(`cloudCluster ${shown} is not an EKS id: expected eks:<12-digit account>/<region>/<name>`);
    return { provider: 'eks', id, account: a, region: b, name };
  }
  if (id.startsWith('gke:')) {
    if (rest.length || !CLOUD_PATTERNS.project.test(a) || !CLOUD_PATTERNS.location.test(b) || !GKE_NAME.test(name))
      throw new AppError(`cloudCluster ${shown} is not a GKE id: expected gke:<project>/<location>/<name>`);
    return { provider: 'gke', id, project: a, location: b, name };
  }
  throw new AppError(
    `cloudCluster ${shown} is not a cloud cluster id: eks:<account>/<region>/<name> or gke:<project>/<location>/<name> (k8s_clusters_list shows them)`,
  );
}

const cut = (s: string) => s.slice(0, CLOUD_FACT_LIMITS.textChars);
const sortedNames = (list: string[], max: number) => [...new Set(list.map(cut))].sort().slice(0, max);

/** A list the provider answered in full, or why it cannot be compared. */
function complete<T>(what: string, list: Availability<T>): { items: T[] } | { reason: string } {
  if (!list.available) return { reason: `${what} could not be listed: ${capText(list.reason, 200)}` };
  if (list.truncated || list.items.length > CLOUD_FACT_LIMITS.items)
    return { reason: `more than ${CLOUD_FACT_LIMITS.items} ${what}: too many to record` };
  return { items: list.items };
}

export interface DescribedFacts {
  facts: CloudClusterFacts;
  /** What could not be recorded, and why (a list the provider did not answer in full, Autopilot's pools). */
  notes: string[];
}

/** An EKS description's facts; the platform version, statuses and insights are left out (not an operator's). */
export function eksFacts(d: EksClusterDescription): DescribedFacts {
  const facts: EksClusterFacts = { provider: 'eks', ...(d.version ? { version: cut(d.version) } : {}) };
  const notes: string[] = [];
  const groups = complete('node groups', d.nodegroups);
  if ('items' in groups) {
    facts.nodegroups = groups.items.map((n) => ({
      name: cut(n.name),
      ...(n.scaling.desired !== undefined ? { desiredSize: n.scaling.desired } : {}),
      ...(n.scaling.min !== undefined ? { minSize: n.scaling.min } : {}),
      ...(n.scaling.max !== undefined ? { maxSize: n.scaling.max } : {}),
      ...(n.version ? { version: cut(n.version) } : {}),
      instanceTypes: sortedNames(n.instanceTypes, CLOUD_FACT_LIMITS.instanceTypes),
      ...(n.capacityType ? { capacityType: cut(n.capacityType) } : {}),
    }));
  } else notes.push(groups.reason);
  const addons = complete('add-ons', d.addons);
  if ('items' in addons) {
    facts.addons = addons.items.map((a) => ({ name: cut(a.name), ...(a.version ? { version: cut(a.version) } : {}) }));
  } else notes.push(addons.reason);
  return { facts, notes };
}

/** A GKE description's facts: no current node counts (an autoscaler's), no auto-provisioned pools. */
export function gkeFacts(d: GkeClusterDescription): DescribedFacts {
  const facts: GkeClusterFacts = {
    provider: 'gke',
    ...(d.version ? { version: cut(d.version) } : {}),
    ...(d.nodeVersion ? { nodeVersion: cut(d.nodeVersion) } : {}),
    autopilot: d.autopilot,
  };
  const notes: string[] = [];
  if (d.autopilot) notes.push('Autopilot manages the node pools: only versions are recorded');
  else if (d.nodePoolsOmitted > 0 || d.nodePools.length > CLOUD_FACT_LIMITS.items)
    notes.push(`more than ${CLOUD_FACT_LIMITS.items} node pools: too many to record`);
  else {
    facts.nodePools = d.nodePools
      .filter((p) => !AUTOPROVISIONED_POOL.test(p.name))
      .map((p) => {
        const a = p.autoscaling;
        return {
          name: cut(p.name),
          ...(p.version ? { version: cut(p.version) } : {}),
          ...(p.machineType ? { machineType: cut(p.machineType) } : {}),
          ...(a
            ? {
                autoscaling: {
                  ...(a.minNodeCount !== undefined ? { minNodeCount: a.minNodeCount } : {}),
                  ...(a.maxNodeCount !== undefined ? { maxNodeCount: a.maxNodeCount } : {}),
                  ...(a.totalMinNodeCount !== undefined ? { totalMinNodeCount: a.totalMinNodeCount } : {}),
                  ...(a.totalMaxNodeCount !== undefined ? { totalMaxNodeCount: a.totalMaxNodeCount } : {}),
                  ...(a.locationPolicy ? { locationPolicy: cut(a.locationPolicy) } : {}),
                },
              }
            : {}),
          ...(p.initialNodeCountPerZone !== undefined ? { initialNodeCountPerZone: p.initialNodeCountPerZone } : {}),
          zones: sortedNames(p.zones, CLOUD_FACT_LIMITS.zones),
        };
      });
  }
  return { facts, notes };
}

/** Runs `f` with a signal that aborts after `ms`; past it the call fails whether or not `f` honours the signal. */
async function within<T>(ms: number, what: string, f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new AppError(`${what} took longer than ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  try {
    return await Promise.race([f(ac.signal), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function describe(cloud: CloudInventory, ref: CloudClusterRef, signal: AbortSignal): Promise<DescribedFacts> {
  if (ref.provider === 'eks') {
    const aws = cloud.aws;
    if (!aws) throw new AppError('AWS is not configured on this server (AWS_REGIONS, AWS_ACCOUNTS)');
    const d = await aws.describeEksCluster({ account: ref.account, region: ref.region }, ref.name, {
      signal,
      maxItems: CLOUD_FACT_LIMITS.items,
    });
    return eksFacts(d);
  }
  const gcp = cloud.gcp;
  if (!gcp) throw new AppError('GCP is not configured on this server (GCP_PROJECTS)');
  return gkeFacts(
    await gcp.describeGkeCluster({ project: ref.project, location: ref.location, name: ref.name }, signal),
  );
}

export interface AdoptCloudInput {
  cloudCluster: string;
  by: string;
  requestId: string;
}

export interface AdoptCloudResult {
  id: string;
  provider: 'eks' | 'gke';
  name: string;
  /** What was recorded; absent when the cluster no longer exists and its baseline was removed. */
  facts?: CloudClusterFacts;
  notes: string[];
  /** The cluster is gone: its baseline was removed, and the next drift check clears its findings. */
  removed?: boolean;
}

/**
 * drift_baselines_adopt cloudCluster: the cluster as the provider describes it now becomes its
 * baseline (replacing an earlier one). The account and region (project) must be configured. A
 * cluster the provider does not have is refused, unless it has a baseline: then adopting its
 * current state means no longer watching it, and its baseline is removed.
 */
export async function adoptCloudBaseline(
  deps: { cloud: CloudInventory; cloudBaselines: CloudBaselines },
  input: AdoptCloudInput,
): Promise<AdoptCloudResult> {
  const ref = parseCloudClusterId(input.cloudCluster);
  if (ref.provider === 'eks') await awsScope(deps.cloud, { account: ref.account, region: ref.region });
  else gcpProject(deps.cloud, ref.project);
  const head = { id: ref.id, provider: ref.provider, name: ref.name };
  let described: DescribedFacts;
  try {
    described = await within(CLOUD_DRIFT_LIMITS.describeTimeoutMs, `describing ${ref.id}`, (signal) =>
      describe(deps.cloud, ref, signal),
    );
  } catch (err) {
    const existing = err instanceof CloudApiError && err.code === 'NotFound' && (await deps.cloudBaselines.get(ref.id));
    if (!existing || existing.removedAt) throw err;
    await deps.cloudBaselines.remove(existing);
    return { ...head, notes: [`${ref.id} no longer exists: its baseline is removed`], removed: true };
  }
  await deps.cloudBaselines.record({
    ...head,
    facts: described.facts,
    recordedBy: capText(`adopted by ${input.by}`, 300),
    requestId: input.requestId.slice(0, 200),
  });
  return { ...head, facts: described.facts, notes: described.notes };
}

const errorText = (err: unknown): string => {
  const m = err instanceof Error ? err.message : String(err);
  const code = err instanceof CloudApiError ? `${err.provider.toUpperCase()} ${err.providerCode ?? err.code}: ` : '';
  return capText(`${code}${m}`, CLOUD_DRIFT_LIMITS.errorChars).replace(/\s+/g, ' ');
};

/** The result shell of a cloud cluster (from its id: a corrupt record has nothing else). */
export function cloudResult(id: string, state: DriftObjectResult['state']): DriftObjectResult {
  const provider = id.startsWith('gke:') ? 'gke' : 'eks';
  return {
    cluster: id,
    ...CLOUD_DRIFT[provider],
    namespace: '',
    name: id.split('/').pop() || id,
    state,
    changes: [],
    changesTotal: 0,
  };
}

export interface CloudCheckDeps {
  cloud: CloudInventory;
  policy: Policy;
  log: Logger;
  clock: Clock;
}

/** Checks cloud baselines (tombstones are the caller's): one result per baseline, by its id. */
export async function checkCloudBaselines(
  deps: CloudCheckDeps,
  records: readonly CloudBaselineRecord[],
): Promise<{ results: Map<string, DriftObjectResult>; describes: number }> {
  const ignoreDesiredSize = deps.policy.drift?.cloud?.ignoreDesiredSize === true;
  const results = new Map<string, DriftObjectResult>();
  let describes = 0;
  let awsScopes: Promise<{ accounts: string[]; regions: string[] }> | undefined;
  const deadline = deps.clock.now() + CLOUD_DRIFT_LIMITS.budgetMs;

  const configured = async (ref: CloudClusterRef, signal: AbortSignal): Promise<void> => {
    if (ref.provider === 'gke') {
      const projects = deps.cloud.gcp?.projects() ?? [];
      if (deps.cloud.gcp && !projects.includes(ref.project))
        throw new AppError(`project ${ref.project} is not among GCP_PROJECTS any more`);
      return;
    }
    if (!deps.cloud.aws) return;
    awsScopes ??= deps.cloud.aws.scopes(signal);
    const { accounts, regions } = await awsScopes;
    if (!accounts.includes(ref.account))
      throw new AppError(`account ${ref.account} is not among AWS_ACCOUNTS any more`);
    if (!regions.includes(ref.region)) throw new AppError(`region ${ref.region} is not among AWS_REGIONS any more`);
  };

  const checkOne = async (rec: CloudBaselineRecord): Promise<DriftObjectResult> => {
    let ref: CloudClusterRef;
    try {
      ref = parseCloudClusterId(rec.id);
    } catch (err) {
      return { ...cloudResult(rec.id, 'error'), error: errorText(err) };
    }
    const left = deadline - deps.clock.now();
    if (left <= 0) {
      return {
        ...cloudResult(rec.id, 'error'),
        error: `not described: this check's ${CLOUD_DRIFT_LIMITS.budgetMs / 1000} s for cloud clusters ran out (slow providers); the next check tries again`,
      };
    }
    let live: DescribedFacts;
    try {
      describes++;
      live = await within(
        Math.min(CLOUD_DRIFT_LIMITS.describeTimeoutMs, left),
        `describing ${ref.id}`,
        async (signal) => {
          await configured(ref, signal);
          return describe(deps.cloud, ref, signal);
        },
      );
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'NotFound') {
        return {
          ...cloudResult(rec.id, 'deleted'),
          restoreHint: `the cluster is gone: recreate it from your infrastructure code, or stop watching it with drift_baselines_adopt cloudCluster ${ref.id} (a cluster that no longer exists has its baseline removed)`,
        };
      }
      deps.log.warn({ cluster: ref.id, err: errorText(err) }, 'cloud drift: describe failed');
      return { ...cloudResult(rec.id, 'error'), error: `describing the cluster failed: ${errorText(err)}` };
    }
    const d = compareCloudFacts(ref, rec.facts, live.facts, {
      ignoreDesiredSize,
      maxChanges: CLOUD_DRIFT_LIMITS.changes,
    });
    if (d.uncompared.length > 0) {
      return {
        ...cloudResult(rec.id, 'error'),
        error: capText(
          `${d.uncompared.join(' and ')} not compared: ${live.notes.join('; ') || 'not in the description'}`,
          CLOUD_DRIFT_LIMITS.errorChars,
        ),
      };
    }
    const r: DriftObjectResult = {
      ...cloudResult(rec.id, d.changesTotal > 0 ? 'drifted' : 'clean'),
      changes: d.changes,
      changesTotal: d.changesTotal,
    };
    if (d.ignored) r.ignored = d.ignored;
    if (d.ignoredReason) r.ignoredReason = d.ignoredReason;
    if (d.changesTotal > 0) r.restoreHint = cloudRestoreHint(ref, d);
    return r;
  };

  const queue = [...records];
  const worker = async () => {
    for (let rec = queue.shift(); rec; rec = queue.shift()) results.set(rec.id, await checkOne(rec));
  };
  await Promise.all(Array.from({ length: Math.min(CLOUD_DRIFT_LIMITS.concurrency, queue.length) }, worker));
  return { results, describes };
}
