/** Safe reading of untyped Kubernetes objects, and the field-path notation used in findings. */

export type Rec = Record<string, unknown>;

export function isRec(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function rec(value: unknown): Rec | undefined {
  return isRec(value) ? value : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value at a chain of keys, or undefined when any step is missing or not an object. */
export function dig(root: unknown, keys: readonly string[]): unknown {
  let cur: unknown = root;
  for (const k of keys) {
    if (!isRec(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/**
 * Appends a key to a field path: `.name` for plain keys, `["key"]` for keys with other characters
 * (annotation keys, rule ids), `[3]` for indexes. An empty base yields the bare key.
 */
export function child(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** A field path from path segments, e.g. `exemptions[0].reason` or `rules["images/pinned"].mode`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out = child(out, typeof s === 'number' ? s : String(s));
  return out;
}
