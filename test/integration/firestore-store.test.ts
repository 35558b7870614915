import { Firestore, Timestamp } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFirestoreStore,
  FIRESTORE_ITEMS_GROUP,
  FIRESTORE_TTL_FIELD,
  type FirestoreStore,
} from '../../shared/adapters/gcp/firestore-store.ts';
import { ConditionFailedError, ItemTooLargeError, StoreUnavailableError } from '../../shared/ports/store.ts';
import { storeContract } from '../contract/store.contract.ts';
import { type FirestoreEmulator, sharedFirestoreEmulator } from '../support/firestore-emulator.ts';
import { freePort } from '../support/moto.ts';

// Google's Firestore emulator (Java), started by the test, through @google-cloud/firestore over REST.
// Collections are this file's own, so files sharing the worker's emulator do not collide.
const settings = (emulator: FirestoreEmulator, collection: string) => ({
  project: emulator.projectId,
  database: '(default)',
  collection,
  emulatorHost: emulator.host,
});

storeContract('firestore (emulator)', async (clock) =>
  createFirestoreStore(settings(await sharedFirestoreEmulator(), 'fsStoreContract'), { clock }),
);

describe('Firestore store on the emulator', () => {
  let emulator: FirestoreEmulator;
  let store: FirestoreStore;
  let raw: Firestore;
  let now = Date.parse('2026-11-21T12:00:00Z');
  const clock = { now: () => now };
  let n = 0;
  const pk = () => `fs#${++n}`;

  beforeAll(async () => {
    emulator = await sharedFirestoreEmulator();
    store = createFirestoreStore(settings(emulator, 'fsStoreSpecific'), { clock });
    // A second client reads what the store wrote, as Firestore's TTL policy and console see it.
    raw = new Firestore({
      projectId: emulator.projectId,
      host: emulator.host,
      ssl: false,
      preferRest: true,
      apiKey: 'emulator',
    });
  });
  afterAll(async () => {
    await store?.close();
    await raw?.terminate();
  });

  it('of many concurrent ifVersion puts on one item exactly one wins, the rest fail their condition', async () => {
    const p = pk();
    const v1 = await store.put({ pk: p, sk: 'op', data: { state: 'pending' } });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.put({ pk: p, sk: 'op', data: { state: 'running', by: i } }, { ifVersion: v1.version }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    const winner = (won[0] as PromiseFulfilledResult<{ data: unknown; version: number }>).value;
    expect(winner.version).toBe(2);
    expect(await store.get(p, 'op')).toMatchObject({ version: 2, data: winner.data });
  });

  it('of many concurrent ifAbsent puts over an expired item exactly one takes it over', async () => {
    const p = pk();
    const nowSec = Math.floor(now / 1000);
    const old = await store.put({ pk: p, sk: 'lease', data: { holder: 'old' }, expiresAt: nowSec + 5 });
    now += 6_000;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.put({ pk: p, sk: 'lease', data: { holder: i }, expiresAt: nowSec + 600 }, { ifAbsent: true }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    const got = await store.get(p, 'lease');
    expect(got?.version).toBe(old.version + 1);
    expect(got?.data.holder).not.toBe('old');
  });

  it('concurrent unconditional puts lose no version: each gets its own', async () => {
    const p = pk();
    await store.put({ pk: p, sk: 'counter', data: {} });
    const versions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.put({ pk: p, sk: 'counter', data: { i } }).then((x) => x.version)),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
    expect((await store.get(p, 'counter'))?.version).toBe(7);
  });

  it('of many concurrent conditional deletes exactly one deletes', async () => {
    const p = pk();
    const v = await store.put({ pk: p, sk: 'a', data: {} });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => store.delete(p, 'a', { ifVersion: v.version })),
    );
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    expect(await store.get(p, 'a')).toBeUndefined();
  });

  it(`writes expiresAt as a Timestamp at ${FIRESTORE_TTL_FIELD} on the ${FIRESTORE_ITEMS_GROUP} group, and removes it when cleared`, async () => {
    const p = pk();
    const expiresAt = Math.floor(now / 1000) + 3600;
    await store.put({ pk: p, sk: 'ttl', data: { v: 1 }, expiresAt });
    const docs = (await raw.collectionGroup(FIRESTORE_ITEMS_GROUP).where('pk', '==', p).get()).docs;
    expect(docs).toHaveLength(1);
    const doc = docs[0];
    expect(doc?.ref.path).toMatch(/^fsStoreSpecific\/[^/]+\/items\/ttl$/);
    const ttl = doc?.get(FIRESTORE_TTL_FIELD);
    expect(ttl).toBeInstanceOf(Timestamp);
    expect((ttl as Timestamp).toMillis()).toBe(expiresAt * 1000);
    expect((await store.get(p, 'ttl'))?.expiresAt).toBe(expiresAt);

    await store.put({ pk: p, sk: 'ttl', data: { v: 2 } });
    const after = await raw.doc(doc?.ref.path as string).get();
    expect(after.get(FIRESTORE_TTL_FIELD)).toBeUndefined();
    expect((await store.get(p, 'ttl'))?.expiresAt).toBeUndefined();
  });

  it('keys with /, dots, reserved names, escapes, unicode and long runs round-trip, distinct and in order', async () => {
    const p = `${pk()}/with/slashes/..`;
    const keys = [
      '',
      '.',
      '..',
      '__name__',
      '#hash',
      'a/b',
      'a%2Fb',
      'a%b',
      '%00',
      'ü/é/€',
      '日本語',
      '🙂 emoji',
      '/'.repeat(1000),
      `${'/'.repeat(999)}x`,
      'é'.repeat(500),
    ];
    for (const [i, sk] of keys.entries()) await store.put({ pk: p, sk, data: { i } }, { ifAbsent: true });
    for (const [i, sk] of keys.entries()) expect((await store.get(p, sk))?.data).toEqual({ i });
    // Firestore orders strings by UTF-8 bytes, which is code point order.
    const byCodePoint = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) as number);
    const all = await store.query({ pk: p, limit: 100 });
    expect(all.items.map((i) => i.sk)).toEqual(byCodePoint);
    expect((await store.query({ pk: p, prefix: 'a', limit: 10 })).items.map((i) => i.sk)).toEqual([
      'a%2Fb',
      'a%b',
      'a/b',
    ]);
    expect((await store.query({ pk: p, prefix: '/', limit: 10 })).items).toHaveLength(2);
    expect(await store.delete(p, 'a/b')).toBe(true);
    expect((await store.get(p, 'a%2Fb'))?.data).toEqual({ i: 6 });
  });

  it('stores data as JSON text: arrays of arrays and numbers round-trip exactly', async () => {
    const p = pk();
    const data = { grid: [[1, 2], [], [[null, 'x']]], int: 2 ** 53 - 1, frac: 0.1, tiny: -1.5e-300, empty: {} };
    await store.put({ pk: p, sk: 'a', data });
    expect((await store.get(p, 'a'))?.data).toEqual(data);
    const doc = (await raw.collectionGroup(FIRESTORE_ITEMS_GROUP).where('pk', '==', p).get()).docs[0];
    expect(typeof doc?.get('data')).toBe('string');
  });

  it('an item Firestore itself refuses as too large is an ItemTooLargeError, and nothing is written', async () => {
    const p = pk();
    // 200 KB of UTF-8 passes the shared 400 KB estimate, but as JSON text each control character
    // takes 6 bytes: 1.2 MB, over Firestore's 1 MiB document limit.
    await expect(
      store.put({ pk: p, sk: 'a', data: { s: '\u0001'.repeat(200_000) } }, { ifAbsent: true }),
    ).rejects.toBeInstanceOf(ItemTooLargeError);
    expect(await store.get(p, 'a')).toBeUndefined();
  });

  it('an unreachable emulator is a StoreUnavailableError within the call deadline', async () => {
    const port = await freePort();
    const down = createFirestoreStore(
      { project: emulator.projectId, database: '(default)', collection: 'down', emulatorHost: `127.0.0.1:${port}` },
      { timeoutMs: 1500 },
    );
    const started = Date.now();
    const err = await down.get('pk', 'sk').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/^Firestore get on down: /);
    await expect(down.put({ pk: 'pk', sk: 'sk', data: {} }, { ifAbsent: true })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(down.query({ pk: 'pk', limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
    // Bounded by the deadline (1.5 s each), not by the client's own retries (up to 10 minutes).
    expect(Date.now() - started).toBeLessThan(30_000);
    await down.close();
  });
});
