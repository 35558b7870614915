/**
 * Normalization, structural diff and hashing of Kubernetes objects for change previews and
 * drift baselines. Server-owned noise (status, resourceVersion, managedFields, ...) is dropped
 * first, so two reads of an unchanged object compare equal. Secret values never leave here:
 * diffs say a Secret key changed without its value, and baselines keep only digests.
 */
import { createHash } from 'node:crypto';
import { digestSecretArgv, isConfigMapKind, isSecretKey, maskSecretsInText, REDACTED } from '../redact.ts';
import { canonicalJson, deepCopy, deepEqual, isRecord, rec, setOwn, str } from './object-guards.ts';
import { digestBytes, isSecretObject, LAST_APPLIED_ANNOTATION, REDACTED_VALUE } from './secret-redaction.ts';

const DROPPED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];
const DROPPED_ANNOTATIONS = [LAST_APPLIED_ANNOTATION, 'deployment.kubernetes.io/revision'];
export const DIFF_VALUE_MAX_CHARS = 200;
const SUMMARY_ITEMS = 5;
const SUMMARY_VALUE_MAX_CHARS = 40;

/**
 * Deep copy without status, server-set metadata and the two bookkeeping annotations; null
 * values and empty maps/arrays removed; keys sorted. Secret values never survive: each value
 * under a Secret's data/stringData becomes `sha256:<hex>` of its bytes, folded into `data` (a
 * manifest's stringData and the live Secret's data then compare equal), and env values with
 * secret-looking names (DB_PASSWORD, API_TOKEN) are digested the same way. A change of value is
 * still a change of digest. Idempotent: normalizeForDiff(normalizeForDiff(x)) equals
 * normalizeForDiff(x).
 */
export function normalizeForDiff(obj: Record<string, unknown>): Record<string, unknown> {
  return normalize(obj, undefined);
}

const DIGEST = /^(?:sha256|hmac-sha256):[0-9a-f]{64}$/;

function normalize(obj: Record<string, unknown>, hmacKey: string | undefined): Record<string, unknown> {
  const copy = deepCopy(obj);
  delete copy.status;
  const meta = rec(copy.metadata);
  if (meta) {
    for (const key of DROPPED_METADATA) delete meta[key];
    const annotations = rec(meta.annotations);
    if (annotations) for (const key of DROPPED_ANNOTATIONS) delete annotations[key];
  }
  const prefix = hmacKey ? 'hmac-sha256:' : 'sha256:';
  const digestOf = (bytes: Buffer): string => `${prefix}${digestBytes(bytes, hmacKey)}`;
  if (isSecretObject(copy)) {
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rec(copy.data) ?? {})) {
      if (typeof value !== 'string') setOwn(data, key, REDACTED_VALUE);
      else setOwn(data, key, DIGEST.test(value) ? value : digestOf(Buffer.from(value, 'base64')));
    }
    for (const [key, value] of Object.entries(rec(copy.stringData) ?? {})) {
      setOwn(data, key, typeof value === 'string' ? digestOf(Buffer.from(value, 'utf8')) : REDACTED_VALUE);
    }
    delete copy.stringData;
    if (Object.keys(data).length) copy.data = data;
    else delete copy.data;
  } else {
    digestSecretEnv(copy, (text) => (DIGEST.test(text) ? text : digestOf(Buffer.from(text, 'utf8'))), 0);
  }
  return (pruneAndSort(copy) as Record<string, unknown> | undefined) ?? {};
}

/** Sorted keys; drops null/undefined and empty maps/arrays under object keys (array items stay, by position). */
function pruneAndSort(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => pruneAndSort(v) ?? (isRecord(v) ? {} : Array.isArray(v) ? [] : null));
    return items.length ? items : undefined;
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = pruneAndSort(value[key]);
      if (v !== undefined) setOwn(out, key, v);
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value ?? undefined;
}

export interface Change {
  path: string;
  op: 'add' | 'remove' | 'change';
  from?: unknown;
  to?: unknown;
}

export interface DiffResult {
  changes: Change[];
  omitted: number;
  summary: string;
}

export interface DiffOptions {
  /** At most this many changes are listed (default 50); the rest are counted in `omitted`. */
  maxChanges?: number;
  /**
   * Skip fields that exist only in `after`. For drift against a manifest baseline (before =
   * baseline, after = live): the live object carries server defaults and injected fields the
   * manifest never set (Argo CD's RemoveMapFields behaviour).
   */
  ignoreAdditions?: boolean;
}

/**
 * Structural diff of the normalized objects. Lists whose items all carry a unique `name`
 * (containers, env, volumes, named ports) are matched by name (`containers[name=web]`), other
 * lists by index. Values are masked and cut to 200 chars; under a Secret's data the values are
 * always `<redacted>`, though a changed value is still reported.
 */
