// The three non-apply patch formats the API server accepts:
// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
import { clone, deepEqual, isRecord, type JsonRecord } from './json.ts';
import { type ListStrategy, listStrategy } from './merge-keys.ts';

/** A patch that could not be decoded (400) or applied (422 / 500 as the server would answer). */
export class PatchError extends Error {
  readonly code: 400 | 422 | 500;
  constructor(code: 400 | 422 | 500, message: string) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
  }
}

// ---------------------------------------------------------------- RFC 7386

/** JSON merge patch: records merge recursively, null deletes, everything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: JsonRecord = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

// ---------------------------------------------------------------- RFC 6902

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function decodeJsonPatch(patch: unknown): JsonPatchOp[] {
  if (!Array.isArray(patch)) {
    throw new PatchError(400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  return patch.map((raw) => {
    if (!isRecord(raw)) throw new PatchError(400, 'json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const op = raw.op;
    if (typeof op !== 'string' || !OPS.has(op)) throw new PatchError(422, `Unexpected kind: ${String(op)}`);
    if (typeof raw.path !== 'string') throw new PatchError(422, `${op} operation missing path`);
    const decoded: JsonPatchOp = { op: op as JsonPatchOp['op'], path: raw.path, hasValue: 'value' in raw };
    if ('value' in raw) decoded.value = raw.value;
    if (typeof raw.from === 'string') decoded.from = raw.from;
    return decoded;
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(422, `JSON pointer must be empty or start with a "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(422, `invalid array index "${token}" in ${pointer}`);
  const idx = Number(token);
  if (idx > length || (!allowEnd && idx === length)) {
    throw new PatchError(422, `Unable to access invalid index: ${idx} in ${pointer}`);
  }
  return idx;
}

function resolveParent(doc: unknown, tokens: string[], pointer: string): { parent: unknown; last: string } {
  let cur = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i] as string;
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false, pointer)];
    else if (isRecord(cur) && t in cur) cur = cur[t];
    else throw new PatchError(422, `doc is missing path: "${pointer}": missing value`);
  }
  return { parent: cur, last: tokens[tokens.length - 1] as string };
}

function getPointer(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false, pointer)];
  if (isRecord(parent) && last in parent) return parent[last];
  throw new PatchError(422, `doc is missing key: ${pointer}: missing value`);
}

function addPointer(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, pointer), 0, value);
  else if (isRecord(parent)) parent[last] = value;
  else throw new PatchError(422, `add operation does not apply: doc is missing path: "${pointer}": missing value`);
  return doc;
}

function removePointer(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError(422, 'remove operation does not apply to the document root');
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, pointer), 1);
  else if (isRecord(parent) && last in parent) delete parent[last];
  else throw new PatchError(422, `remove operation does not apply: doc is missing path: "${pointer}": missing value`);
  return doc;
}

function replacePointer(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(last, parent.length, false, pointer)] = value;
  else if (isRecord(parent) && last in parent) parent[last] = value;
  else throw new PatchError(422, `replace operation does not apply: doc is missing key: ${pointer}: missing value`);
  return doc;
}

/** Applies RFC 6902 operations in order to a copy of `doc`. Any failing operation fails the whole patch. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodeJsonPatch(patch);
  let result = clone(doc);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (!op.hasValue) throw new PatchError(422, 'add operation missing value');
        result = addPointer(result, op.path, clone(op.value));
        break;
      case 'remove':
        result = removePointer(result, op.path);
        break;
      case 'replace':
        if (!op.hasValue) throw new PatchError(422, 'replace operation missing value');
        result = replacePointer(result, op.path, clone(op.value));
        break;
      case 'move': {
        if (op.from === undefined) throw new PatchError(422, 'move operation missing from');
        if (op.path.startsWith(`${op.from}/`)) {
          throw new PatchError(422, `move operation: path ${op.path} is a child of from ${op.from}`);
        }
        const value = getPointer(result, op.from);
        result = removePointer(result, op.from);
        result = addPointer(result, op.path, value);
        break;
      }
      case 'copy': {
        if (op.from === undefined) throw new PatchError(422, 'copy operation missing from');
        result = addPointer(result, op.path, clone(getPointer(result, op.from)));
        break;
      }
      case 'test': {
        let found = true;
        let actual: unknown;
        try {
          actual = getPointer(result, op.path);
        } catch {
          found = false;
        }
        if (!found || !deepEqual(actual, op.hasValue ? op.value : null)) {
          throw new PatchError(422, `testing value ${op.path} failed: test failed`);
        }
        break;
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------- strategic merge patch

export interface SmpContext {
  kind: string | undefined;
  builtIn: boolean;
}

const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

/** A value from the patch that has no counterpart in the original: directives and nulls removed. */
function fromPatch(value: unknown, path: string[], ctx: SmpContext): unknown {
  if (Array.isArray(value)) return value.map((v) => fromPatch(v, path, ctx));
  if (!isRecord(value)) return value;
  return strategicMerge(undefined, value, path, ctx);
}

