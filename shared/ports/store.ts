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

/**
 * The item is larger than the store accepts. Not retryable: the same write fails again, so the
 * caller must write less (audit records summarise their largest fields).
 */
/** DynamoDB's item limit (shared/domain/store-items.ts STORE_LIMITS.itemBytes), for the message. */
const ITEM_LIMIT_BYTES = 400 * 1024;

export class ItemTooLargeError extends Error {
  override name = 'ItemTooLargeError';
  readonly pk: string;
  readonly sk: string;
  readonly bytes: number | undefined;
  constructor(pk: string, sk: string, bytes?: number) {
    super(
      `Item ${pk.slice(0, 80)} / ${sk.slice(0, 80)} exceeds the store's ${ITEM_LIMIT_BYTES}-byte item limit` +
        (bytes !== undefined ? ` (${bytes} bytes)` : ''),
    );
    this.pk = pk;
    this.sk = sk;
    this.bytes = bytes;
  }
}
