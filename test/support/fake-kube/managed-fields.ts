// Field ownership (metadata.managedFields) and server-side apply.
//
// Simplified from structured-merge-diff: a manager owns a set of leaf paths (scalars, atomic lists,
// empty maps) addressed the way FieldsV1 does (`f:spec`, `k:{"name":"web"}`). Lists whose items have a
// merge key are associative; every other list is atomic. Conflicts, forced takeover, shared ownership
// and removal of fields a manager stopped applying follow the real semantics on that model.
import { deepEqual, isRecord, type JsonRecord, timestamp } from './json.ts';
import { listStrategy } from './merge-keys.ts';
import { strategicMerge } from './patch.ts';
import { failure, type KubeApiError } from './status.ts';
import type { KubeObject, ManagedFieldsEntry, ResourceType } from './types.ts';

type FieldPath = readonly string[];

/** Leaf paths keyed by their JSON text, so sets can be compared cheaply. */
type FieldSet = Map<string, FieldPath>;

export type FieldScope = 'main' | 'status';

interface Entry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
}

interface TypeContext {
  kind: string | undefined;
  builtIn: boolean;
  hasStatusSubresource: boolean;
}

export function typeContext(rt: ResourceType): TypeContext {
  return { kind: rt.kind, builtIn: rt.builtIn, hasStatusSubresource: rt.subresources.some((s) => s.name === 'status') };
}

function addLeaf(out: FieldSet, path: FieldPath): void {
  out.set(JSON.stringify(path), path);
}

function walk(value: unknown, elems: string[], names: string[], ctx: TypeContext, out: FieldSet): void {
  if (isRecord(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) {
      addLeaf(out, elems);
      return;
    }
    for (const k of keys) walk(value[k], [...elems, `f:${k}`], [...names, k], ctx, out);
    return;
  }
  if (Array.isArray(value)) {
    const strategy = listStrategy(names, ctx.kind, ctx.builtIn);
    if (
      strategy.type === 'map' &&
      value.length > 0 &&
      value.every((i) => isRecord(i) && i[strategy.key] !== undefined)
    ) {
      for (const item of value as JsonRecord[]) {
        walk(item, [...elems, `k:${JSON.stringify({ [strategy.key]: item[strategy.key] })}`], names, ctx, out);
      }
      return;
    }
  }
  addLeaf(out, elems);
}

/** The leaf fields an object (or an apply configuration) sets, within the given scope. */
export function fieldSet(obj: JsonRecord, scope: FieldScope, ctx: TypeContext): FieldSet {
  const out: FieldSet = new Map();
  if (scope === 'status') {
    if (obj.status !== undefined) walk(obj.status, ['f:status'], ['status'], ctx, out);
    return out;
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (k === 'status' && ctx.hasStatusSubresource) continue;
    if (k === 'metadata') {
      if (!isRecord(v)) continue;
      for (const mk of ['labels', 'annotations', 'ownerReferences', 'finalizers']) {
        if (v[mk] !== undefined) walk(v[mk], ['f:metadata', `f:${mk}`], ['metadata', mk], ctx, out);
      }
      continue;
    }
    walk(v, [`f:${k}`], [k], ctx, out);
  }
  return out;
}

function matchesKey(item: unknown, key: JsonRecord): boolean {
  return isRecord(item) && Object.entries(key).every(([k, v]) => deepEqual(item[k], v));
}

function step(cur: unknown, elem: string): { found: boolean; value: unknown; index?: number } {
  if (elem.startsWith('f:')) {
    const name = elem.slice(2);
    if (!isRecord(cur) || !(name in cur)) return { found: false, value: undefined };
    return { found: true, value: cur[name] };
  }
  if (elem.startsWith('k:')) {
    if (!Array.isArray(cur)) return { found: false, value: undefined };
    const key = JSON.parse(elem.slice(2)) as JsonRecord;
    const index = cur.findIndex((item) => matchesKey(item, key));
    return index < 0 ? { found: false, value: undefined } : { found: true, value: cur[index], index };
  }
  return { found: false, value: undefined };
}

export function valueAt(obj: unknown, path: FieldPath): { found: boolean; value: unknown } {
  let cur = obj;
  for (const elem of path) {
    const next = step(cur, elem);
    if (!next.found) return next;
    cur = next.value;
  }
  return { found: true, value: cur };
}

