import { labelSelector } from '../../domain/k8s/index.ts';
import type { KubeClient, KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { KubeApiError } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';

/**
 * Reads of live objects, in one place: which cluster a call targets, where a namespaced object
 * lives, an object that may not exist yet, a Deployment with its ReplicaSets.
 */
export interface Target {
  client: KubeClient;
  cluster: string;
  /** The context's default namespace. */
  defaultNamespace: string;
}

/** The cluster a call targets (the default one when unnamed) and its default namespace. */
export async function target(deps: Pick<Deps, 'clusters'>, cluster: string | undefined): Promise<Target> {
  const client = await deps.clusters.client(cluster);
  const info = (await deps.clusters.list()).find((c) => c.name === client.cluster);
  return { client, cluster: client.cluster, defaultNamespace: info?.namespace ?? 'default' };
}

/** Namespace for a namespaced resource: explicit, else the context default; undefined for all namespaces or cluster scope. */
export function namespaceFor(
  res: ResourceInfo,
  t: Target,
  input: { namespace?: string | undefined; allNamespaces?: boolean | undefined },
): string | undefined {
  if (!res.namespaced) return undefined;
  if (input.allNamespaces) return undefined;
  return input.namespace ?? t.defaultNamespace;
}

/** The live object, or undefined when it does not exist yet. */
export async function liveOrUndefined(
  t: Target,
  res: ResourceInfo,
  name: string,
  namespace: string | undefined,
): Promise<KubeObject | undefined> {
  try {
    return await t.client.get(res, name, namespace);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** A Deployment and the ReplicaSets its selector matches (history, undo). */
export async function deploymentWithReplicaSets(
  t: Target,
  name: string,
  namespace: string,
): Promise<{ deployments: ResourceInfo; deployment: KubeObject; replicaSets: KubeObject[] }> {
  const deployments = await t.client.resolve('Deployment', 'apps/v1');
  const rsRes = await t.client.resolve('ReplicaSet', 'apps/v1');
  const deployment = await t.client.get(deployments, name, namespace);
  return { deployments, deployment, replicaSets: await replicaSetsOf(t, deployment, namespace, rsRes) };
}

/**
 * The ReplicaSets (at most 500) in `namespace` that a Deployment's selector matches; some may belong
 * to another owner (isOwnedBy tells). `replicaSets` is the resource when already resolved.
 */
export async function replicaSetsOf(
  t: Target,
  deployment: KubeObject,
  namespace: string,
  replicaSets?: ResourceInfo,
): Promise<KubeObject[]> {
  const rsRes = replicaSets ?? (await t.client.resolve('ReplicaSet', 'apps/v1'));
  const spec = deployment.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined;
  const selector = labelSelector(spec?.selector?.matchLabels);
  const rs = await t.client.list(rsRes, { namespace, limit: 500, ...(selector ? { labelSelector: selector } : {}) });
  return rs.items;
}
