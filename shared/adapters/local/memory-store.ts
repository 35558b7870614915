import { boundedPk, boundedSk, isExpired, itemBytes, STORE_LIMITS } from '../../domain/store-items.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { PutCondition, PutInput, QueryInput, QueryOutput, Store, StoreItem } from '../../ports/store.ts';
import { ConditionFailedError, ItemTooLargeError } from '../../ports/store.ts';

const pkOf = boundedPk;
const skOf = boundedSk;

/**
 * In-memory Store for unit tests. Same semantics as the database adapters (see the contract suite),
 * DynamoDB's limits included: keys bounded, items over 400 KB refused.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly partitions = new Map<string, Map<string, StoreItem>>();
  private readonly clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  // Reads and checks are synchronous so a conditional write is atomic, as in the databases.
  private live(pk: string, sk: string): StoreItem | undefined {
    const item = this.partitions.get(pk)?.get(sk);
    return item && !isExpired(item, this.clock.now()) ? item : undefined;
  }

  async get(pk: string, sk: string): Promise<StoreItem | undefined> {
    const item = this.live(pkOf(pk), skOf(sk));
    return item ? structuredClone(item) : undefined;
  }

  async put(raw: PutInput, condition?: PutCondition): Promise<StoreItem> {
    const input = { ...raw, pk: pkOf(raw.pk), sk: skOf(raw.sk) };
    const existing = this.live(input.pk, input.sk);
    if (condition && 'ifAbsent' in condition && existing) throw new ConditionFailedError(input.pk, input.sk);
    if (condition && 'ifVersion' in condition && existing?.version !== condition.ifVersion) {
      throw new ConditionFailedError(input.pk, input.sk);
    }
    // Versions only grow, also over an expired item: a holder of the old version cannot act on the new one.
    const previous = this.partitions.get(input.pk)?.get(input.sk);
    const item: StoreItem = {
      pk: input.pk,
      sk: input.sk,
      data: structuredClone(input.data),
      version: (previous?.version ?? 0) + 1,
      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
    };
    // Counted as the DynamoDB adapter counts it (the largest version), so both refuse the same items.
    const bytes = itemBytes({ ...item, version: Number.MAX_SAFE_INTEGER });
    if (bytes > STORE_LIMITS.itemBytes) throw new ItemTooLargeError(input.pk, input.sk, bytes);
    let partition = this.partitions.get(input.pk);
    if (!partition) {
      partition = new Map();
      this.partitions.set(input.pk, partition);
    }
    partition.set(input.sk, item);
    return structuredClone(item);
  }

  async delete(rawPk: string, rawSk: string, condition?: { ifVersion: number }): Promise<boolean> {
    const pk = pkOf(rawPk);
    const sk = skOf(rawSk);
    const existing = this.live(pk, sk);
    if (condition && existing?.version !== condition.ifVersion) throw new ConditionFailedError(pk, sk);
    if (!existing) return false;
    this.partitions.get(pk)?.delete(sk);
    return true;
  }

  async query(input: QueryInput): Promise<QueryOutput> {
    const partition = this.partitions.get(pkOf(input.pk));
    if (!partition) return { items: [] };
    const now = this.clock.now();
    let keys = [...partition.keys()].sort();
    if (input.descending) keys.reverse();
    if (input.prefix !== undefined) keys = keys.filter((k) => k.startsWith(input.prefix as string));
    if (input.after !== undefined) {
      const after = skOf(input.after);
      keys = keys.filter((k) => (input.descending ? k < after : k > after));
    }
    const page = keys.slice(0, input.limit);
    const items = page
      .map((k) => partition.get(k))
      .filter((i): i is StoreItem => i !== undefined && !isExpired(i, now))
      .map((i) => structuredClone(i));
    const last = page.at(-1);
    return { items, ...(keys.length > input.limit && last !== undefined ? { lastKey: last } : {}) };
  }

  async close(): Promise<void> {}
}
