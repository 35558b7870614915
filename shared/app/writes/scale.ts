import type { Finding } from '../../domain/guardrails/index.ts';
import type { KubeObject } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import { AppError, RefusedError } from '../errors.ts';
import { target } from '../k8s/objects.ts';
import { guardedWrite } from './guarded-write.ts';

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
  const outcome = await guardedWrite(
    deps,
    t,
    {
      verb: 'scale',
      res,
      namespace,
      name: input.name,
      // The workload itself, read on every attempt: its resourceVersion (the Scale's) pins the write.
      read: () => t.client.get(res, input.name, namespace),
      // Scaling up makes pods from the current template, whoever wrote it and whenever: judge it.
      // Scaling down (to 0 included) makes none.
      podsFrom: (live) => (live && input.replicas > replicasOf(live) ? live : undefined),
      perform: (dryRun, pin) =>
        t.client.patch(res, input.name, namespace, { spec: { replicas: input.replicas } }, 'merge', {
          dryRun,
          subresource: 'scale',
          ...(pin ? { precondition: { resourceVersion: pin.resourceVersion } } : {}),
        }),
    },
    { previewOnly: input.dryRun === true },
  );
  if (outcome.kind === 'refused') throw new RefusedError(outcome.refusal);
  return {
    cluster: t.cluster,
    kind: res.kind,
    namespace,
    from: outcome.live ? replicasOf(outcome.live) : 0,
    dryRun: outcome.kind === 'preview',
    findings: outcome.findings,
  };
}

/** spec.replicas as the Scale subresource reports it (0 when unset). */
function replicasOf(workload: KubeObject): number {
  const n = (workload.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}
