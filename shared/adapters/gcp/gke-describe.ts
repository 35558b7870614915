import type { ClusterManagerClient, protos } from '@google-cloud/container';
import type { GkeClusterDescription, GkeClusterRef, GkeNodePoolSummary } from '../../ports/cloud.ts';
import { withDeadline } from './google-auth.ts';

export type { GkeClusterDescription, GkeClusterRef, GkeNodePoolSummary } from '../../ports/cloud.ts';

/**
 * One GKE cluster's versions and node pools, from a single Container API GetCluster (the cluster
 * carries its pools): the adapter behind the future `gcp_gke_clusters_describe` tool. The API has no
 * live node count per pool (that is the managed instance group's size, in Compute): a pool reports
 * its nodes per zone at creation and its zones, and the cluster its current node count.
 */

const PROJECT = /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION = /^[a-z]+-[a-z]+[0-9]+(?:-[a-z])?$/;
const CLUSTER_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;
const MAX_POOLS = 100;

export async function describeGkeCluster(
  client: ClusterManagerClient,
  ref: GkeClusterRef,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<GkeClusterDescription> {
  if (!PROJECT.test(ref.project)) throw new Error(`not a GCP project id: ${ref.project.slice(0, 64)}`);
  if (!LOCATION.test(ref.location)) {
    throw new Error(
      `not a GKE location (a region like europe-west1 or a zone like europe-west1-b): ${ref.location.slice(0, 64)}`,
    );
  }
  if (!CLUSTER_NAME.test(ref.name)) throw new Error(`not a GKE cluster name: ${ref.name.slice(0, 64)}`);
  const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
  const call = client.getCluster({ name }, { timeout: opts.timeoutMs, maxRetries: 2 });
  const [c] = await withDeadline(call, opts.timeoutMs, `describing GKE cluster ${name}`, opts.signal);
  const pools = c.nodePools ?? [];
  return {
    id: `gke:${ref.project}/${ref.location}/${ref.name}`,
    project: ref.project,
    location: ref.location,
    name: ref.name,
    status: enumName(c.status),
    ...(c.statusMessage ? { statusMessage: c.statusMessage } : {}),
    ...(c.currentMasterVersion ? { version: c.currentMasterVersion } : {}),
    ...(c.currentNodeVersion ? { nodeVersion: c.currentNodeVersion } : {}),
    ...(c.releaseChannel?.channel && enumName(c.releaseChannel.channel) !== 'UNSPECIFIED'
      ? { releaseChannel: enumName(c.releaseChannel.channel) }
      : {}),
    autopilot: c.autopilot?.enabled === true,
    ...(typeof c.currentNodeCount === 'number' ? { currentNodeCount: c.currentNodeCount } : {}),
    nodePools: pools.slice(0, MAX_POOLS).map(poolSummary),
    nodePoolsOmitted: Math.max(0, pools.length - MAX_POOLS),
  };
}

function poolSummary(p: protos.google.container.v1.INodePool): GkeNodePoolSummary {
  const a = p.autoscaling;
  const positive = (n: number | null | undefined) => (typeof n === 'number' && n > 0 ? n : undefined);
  return {
    name: p.name ?? '',
    ...(p.config?.machineType ? { machineType: p.config.machineType } : {}),
    ...(p.version ? { version: p.version } : {}),
    status: enumName(p.status),
    ...(a?.enabled
      ? {
          autoscaling: {
            ...(typeof a.minNodeCount === 'number' ? { minNodeCount: a.minNodeCount } : {}),
            ...(positive(a.maxNodeCount) ? { maxNodeCount: a.maxNodeCount as number } : {}),
            ...(positive(a.totalMinNodeCount) ? { totalMinNodeCount: a.totalMinNodeCount as number } : {}),
            ...(positive(a.totalMaxNodeCount) ? { totalMaxNodeCount: a.totalMaxNodeCount as number } : {}),
            ...(a.locationPolicy && enumName(a.locationPolicy) !== 'LOCATION_POLICY_UNSPECIFIED'
              ? { locationPolicy: enumName(a.locationPolicy) }
              : {}),
          },
        }
      : {}),
    ...(typeof p.initialNodeCount === 'number' ? { initialNodeCountPerZone: p.initialNodeCount } : {}),
    zones: (p.locations ?? []).slice(0, 50),
  };
}

/** The client decodes enums to their names; an unknown number stays readable. */
function enumName(v: unknown): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return `VALUE_${v}`;
  return 'STATUS_UNSPECIFIED';
}
