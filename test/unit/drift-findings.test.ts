import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import type { DriftObjectResult } from '../../shared/app/drift/types.ts';
import { DriftFindings, findingKey, type StoredFinding } from '../../shared/app/repos/drift-findings.ts';

const finding = (name: string, namespace: string, state: DriftObjectResult['state'] = 'drifted'): StoredFinding => ({
  cluster: 'prod',
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace,
  name,
  state,
  changes: [{ path: 'spec.replicas', baseline: '2', live: '3', manager: 'kubectl-edit' }],
  changesTotal: 1,
  checkedAt: '2026-12-07T10:00:00.000Z',
  firstSeenAt: '2026-12-07T10:00:00.000Z',
});
const counts = (objects: number, drifted: number) => ({
  objects,
  clean: objects - drifted,
  drifted,
  deleted: 0,
  error: 0,
});

describe('DriftFindings', () => {
  it('a namespace check replaces only that namespace; a cluster check replaces all', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const clock = { now: () => now };
    const repo = new DriftFindings(new MemoryStore(clock), clock, { ttlSeconds: 3600 });
    const all = [finding('a', 'one'), finding('b', 'two')];
    await repo.replace({
      cluster: 'prod',
      checkedAt: 't1',
      findings: all,
      counts: new Map([
        ['one', counts(5, 1)],
        ['two', counts(3, 1)],
      ]),
      previous: new Map(),
    });
    expect((await repo.list({ limit: 10 })).counts).toEqual(counts(8, 2));
    // Namespace `one` checked again: clean now. `two` keeps its finding and counts.
    await repo.replace({
      cluster: 'prod',
      namespace: 'one',
      checkedAt: 't2',
      findings: [],
      counts: new Map([['one', counts(5, 0)]]),
      previous: await repo.current('prod', 'one'),
    });
    const page = await repo.list({ limit: 10 });
    expect(page.items.map((f) => f.name)).toEqual(['b']);
    expect(page.counts).toEqual(counts(8, 1));
    expect((await repo.list({ limit: 10, namespace: 'one' })).counts).toEqual(counts(5, 0));
    expect([...(await repo.current('prod')).keys()]).toEqual([findingKey(finding('b', 'two'))]);
    // Not checked for longer than the TTL: gone.
    now += 3601_000;
    expect(await repo.list({ limit: 10 })).toMatchObject({ items: [], counts: counts(0, 0), clusters: [] });
  });

  it('stores at most its cap per cluster and says how many it left out', async () => {
    const clock = { now: () => Date.parse('2026-12-07T10:00:00Z') };
    const repo = new DriftFindings(new MemoryStore(clock), clock);
    const many = Array.from({ length: 5003 }, (_, i) => finding(`d-${String(i).padStart(5, '0')}`, 'ns'));
    await repo.replace({
      cluster: 'prod',
      checkedAt: 't',
      findings: many,
      counts: new Map([['ns', counts(5003, 5003)]]),
      previous: new Map(),
    });
    const page = await repo.list({ limit: 500 });
    expect(page.items).toHaveLength(200); // one page is at most 200
    expect(page.omitted).toBe(3);
    expect(page.counts.drifted).toBe(5003);
    expect((await repo.current('prod')).size).toBe(5000);
  });

  it('leaves out a corrupt record and refuses a continue token it did not make', async () => {
    const clock = { now: () => Date.parse('2026-12-07T10:00:00Z') };
    const store = new MemoryStore(clock);
    const repo = new DriftFindings(store, clock);
    await repo.replace({
      cluster: 'prod',
      checkedAt: 't',
      findings: [finding('a', 'ns')],
      counts: new Map([['ns', counts(1, 1)]]),
      previous: new Map(),
    });
    await store.put({ pk: 'drift#prod', sk: 'o#ns/apps.Deployment/zz', data: { state: 'weird' } });
    expect((await repo.list({ limit: 10 })).items.map((f) => f.name)).toEqual(['a']);
    const forged = Buffer.from(JSON.stringify({ c: 'other' })).toString('base64url');
    await expect(repo.list({ limit: 10, continue: forged })).rejects.toThrow(/no longer listed/);
    await expect(repo.list({ limit: 10, continue: '%%%' })).rejects.toThrow(/continue token/);
  });
});
