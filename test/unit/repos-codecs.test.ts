import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { ApiKeys } from '../../shared/app/repos/api-keys.ts';
import { Approvals } from '../../shared/app/repos/approvals.ts';
import { AuditTrail } from '../../shared/app/repos/audit.ts';
import { Baselines } from '../../shared/app/repos/baselines.ts';
import { CorruptRecordError } from '../../shared/app/repos/codec.ts';
import { Leases, type Operation, Operations } from '../../shared/app/repos/operations.ts';
import type { Identity } from '../../shared/domain/identity.ts';

/*
 * Every repository parses what it reads from the Store. A record that is not what the repository
 * writes (here: written straight into the MemoryStore) is a CorruptRecordError naming its key and
 * the failing fields, never the value; listings leave it out and count it, except API keys.
 */

const NOW = Date.parse('2026-12-07T10:00:00Z');
const clock = { now: () => NOW };
const SECRET = 'hunter2-super-secret-value';
const HASH = 'a'.repeat(64);
const alice: Identity = { subject: 'alice', name: 'Alice', roles: ['admin'], method: 'oauth' };

function rollout(id: string): Omit<Operation, 'createdAt' | 'updatedAt'> {
  return {
    id,
    kind: 'rollout',
    target: { cluster: 'fake', namespace: 'prod', kind: 'Deployment', name: 'web' },
    requester: { subject: 'bob', name: 'Bob' },
    status: 'working',
    statusMessage: 'rolling',
    input: { image: 'nginx:1.27.0' },
    changeHash: HASH,
    steps: [{ name: 'rolling update', status: 'running', measurements: { ready: 1 } }],
    progress: { nextActions: [], stepIndex: 0 },
    requests: {},
    ttlSeconds: 3600,
    pollIntervalMs: 1000,
  };
}

/** What a caught error says, and that it never carries the stored value. */
async function corruptError(p: Promise<unknown>): Promise<CorruptRecordError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CorruptRecordError);
  expect((err as Error).message).not.toContain(SECRET);
  return err as CorruptRecordError;
}

