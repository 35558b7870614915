/**
 * Who owns a field now: the object's metadata.managedFields parsed into one tree. FieldsV1 names
 * object keys `f:<key>`, list items by merge key `k:{"name":"web"}`, set members `v:<json>` and
 * positions `i:<n>`; `.` (or an empty node) marks a field a manager owns. A manager owning a field
 * owns everything under it (an atomic list, a map set as a whole).
 */

export interface FieldOwner {
  manager: string;
  operation: string;
  subresource?: string;
  time?: string;
}

export interface OwnerNode {
  owners: number[];
  f?: Map<string, OwnerNode>;
  k?: Array<{ key: Record<string, unknown>; node: OwnerNode }>;
  v?: Array<{ value: unknown; node: OwnerNode }>;
  i?: Map<number, OwnerNode>;
}

export interface Ownership {
  entries: FieldOwner[];
  root: OwnerNode;
}

/** Caps on what one object's managedFields may cost to read (a real object has a few hundred nodes). */
const MAX_ENTRIES = 64;
const MAX_NODES = 20_000;
const MAX_DEPTH = 64;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The ownership tree of an object's managedFields (entries past the caps are not read). */
export function readOwnership(managedFields: unknown): Ownership {
  const root: OwnerNode = { owners: [] };
  const entries: FieldOwner[] = [];
  let nodes = 0;
  const visit = (fields: Record<string, unknown>, node: OwnerNode, owner: number, depth: number): void => {
    const keys = Object.keys(fields);
    if (keys.length === 0 || keys.includes('.')) node.owners.push(owner);
    if (depth >= MAX_DEPTH) return;
    for (const k of keys) {
      const child = fields[k];
      if (k === '.' || !isObj(child) || ++nodes > MAX_NODES) continue;
      let next: OwnerNode | undefined;
      const body = k.slice(2);
      try {
        if (k.startsWith('f:')) {
          node.f ??= new Map();
          next = node.f.get(body) ?? { owners: [] };
          node.f.set(body, next);
        } else if (k.startsWith('k:')) {
          const key = JSON.parse(body) as unknown;
          if (!isObj(key)) continue;
          node.k ??= [];
          const found = node.k.find((e) => sameJson(e.key, key));
          next = found?.node ?? { owners: [] };
          if (!found) node.k.push({ key, node: next });
        } else if (k.startsWith('v:')) {
          const value = JSON.parse(body) as unknown;
          node.v ??= [];
          const found = node.v.find((e) => sameJson(e.value, value));
          next = found?.node ?? { owners: [] };
          if (!found) node.v.push({ value, node: next });
        } else if (k.startsWith('i:') && /^\d+$/.test(body)) {
          node.i ??= new Map();
          next = node.i.get(Number(body)) ?? { owners: [] };
          node.i.set(Number(body), next);
        }
      } catch {
        continue; // a key that is not JSON: not a field we can follow
      }
      if (next) visit(child, next, owner, depth + 1);
    }
  };
  if (Array.isArray(managedFields)) {
    for (const m of managedFields.slice(0, MAX_ENTRIES)) {
      if (!isObj(m) || typeof m.manager !== 'string') continue;
      const entry: FieldOwner = { manager: m.manager, operation: typeof m.operation === 'string' ? m.operation : '' };
      if (typeof m.subresource === 'string' && m.subresource) entry.subresource = m.subresource;
      if (typeof m.time === 'string') entry.time = m.time;
      entries.push(entry);
      if (isObj(m.fieldsV1)) visit(m.fieldsV1, root, entries.length - 1, 0);
    }
  }
  // The root node is the object itself: nobody owns it as a leaf.
  root.owners = [];
  return { entries, root };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The child for an object key. */
export function childByKey(node: OwnerNode | undefined, key: string): OwnerNode | undefined {
  return node?.f?.get(key);
}

/** The child for a list item: by merge key (every key field equal, numbers and strings as JSON), else by position. */
export function childByItem(node: OwnerNode | undefined, item: unknown, index: number): OwnerNode | undefined {
  if (!node) return undefined;
  if (node.k && isObj(item)) {
    const hit = node.k.find((e) => Object.entries(e.key).every(([k, v]) => sameJson(item[k], v)));
    if (hit) return hit.node;
  }
  if (node.v) {
    const hit = node.v.find((e) => sameJson(e.value, item));
    if (hit) return hit.node;
  }
  return node.i?.get(index);
}

/**
 * The owner of a field, given the tree nodes along its path (undefined where the path left the
 * tree): the owners of the field itself, else of the nearest field above that is owned whole. Of
 * several owners the one that wrote last wins.
 */
export function ownerOf(own: Ownership, nodes: ReadonlyArray<OwnerNode | undefined>): FieldOwner | undefined {
  let owners: number[] = [];
  const last = nodes[nodes.length - 1];
  if (last && last.owners.length > 0) owners = last.owners;
  else {
    for (let i = nodes.length - 2; i >= 0; i--) {
      const n = nodes[i];
      if (n && n.owners.length > 0 && !n.f && !n.k && !n.v && !n.i) {
        owners = n.owners;
        break;
      }
    }
  }
  let best: FieldOwner | undefined;
  for (const o of owners) {
    const e = own.entries[o];
    if (e && (!best || (e.time ?? '') > (best.time ?? ''))) best = e;
  }
  return best;
}
