import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { ApiKeyNameTakenError, ApiKeys } from '../../shared/domain/api-keys.ts';

describe('API keys', () => {
  it('stores only a hash, verifies the key, touches lastUsedAt at most once a minute', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const store = new MemoryStore({ now: () => now });
    const keys = new ApiKeys(store, { now: () => now });
    const { key, info } = await keys.create({ role: 'operator', name: 'ci' });
    expect(key).toMatch(/^cmk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const raw = await store.get('apikey', info.id);
    // The secret part (it may itself contain '_'): cmk_ + 12-character id + _
    expect(JSON.stringify(raw)).not.toContain(key.slice(17));
    expect(raw?.data.hash).toMatch(/^[0-9a-f]{64}$/);

    const v1 = await keys.verify(key);
    expect(v1).toMatchObject({ id: info.id, role: 'operator', name: 'ci', lastUsedAt: new Date(now).toISOString() });
    const version = (await store.get('apikey', info.id))?.version;
    now += 10_000;
    await keys.verify(key);
    expect((await store.get('apikey', info.id))?.version).toBe(version);
    now += 60_000;
    expect((await keys.verify(key))?.lastUsedAt).toBe(new Date(now).toISOString());
  });

  it('refuses forged, malformed and revoked keys', async () => {
    const keys = new ApiKeys(new MemoryStore(), { now: () => Date.now() });
    const { key } = await keys.create({ role: 'viewer', name: 'dash' });
    expect(await keys.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await keys.verify('cmk_nope')).toBeUndefined();
    expect(await keys.verify('')).toBeUndefined();
    const revoked = await keys.revoke('dash');
    expect(revoked?.revokedAt).toBeDefined();
    expect(await keys.verify(key)).toBeUndefined();
    expect((await keys.list())[0]?.revokedAt).toBe(revoked?.revokedAt);
    expect(await keys.revoke('no-such-key')).toBeUndefined();
  });

  it('refuses to revoke by an ambiguous name', async () => {
    const store = new MemoryStore();
    const keys = new ApiKeys(store, { now: () => Date.now() });
    // Two keys in use with one name (created before names were checked), written as the store keeps them.
    for (const id of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']) {
      await store.put({
        pk: 'apikey',
        sk: id,
        data: { id, name: 'same', role: 'viewer', hash: '0'.repeat(64), createdAt: new Date().toISOString() },
      });
    }
    await expect(keys.revoke('same')).rejects.toThrow(/names 2 keys/);
  });

  it('trims names, gives a blank one the generated name, and refuses a name a key in use already has', async () => {
    const keys = new ApiKeys(new MemoryStore(), { now: () => Date.now() });
    const blank = await keys.create({ role: 'viewer', name: '   ' });
    expect(blank.info.name).toBe(`key-${blank.info.id}`);
    const ci = await keys.create({ role: 'operator', name: '  ci  ' });
    expect(ci.info.name).toBe('ci');
    await expect(keys.create({ role: 'viewer', name: 'ci' })).rejects.toBeInstanceOf(ApiKeyNameTakenError);
    await expect(keys.create({ role: 'viewer', name: ' ci' })).rejects.toThrow(
      `An API key named "ci" already exists (id ${ci.info.id})`,
    );
    expect((await keys.list()).map((k) => k.name).sort()).toEqual(['ci', blank.info.name].sort());

    // Once revoked, the name is free again, and revoking by it means the key in use.
    await keys.revoke('ci');
    const again = await keys.create({ role: 'viewer', name: 'ci' });
    expect((await keys.revoke('ci'))?.id).toBe(again.info.id);
  });
});
