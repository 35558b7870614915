import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { CorruptRecordError } from '../../shared/app/repos/codec.ts';
import { sharedRequestStateKey } from '../../shared/app/repos/server-keys.ts';

describe('the shared request-state key', () => {
  it('is made once and then read: instances racing at cold start all get the same 32 bytes', async () => {
    const store = new MemoryStore();
    const keys = await Promise.all(Array.from({ length: 20 }, () => sharedRequestStateKey(store)));
    const distinct = new Set(keys.map((k) => Buffer.from(k).toString('hex')));
    expect(distinct.size).toBe(1);
    expect(keys[0]?.length).toBe(32);
    expect(Buffer.from(await sharedRequestStateKey(store)).equals(Buffer.from(keys[0] as Uint8Array))).toBe(true);
    // Another store (another deployment) has its own key.
    const other = await sharedRequestStateKey(new MemoryStore());
    expect(Buffer.from(other).equals(Buffer.from(keys[0] as Uint8Array))).toBe(false);
  });

  it('refuses a stored key of the wrong size instead of sealing with it', async () => {
    const store = new MemoryStore();
    await store.put({ pk: 'server', sk: 'request-state-key#v1', data: { key: 'c2hvcnQ=', createdAt: 'x' } });
    await expect(sharedRequestStateKey(store)).rejects.toBeInstanceOf(CorruptRecordError);
  });
});