/** Removes the field at `path` in place; empty maps left behind are removed too. */
function removeAt(obj: JsonRecord, path: FieldPath): void {
  const parents: unknown[] = [obj];
  let cur: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const next = step(cur, path[i] as string);
    if (!next.found) return;
    cur = next.value;
    parents.push(cur);
  }
  const last = path[path.length - 1] as string;
  const parent = parents[parents.length - 1];
  if (last.startsWith('f:') && isRecord(parent)) delete parent[last.slice(2)];
  if (last.startsWith('k:') && Array.isArray(parent)) {
    const at = step(parent, last);
    if (at.index !== undefined) parent.splice(at.index, 1);
  }
  for (let i = parents.length - 1; i > 0; i--) {
    const node = parents[i];
    const elem = path[i - 1] as string;
    if (isRecord(node) && Object.keys(node).length === 0 && elem.startsWith('f:')) {
      const holder = parents[i - 1];
      if (isRecord(holder)) delete holder[elem.slice(2)];
    } else {
      break;
    }
  }
}

function encode(fields: FieldSet): JsonRecord {
  const root: JsonRecord = {};
  for (const path of fields.values()) {
    let node = root;
    for (const elem of path) {
      let child = node[elem];
      if (!isRecord(child)) {
        child = {};
        node[elem] = child;
      }
      if (elem.startsWith('k:')) (child as JsonRecord)['.'] = {};
      node = child as JsonRecord;
    }
  }
  return root;
}

function decode(tree: unknown): FieldSet {
  const out: FieldSet = new Map();
  const visit = (node: unknown, path: string[]): void => {
    const children = isRecord(node) ? Object.keys(node).filter((k) => k !== '.') : [];
    if (children.length === 0) {
      if (path.length > 0) addLeaf(out, path);
      return;
    }
    for (const c of children) visit((node as JsonRecord)[c], [...path, c]);
  };
  visit(tree, []);
  return out;
}

function readEntries(obj: KubeObject | undefined): Entry[] {
  const raw = obj?.metadata.managedFields;
  if (!Array.isArray(raw)) return [];
  const out: Entry[] = [];
  for (const m of raw) {
    if (!isRecord(m) || typeof m.manager !== 'string') continue;
    const entry: Entry = {
      manager: m.manager,
      operation: m.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof m.apiVersion === 'string' ? m.apiVersion : '',
      time: typeof m.time === 'string' ? m.time : timestamp(),
      fields: decode(m.fieldsV1),
    };
    if (typeof m.subresource === 'string' && m.subresource) entry.subresource = m.subresource;
    out.push(entry);
  }
  return out;
}

function writeEntries(entries: Entry[]): ManagedFieldsEntry[] {
  return entries
    .filter((e) => e.fields.size > 0)
    .map((e) => {
      const out: ManagedFieldsEntry = {
        manager: e.manager,
        operation: e.operation,
        apiVersion: e.apiVersion,
        time: e.time,
        fieldsType: 'FieldsV1',
        fieldsV1: encode(e.fields),
      };
      if (e.subresource) out.subresource = e.subresource;
      return out;
    });
}

function sameEntry(e: Entry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function isPrefix(prefix: FieldPath, path: FieldPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((e, i) => path[i] === e);
}

function dropOverlapping(fields: FieldSet, taken: Iterable<FieldPath>): void {
  const takenList = [...taken];
  for (const [k, path] of fields) {
    if (takenList.some((t) => isPrefix(t, path) || isPrefix(path, t))) fields.delete(k);
  }
}

/** managerOrUserAgent: the fieldManager parameter, else the user agent up to its first `/`. */
export function managerName(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0]?.trim();
  return prefix || 'unknown';
}

export interface UpdateOptions {
  manager: string;
  apiVersion: string;
  scope: FieldScope;
  subresource?: string;
  ctx: TypeContext;
}

