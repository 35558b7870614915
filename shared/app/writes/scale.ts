import type { Finding } from '../../domain/guardrails/index.ts';
import type { KubeObject } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { target } from '../k8s/objects.ts';
import { guardedPatch } from './guarded-patch.ts';

export interface ScaleRequest {
  cluster?: string | undefined;
  kind: 'Deployment' | 'StatefulSet' | 'ReplicaSet';
  namespace?: string | undefined;
  name: string;
  replicas: number;
  dryRun?: boolean | undefined;
}

export interface ScaleResult {
  cluster: string;
  kind: string;
  namespace: string;
  from: number;
  dryRun: boolean;
  findings: Finding[];
}

/** Sets a workload's replicas through its scale subresource, as a guarded write. */
export async function scaleWorkload(deps: Deps, input: ScaleRequest): Promise<ScaleResult> {
  const t = await target(deps, input.cluster);
  const res = await t.client.resolve(input.kind, 'apps/v1');
  if (!res.subresources.includes('scale')) throw new AppError(`${res.kind} has no scale subresource on ${t.cluster}`);
  const namespace = input.namespace ?? t.defaultNamespace;
  // The workload itself is read on every attempt: its resourceVersion (the Scale's) pins the write.
  const w = await guardedPatch(deps, t, {
    verb: 'scale',
    res,
    namespace,
    name: input.name,
    patch: { spec: { replicas: input.replicas } },
    patchType: 'merge',
    subresource: 'scale',
    // Scaling up makes pods from the current template, whoever wrote it and whenever: judge it.
    // Scaling down (to 0 included) makes none.
    podsFrom: (live) => (live && input.replicas > replicasOf(live) ? live : undefined),
    dryRun: input.dryRun,
  });
  return {
    cluster: t.cluster,
    kind: res.kind,
    namespace,
    from: w.live ? replicasOf(w.live) : 0,
    dryRun: w.dryRun,
    findings: w.findings,
  };
}

/** spec.replicas as the Scale subresource reports it (0 when unset). */
function replicasOf(workload: KubeObject): number {
  const n = (workload.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}