export function diffObjects(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  opts: DiffOptions = {},
): DiffResult {
  const maxChanges = Math.max(0, opts.maxChanges ?? 50);
  const a = before ? normalizeForDiff(before) : {};
  const b = normalizeForDiff(after);
  const secret = isSecretObject(b) || (before !== undefined && isSecretObject(a));
  const raw: Change[] = [];
  walk(a, b, '', raw, opts.ignoreAdditions === true);
  const configMap = !secret && (isConfigMapKind(a.kind) || isConfigMapKind(b.kind));
  const all = raw.map((c) => sanitizeChange(c, secret, configMap));
  const changes = all.slice(0, maxChanges);
  return { changes, omitted: all.length - changes.length, summary: summarizeChanges(all, before, b) };
}

function walk(a: unknown, b: unknown, path: string, out: Change[], ignoreAdditions: boolean): void {
  if (deepEqual(a, b)) return;
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const p = joinKey(path, key);
      if (!Object.hasOwn(a, key)) {
        if (!ignoreAdditions) out.push({ path: p, op: 'add', to: b[key] });
      } else if (!Object.hasOwn(b, key)) out.push({ path: p, op: 'remove', from: a[key] });
      else walk(a[key], b[key], p, out, ignoreAdditions);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const namesA = itemNames(a);
    const namesB = itemNames(b);
    if (namesA && namesB) {
      const byName = new Map(b.map((item, i) => [namesB[i], item]));
      const seen = new Set<string>();
      a.forEach((item, i) => {
        const name = namesA[i] ?? '';
        seen.add(name);
        const p = `${path}[name=${name}]`;
        if (byName.has(name)) walk(item, byName.get(name), p, out, ignoreAdditions);
        else out.push({ path: p, op: 'remove', from: item });
      });
      if (!ignoreAdditions) {
        b.forEach((item, i) => {
          const name = namesB[i] ?? '';
          if (!seen.has(name)) out.push({ path: `${path}[name=${name}]`, op: 'add', to: item });
        });
      }
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= a.length) {
        if (!ignoreAdditions) out.push({ path: p, op: 'add', to: b[i] });
      } else if (i >= b.length) out.push({ path: p, op: 'remove', from: a[i] });
      else walk(a[i], b[i], p, out, ignoreAdditions);
    }
    return;
  }
  out.push({ path: path || '.', op: 'change', from: a, to: b });
}

/** Names of the items when every item is an object with a unique string `name`. */
function itemNames(list: unknown[]): string[] | undefined {
  const names: string[] = [];
  for (const item of list) {
    const name = isRecord(item) ? str(item.name) : undefined;
    if (name === undefined) return undefined;
    names.push(name);
  }
  return new Set(names).size === names.length && names.length > 0 ? names : undefined;
}

function joinKey(path: string, key: string): string {
  const segment = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (segment.startsWith('[')) return `${path}${segment}`;
  return path ? `${path}.${segment}` : segment;
}

function isSecretDataPath(path: string): boolean {
  return /^(?:data|stringData|binaryData)(?:$|[.[])/.test(path);
}

const SECRET_ENV_VALUE = /\[name=([^\]]+)\]\.value$/;

const CONFIGMAP_DATA = /^(?:data|binaryData)$/;
const CONFIGMAP_DATA_KEY = /^(?:data|binaryData)(?:\.([A-Za-z0-9_-]+)|\[("(?:[^"\\]|\\.)*")\])$/;

/** The key of a ConfigMap data/binaryData path (`data.DB_PASSWORD`, `data["db.password"]`). */
function configMapDataKey(path: string): string | undefined {
  const m = CONFIGMAP_DATA_KEY.exec(path);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1];
  try {
    return JSON.parse(m[2] ?? '""') as string;
  } catch {
    return undefined;
  }
}

/** A whole ConfigMap data map (added or removed) with the values of secret-named keys hidden. */
function hideSecretKeys(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) setOwn(out, key, isSecretKey(key) && v !== '' ? REDACTED_VALUE : v);
  return out;
}

function sanitizeChange(change: Change, secret: boolean, configMap: boolean): Change {
  const out: Change = { path: change.path, op: change.op };
  const env = SECRET_ENV_VALUE.exec(change.path);
  const cmKey = configMap ? configMapDataKey(change.path) : undefined;
  const last = lastKey(change.path);
  const hidden =
    (secret && isSecretDataPath(change.path)) ||
    (env?.[1] !== undefined && isSecretKey(env[1])) ||
    (cmKey !== undefined && isSecretKey(cmKey)) ||
    (last !== undefined && isSecretKey(last) && typeof change.from !== 'boolean' && typeof change.to !== 'boolean');
  const cmMap = configMap && CONFIGMAP_DATA.test(change.path);
  // A digest stands for a secret value (argv): shown as <redacted>, the change itself stays.
  const shape = (v: unknown): unknown =>
    hidden || (typeof v === 'string' && DIGEST.test(v))
      ? REDACTED_VALUE
      : cutValue(maskValue(cmMap ? hideSecretKeys(v) : v, 0));
  if (change.op !== 'add') out.from = shape(change.from);
  if (change.op !== 'remove') out.to = shape(change.to);
  return out;
}

