import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_LIMITS } from '../../shared/domain/store-items.ts';
import type { Store } from '../../shared/ports/store.ts';
import { ConditionFailedError, ItemTooLargeError } from '../../shared/ports/store.ts';

/**
 * The Store contract: written once, run against every adapter (memory, DynamoDB on dynalite,
 * Firestore on its emulator). `make` gets a clock the test can move.
 */
export function storeContract(name: string, make: (clock: { now(): number }) => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let now = Date.parse('2026-11-21T12:00:00Z');
    const clock = { now: () => now };
    let store: Store;
    let n = 0;
    const pk = () => `test#${name}#${++n}`;

    beforeAll(async () => {
      store = await make(clock);
    });
    afterAll(async () => {
      await store.close();
    });

    it('puts and gets an item with nested data, starting at version 1', async () => {
      const p = pk();
      const put = await store.put({
        pk: p,
        sk: 'a',
        data: { s: 'x', n: 1.5, b: true, list: [1, 'two', { three: 3 }], nested: { deep: { v: null } } },
      });
      expect(put.version).toBe(1);
      const got = await store.get(p, 'a');
      expect(got).toEqual({
        pk: p,
        sk: 'a',
        version: 1,
        data: { s: 'x', n: 1.5, b: true, list: [1, 'two', { three: 3 }], nested: { deep: { v: null } } },
      });
    });

    it('round-trips arrays of arrays, empty containers, odd field names and numbers exactly', async () => {
      const p = pk();
      const data = {
        grid: [[1, [2, []]], [], [null, 'x', { in: [[true]] }]],
        empty: {},
        emptyList: [],
        'a.b': { 'c/d': 1, __name__: 2 },
        int: 2 ** 53 - 1,
        frac: 0.1,
        neg: -2.5,
        zero: 0,
        text: 'ü€🙂',
      };
      await store.put({ pk: p, sk: 'json', data });
      expect((await store.get(p, 'json'))?.data).toEqual(data);
      expect((await store.query({ pk: p, limit: 1 })).items[0]?.data).toEqual(data);
    });

    it('returns undefined for a missing item', async () => {
      expect(await store.get(pk(), 'nope')).toBeUndefined();
    });

    it('overwrites and increments the version', async () => {
      const p = pk();
      await store.put({ pk: p, sk: 'a', data: { v: 1 } });
      const second = await store.put({ pk: p, sk: 'a', data: { v: 2 } });
      expect(second.version).toBe(2);
      expect((await store.get(p, 'a'))?.data).toEqual({ v: 2 });
    });

    it('ifAbsent refuses an existing item and keeps it unchanged', async () => {
      const p = pk();
      await store.put({ pk: p, sk: 'a', data: { owner: 'first' } }, { ifAbsent: true });
      await expect(store.put({ pk: p, sk: 'a', data: { owner: 'second' } }, { ifAbsent: true })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      expect((await store.get(p, 'a'))?.data).toEqual({ owner: 'first' });
    });

    it('exactly one of many concurrent ifAbsent puts wins', async () => {
      const p = pk();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.put({ pk: p, sk: 'lock', data: { i } }, { ifAbsent: true })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    });

    it('ifVersion is compare-and-set', async () => {
      const p = pk();
      const v1 = await store.put({ pk: p, sk: 'a', data: { state: 'working' } });
      const v2 = await store.put({ pk: p, sk: 'a', data: { state: 'completed' } }, { ifVersion: v1.version });
      expect(v2.version).toBe(2);
      await expect(
        store.put({ pk: p, sk: 'a', data: { state: 'failed' } }, { ifVersion: v1.version }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      await expect(store.put({ pk: p, sk: 'missing', data: {} }, { ifVersion: 1 })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      expect((await store.get(p, 'a'))?.data).toEqual({ state: 'completed' });
    });

    it('deletes, conditionally too', async () => {
      const p = pk();
      const v = await store.put({ pk: p, sk: 'a', data: {} });
      await expect(store.delete(p, 'a', { ifVersion: v.version + 1 })).rejects.toBeInstanceOf(ConditionFailedError);
      expect(await store.delete(p, 'a', { ifVersion: v.version })).toBe(true);
      expect(await store.get(p, 'a')).toBeUndefined();
      expect(await store.delete(p, 'a')).toBe(false);
    });

    it('hides expired items from get and query, and lets ifAbsent reuse their key', async () => {
      const p = pk();
      const nowSec = Math.floor(now / 1000);
      await store.put({ pk: p, sk: 'old', data: { v: 'old' }, expiresAt: nowSec + 60 });
      await store.put({ pk: p, sk: 'keep', data: { v: 'keep' } });
      expect((await store.get(p, 'old'))?.expiresAt).toBe(nowSec + 60);
      now += 61_000;
      expect(await store.get(p, 'old')).toBeUndefined();
      expect((await store.query({ pk: p, limit: 10 })).items.map((i) => i.sk)).toEqual(['keep']);
      const reused = await store.put({ pk: p, sk: 'old', data: { v: 'new' } }, { ifAbsent: true });
      expect(reused.data).toEqual({ v: 'new' });
      expect(reused.expiresAt).toBeUndefined();
    });

    it('versions keep growing when an expired item is re-created, so a stale conditional delete fails', async () => {
      const p = pk();
      const nowSec = Math.floor(now / 1000);
      const seenByA = await store.put(
        { pk: p, sk: 'lease', data: { holder: 'a' }, expiresAt: nowSec + 10 },
        { ifAbsent: true },
      );
      now += 11_000;
      const taken = await store.put(
        { pk: p, sk: 'lease', data: { holder: 'b' }, expiresAt: nowSec + 60 },
        { ifAbsent: true },
      );
      expect(taken.version).toBeGreaterThan(seenByA.version);
      await expect(store.delete(p, 'lease', { ifVersion: seenByA.version })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      expect((await store.get(p, 'lease'))?.data).toEqual({ holder: 'b' });
    });

    it('ifVersion does not resurrect an expired item: the conditional put fails and the item stays gone', async () => {
      const p = pk();
      const nowSec = Math.floor(now / 1000);
      const v = await store.put({ pk: p, sk: 'a', data: { v: 'old' }, expiresAt: nowSec + 10 });
      now += 11_000;
      await expect(store.put({ pk: p, sk: 'a', data: { v: 'new' } }, { ifVersion: v.version })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      expect(await store.get(p, 'a')).toBeUndefined();
    });

    it('a conditional delete of an expired item fails, like one of a missing item', async () => {
      const p = pk();
      const nowSec = Math.floor(now / 1000);
      const v = await store.put({ pk: p, sk: 'a', data: {}, expiresAt: nowSec + 10 });
      now += 11_000;
      await expect(store.delete(p, 'a', { ifVersion: v.version })).rejects.toBeInstanceOf(ConditionFailedError);
      expect(await store.get(p, 'a')).toBeUndefined();
      expect(await store.delete(p, 'a')).toBe(false);
    });

    it('pages over expired items (prefix, descending, limit) without skipping or repeating; pages may be short', async () => {
      const p = pk();
      const nowSec = Math.floor(now / 1000);
      const keys = Array.from({ length: 17 }, (_, i) => `2026-11-21T11:${String(i).padStart(2, '0')}:00Z`);
      // Runs of expired items, one at either end, and one longer than a page.
      const expired = new Set([0, 3, 4, 7, 8, 9, 10, 16].map((i) => keys[i] as string));
      for (const k of keys) {
        await store.put({ pk: p, sk: k, data: { k }, ...(expired.has(k) ? { expiresAt: nowSec + 5 } : {}) });
      }
      await store.put({ pk: p, sk: '2025-other', data: {} });
      await store.put({ pk: p, sk: 'zzz', data: {} });
      now += 6_000;
      const live = keys.filter((k) => !expired.has(k)).reverse();

      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.query({
          pk: p,
          prefix: '2026-',
          limit: 3,
          descending: true,
          ...(after ? { after } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        for (const i of page.items)
          expect(i.expiresAt === undefined || i.expiresAt > Math.floor(now / 1000)).toBe(true);
        seen.push(...page.items.map((i) => i.sk));
        after = page.lastKey;
        pages++;
      } while (after && pages < 30);
      expect(after).toBeUndefined();
      expect(seen).toEqual(live);
    });

    it('ifAbsent makes a retried write idempotent: the same key written twice leaves one item, the first', async () => {
      const p = pk();
      const first = await store.put(
        { pk: p, sk: '2026-11-21T12:00:00.000Z#req-1', data: { n: 1 } },
        { ifAbsent: true },
      );
      await expect(
        store.put({ pk: p, sk: '2026-11-21T12:00:00.000Z#req-1', data: { n: 1 } }, { ifAbsent: true }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      const all = await store.query({ pk: p, limit: 10 });
      expect(all.items).toHaveLength(1);
      expect(all.items[0]?.version).toBe(first.version);
      // Concurrent retries of one write: one lands, the others are refused, still one item.
      const q = pk();
      const tries = await Promise.allSettled(
        Array.from({ length: 6 }, () => store.put({ pk: q, sk: 'r', data: { same: true } }, { ifAbsent: true })),
      );
      expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
      expect((await store.query({ pk: q, limit: 10 })).items).toHaveLength(1);
    });

    it('bounds over-long keys with a visible marker, consistently on writes and reads, keeping distinct keys apart', async () => {
      const base = `${pk()}#`;
      const longPk = `${base}${'p'.repeat(5000)}`;
      const longSk = (tail: string) => `${'s'.repeat(3000)}${tail}`;
      const a = await store.put({ pk: longPk, sk: longSk('a'), data: { v: 'a' } }, { ifAbsent: true });
      const b = await store.put({ pk: longPk, sk: longSk('b'), data: { v: 'b' } }, { ifAbsent: true });
      for (const item of [a, b]) {
        expect(Buffer.byteLength(item.pk)).toBeLessThanOrEqual(STORE_LIMITS.pkBytes);
        expect(Buffer.byteLength(item.sk)).toBeLessThanOrEqual(STORE_LIMITS.skBytes);
        expect(item.pk).toMatch(/…\[truncated \d+ bytes #[0-9a-f]{16}\]$/);
        expect(item.sk).toMatch(/…\[truncated \d+ bytes #[0-9a-f]{16}\]$/);
      }
      expect(a.sk).not.toBe(b.sk);
      expect((await store.get(longPk, longSk('a')))?.data).toEqual({ v: 'a' });
      expect((await store.get(longPk, longSk('b')))?.data).toEqual({ v: 'b' });
      await expect(store.put({ pk: longPk, sk: longSk('a'), data: {} }, { ifAbsent: true })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      const page = await store.query({ pk: longPk, limit: 1 });
      expect(page.items).toHaveLength(1);
      const rest = await store.query({ pk: longPk, limit: 5, after: page.lastKey as string });
      expect(rest.items.map((i) => i.data.v)).toEqual([page.items[0]?.data.v === 'a' ? 'b' : 'a']);
      // Multi-byte characters are cut on a character boundary, never into an invalid sequence.
      const wide = `${base}${'é'.repeat(1500)}`;
      const w = await store.put({ pk: wide, sk: '€'.repeat(600), data: { w: 1 } });
      expect(w.pk).not.toContain('\ufffd');
      expect((await store.get(wide, '€'.repeat(600)))?.data).toEqual({ w: 1 });
      expect(await store.delete(longPk, longSk('a'))).toBe(true);
      expect(await store.get(longPk, longSk('a'))).toBeUndefined();
    });

    it('refuses an item over the 400 KB item limit with ItemTooLargeError and keeps what was there', async () => {
      const p = pk();
      await store.put({ pk: p, sk: 'big', data: { v: 'small' } });
      // 300 KB of ASCII fits; 410 KB does not; 150k three-byte characters (450 KB of UTF-8) do not either.
      await store.put({ pk: p, sk: 'fits', data: { blob: 'x'.repeat(300 * 1024) } });
      for (const blob of ['x'.repeat(410 * 1024), '€'.repeat(150_000)]) {
        await expect(store.put({ pk: p, sk: 'big', data: { blob } })).rejects.toBeInstanceOf(ItemTooLargeError);
        await expect(store.put({ pk: p, sk: 'new', data: { blob } }, { ifAbsent: true })).rejects.toBeInstanceOf(
          ItemTooLargeError,
        );
      }
      expect((await store.get(p, 'big'))?.data).toEqual({ v: 'small' });
      expect(await store.get(p, 'new')).toBeUndefined();
      expect(String((await store.get(p, 'fits'))?.data.blob).length).toBe(300 * 1024);
    });

    it('queries in sort-key order with prefix, direction and paging that neither repeats nor skips', async () => {
      const p = pk();
      const keys = Array.from({ length: 23 }, (_, i) => `2026-11-21T10:${String(i).padStart(2, '0')}:00Z`);
      for (const k of [...keys].reverse()) await store.put({ pk: p, sk: k, data: { k } });
      await store.put({ pk: p, sk: 'other#1', data: {} });

      const asc: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.query({ pk: p, prefix: '2026-', limit: 5, ...(after ? { after } : {}) });
        asc.push(...page.items.map((i) => i.sk));
        after = page.lastKey;
        pages++;
      } while (after && pages < 20);
      expect(asc).toEqual(keys);
      expect(pages).toBe(5);

      const desc = await store.query({ pk: p, prefix: '2026-', limit: 3, descending: true });
      expect(desc.items.map((i) => i.sk)).toEqual([...keys].reverse().slice(0, 3));
      const next = await store.query({
        pk: p,
        prefix: '2026-',
        limit: 3,
        descending: true,
        after: desc.lastKey as string,
      });
      expect(next.items.map((i) => i.sk)).toEqual([...keys].reverse().slice(3, 6));

      const exact = await store.query({ pk: p, prefix: '2026-', limit: 23 });
      expect(exact.items).toHaveLength(23);
      expect(exact.lastKey).toBeUndefined();
      expect((await store.query({ pk: `${p}-empty`, limit: 5 })).items).toEqual([]);
    });
  });
}
