import { adoptableObject } from '../../domain/drift/index.ts';
import type { Clusters, KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { AppError } from '../errors.ts';
import type { Baselines } from '../repos/baselines.ts';

/**
 * drift_baselines_adopt: makes baselines for objects this server did not apply, so a cluster that
 * exists already can be watched. From the live objects (by namespace, label selector and kinds), a
 * baseline keeps what people and their tools set, read from managedFields: fields owned by managers
 * other than the cluster's controllers and autoscalers, without status, server-set metadata and
 * well-known defaults (shared/domain/drift/adopt.ts). Objects a controller owns (a ReplicaSet of a
 * Deployment, its Pods) are skipped: their owner is what to watch. From given manifests, the
 * manifests are recorded as an apply would record them. Both are bounded per call.
 */

export const ADOPT_LIMITS = { objects: 500, kinds: 20, listPageSize: 500, shown: 100 } as const;

/** Kinds adopted when none are named: the usual objects of an application. */
export const DEFAULT_ADOPT_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'Service',
  'Ingress',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'HorizontalPodAutoscaler',
] as const;

export interface AdoptInput {
  cluster: string;
  namespace?: string;
  labelSelector?: string;
  /** Kinds to adopt from the live cluster (default DEFAULT_ADOPT_KINDS). */
  kinds?: string[];
  /** Adopt these manifests instead of live objects. */
  manifests?: KubeObject[];
  /** Who adopts, and the request, recorded with each baseline. */
  by: string;
  requestId: string;
}

export interface AdoptedItem {
  kind: string;
  namespace: string;
  name: string;
}

export interface AdoptResult {
  cluster: string;
  source: 'live' | 'manifests';
  adopted: number;
  /** The first ADOPT_LIMITS.shown adopted objects. */
  items: AdoptedItem[];
  /** Objects matched but not adopted, with why (owned by a controller, over the limit, ...). */
  skipped: Array<AdoptedItem & { reason: string }>;
  /** Matched objects left for another call (over ADOPT_LIMITS.objects). */
  notAdopted: number;
  apiCalls: number;
}

export async function adoptBaselines(
  deps: { clusters: Clusters; baselines: Baselines },
  input: AdoptInput,
): Promise<AdoptResult> {
  const kinds = input.kinds ?? [...DEFAULT_ADOPT_KINDS];
  if (kinds.length === 0 || kinds.length > ADOPT_LIMITS.kinds)
    throw new AppError(`name 1 to ${ADOPT_LIMITS.kinds} kinds`);
  if (input.manifests && input.manifests.length > ADOPT_LIMITS.objects)
    throw new AppError(`at most ${ADOPT_LIMITS.objects} manifests per call; split them`);
  const client = await deps.clusters.client(input.cluster);
  const out: AdoptResult = {
    cluster: client.cluster,
    source: input.manifests ? 'manifests' : 'live',
    adopted: 0,
    items: [],
    skipped: [],
    notAdopted: 0,
    apiCalls: 0,
  };
  const record = async (res: ResourceInfo, obj: KubeObject, namespace: string) => {
    const name = obj.metadata?.name;
    const manifest: KubeObject = {
      ...obj,
      apiVersion: res.apiVersion,
      kind: res.kind,
      metadata: { ...obj.metadata, name, ...(res.namespaced ? { namespace } : {}) },
    };
    if (!res.namespaced) delete (manifest.metadata as Record<string, unknown>).namespace;
    await deps.baselines.record({
      cluster: out.cluster,
      manifest,
      appliedBy: `adopted by ${input.by}`,
      requestId: input.requestId,
    });
    out.adopted++;
    if (out.items.length < ADOPT_LIMITS.shown)
      out.items.push({ kind: res.kind, namespace: res.namespaced ? namespace : '', name: String(name) });
  };

  if (input.manifests) {
    for (const m of input.manifests) {
      const name = m.metadata?.name;
      if (typeof m.kind !== 'string' || typeof name !== 'string' || !name)
        throw new AppError('every manifest needs kind and metadata.name');
      // Scope comes from discovery, never from the manifest.
      const res = await client.resolve(m.kind, m.apiVersion);
      const namespace = res.namespaced ? (m.metadata?.namespace ?? input.namespace ?? '') : '';
      if (res.namespaced && !namespace)
        throw new AppError(`${m.kind} ${name} needs a namespace (in the manifest or as namespace)`);
      await record(res, m, namespace);
    }
    return out;
  }

  for (const kind of kinds) {
    const res = await client.resolve(kind);
    let cont: string | undefined;
    do {
      const page = await client.list(res, {
        ...(res.namespaced && input.namespace ? { namespace: input.namespace } : {}),
        ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
        limit: ADOPT_LIMITS.listPageSize,
        ...(cont ? { continue: cont } : {}),
      });
      out.apiCalls++;
      for (const live of page.items) {
        const namespace = res.namespaced ? (live.metadata?.namespace ?? '') : '';
        const item = { kind: res.kind, namespace, name: String(live.metadata?.name ?? '') };
        const owner = (
          live.metadata?.ownerReferences as Array<{ kind?: string; name?: string; controller?: boolean }> | undefined
        )?.find((o) => o.controller === true);
        if (owner) {
          if (out.skipped.length < ADOPT_LIMITS.shown)
            out.skipped.push({
              ...item,
              reason: `managed by ${owner.kind ?? 'a controller'} ${owner.name ?? ''}`.trim(),
            });
          continue;
        }
        if (out.adopted >= ADOPT_LIMITS.objects) {
          out.notAdopted++;
          continue;
        }
        await record(
          res,
          adoptableObject({ ...live, apiVersion: res.apiVersion, kind: res.kind }) as KubeObject,
          namespace,
        );
      }
      cont = page.continue;
    } while (cont && out.notAdopted < 100_000);
  }
  return out;
}
