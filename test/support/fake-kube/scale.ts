// The scale subresource: an autoscaling/v1 Scale view of spec.replicas / status.replicas / selector.
import { asString, clone, getIn, isRecord, setIn } from './json.ts';
import type { ObjectService, WriteContext } from './object-service.ts';
import { applyMergePatch } from './patch.ts';
import { APPLY_PATCH, applyPatchDocument, checkPatchParams, decodePatch, type PatchParams } from './patch-request.ts';
import { labelSelectorFromObject, labelSelectorToString } from './selectors.ts';
import { badRequest, conflict, invalid, invalidValue, resourceNotServed } from './status.ts';
import type { KubeObject, ResourceType, ScalePaths } from './types.ts';

function pathsOf(rt: ResourceType): ScalePaths {
  if (!rt.scale) throw resourceNotServed();
  return rt.scale;
}

export function scaleOf(rt: ResourceType, obj: KubeObject): KubeObject {
  const paths = pathsOf(rt);
  const specReplicas = getIn(obj, paths.specReplicasPath);
  const statusReplicas = getIn(obj, paths.statusReplicasPath);
  const status: Record<string, unknown> = { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0 };
  if (paths.labelSelectorPath) {
    const raw = getIn(obj, paths.labelSelectorPath);
    const selector = typeof raw === 'string' ? raw : labelSelectorFromObject(raw);
    if (typeof selector === 'string') status.selector = selector;
    else if (selector) status.selector = labelSelectorToString(selector);
  }
  const meta = obj.metadata;
  const metadata: Record<string, unknown> = { name: meta.name };
  if (meta.namespace) metadata.namespace = meta.namespace;
  metadata.uid = meta.uid;
  metadata.resourceVersion = meta.resourceVersion;
  metadata.creationTimestamp = meta.creationTimestamp;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status,
  } as KubeObject;
}

export function replaceScale(
  service: ObjectService,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  body: unknown,
  ctx: WriteContext,
): KubeObject {
  if (!isRecord(body)) throw badRequest('Object is not a JSON object');
  const old = service.get(rt, namespace, name);
  const replicas = getIn(body, ['spec', 'replicas']);
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', 'autoscaling', name, [
      invalidValue('spec.replicas', replicas ?? null, 'must be greater than or equal to 0'),
    ]);
  }
  const rv = asString(getIn(body, ['metadata', 'resourceVersion']));
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(rt, name);
  const next = clone(old);
  setIn(next, pathsOf(rt).specReplicasPath, replicas);
  return scaleOf(rt, service.update(rt, old, next, ctx, { subresource: 'scale' }));
}

export function patchScale(
  service: ObjectService,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  params: PatchParams,
  ctx: WriteContext,
): KubeObject {
  const scaleType = { ...rt, kind: 'Scale', builtIn: true };
  const type = checkPatchParams(scaleType, params);
  const patch = decodePatch(type, params.body);
  const current = scaleOf(rt, service.get(rt, namespace, name));
  const patched =
    type === APPLY_PATCH
      ? (applyMergePatch(current, patch) as KubeObject)
      : applyPatchDocument(type, current, patch, scaleType);
  return replaceScale(service, rt, namespace, name, patched, ctx);
}
