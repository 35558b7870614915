import { createHash } from 'node:crypto';
import {
  type CollectionReference,
  type DocumentReference,
  type DocumentSnapshot,
  FieldValue,
  Firestore,
  Timestamp,
} from '@google-cloud/firestore';
import { capText } from '../../domain/bounds.ts';
import { boundedPk, boundedSk, isExpired, itemBytes, STORE_LIMITS } from '../../domain/store-items.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { PutCondition, PutInput, QueryInput, QueryOutput, Store, StoreItem } from '../../ports/store.ts';
import { ConditionFailedError, ItemTooLargeError, StoreUnavailableError } from '../../ports/store.ts';

/** The Timestamp field Firestore's TTL policy deletes on (terraform puts the policy on it). */
export const FIRESTORE_TTL_FIELD = 'expireAt';
/** The collection group holding every item: `<collection>/<pk id>/items/<sk id>`. */
export const FIRESTORE_ITEMS_GROUP = 'items';

/** How long one Store call may take, retries included, before it is a StoreUnavailableError. */
const DEFAULT_TIMEOUT_MS = 20_000;
/** Attempts of a read-then-write that lost a race to another writer before giving up. */
const MAX_ATTEMPTS = 10;
/** Firestore's document id limit (https://firebase.google.com/docs/firestore/quotas). */
const DOC_ID_BYTES = 1500;

interface StoredDoc {
  pk: string;
  sk: string;
  /** The document as JSON text (see the class comment). */
  data: string;
  version: number;
  expireAt?: Timestamp;
}

/**
 * Store on Firestore. Each partition is a (possibly missing) document `<collection>/<pk id>` whose
 * subcollection `items` holds one document per sort key with the fields pk, sk, data, version and,
 * when the item expires, `expireAt` (a Timestamp; a TTL policy on the `items` collection group
 * deletes on it, within a day or so, so every read also hides expired items). Queries run on one
 * subcollection ordered by the `sk` field with range filters: single-field indexes only, no
 * composite index to deploy.
 *
 * Document ids are the keys escaped (`%` and `/` percent-encoded, a leading `.`, `_` or `#` too, so
 * no id is `.`, `..` or `__x__`), or `#` + SHA-256 of the key when that would pass Firestore's
 * 1500-byte id limit; the key itself is in the pk/sk fields, which give the order.
 *
 * `data` is stored as JSON text, not as a Firestore map: Firestore refuses arrays directly inside
 * arrays, turns integers and doubles into distinct types, and indexes every nested field (at most
 * 40,000 index entries per document); a string round-trips any JSON value exactly and costs one
 * index entry.
 *
 * Conditional writes read the item, check the condition, then write with a precondition
 * (`create()` fails if the document exists; update/delete carry the read's update time), so a
 * concurrent writer makes the write fail and the check run again on what is there now.
 */
export class FirestoreStore implements Store {
  readonly kind = 'firestore';
  private readonly db: Firestore;
  private readonly collection: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  /** Calls given up on at their deadline; the client may still be retrying them. */
  private abandoned = 0;

