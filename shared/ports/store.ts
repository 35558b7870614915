import { createHash } from 'node:crypto';

/**
 * The Store port: a small document store with partition/sort keys, TTL and conditional writes.
 * DynamoDB (single table), Firestore and an in-memory fake implement it; every adapter passes
 * test/contract/store.contract.ts. Domain repositories (audit, API keys, operations, ...) are
 * built on top of it in shared/domain, so no adapter knows about any record type.
 */
export interface StoreItem {
  /** Partition key: the unit of a query (for example `audit#2026-11-21`). */
  pk: string;
  /** Sort key within the partition; queries return items in sort-key order. */
  sk: string;
  /** The document. JSON values only. */
  data: Record<string, unknown>;
  /** Incremented by the store on every write; use it for compare-and-set. */
  version: number;
  /** Epoch seconds after which the item no longer exists for readers (TTL). */
  expiresAt?: number;
}

export type PutCondition = { ifAbsent: true } | { ifVersion: number };

export interface PutInput {
  pk: string;
  sk: string;
  data: Record<string, unknown>;
  expiresAt?: number;
}

export interface QueryInput {
  pk: string;
  /** Only sort keys starting with this prefix. */
  prefix?: string;
  /** Only sort keys strictly after (ascending) or before (descending) this one: the continue point. */
  after?: string;
  /** Newest first when sort keys are time-ordered. */
  descending?: boolean;
  /** At most this many items (1..1000). */
  limit: number;
}

export interface QueryOutput {
  items: StoreItem[];
  /** Sort key to pass as `after` for the next page; absent on the last page. */
  lastKey?: string;
}

export interface Store {
  /** `memory`, `dynamodb` or `firestore`, for server_info and logs. */
  readonly kind: string;
  get(pk: string, sk: string): Promise<StoreItem | undefined>;
  /**
   * Writes an item. With a condition, throws ConditionFailedError when it does not hold. An item over
   * STORE_LIMITS.itemBytes throws ItemTooLargeError. On every call, keys longer than STORE_LIMITS are
   * replaced by their boundedKey, so a long key reads back what was written under it.
   */
  put(item: PutInput, condition?: PutCondition): Promise<StoreItem>;
  /** Deletes an item; with ifVersion, only that version. Returns whether an item was deleted. */
  delete(pk: string, sk: string, condition?: { ifVersion: number }): Promise<boolean>;
  query(input: QueryInput): Promise<QueryOutput>;
  close(): Promise<void>;
}

export class ConditionFailedError extends Error {
  override name = 'ConditionFailedError';
  readonly pk: string;
  readonly sk: string;
  constructor(pk: string, sk: string) {
    super(`Condition failed for ${pk} / ${sk}`);
    this.pk = pk;
    this.sk = sk;
  }
}

/**
 * The store could not be reached or asked the caller to slow down (throttling, a 5xx, a network
 * error): nothing was decided, and the same call may succeed later. Adapters throw it for such
 * failures so callers can retry without knowing the database.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

export function isExpired(item: { expiresAt?: number }, nowMs: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt * 1000 <= nowMs;
}

/**
 * DynamoDB's limits, which every adapter enforces so a test on the memory store meets the same
 * refusals as production: 400 KB per item (attribute names included, strings as UTF-8), 2048 bytes
 * per partition key and 1024 bytes per sort key.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const STORE_LIMITS = { itemBytes: 400 * 1024, pkBytes: 2048, skBytes: 1024 } as const;

/**
 * The item is larger than the store accepts. Not retryable: the same write fails again, so the
 * caller must write less (audit records summarise their largest fields).
 */
export class ItemTooLargeError extends Error {
  override name = 'ItemTooLargeError';
  readonly pk: string;
  readonly sk: string;
  readonly bytes: number | undefined;
  constructor(pk: string, sk: string, bytes?: number) {
    super(
      `Item ${pk.slice(0, 80)} / ${sk.slice(0, 80)} exceeds the store's ${STORE_LIMITS.itemBytes}-byte item limit` +
        (bytes !== undefined ? ` (${bytes} bytes)` : ''),
    );
    this.pk = pk;
    this.sk = sk;
    this.bytes = bytes;
  }
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * A key that fits in `maxBytes` of UTF-8. A longer one keeps its head, then a visible marker with
 * the number of bytes cut and a hash of the whole key, so distinct long keys stay distinct and the
 * same long key always maps to the same stored key (adapters bound every key they are given, on
 * writes and reads alike). A bounded key is returned unchanged, so bounding twice is harmless.
 */
export function boundedKey(key: string, maxBytes: number): string {
  const total = utf8(key);
  if (total <= maxBytes) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const marker = (cut: number) => `…[truncated ${cut} bytes #${hash}]`;
  // The marker's own length depends on how many bytes are cut; the largest count bounds it.
  const room = maxBytes - utf8(marker(total));
  const head = cutUtf8(key, Math.max(0, room));
  return `${head}${marker(total - utf8(head))}`;
}

/** A partition key as every adapter stores it (boundedKey at DynamoDB's 2048 bytes). */
export const boundedPk = (pk: string): string => boundedKey(pk, STORE_LIMITS.pkBytes);
/** A sort key as every adapter stores it (boundedKey at DynamoDB's 1024 bytes). */
export const boundedSk = (sk: string): string => boundedKey(sk, STORE_LIMITS.skBytes);

/** The longest prefix of `s` that fits in `maxBytes` of UTF-8, never splitting a character. */
function cutUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * The item's size as DynamoDB counts it, as an upper estimate: attribute names and strings in
 * UTF-8 bytes, numbers 1 byte plus one per two significant digits (plus a sign byte), booleans and
 * nulls 1 byte, lists and maps 3 bytes plus 1 per element. dynalite counts strings in UTF-16 code
 * units, which is kinder for non-ASCII text; the adapters check this estimate first.
 */
export function itemBytes(item: {
  pk: string;
  sk: string;
  data: unknown;
  version: number;
  expiresAt?: number;
}): number {
  let size = 2 + utf8(item.pk) + 2 + utf8(item.sk) + 4 + valueBytes(item.data) + 7 + numberBytes(item.version);
  if (item.expiresAt !== undefined) size += 9 + numberBytes(item.expiresAt);
  return size;
}

function numberBytes(n: number): number {
  const digits = Math.abs(n).toExponential().replace(/e.*$/, '').replace('.', '').length;
  return 1 + Math.ceil(digits / 2) + 1;
}

function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number') return numberBytes(v);
  if (Array.isArray(v)) return 3 + v.reduce<number>((sum, x) => sum + 1 + valueBytes(x), 0);
  if (typeof v === 'object') {
    let sum = 3;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      sum += 1 + utf8(k) + valueBytes(x);
    }
    return sum;
  }
  return utf8(String(v));
}
