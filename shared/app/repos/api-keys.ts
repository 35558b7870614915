import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { type Role, RoleSchema } from '../../domain/identity.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store, StoreItem } from '../../ports/store.ts';
import { ConditionFailedError } from '../../ports/store.ts';
import { decodeRecord } from './codec.ts';

/** What the store keeps of an API key: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  hash: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;

/**
 * The codec of a stored key. A corrupt key record is an error (CorruptRecordError) wherever it is
 * read, listings included: these records decide who gets in, so none is skipped quietly.
 */
export const ApiKeyRecordSchema: z.ZodType<ApiKeyRecord> = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
  createdAt: z.string(),
  lastUsedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});

const PK = 'apikey';
const PREFIX = 'cmk_';
const KEY_RE = /^cmk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is written at most this often per key, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * How long a key's record read from the store answers verify() in this process. It bounds how long
 * a key revoked elsewhere (the CLI, another replica) keeps working here: at most this long after the
 * revocation is written. A revocation made through this instance takes effect at once.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** Records (and unknown ids) kept at most; the oldest entry goes first. */
const CACHE_MAX_ENTRIES = 1000;

interface Cached {
  item: StoreItem | undefined;
  /** Clock time the read started: the record is at least this fresh. */
  readAt: number;
}

export class ApiKeyNameTakenError extends Error {
  override name = 'ApiKeyNameTakenError';
  constructor(keyName: string, id: string) {
    super(`An API key named "${keyName}" already exists (id ${id}); choose another name, or revoke that key first.`);
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ApiKeys {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly cache = new Map<string, Cached>();
  /** Reads in flight per key id: concurrent misses share one store read. */
  private readonly inflight = new Map<string, Promise<StoreItem | undefined>>();
  /** Bumped by every local write, so a read that started before it cannot cache what it replaced. */
  private epoch = 0;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  static looksLikeKey(token: string): boolean {
    return token.startsWith(PREFIX);
  }

  /**
   * Creates a key. The returned `key` is shown once and never stored. The name is trimmed (a blank one
   * gets the generated `key-<id>`) and must not be the name of another key in use: keys are revoked by name.
   */
  async create(input: { role: Role; name?: string }): Promise<{ key: string; info: ApiKeyInfo }> {
    const name = input.name?.trim() || undefined;
    if (name !== undefined) {
      const taken = (await this.list()).find((k) => k.name === name && !k.revokedAt);
      if (taken) throw new ApiKeyNameTakenError(name, taken.id);
    }
    const id = randomBytes(8).toString('hex').slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    const key = `${PREFIX}${id}_${secret}`;
    const record: ApiKeyRecord = {
      id,
      name: name ?? `key-${id}`,
      role: input.role,
      hash: sha256(key),
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    this.invalidate();
    await this.store.put({ pk: PK, sk: id, data: { ...record } }, { ifAbsent: true });
    const { hash: _hash, ...info } = record;
    return { key, info };
  }

  /**
   * The key's record when the key is genuine and not revoked. The record comes from a short
   * in-process cache (API_KEY_CACHE_TTL_MS), so a burst of calls does not each read the store;
   * concurrent misses for one key share a single read.
   */
  async verify(key: string): Promise<ApiKeyInfo | undefined> {
    const m = KEY_RE.exec(key);
    if (!m) return undefined;
    const id = m[1] as string;
    const read = await this.lookup(id);
    // Concurrent verifications share one read; the cache holds what the first of them noted since
    // (a lastUsedAt touch), so only one of them writes it.
    const item = this.cache.get(id)?.item ?? read;
    if (!item) return undefined;
    const rec = decodeRecord(ApiKeyRecordSchema, item.pk, item.sk, item.data);
    const a = Buffer.from(sha256(key), 'hex');
    const b = Buffer.from(rec.hash, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b) || rec.revokedAt) return undefined;
    const now = this.clock.now();
    if (!rec.lastUsedAt || now - Date.parse(rec.lastUsedAt) > TOUCH_INTERVAL_MS) {
      const touched = { ...rec, lastUsedAt: new Date(now).toISOString() };
      // Noted in the cache first, so concurrent calls touch once.
      this.remember(id, { ...item, data: { ...touched } }, this.cache.get(id)?.readAt ?? now);
      // Compare-and-set: a concurrent touch or revoke wins, and this one is dropped (and the cached
      // record, now known to be stale, is forgotten). The touch is bookkeeping: a store that is busy
      // does not fail the caller's authentication.
      try {
        const written = await this.store.put({ pk: PK, sk: rec.id, data: { ...touched } }, { ifVersion: item.version });
        const cached = this.cache.get(id);
        if (cached) this.remember(id, written, cached.readAt);
      } catch (err) {
        if (err instanceof ConditionFailedError) this.cache.delete(id);
      }
      rec.lastUsedAt = touched.lastUsedAt;
    }
    const { hash: _hash, ...info } = rec;
    return info;
  }

  /** The key's item from the cache while it is fresh, else from the store (one read per key at a time). */
  private async lookup(id: string): Promise<StoreItem | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && now - cached.readAt < API_KEY_CACHE_TTL_MS) return cached.item;
    let read = this.inflight.get(id);
    if (!read) {
      const epoch = this.epoch;
      const readAt = now;
      read = this.store.get(PK, id).then((item) => {
        if (this.epoch === epoch) this.remember(id, item, readAt);
        return item;
      });
      const shared = read.finally(() => this.inflight.delete(id));
      this.inflight.set(id, shared);
      read = shared;
    }
    return read;
  }

  private remember(id: string, item: StoreItem | undefined, readAt: number): void {
    this.cache.delete(id);
    this.cache.set(id, { item, readAt });
    if (this.cache.size > CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  /** Forgets every cached record: the next verify of each key reads the store. */
  private invalidate(): void {
    this.epoch++;
    this.cache.clear();
  }

  async list(): Promise<ApiKeyInfo[]> {
    const out: ApiKeyInfo[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.query({ pk: PK, limit: 500, ...(after ? { after } : {}) });
      for (const item of page.items) {
        const { hash: _hash, ...info } = decodeRecord(ApiKeyRecordSchema, item.pk, item.sk, item.data);
        out.push(info);
      }
      after = page.lastKey;
    } while (after);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes by id or name. Returns the revoked key, or undefined when none matches. */
  async revoke(idOrName: string): Promise<ApiKeyInfo | undefined> {
    const keys = await this.list();
    const byId = keys.filter((k) => k.id === idOrName);
    const byName = keys.filter((k) => k.name === idOrName);
    // A name may be reused once its key is revoked: the key in use is the one meant.
    const inUse = byName.filter((k) => !k.revokedAt);
    const matches = byId.length ? byId : inUse.length ? inUse : byName;
    if (matches.length > 1) throw new Error(`"${idOrName}" names ${matches.length} keys; revoke by id`);
    const target = matches[0];
    if (!target) return undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.store.get(PK, target.id);
      if (!item) return undefined;
      const rec = decodeRecord(ApiKeyRecordSchema, item.pk, item.sk, item.data);
      if (rec.revokedAt) return { ...target, revokedAt: rec.revokedAt };
      const revokedAt = new Date(this.clock.now()).toISOString();
      try {
        await this.store.put({ pk: PK, sk: rec.id, data: { ...rec, revokedAt } }, { ifVersion: item.version });
        // Effective at once in this process; other processes see it when their cache entry expires.
        this.invalidate();
        return { ...target, revokedAt };
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new Error(`could not revoke ${idOrName}: the key kept changing`);
  }
}