/** The last object key of a change path (`spec.password`, `data["db.password"]`), not a list position. */
function lastKey(path: string): string | undefined {
  const quoted = /\[("(?:[^"\\]|\\.)*")\]$/.exec(path);
  if (quoted) {
    try {
      return JSON.parse(quoted[1] ?? '""') as string;
    } catch {
      return undefined;
    }
  }
  return /(?:^|\.)([A-Za-z0-9_-]+)$/.exec(path)?.[1];
}

/** Masks credential-looking strings and secret-named env values inside a value. */
function maskValue(value: unknown, depth: number): unknown {
  if (depth > 200) return REDACTED;
  if (typeof value === 'string') return DIGEST.test(value) ? REDACTED_VALUE : maskSecretsInText(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    const secretName = typeof value.name === 'string' && isSecretKey(value.name);
    for (const [key, v] of Object.entries(value)) {
      const scalar = v !== null && typeof v !== 'object' && v !== '' && !/^(?:<redacted|\[REDACTED)/.test(String(v));
      setOwn(
        out,
        key,
        (secretName && key === 'value' && typeof v === 'string') || (scalar && isSecretKey(key))
          ? REDACTED
          : maskValue(v, depth + 1),
      );
    }
    return out;
  }
  return value;
}

function cutValue(value: unknown): unknown {
  if (typeof value === 'string') return cutString(value, DIFF_VALUE_MAX_CHARS);
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > DIFF_VALUE_MAX_CHARS ? cutString(json, DIFF_VALUE_MAX_CHARS) : value;
  }
  return value;
}

function cutString(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

function brief(value: unknown): string {
  if (typeof value === 'string') return cutString(value, SUMMARY_VALUE_MAX_CHARS);
  if (Array.isArray(value)) return '[…]';
  if (isRecord(value)) return '{…}';
  return String(value);
}

function describe(c: Change, secret: boolean): string {
  const hidden = c.from === REDACTED_VALUE || c.to === REDACTED_VALUE;
  if (c.op === 'add') {
    const shown = !hidden && (typeof c.to !== 'object' || c.to === null) ? `: ${brief(c.to)}` : '';
    return `+ ${c.path}${shown}`;
  }
  if (c.op === 'remove') return `- ${c.path}`;
  if (hidden || (secret && isSecretDataPath(c.path))) return `~ ${c.path} (value changed)`;
  return `~ ${c.path} ${brief(c.from)} -> ${brief(c.to)}`;
}

function summarizeChanges(
  all: Change[],
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): string {
  if (!before) {
    const name = str(rec(after.metadata)?.name) ?? '';
    const ns = str(rec(after.metadata)?.namespace);
    return `new ${str(after.kind) ?? 'object'} ${ns ? `${ns}/` : ''}${name}`.trim();
  }
  if (all.length === 0) return 'no changes';
  const secret = isSecretObject(after);
  const shown = all.slice(0, SUMMARY_ITEMS).map((c) => describe(c, secret));
  const more = all.length > SUMMARY_ITEMS ? `, … ${all.length - SUMMARY_ITEMS} more` : '';
  return `${all.length} change${all.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
}

export interface Baseline {
  object: Record<string, unknown>;
  hash: string;
}

/**
 * A drift baseline: the normalized object (Secret values and secret-named env values as
 * `sha256:<hex>` digests, see normalizeForDiff) and the sha256 hex of its canonical JSON. A later
 * read is compared by hashing baselineOf(live) with the same options, and diffObjects on the two
 * baseline objects says what changed. With `hmacKey`, digests are HMAC-SHA256
 * (`hmac-sha256:<hex>`), so a leaked baseline cannot be used to guess short passwords offline.
 */
export function baselineOf(obj: Record<string, unknown>, opts: { hmacKey?: string } = {}): Baseline {
  const object = normalize(obj, opts.hmacKey || undefined);
  return { object, hash: createHash('sha256').update(canonicalJson(object)).digest('hex') };
}

function digestSecretEnv(value: unknown, digestOf: (text: string) => string, depth: number): void {
  if (depth > 200) return;
  if (Array.isArray(value)) {
    for (const item of value) digestSecretEnv(item, digestOf, depth + 1);
    return;
  }
  if (!isRecord(value)) return;
  if (Array.isArray(value.env)) {
    for (const entry of value.env) {
      if (isRecord(entry) && typeof entry.value === 'string' && isSecretKey(str(entry.name) ?? '')) {
        entry.value = digestOf(entry.value);
      }
    }
  }
  for (const key of ['args', 'command']) {
    const argv = value[key];
    if (Array.isArray(argv)) value[key] = digestSecretArgv(argv, digestOf);
  }
  for (const child of Object.values(value)) digestSecretEnv(child, digestOf, depth + 1);
}