function mergeList(original: unknown, patchList: unknown[], path: string[], ctx: SmpContext): unknown[] {
  const strategy: ListStrategy = listStrategy(path, ctx.kind, ctx.builtIn);
  const orig = Array.isArray(original) ? original : [];
  if (strategy.type === 'atomic') return patchList.map((v) => fromPatch(v, path, ctx));
  if (strategy.type === 'set') {
    const replace = patchList.some((v) => isRecord(v) && v.$patch === 'replace');
    const values = patchList.filter((v) => !isRecord(v));
    if (replace) return values;
    const result = [...orig];
    for (const v of values) if (!result.some((o) => deepEqual(o, v))) result.push(v);
    return result;
  }
  const key = strategy.key;
  if (patchList.some((v) => isRecord(v) && v.$patch === 'replace' && Object.keys(v).length === 1)) {
    return patchList
      .filter((v) => !(isRecord(v) && v.$patch === 'replace' && Object.keys(v).length === 1))
      .map((v) => fromPatch(v, path, ctx));
  }
  const result: unknown[] = [...orig];
  for (const item of patchList) {
    if (!isRecord(item)) {
      throw new PatchError(
        500,
        `Internal error occurred: unable to find api field in struct for the list ${path.join('.')}`,
      );
    }
    const keyValue = item[key];
    if (keyValue === undefined) {
      throw new PatchError(
        500,
        `Internal error occurred: map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`,
      );
    }
    const idx = result.findIndex((o) => isRecord(o) && deepEqual(o[key], keyValue));
    if (item.$patch === 'delete') {
      if (idx >= 0) result.splice(idx, 1);
      continue;
    }
    if (idx >= 0) result[idx] = strategicMerge(result[idx], item, path, ctx);
    else result.push(strategicMerge(undefined, item, path, ctx));
  }
  return result;
}

/**
 * Strategic merge patch: like a merge patch, but lists with a merge key (containers by name, ports by
 * containerPort, ...) merge item by item, `$patch: delete|replace` directives apply, and
 * `$deleteFromPrimitiveList/<field>` removes values from primitive merge lists.
 * `path` holds the field names from the object root to `original`.
 * Returns undefined when the patch deletes the whole map (`$patch: delete`).
 */
export function strategicMerge(original: unknown, patch: unknown, path: string[], ctx: SmpContext): unknown {
  if (!isRecord(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return strategicMerge(undefined, rest, path, ctx);
  }
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError(400, `Unknown patch type: ${String(directive)}`);
  }
  const result: JsonRecord = isRecord(original) ? { ...original } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      if (!Array.isArray(value)) throw new PatchError(400, 'invalid patch format for primitive list');
      const current = result[field];
      if (Array.isArray(current)) result[field] = current.filter((v) => !value.some((d) => deepEqual(d, v)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, childPath, ctx);
    } else if (isRecord(value)) {
      const merged = strategicMerge(result[key], value, childPath, ctx);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(result)) {
      if (!retain.includes(k)) delete result[k];
    }
  }
  return result;
}

export function applyStrategicMergePatch(original: JsonRecord, patch: unknown, ctx: SmpContext): JsonRecord {
  if (!isRecord(patch))
    throw new PatchError(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
  const merged = strategicMerge(original, patch, [], ctx);
  return isRecord(merged) ? merged : {};
}
