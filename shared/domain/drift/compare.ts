/**
 * Drift of one object: its baseline (what was applied, normalized by baselineOf) against the live
 * object. Only fields the baseline sets count: what the API server defaulted or a webhook added is
 * not drift, and neither are items the baseline does not list in a list with a merge key (an
 * injected sidecar). Status, managedFields and the other server-set metadata are dropped by the
 * normalization both sides go through; Secret values and secret-named env values are compared as
 * digests. Equal values spelt differently are equal: quantities (`100m` = `0.1`, `1Gi` = `1024Mi`)
 * and numbers against their decimal text (`8080` = `"8080"`). Each difference is attributed to the
 * field manager owning the field now, then offered to the rules, which may say it is not drift.
 */

import { normalizeForDiff } from '../k8s/object-diff.ts';
import { isSecretKey, maskSecretsInText, REDACTED_VALUE, redactValue } from '../redact.ts';
import { childByItem, childByKey, type OwnerNode, type Ownership, ownerOf, readOwnership } from './ownership.ts';
import { displayPath, type PathSeg } from './paths.ts';
import type { DriftCandidate } from './policy.ts';
import { sameQuantity } from './quantity.ts';

export interface DriftFieldChange {
  path: string;
  baseline: string;
  live: string;
  manager?: string;
}

export interface ObjectDrift {
  /** The differences that are drift, at most `maxChanges`. */
  changes: DriftFieldChange[];
  /** Every difference that is drift. */
  changesTotal: number;
  /** Differences the rules said are not drift, with the first reason. */
  ignored: number;
  ignoredReason?: string;
}

export interface CompareOptions {
  /** Says why a difference is not drift, or undefined (see compileDriftRules). */
  rules?: (c: DriftCandidate) => string | undefined;
  /** Changes listed in full (default 20); the rest are counted. */
  maxChanges?: number;
}

export const DRIFT_VALUE_MAX_CHARS = 200;
export const ABSENT = '(absent)';

/** Top-level keys that identify the object (matched by the list) or belong to the server. */
const SKIPPED_TOP = new Set(['apiVersion', 'kind', 'status']);
/** Keys under which values are resource quantities. */
const QUANTITY_PARENTS = new Set([
  'requests',
  'limits',
  'hard',
  'capacity',
  'allocatable',
  'overhead',
  'default',
  'defaultRequest',
  'max',
  'min',
  'maxLimitRequestRatio',
]);
const QUANTITY_KEYS = new Set(['sizeLimit', 'storage']);
/** Merge keys of the lists Kubernetes merges by key; any other list of uniquely named items goes by `name`. */
const MERGE_KEYS: Record<string, string[]> = {
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port'],
  hostAliases: ['ip'],
  conditions: ['type'],
};
const DIGEST = /\b(sha256|hmac-sha256):([0-9a-f]{12})[0-9a-f]{52}\b/g;
const IS_DIGEST = /^(?:sha256|hmac-sha256):[0-9a-f]{64}$/;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compares a baseline with the live object (both raw or normalized; both are normalized here). */
export function compareWithBaseline(baseline: Rec, live: Rec, opts: CompareOptions = {}): ObjectDrift {
  const own = readOwnership(isRec(live.metadata) ? live.metadata.managedFields : undefined);
  const b = normalizeForDiff(baseline);
  const l = normalizeForDiff(live);
  const w = new Walker(own, l, b, opts);
  const nodes: Array<OwnerNode | undefined> = [own.root];
  for (const key of Object.keys(b)) {
    if (SKIPPED_TOP.has(key)) continue;
    w.path.push({ key });
    nodes.push(childByKey(own.root, key));
    if (!Object.hasOwn(l, key)) w.change(b[key], undefined, nodes);
    else w.walk(b[key], l[key], nodes, key === 'metadata' ? false : QUANTITY_KEYS.has(key));
    nodes.pop();
    w.path.pop();
  }
  const out: ObjectDrift = { changes: w.changes, changesTotal: w.total, ignored: w.ignored };
  if (w.ignoredReason) out.ignoredReason = w.ignoredReason;
  return out;
}

class Walker {
  readonly path: PathSeg[] = [];
  readonly changes: DriftFieldChange[] = [];
  total = 0;
  ignored = 0;
  ignoredReason: string | undefined;
  private readonly own: Ownership;
  private readonly live: Rec;
  private readonly baseline: Rec;
  private readonly opts: CompareOptions;
  private readonly max: number;

  constructor(own: Ownership, live: Rec, baseline: Rec, opts: CompareOptions) {
    this.own = own;
    this.live = live;
    this.baseline = baseline;
    this.opts = opts;
    this.max = Math.max(0, opts.maxChanges ?? 20);
  }

