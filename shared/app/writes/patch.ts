import type { Finding } from '../../domain/guardrails/index.ts';
import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { parsePatch } from '../k8s/manifests.ts';
import { liveOrUndefined, namespaceFor, target } from '../k8s/objects.ts';
import { guardedPatch } from './guarded-patch.ts';
import { changeSummary } from './guarded-write.ts';

export interface PatchRequest {
  cluster?: string | undefined;
  kind: string;
  apiVersion?: string | undefined;
  namespace?: string | undefined;
  name: string;
  /** The patch text, parsed through the call's ParseCache. */
  patch: string;
  patchType: 'strategic' | 'merge' | 'json';
  dryRun?: boolean | undefined;
}

export interface PatchResult {
  cluster: string;
  kind: string;
  namespace: string | undefined;
  dryRun: boolean;
  diff: ReturnType<typeof changeSummary>;
  findings: Finding[];
}

/** Patches one existing object through the guarded write (guardrails, pinned dry run, pinned write). */
export async function patchObject(deps: Deps, call: Pick<Call, 'parsed'>, input: PatchRequest): Promise<PatchResult> {
  const t = await target(deps, input.cluster);
  const res = await t.client.resolve(input.kind, input.apiVersion);
  const namespace = namespaceFor(res, t, input);
  const patch = parsePatch(input.patch, call.parsed);
  if (input.patchType === 'json' && !Array.isArray(patch))
    throw new AppError('a JSON patch is an array of operations: [{"op":"replace","path":"/spec/replicas","value":3}]');
  if (input.patchType !== 'json' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) {
    throw new AppError(`a ${input.patchType} patch is a JSON object`);
  }
  if (input.patchType === 'strategic' && res.group.includes('.') && !res.group.endsWith('k8s.io')) {
    throw new AppError(
      `${res.kind} is a custom resource: strategic merge patch is not supported for it; use patchType "merge" or "json"`,
    );
  }
  const live = await liveOrUndefined(t, res, input.name, namespace);
  if (!live)
    throw new AppError(`${res.kind} ${namespace ? `${namespace}/` : ''}${input.name} not found on ${t.cluster}`);
  // Read again on every attempt: the dry run and the write are pinned to the state judged.
  const w = await guardedPatch(deps, t, {
    verb: 'patch',
    res,
    namespace,
    name: input.name,
    patch,
    patchType: input.patchType,
    dryRun: input.dryRun,
  });
  return {
    cluster: t.cluster,
    kind: res.kind,
    namespace,
    dryRun: w.dryRun,
    diff: changeSummary(w.live ?? live, w.after),
    findings: w.findings,
  };
}