  constructor(db: Firestore, collection: string, opts: { clock?: Clock; timeoutMs?: number } = {}) {
    this.db = db;
    this.collection = collection;
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private items(pk: string): CollectionReference {
    return this.db.collection(this.collection).doc(docId(pk)).collection(FIRESTORE_ITEMS_GROUP);
  }

  private ref(pk: string, sk: string): DocumentReference {
    return this.items(pk).doc(docId(sk));
  }

  /**
   * Runs one Store call within the deadline. Failures worth retrying (unavailable, throttled,
   * contention, a deadline) become StoreUnavailableError; an item Firestore finds too large becomes
   * ItemTooLargeError. Past the deadline the client may still be retrying a write in the background
   * (its own retries last up to 10 minutes), so a timed-out write may yet land: callers retry with
   * conditions, which makes that safe.
   */
  private async run<T>(what: string, pk: string, sk: string, call: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abandoned++;
        reject(
          new StoreUnavailableError(`Firestore ${what} on ${this.collection}: no answer within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
    });
    const pending = call(deadline);
    // Given up on at its deadline, the call may still fail later (the client terminated under it):
    // that failure is nobody's to handle, and must not surface as an unhandled rejection.
    pending.catch(() => {});
    try {
      return await Promise.race([pending, timeout]);
    } catch (err) {
      if (
        err instanceof ConditionFailedError ||
        err instanceof ItemTooLargeError ||
        err instanceof StoreUnavailableError
      ) {
        throw err;
      }
      if (isTooLarge(err)) throw new ItemTooLargeError(pk, sk);
      if (isRetryable(err)) {
        const e = err as Error;
        throw new StoreUnavailableError(`Firestore ${what} on ${this.collection}: ${capText(e.message, 300)}`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The item as stored (expired or not), with the snapshot whose update time guards a write. */
  private async read(ref: DocumentReference): Promise<{ snap: DocumentSnapshot; item?: StoreItem }> {
    const snap = await ref.get();
    return snap.exists ? { snap, item: fromDoc(snap.data() as StoredDoc) } : { snap };
  }

  private live(item: StoreItem | undefined): StoreItem | undefined {
    return item && !isExpired(item, this.clock.now()) ? item : undefined;
  }

  async get(pk: string, sk: string): Promise<StoreItem | undefined> {
    const ref = this.ref(boundedPk(pk), boundedSk(sk));
    return this.run('get', pk, sk, async () => this.live((await this.read(ref)).item));
  }

  async put(raw: PutInput, condition?: PutCondition): Promise<StoreItem> {
    const input = { ...raw, pk: boundedPk(raw.pk), sk: boundedSk(raw.sk) };
    // Counted as the other adapters count it (the largest version), so all refuse the same items.
    const bytes = itemBytes({ ...input, version: Number.MAX_SAFE_INTEGER });
    if (bytes > STORE_LIMITS.itemBytes) throw new ItemTooLargeError(input.pk, input.sk, bytes);
    const expireAt = input.expiresAt === undefined ? undefined : toTimestamp(input.expiresAt);
    const data = JSON.stringify(input.data);
    const ref = this.ref(input.pk, input.sk);
    return this.run('put', input.pk, input.sk, (deadline) =>
      this.retryOnConflict('put', deadline, async () => {
        const { snap, item: stored } = await this.read(ref);
        const live = this.live(stored);
        // An expired item still stored counts as absent, and no version of it matches.
        if (condition && 'ifAbsent' in condition && live) throw new ConditionFailedError(input.pk, input.sk);
        if (condition && 'ifVersion' in condition && live?.version !== condition.ifVersion) {
          throw new ConditionFailedError(input.pk, input.sk);
        }
        // Versions only grow, also over an expired item: a holder of the old version cannot act on the new one.
        const version = (stored?.version ?? 0) + 1;
        const doc = { pk: input.pk, sk: input.sk, data, version };
        if (snap.exists && snap.updateTime) {
          await ref.update(
            { ...doc, [FIRESTORE_TTL_FIELD]: expireAt ?? FieldValue.delete() },
            { lastUpdateTime: snap.updateTime },
          );
        } else {
          await ref.create(expireAt ? { ...doc, [FIRESTORE_TTL_FIELD]: expireAt } : doc);
        }
        return {
          pk: input.pk,
          sk: input.sk,
          data: JSON.parse(data) as Record<string, unknown>,
          version,
          ...(input.expiresAt !== undefined ? { expiresAt: fromTimestamp(expireAt as Timestamp) } : {}),
        };
      }),
    );
  }

  async delete(rawPk: string, rawSk: string, condition?: { ifVersion: number }): Promise<boolean> {
    const pk = boundedPk(rawPk);
    const sk = boundedSk(rawSk);
    const ref = this.ref(pk, sk);
    return this.run('delete', pk, sk, (deadline) =>
      this.retryOnConflict('delete', deadline, async () => {
        const { snap, item } = await this.read(ref);
        const live = this.live(item);
        // An expired item counts as absent: a conditional delete of it fails, as in the memory store.
        if (condition && live?.version !== condition.ifVersion) throw new ConditionFailedError(pk, sk);
        if (!snap.exists || !snap.updateTime) return false;
        await ref.delete({ lastUpdateTime: snap.updateTime });
        return live !== undefined;
      }),
    );
  }

  /**
   * Runs a read-check-write until its write is not refused by a concurrent change (the next round
   * checks the condition on what the other writer left), at most MAX_ATTEMPTS times.
   */
  private async retryOnConflict<T>(what: string, deadline: number, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isConflict(err)) throw err;
        if (n >= MAX_ATTEMPTS || Date.now() > deadline) {
          throw new StoreUnavailableError(
            `Firestore ${what} on ${this.collection}: still contended after ${n} attempts`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** Math.min(n, 6)));
      }
    }
  }

  async query(input: QueryInput): Promise<QueryOutput> {
    const pk = boundedPk(input.pk);
    let q = this.items(pk).orderBy('sk', input.descending ? 'desc' : 'asc');
    if (input.prefix) {
      q = q.where('sk', '>=', input.prefix);
      const end = prefixEnd(input.prefix);
      if (end !== undefined) q = q.where('sk', '<', end);
    }
    if (input.after !== undefined) q = q.where('sk', input.descending ? '<' : '>', boundedSk(input.after));
    // One extra document tells whether another page exists; expired ones are dropped from the page
    // after the page is cut, so pages may be short but never skip or repeat a key.
    q = q.limit(input.limit + 1);
    return this.run('query', pk, input.after ?? '', async () => {
      const docs = (await q.get()).docs.map((d) => fromDoc(d.data() as StoredDoc));
      const page = docs.slice(0, input.limit);
      const items = page.filter((i) => this.live(i));
      const last = page.at(-1);
      return { items, ...(docs.length > input.limit && last ? { lastKey: last.sk } : {}) };
    });
  }

  async close(): Promise<void> {
    // The client waits for every pending call before it closes. A call given up on at its deadline
    // may retry for minutes; terminating the client under it makes the SDK's next retry fail on a
    // promise of its own that nothing handles (an unhandled rejection), so such a client is left to
    // finish its retries and be collected instead.
    if (this.abandoned === 0) await this.db.terminate();
  }
}

/**
 * A FirestoreStore for the config's `store` settings. With `emulatorHost` the client talks plain
 * HTTP to the emulator with a placeholder API key, so it never looks for Google credentials.
 * The client uses the REST transport (`preferRest`): it loads no gRPC stack until a call needs one
 * (this store never does), which makes cold starts on Cloud Functions shorter.
 */
export function createFirestoreStore(
  settings: { project: string; database: string; collection: string; emulatorHost?: string },
  opts: { clock?: { now(): number }; timeoutMs?: number } = {},
): FirestoreStore {
  const db = new Firestore({
    projectId: settings.project,
    databaseId: settings.database,
    preferRest: true,
    ...(settings.emulatorHost ? { host: settings.emulatorHost, ssl: false, apiKey: 'emulator' } : {}),
  });
  return new FirestoreStore(db, settings.collection, opts);
}

/** With the u flag a paired surrogate is one astral code point, so this finds only lone ones. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A valid, unique document id for a key: `%` and `/` percent-encoded, a leading `.`, `_` or `#`
 * too (so no id is `.`, `..` or `__x__`, and none starts with `#`), the empty key `%00`; an id over
 * Firestore's 1500 bytes, or a key that is not well-formed UTF-16, is `#` + the SHA-256 of its UTF-16
 * code units (UTF-8 would turn distinct lone surrogates into the same U+FFFD).
 */
export function docId(key: string): string {
  if (key === '') return '%00';
  let id = key.replace(/[%/]/g, (c) => (c === '%' ? '%25' : '%2F'));
  if (/^[._#]/.test(id)) id = `%${id.charCodeAt(0).toString(16).toUpperCase()}${id.slice(1)}`;
  if (Buffer.byteLength(id) <= DOC_ID_BYTES && !LONE_SURROGATE.test(key)) return id;
  return `#${createHash('sha256').update(key, 'utf16le').digest('hex')}`;
}

/**
 * The smallest string above every string that starts with `prefix`, in Firestore's order (UTF-8
 * bytes, which is code point order): the last code point plus one, skipping the surrogate range;
 * undefined when there is none (a prefix of U+10FFFF only).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

function toTimestamp(expiresAt: number): Timestamp {
  // Timestamp covers years 1 to 9999; outside that Firestore cannot store the time.
  if (!Number.isFinite(expiresAt) || expiresAt < -62135596800 || expiresAt >= 253402300800) {
    throw new RangeError(`expiresAt must be epoch seconds within years 1-9999, got ${expiresAt}`);
  }
  return Timestamp.fromMillis(expiresAt * 1000);
}

function fromTimestamp(t: Timestamp): number {
  return t.seconds + t.nanoseconds / 1e9;
}

function fromDoc(doc: StoredDoc): StoreItem {
  return {
    pk: doc.pk,
    sk: doc.sk,
    data: JSON.parse(doc.data) as Record<string, unknown>,
    version: doc.version,
    ...(doc.expireAt ? { expiresAt: fromTimestamp(doc.expireAt) } : {}),
  };
}

/** gRPC status codes (the REST transport reports the same numbers). */
const Code = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  INVALID_ARGUMENT: 3,
} as const;

/** Another writer changed the document between our read and our write. */
function isConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === Code.ALREADY_EXISTS || code === Code.FAILED_PRECONDITION || code === Code.NOT_FOUND;
}

const RETRYABLE = new Set<unknown>([
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
]);
const NETWORK_CODES = new Set<unknown>(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return RETRYABLE.has(code) || NETWORK_CODES.has(code);
}

/** Firestore's refusal of a value or document over its size limits (1 MiB document, 1 MiB - 89 bytes field). */
function isTooLarge(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string };
  return (
    e.code === Code.INVALID_ARGUMENT && /longer than \d+ bytes|exceeds the maximum|too large/i.test(e.message ?? '')
  );
}