  walk(b: unknown, l: unknown, nodes: Array<OwnerNode | undefined>, quantity: boolean): void {
    if (isRec(b)) {
      if (!isRec(l)) {
        this.change(b, l, nodes);
        return;
      }
      const node = nodes[nodes.length - 1];
      for (const key of Object.keys(b)) {
        this.path.push({ key });
        nodes.push(childByKey(node, key));
        if (!Object.hasOwn(l, key)) this.change(b[key], undefined, nodes);
        else this.walk(b[key], l[key], nodes, quantity || QUANTITY_PARENTS.has(key) || QUANTITY_KEYS.has(key));
        nodes.pop();
        this.path.pop();
      }
      return;
    }
    if (Array.isArray(b)) {
      if (!Array.isArray(l)) {
        this.change(b, l, nodes);
        return;
      }
      const last = this.path[this.path.length - 1];
      const mergeKey = mergeKeyOf(last && 'key' in last ? last.key : '', b);
      if (mergeKey) {
        this.walkKeyed(b as Rec[], l, mergeKey, nodes, quantity);
        return;
      }
      if (b.some((item) => isRec(item) || Array.isArray(item))) {
        // Items without a key: by position, and items past the baseline's are not drift.
        const node = nodes[nodes.length - 1];
        b.forEach((item, index) => {
          this.path.push({ index });
          nodes.push(childByItem(node, l[index], index));
          if (index >= l.length) this.change(item, undefined, nodes);
          else this.walk(item, l[index], nodes, quantity);
          nodes.pop();
          this.path.pop();
        });
        return;
      }
      // A list of scalars (args, command, finalizers) is one value.
      if (b.length !== l.length || b.some((v, i) => !sameScalar(v, l[i], quantity))) this.change(b, l, nodes);
      return;
    }
    if (!sameScalar(b, l, quantity)) this.change(b, l, nodes);
  }

  private walkKeyed(b: Rec[], l: unknown[], mergeKey: string, nodes: Array<OwnerNode | undefined>, quantity: boolean) {
    const node = nodes[nodes.length - 1];
    const byKey = new Map<unknown, number>();
    l.forEach((item, i) => {
      if (isRec(item) && !byKey.has(String(item[mergeKey]))) byKey.set(String(item[mergeKey]), i);
    });
    for (const item of b) {
      const value = item[mergeKey] as string | number;
      const index = byKey.get(String(value));
      this.path.push({ index: index ?? -1, mergeKey, mergeValue: value });
      if (index === undefined) {
        nodes.push(undefined);
        this.change(item, undefined, nodes);
      } else {
        nodes.push(childByItem(node, l[index], index));
        this.walk(item, l[index], nodes, quantity);
      }
      nodes.pop();
      this.path.pop();
    }
  }

  change(b: unknown, l: unknown, nodes: ReadonlyArray<OwnerNode | undefined>): void {
    const owner = l === undefined ? undefined : ownerOf(this.own, nodes);
    if (this.opts.rules) {
      const path = [...this.path];
      const { live, baseline } = this;
      const why = this.opts.rules({
        path,
        ...(owner
          ? { manager: { manager: owner.manager, ...(owner.subresource ? { subresource: owner.subresource } : {}) } }
          : {}),
        valueAt: (n) => valueAt(live, path, n) ?? valueAt(baseline, path, n),
      });
      if (why !== undefined) {
        this.ignored++;
        this.ignoredReason ??= why;
        return;
      }
    }
    this.total++;
    if (this.changes.length >= this.max) return;
    const lastKey = [...this.path].reverse().find((s): s is { key: string } => 'key' in s)?.key ?? '';
    const secretNamed = isSecretKey(lastKey);
    const change: DriftFieldChange = {
      path: displayPath(this.path),
      baseline: showValue(b, secretNamed),
      live: l === undefined ? ABSENT : showValue(l, secretNamed),
    };
    if (owner) change.manager = owner.manager;
    this.changes.push(change);
  }
}

/** The value at the first n segments of a path, following list items by merge key (else by position). */
function valueAt(root: unknown, path: readonly PathSeg[], n: number): unknown {
  let cur = root;
  for (const seg of path.slice(0, n)) {
    if ('key' in seg) cur = isRec(cur) ? cur[seg.key] : undefined;
    else if (!Array.isArray(cur)) cur = undefined;
    else if (seg.mergeKey !== undefined) {
      const { mergeKey, mergeValue } = seg;
      cur = cur.find((item) => isRec(item) && String(item[mergeKey]) === String(mergeValue));
    } else cur = cur[seg.index];
  }
  return cur;
}

function mergeKeyOf(listKey: string, items: unknown[]): string | undefined {
  const known = Object.hasOwn(MERGE_KEYS, listKey) ? (MERGE_KEYS[listKey] as string[]) : [];
  for (const key of [...known, 'name']) {
    const seen = new Set<string>();
    const ok = items.every((item) => {
      const v = isRec(item) ? item[key] : undefined;
      if ((typeof v !== 'string' && typeof v !== 'number') || seen.has(String(v))) return false;
      seen.add(String(v));
      return true;
    });
    if (ok && items.length > 0) return key;
  }
  return undefined;
}

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

function sameScalar(a: unknown, b: unknown, quantity: boolean): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'string') return NUMERIC.test(b) && Number(b) === a;
  if (typeof a === 'string' && typeof b === 'number') return NUMERIC.test(a) && Number(a) === b;
  return quantity && sameQuantity(a, b);
}

/** Bounded display text: digests shortened to 12 hex digits, secret-named values hidden, credentials masked. */
function showValue(value: unknown, secretNamed: boolean): string {
  let text: string;
  if (typeof value === 'string') {
    if (secretNamed && !IS_DIGEST.test(value)) return REDACTED_VALUE;
    text = maskSecretsInText(value);
  } else if (value === null || typeof value !== 'object') text = String(value);
  else text = JSON.stringify(redactValue(value));
  text = text.replace(DIGEST, '$1:$2');
  const chars = Array.from(text);
  return chars.length > DRIFT_VALUE_MAX_CHARS ? `${chars.slice(0, DRIFT_VALUE_MAX_CHARS).join('')}…` : text;
}
