import type { Finding } from '../../domain/guardrails/index.ts';
import type { Deps } from '../deps.ts';
import { target } from '../k8s/objects.ts';
import { guardedPatch } from './guarded-patch.ts';

export interface RestartRequest {
  cluster?: string | undefined;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace?: string | undefined;
  name: string;
  dryRun?: boolean | undefined;
}

export interface RestartResult {
  cluster: string;
  kind: string;
  namespace: string;
  restartedAt: string;
  dryRun: boolean;
  findings: Finding[];
}

/** A rolling restart (kubectl rollout restart): stamps the pod template, as a guarded write. */
export async function restartWorkload(deps: Deps, input: RestartRequest): Promise<RestartResult> {
  const t = await target(deps, input.cluster);
  const res = await t.client.resolve(input.kind, 'apps/v1');
  const namespace = input.namespace ?? t.defaultNamespace;
  const restartedAt = new Date(deps.clock.now()).toISOString();
  const patch = {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } },
  };
  // A restart makes new pods from the current template: the dry-run result is judged (whoever wrote
  // that template, and whenever), and the write is pinned to the state judged.
  const w = await guardedPatch(deps, t, {
    verb: 'restart',
    res,
    namespace,
    name: input.name,
    patch,
    patchType: 'strategic',
    dryRun: input.dryRun,
  });
  return {
    cluster: t.cluster,
    kind: res.kind,
    namespace,
    restartedAt,
    dryRun: w.dryRun,
    findings: w.findings,
  };
}
