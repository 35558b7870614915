import type { Finding } from '../../domain/guardrails/index.ts';
import type { KubeObject, PatchType, ResourceInfo } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import { RefusedError } from '../errors.ts';
import type { Target } from '../k8s/objects.ts';
import { guardedWrite, type WritePlan } from './guarded-write.ts';

/** One patch of one existing object (patch, restart, scale, undo). */
export interface PatchPlan {
  verb: WritePlan['verb'];
  res: ResourceInfo;
  namespace: string | undefined;
  name: string;
  patch: unknown;
  patchType: PatchType;
  /** The Scale subresource is pinned by resourceVersion alone, as the scale verb always was. */
  subresource?: 'scale';
  podsFrom?: WritePlan['podsFrom'];
  /** Preview only: the server-side dry run, judged, and nothing written. */
  dryRun?: boolean | undefined;
}

export interface PatchOutcome {
  dryRun: boolean;
  /** The object as read for the attempt that was judged. */
  live?: KubeObject;
  after: KubeObject;
  findings: Finding[];
}

/**
 * Patches one existing object as a guarded write: the object is read again on every attempt and the
 * dry run and the write are pinned to the state read (so the judged state is the one written over).
 * A refusal (guardrails, or the object kept changing) throws RefusedError.
 */
export async function guardedPatch(deps: Pick<Deps, 'policy'>, t: Target, p: PatchPlan): Promise<PatchOutcome> {
  const outcome = await guardedWrite(
    deps,
    t,
    {
      verb: p.verb,
      res: p.res,
      namespace: p.namespace,
      name: p.name,
      read: () => t.client.get(p.res, p.name, p.namespace),
      ...(p.podsFrom ? { podsFrom: p.podsFrom } : {}),
      perform: (dryRun, pin) =>
        t.client.patch(p.res, p.name, p.namespace, p.patch, p.patchType, {
          dryRun,
          ...(p.subresource ? { subresource: p.subresource } : {}),
          ...(pin ? { precondition: p.subresource ? { resourceVersion: pin.resourceVersion } : pin } : {}),
        }),
    },
    { previewOnly: p.dryRun === true },
  );
  if (outcome.kind === 'refused') throw new RefusedError(outcome.refusal);
  return {
    dryRun: outcome.kind === 'preview',
    ...(outcome.live ? { live: outcome.live } : {}),
    after: outcome.after,
    findings: outcome.findings,
  };
}