describe('Operations codec', () => {
  it('reads back what it wrote, keeps a field a newer version wrote through an update', async () => {
    const store = new MemoryStore(clock);
    const ops = new Operations(store, clock);
    await ops.create(rollout('op-1'));
    const raw = await store.get('op#op-1', 'op');
    await store.put({ pk: 'op#op-1', sk: 'op', data: { ...raw?.data, futureField: { x: 1 } } });
    const updated = await ops.update('op-1', (op) => {
      op.statusMessage = 'still rolling';
      return undefined;
    });
    expect(updated.statusMessage).toBe('still rolling');
    expect((await store.get('op#op-1', 'op'))?.data.futureField).toEqual({ x: 1 });
    expect(await ops.get('op-1')).toMatchObject({ id: 'op-1', status: 'working', steps: [{ status: 'running' }] });
  });

  it('a corrupt operation is a CorruptRecordError naming the key and fields; update leaves it as it is', async () => {
    const store = new MemoryStore(clock);
    const ops = new Operations(store, clock);
    await ops.create(rollout('op-bad'));
    const raw = await store.get('op#op-bad', 'op');
    const broken = { ...raw?.data, status: SECRET, steps: 'not a list' };
    await store.put({ pk: 'op#op-bad', sk: 'op', data: broken });
    const err = await corruptError(ops.get('op-bad'));
    expect(err.pk).toBe('op#op-bad');
    expect(err.message).toMatch(/op#op-bad \/ op is corrupt \(status: .*; steps: .*\)/);
    await corruptError(ops.require('op-bad'));
    await corruptError(
      ops.update('op-bad', () => {
        throw new Error('mutate must not run on a corrupt record');
      }),
    );
    expect((await store.get('op#op-bad', 'op'))?.data).toEqual(broken);
  });

  it('a listing leaves corrupt operations (and corrupt index entries) out and counts them', async () => {
    const store = new MemoryStore(clock);
    const ops = new Operations(store, clock);
    for (const id of ['op-a', 'op-b', 'op-c']) await ops.create(rollout(id));
    const raw = await store.get('op#op-b', 'op');
    await store.put({ pk: 'op#op-b', sk: 'op', data: { ...raw?.data, ttlSeconds: SECRET } });
    await store.put({ pk: 'ops', sk: '2026-12-07T09:00:00.000Z#junk', data: { notAnId: SECRET } });
    const page = await ops.list({ limit: 10 });
    expect(page.items.map((o) => o.id).sort()).toEqual(['op-a', 'op-c']);
    expect(page.corrupt).toBe(2);
    const clean = await ops.list({ subject: 'bob', limit: 10 });
    expect(clean.items).toHaveLength(2);
    expect(clean.corrupt).toBe(1);
  });

  it('a corrupt lease is an error, not a free target', async () => {
    const store = new MemoryStore(clock);
    await store.put({ pk: 'lease#fake/prod/Deployment/web', sk: 'lease', data: { holder: 42 } });
    const leases = new Leases(store, clock);
    await corruptError(leases.acquire('fake/prod/Deployment/web', 'op-x', 60));
    await corruptError(leases.release('fake/prod/Deployment/web', 'op-x'));
    expect(await store.get('lease#fake/prod/Deployment/web', 'lease')).toBeDefined();
  });
});

describe('Approvals codec', () => {
  const request = (approvals: Approvals, operationId: string) =>
    approvals.request({
      operationId,
      summary: `rollout ${operationId}`,
      changeHash: HASH,
      requester: { subject: 'bob', name: 'Bob' },
      reason: 'release',
      ttlSeconds: 3600,
    });

  it('a corrupt approval is never decided; closing passes over it; listings skip and count it', async () => {
    const store = new MemoryStore(clock);
    const approvals = new Approvals(store, clock);
    await request(approvals, 'op-1');
    await request(approvals, 'op-2');
    const raw = await store.get('approval#op-2', 'approval');
    const broken = { ...raw?.data, status: 'pending', expiresAt: 17, requester: SECRET };
    await store.put({ pk: 'approval#op-2', sk: 'approval', data: broken });

    await corruptError(approvals.get('op-2'));
    const err = await corruptError(
      approvals.decide({ operationId: 'op-2', approver: alice, decision: 'approve', reason: 'ok' }),
    );
    expect(err.message).toMatch(/approval#op-2 \/ approval is corrupt \(requester: .*; expiresAt: .*\)/);
    // Its operation can still end: close does not throw, and leaves the record for someone to look at.
    expect(await approvals.close('op-2', { status: 'cancelled', at: new Date(NOW).toISOString() })).toBeUndefined();
    expect((await store.get('approval#op-2', 'approval'))?.data).toEqual(broken);

    const page = await approvals.list({ status: 'pending', limit: 10 });
    expect(page.items.map((a) => a.operationId)).toEqual(['op-1']);
    expect(page.corrupt).toBe(1);
    expect(
      await approvals.decide({ operationId: 'op-1', approver: alice, decision: 'approve', reason: 'ok' }),
    ).toMatchObject({ status: 'approved' });
  });
});

describe('AuditTrail codec', () => {
  it('a listing leaves a corrupt record out, counts it and logs its key once; the others still show', async () => {
    const store = new MemoryStore(clock);
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
    const audit = new AuditTrail({ store, clock, log, retentionDays: 30 });
    for (const tool of ['k8s_pods_list', 'k8s_pods_get']) {
      await audit.recordCall({
        requestId: `r-${tool}`,
        identity: alice,
        tool,
        args: {},
        outcome: 'ok',
        startedAt: NOW - 1000,
      });
    }
    const day = 'audit#2026-12-07';
    await store.put({ pk: day, sk: '2026-12-07T09:59:59.500Z#bad-1', data: { time: SECRET, outcome: 'maybe' } });
    await store.put({ pk: day, sk: '2026-12-07T09:59:59.600Z#bad-2', data: { caller: SECRET } });
    const page = await audit.list({ limit: 10 });
    expect(page.events.map((e) => e.tool).sort()).toEqual(['k8s_pods_get', 'k8s_pods_list']);
    expect(page.corrupt).toBe(2);
    expect(page.scanned).toBe(4);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('audit#2026-12-07 / 2026-12-07T09:59:59.600Z#bad-2 is corrupt');
    expect(lines.join('')).not.toContain(SECRET);
    // Filtering does not hide that records were unreadable.
    expect((await audit.list({ limit: 10, tool: 'k8s_pods_get' })).corrupt).toBe(2);
    // A listing with nothing corrupt says nothing about it.
    await store.delete(day, '2026-12-07T09:59:59.500Z#bad-1');
    await store.delete(day, '2026-12-07T09:59:59.600Z#bad-2');
    expect(await audit.list({ limit: 10 })).not.toHaveProperty('corrupt');
  });
});

describe('Baselines codec', () => {
  it('get of a corrupt baseline fails with its key; a listing skips and counts it', async () => {
    const store = new MemoryStore(clock);
    const baselines = new Baselines(store, clock);
    for (const name of ['a', 'b']) {
      await baselines.record({
        cluster: 'fake',
        manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'prod' }, data: { k: 'v' } },
        appliedBy: 'alice',
        requestId: `r-${name}`,
      });
    }
    const raw = await store.get('baseline#fake', 'core.ConfigMap/prod/b');
    await store.put({ pk: 'baseline#fake', sk: 'core.ConfigMap/prod/b', data: { ...raw?.data, object: SECRET } });
    const err = await corruptError(baselines.get('fake', 'v1', 'ConfigMap', 'prod', 'b'));
    expect(err.message).toMatch(/baseline#fake \/ core\.ConfigMap\/prod\/b is corrupt \(object: /);
    expect(await baselines.get('fake', 'v1', 'ConfigMap', 'prod', 'a')).toMatchObject({
      name: 'a',
      hash: expect.any(String),
    });
    const page = await baselines.list('fake', { limit: 10 });
    expect(page.items.map((b) => b.name)).toEqual(['a']);
    expect(page.corrupt).toBe(1);
  });
});

describe('ApiKeys codec', () => {
  it('a corrupt key record fails verify and the listing, naming its key: key records are never skipped', async () => {
    const store = new MemoryStore(clock);
    const keys = new ApiKeys(store, clock);
    const { key, info } = await keys.create({ role: 'viewer', name: 'dash' });
    const raw = await store.get('apikey', info.id);
    await store.put({ pk: 'apikey', sk: info.id, data: { ...raw?.data, role: 'root', hash: SECRET } });
    const err = await corruptError(keys.verify(key));
    expect(err.message).toMatch(
      new RegExp(`apikey / ${info.id} is corrupt \\(role: .*; hash: must be a SHA-256 hex digest\\)`),
    );
    await corruptError(keys.list());
    await corruptError(keys.revoke(info.id));
  });
});
