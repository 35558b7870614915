import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../config/config.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { ConditionFailedError } from '../ports/store.ts';

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

const PK = 'apikey';
const PREFIX = 'cmk_';
const KEY_RE = /^cmk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** lastUsedAt is written at most this often per key, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60_000;

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
    await this.store.put({ pk: PK, sk: id, data: { ...record } }, { ifAbsent: true });
    const { hash: _hash, ...info } = record;
    return { key, info };
  }

  /** The key's record when the key is genuine and not revoked. */
  async verify(key: string): Promise<ApiKeyInfo | undefined> {
    const m = KEY_RE.exec(key);
    if (!m) return undefined;
    const item = await this.store.get(PK, m[1] as string);
    if (!item) return undefined;
    const rec = item.data as unknown as ApiKeyRecord;
    const a = Buffer.from(sha256(key), 'hex');
    const b = Buffer.from(rec.hash, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b) || rec.revokedAt) return undefined;
    const now = this.clock.now();
    if (!rec.lastUsedAt || now - Date.parse(rec.lastUsedAt) > TOUCH_INTERVAL_MS) {
      const touched = { ...rec, lastUsedAt: new Date(now).toISOString() };
      // Compare-and-set: a concurrent touch or revoke wins, and this one is dropped.
      await this.store.put({ pk: PK, sk: rec.id, data: { ...touched } }, { ifVersion: item.version }).catch((err) => {
        if (!(err instanceof ConditionFailedError)) throw err;
      });
      rec.lastUsedAt = touched.lastUsedAt;
    }
    const { hash: _hash, ...info } = rec;
    return info;
  }

  async list(): Promise<ApiKeyInfo[]> {
    const out: ApiKeyInfo[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.query({ pk: PK, limit: 500, ...(after ? { after } : {}) });
      for (const item of page.items) {
        const { hash: _hash, ...info } = item.data as unknown as ApiKeyRecord;
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
      const rec = item.data as unknown as ApiKeyRecord;
      if (rec.revokedAt) return { ...target, revokedAt: rec.revokedAt };
      const revokedAt = new Date(this.clock.now()).toISOString();
      try {
        await this.store.put({ pk: PK, sk: rec.id, data: { ...rec, revokedAt } }, { ifVersion: item.version });
        return { ...target, revokedAt };
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new Error(`could not revoke ${idOrName}: the key kept changing`);
  }
}
