// In-memory object storage: one table per storage key, a global resourceVersion counter,
// a bounded history of change events for watches, and an owner index for garbage collection.
import type { KubeObject, WatchEventType } from './types.ts';

/** Who made a write: the HTTP API, the built-in controller, or a test seeding data directly. */
export type WriteOrigin = 'api' | 'controller' | 'seed';

export interface StoreEvent {
  type: WatchEventType;
  storage: string;
  key: string;
  object: KubeObject;
  previous?: KubeObject;
  rv: number;
  origin: WriteOrigin;
  /** Seeded objects are only reconciled by the controller when the seed asked for it. */
  reconcile: boolean;
}

export type StoreListener = (event: StoreEvent) => void;

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index in a sorted array whose element is greater than (or equal to, when inclusive) the probe. */
function lowerBound(sorted: readonly string[], probe: string, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareKeys(sorted[mid] as string, probe);
    if (cmp < 0 || (!inclusive && cmp === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Table {
  readonly objects = new Map<string, KubeObject>();
  private sorted: string[] = [];
  private dirty = false;

  set(key: string, obj: KubeObject): void {
    if (!this.objects.has(key)) this.dirty = true;
    this.objects.set(key, obj);
  }

  delete(key: string): void {
    if (this.objects.delete(key)) this.dirty = true;
  }

  /** Keys sorted by namespace/name; re-sorted lazily after inserts and deletes. */
  keys(): readonly string[] {
    if (this.dirty) {
      this.sorted = [...this.objects.keys()].sort(compareKeys);
      this.dirty = false;
    }
    return this.sorted;
  }
}

export interface ScanOptions {
  namespace?: string;
  /** Start strictly after this key (paging). */
  after?: string;
}

export class ObjectStore {
  private rv = 0;
  private readonly tables = new Map<string, Table>();
  private history: StoreEvent[] = [];
  private compactedRv = 0;
  private readonly historyLimit: number;
  private readonly listeners = new Set<StoreListener>();
  /** owner uid -> set of `${storage}\u0000${key}` */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(opts: { historyLimit: number }) {
    this.historyLimit = opts.historyLimit;
  }

  resourceVersion(): number {
    return this.rv;
  }

  /** Lowest resourceVersion a watch can still start from. */
  oldestWatchableRv(): number {
    return this.compactedRv;
  }

  private table(storage: string): Table {
    let t = this.tables.get(storage);
    if (!t) {
      t = new Table();
      this.tables.set(storage, t);
    }
    return t;
  }

  get(storage: string, key: string): KubeObject | undefined {
    return this.tables.get(storage)?.objects.get(key);
  }

  count(storage: string): number {
    return this.tables.get(storage)?.objects.size ?? 0;
  }

  /** Objects in key order, optionally limited to a namespace and starting after a key. */
  *scan(storage: string, opts: ScanOptions = {}): Generator<[string, KubeObject]> {
    const t = this.tables.get(storage);
    if (!t) return;
    const keys = t.keys();
    const prefix = opts.namespace !== undefined ? `${opts.namespace}/` : undefined;
    let start = 0;
    if (prefix !== undefined) start = lowerBound(keys, prefix, true);
    if (opts.after !== undefined) start = Math.max(start, lowerBound(keys, opts.after, false));
    for (let i = start; i < keys.length; i++) {
      const key = keys[i] as string;
      if (prefix !== undefined && !key.startsWith(prefix)) return;
      const obj = t.objects.get(key);
      if (obj) yield [key, obj];
    }
  }

  /** How many objects a scan with these options would visit, without visiting them. */
  countAfter(storage: string, opts: ScanOptions = {}): number {
    const t = this.tables.get(storage);
    if (!t) return 0;
    const keys = t.keys();
    let start = 0;
    let end = keys.length;
    if (opts.namespace !== undefined) {
      start = lowerBound(keys, `${opts.namespace}/`, true);
      // '0' is the character after '/', so this bounds every key with the `${namespace}/` prefix.
      end = lowerBound(keys, `${opts.namespace}0`, true);
    }
    if (opts.after !== undefined) start = Math.max(start, lowerBound(keys, opts.after, false));
    return Math.max(0, end - start);
  }

  list(storage: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [, obj] of this.scan(storage, namespace !== undefined ? { namespace } : {})) out.push(obj);
    return out;
  }

  /** Stores a new object (the store takes ownership; do not mutate it afterwards). */
  create(
    storage: string,
    key: string,
    obj: KubeObject,
    origin: WriteOrigin,
    reconcile = origin !== 'seed',
  ): KubeObject {
    const stored = this.withNextRv(obj);
    this.table(storage).set(key, stored);
    this.indexOwners(storage, key, undefined, stored);
    this.emit({ type: 'ADDED', storage, key, object: stored, rv: this.rv, origin, reconcile });
    return stored;
  }

  update(
    storage: string,
    key: string,
    obj: KubeObject,
    origin: WriteOrigin,
    reconcile = origin !== 'seed',
  ): KubeObject {
    const t = this.table(storage);
    const previous = t.objects.get(key);
    const stored = this.withNextRv(obj);
    t.set(key, stored);
    this.indexOwners(storage, key, previous, stored);
    const event: StoreEvent = {
      type: previous ? 'MODIFIED' : 'ADDED',
      storage,
      key,
      object: stored,
      rv: this.rv,
      origin,
      reconcile,
    };
    if (previous) event.previous = previous;
    this.emit(event);
    return stored;
  }

  remove(storage: string, key: string, origin: WriteOrigin): KubeObject | undefined {
    const t = this.tables.get(storage);
    const previous = t?.objects.get(key);
    if (!t || !previous) return undefined;
    t.delete(key);
    this.indexOwners(storage, key, previous, undefined);
    const tombstone = this.withNextRv(previous);
    this.emit({ type: 'DELETED', storage, key, object: tombstone, previous, rv: this.rv, origin, reconcile: true });
    return tombstone;
  }

  dropStorage(storage: string): void {
    this.tables.delete(storage);
  }

  dependentsOf(ownerUid: string): Array<{ storage: string; key: string }> {
    const set = this.dependents.get(ownerUid);
    if (!set) return [];
    return [...set].map((entry) => {
      const [storage, key] = entry.split('\u0000') as [string, string];
      return { storage, key };
    });
  }

  /** Events after `rv`, or undefined when they are no longer in the bounded history. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid] as StoreEvent).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Forgets all watch history, as etcd compaction does. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private withNextRv(obj: KubeObject): KubeObject {
    this.rv++;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
  }

  private indexOwners(
    storage: string,
    key: string,
    before: KubeObject | undefined,
    after: KubeObject | undefined,
  ): void {
    const entry = `${storage}\u0000${key}`;
    for (const ref of before?.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(entry);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
    for (const ref of after?.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) {
        set = new Set();
        this.dependents.set(ref.uid, set);
      }
      set.add(entry);
    }
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit * 1.25) {
      const drop = this.history.length - this.historyLimit;
      this.compactedRv = (this.history[drop - 1] as StoreEvent).rv;
      this.history = this.history.slice(drop);
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error('fake-kube: store listener failed', err);
      }
    }
  }
}
