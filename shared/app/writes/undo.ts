import type { Finding } from '../../domain/guardrails/index.ts';
import { undoTemplate } from '../../domain/rollouts.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { deploymentWithReplicaSets, target } from '../k8s/objects.ts';
import { guardedPatch } from './guarded-patch.ts';
import { changeSummary } from './guarded-write.ts';

export interface UndoRequest {
  cluster?: string | undefined;
  namespace?: string | undefined;
  name: string;
  toRevision?: number | undefined;
  dryRun?: boolean | undefined;
}

export interface UndoResult {
  cluster: string;
  namespace: string;
  toRevision: number;
  dryRun: boolean;
  diff: ReturnType<typeof changeSummary>;
  findings: Finding[];
}

/** Rolls a Deployment back to an earlier revision's pod template (kubectl rollout undo), as a guarded write. */
export async function undoRollout(deps: Deps, input: UndoRequest): Promise<UndoResult> {
  const t = await target(deps, input.cluster);
  const namespace = input.namespace ?? t.defaultNamespace;
  const { deployments, deployment: live, replicaSets } = await deploymentWithReplicaSets(t, input.name, namespace);
  const picked = undoTemplate(live, replicaSets, input.toRevision);
  if ('error' in picked) throw new AppError(`cannot undo deployment ${namespace}/${input.name}: ${picked.error}`);
  const patch = [{ op: 'replace', path: '/spec/template', value: picked.template }];
  // The template it restores is judged on the dry-run result; the write is pinned to the state judged.
  const w = await guardedPatch(deps, t, {
    verb: 'undo',
    res: deployments,
    namespace,
    name: input.name,
    patch,
    patchType: 'json',
    dryRun: input.dryRun,
  });
  return {
    cluster: t.cluster,
    namespace,
    toRevision: picked.revision,
    dryRun: w.dryRun,
    diff: changeSummary(w.live ?? live, w.after),
    findings: w.findings,
  };
}