/**
 * Records an Update operation: the manager takes every field whose value it changed or added;
 * other managers lose those fields and any field the write removed.
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, opts: UpdateOptions): ManagedFieldsEntry[] {
  const entries = readEntries(next.metadata.managedFields ? next : old);
  const newFields = fieldSet(next, opts.scope, opts.ctx);
  const oldFields = old ? fieldSet(old, opts.scope, opts.ctx) : new Map<string, FieldPath>();
  const changed: FieldPath[] = [];
  for (const [k, path] of newFields) {
    if (!old || !oldFields.has(k) || !deepEqual(valueAt(old, path).value, valueAt(next, path).value))
      changed.push(path);
  }
  const removed = [...oldFields].filter(([k]) => !newFields.has(k)).map(([, p]) => p);
  let target = entries.find((e) => sameEntry(e, opts.manager, 'Update', opts.subresource));
  for (const e of entries) {
    if (e !== target) dropOverlapping(e.fields, [...changed, ...removed]);
  }
  if (target) dropOverlapping(target.fields, removed);
  if (changed.length > 0) {
    if (!target) {
      target = { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, time: '', fields: new Map() };
      if (opts.subresource) target.subresource = opts.subresource;
      entries.push(target);
    }
    for (const p of changed) addLeaf(target.fields, p);
    target.time = timestamp();
    target.apiVersion = opts.apiVersion;
  }
  return writeEntries(entries);
}

function pathString(path: FieldPath): string {
  return path
    .map((e) => {
      if (e.startsWith('f:')) return `.${e.slice(2)}`;
      const key = JSON.parse(e.slice(2)) as JsonRecord;
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

function managerLabel(e: Entry): string {
  let label = JSON.stringify(e.manager);
  if (e.subresource) label += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') label += ` using ${e.apiVersion}`;
  return label;
}

function conflictError(conflicts: Array<{ entry: Entry; path: FieldPath }>): KubeApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${managerLabel(c.entry)}`,
    field: pathString(c.path),
  }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${managerLabel(first.entry)}: ${pathString(first.path)}`;
  } else {
    const byManager = new Map<string, { entry: Entry; paths: string[] }>();
    for (const c of conflicts) {
      const label = managerLabel(c.entry);
      const group = byManager.get(label) ?? { entry: c.entry, paths: [] };
      group.paths.push(pathString(c.path));
      byManager.set(label, group);
    }
    const lines: string[] = [];
    for (const label of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${label}:`);
      for (const p of byManager.get(label)?.paths ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return failure(409, message, 'Conflict', { causes });
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  apiVersion: string;
  scope: FieldScope;
  subresource?: string;
  ctx: TypeContext;
}

/**
 * Server-side apply of `config` onto `live` (undefined when creating). Throws a 409 Conflict
 * KubeApiError when another manager owns a field the config sets to a different value, unless forced.
 */
export function applyConfiguration(live: KubeObject | undefined, config: JsonRecord, opts: ApplyOptions): KubeObject {
  const entries = readEntries(live);
  const cfgFields = fieldSet(config, opts.scope, opts.ctx);
  const conflicts: Array<{ entry: Entry; path: FieldPath }> = [];
  for (const e of entries) {
    if (sameEntry(e, opts.manager, 'Apply', opts.subresource)) continue;
    for (const [k, path] of e.fields) {
      if (!cfgFields.has(k)) continue;
      if (!deepEqual(valueAt(config, path).value, valueAt(live, path).value)) conflicts.push({ entry: e, path });
    }
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);
  for (const c of conflicts) dropOverlapping(c.entry.fields, [c.path]);

  const base: JsonRecord = live ? structuredClone(live) : {};
  const applied: JsonRecord = { ...config };
  if (opts.scope === 'main' && opts.ctx.hasStatusSubresource) delete applied.status;
  const merged = strategicMerge(base, applied, [], opts.ctx) as KubeObject;

  let mine = entries.find((e) => sameEntry(e, opts.manager, 'Apply', opts.subresource));
  if (mine) {
    for (const [k, path] of mine.fields) {
      if (cfgFields.has(k)) continue;
      const ownedElsewhere = entries.some((e) => e !== mine && e.fields.has(k));
      if (!ownedElsewhere) removeAt(merged, path);
    }
  } else {
    mine = { manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion, time: '', fields: new Map() };
    if (opts.subresource) mine.subresource = opts.subresource;
    entries.push(mine);
  }
  mine.fields = cfgFields;
  mine.time = timestamp();
  mine.apiVersion = opts.apiVersion;
  const managedFields = writeEntries(entries);
  merged.metadata = { ...(isRecord(merged.metadata) ? merged.metadata : {}), managedFields };
  if (managedFields.length === 0) delete merged.metadata.managedFields;
  return merged;
}
