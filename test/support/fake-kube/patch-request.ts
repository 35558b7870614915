// PATCH handling: content-type dispatch, PatchOptions validation, and server-side apply.
import { parse as parseYaml } from 'yaml';
import { checkAppliedFields } from './fields.ts';
import { isRecord, type JsonRecord } from './json.ts';
import { applyConfiguration, type FieldScope, typeContext } from './managed-fields.ts';
import type { ObjectService, WriteContext } from './object-service.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './patch.ts';
import {
  badRequest,
  type FieldError,
  failure,
  invalid,
  type KubeApiError,
  notFound,
  unsupportedMediaType,
} from './status.ts';
import type { KubeObject, ResourceType } from './types.ts';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_PATCH | typeof APPLY_PATCH;

export interface PatchParams {
  contentType: string | undefined;
  body: string;
  fieldManager: string | null;
  force: string | null;
}

function acceptedTypes(rt: ResourceType): string[] {
  return rt.builtIn ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
}

/** The patch type, after the checks the server makes before touching the object. */
export function checkPatchParams(rt: ResourceType, params: PatchParams): PatchType {
  const type = (params.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const accepted = acceptedTypes(rt);
  if (!accepted.includes(type)) throw unsupportedMediaType(accepted);
  const errs: FieldError[] = [];
  if (type === APPLY_PATCH) {
    if (!params.fieldManager) {
      errs.push({
        field: 'fieldManager',
        reason: 'FieldValueRequired',
        detail: 'Required value: is required for apply patch',
      });
    }
  } else if (params.force !== null) {
    errs.push({
      field: 'force',
      reason: 'FieldValueForbidden',
      detail: 'Forbidden: may not be specified for non-apply patch',
    });
  }
  if (errs.length > 0) throw invalid('PatchOptions', 'meta.k8s.io', '', errs);
  return type as PatchType;
}

export function decodePatch(type: PatchType, body: string): unknown {
  try {
    if (type !== APPLY_PATCH) return JSON.parse(body);
    // JSON first: it is YAML too, and the yaml package's duplicate-key check is quadratic in the key
    // count (20,000 keys took seconds). Lenient where the real decoder is not: duplicate keys in a
    // JSON apply body (README).
    const json = body.trimStart().startsWith('{') ? tryJson(body) : undefined;
    return json ?? parseYaml(body);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw badRequest(type === APPLY_PATCH ? `error decoding YAML: ${detail}` : `error decoding patch: ${detail}`);
  }
}

function tryJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function patchFailure(err: PatchError): KubeApiError {
  if (err.code === 400) return badRequest(err.message);
  if (err.code === 500) return failure(500, err.message, 'InternalError', { causes: [{ message: err.message }] });
  // json-patch failures reach the caller through NewGenericServerResponse, which drops the detail.
  return failure(422, 'the server rejected our request due to an error in our request', 'Invalid', {});
}

/** Applies a non-apply patch document to `current`. */
export function applyPatchDocument(
  type: PatchType,
  current: KubeObject,
  patch: unknown,
  rt: Pick<ResourceType, 'kind' | 'builtIn'>,
): KubeObject {
  try {
    let result: unknown;
    if (type === JSON_PATCH) result = applyJsonPatch(current, patch);
    else if (type === MERGE_PATCH) result = applyMergePatch(structuredClone(current), patch);
    else result = applyStrategicMergePatch(structuredClone(current), patch, { kind: rt.kind, builtIn: rt.builtIn });
    if (!isRecord(result)) throw badRequest('the patched object is not a JSON object');
    if (!isRecord(result.metadata)) result.metadata = {};
    return result as KubeObject;
  } catch (err) {
    if (err instanceof PatchError) throw patchFailure(err);
    throw err;
  }
}

/** PATCH on an object or its status subresource. Server-side apply creates the object when absent. */
export function patchObject(
  service: ObjectService,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  params: PatchParams,
  ctx: WriteContext,
  subresource?: 'status',
): { object: KubeObject; created: boolean } {
  const type = checkPatchParams(rt, params);
  const patch = decodePatch(type, params.body);
  const old = service.find(rt, namespace, name);
  if (type === APPLY_PATCH) {
    if (!isRecord(patch)) throw badRequest('error decoding YAML: the applied configuration is not an object');
    const meta = isRecord(patch.metadata) ? patch.metadata : {};
    if (typeof meta.name === 'string' && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    const config: JsonRecord = { ...patch, metadata: { ...meta, name } };
    checkAppliedFields(rt, config, namespace);
    const scope: FieldScope = subresource === 'status' ? 'status' : 'main';
    const applyOpts = {
      manager: params.fieldManager ?? '',
      force: params.force === 'true',
      apiVersion: rt.apiVersion,
      scope,
      ctx: typeContext(rt),
      ...(subresource ? { subresource } : {}),
    };
    if (!old) {
      if (subresource) throw notFound(rt, name);
      const created = applyConfiguration(undefined, config, applyOpts);
      return { object: service.create(rt, namespace, created, ctx, { applied: true }), created: !ctx.dryRun };
    }
    const merged = applyConfiguration(service.present(rt, old), config, applyOpts);
    const incoming = service.toStorageForm(rt, merged);
    const updateOpts = subresource ? { applied: true, subresource } : { applied: true };
    return { object: service.update(rt, old, incoming, ctx, updateOpts), created: false };
  }
  if (!old) throw notFound(rt, name);
  const patched = applyPatchDocument(type, service.present(rt, old), patch, rt);
  const incoming = service.toStorageForm(rt, patched);
  return { object: service.update(rt, old, incoming, ctx, subresource ? { subresource } : {}), created: false };
}
