import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { AUDIT_FIELD_BYTES, type AuditEvent, AuditTrail, MAX_RECORD_BYTES } from '../../shared/app/repos/audit.ts';
import { ItemTooLargeError, type PutCondition, type PutInput, type StoreItem } from '../../shared/ports/store.ts';

const silent = pino({ level: 'silent' });
const DAY = 86_400_000;

function trail(store: MemoryStore, clock: { now(): number }, log = silent) {
  return new AuditTrail({ store, clock, log, retentionDays: 30 });
}

function ev(a: AuditTrail, at: number, tool: string, caller = 'alice', args: unknown = {}): AuditEvent {
  return a.event({
    requestId: `r-${at}`,
    caller: { subject: caller, name: caller, method: 'oauth' },
    roles: ['operator'],
    tool,
    args,
    outcome: 'ok',
    durationMs: 3,
    startedAt: at,
  });
}

describe('audit trail', () => {
  it('redacts arguments before storing', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const store = new MemoryStore({ now: () => now });
    const a = trail(store, { now: () => now });
    await a.record(
      ev(a, now, 'k8s_resources_apply', 'alice', { manifest: 'x', token: 'hunter2', note: 'Bearer abcdefghijk' }),
    );
    now += 1;
    const page = await a.list({ limit: 10 });
    expect(page.events[0]?.args).toEqual({ manifest: 'x', token: '[REDACTED]', note: 'Bearer [REDACTED]' });
    expect(JSON.stringify(page)).not.toContain('hunter2');
  });

  it('lists newest first across days, filters, and pages with a cursor without repeats or gaps', async () => {
    const start = Date.parse('2026-11-18T23:30:00Z');
    let now = start;
    const store = new MemoryStore({ now: () => now });
    const a = trail(store, { now: () => now });
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = start + i * 3 * 3_600_000; // every 3 h over ~4 days
      times.push(t);
      await a.record(ev(a, t, i % 3 === 0 ? 'server_info' : 'audit_events_list', i % 2 ? 'bob' : 'alice'));
    }
    now = start + 4 * DAY;
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await a.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.time));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([...times].reverse().map((t) => new Date(t).toISOString()));

    const bobInfo = await a.list({ limit: 100, tool: 'server_info', caller: 'bob' });
    expect(bobInfo.events.every((e) => e.tool === 'server_info' && e.caller.name === 'bob')).toBe(true);
    expect(bobInfo.events).toHaveLength(5);

    const recent = await a.list({ limit: 100, since: new Date(now - DAY).toISOString() });
    expect(recent.events.every((e) => Date.parse(e.time) >= now - DAY)).toBe(true);
    expect(recent.events.length).toBe(times.filter((t) => t >= now - DAY).length);
  });

  it('rejects a cursor it did not issue', async () => {
    const store = new MemoryStore();
    const a = trail(store, { now: () => Date.now() });
    await expect(a.list({ limit: 5, cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });

  it('a failed write does not throw, is logged and counted, and is written with the next record', async () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    class FlakyStore extends MemoryStore {
      failing = true;
      override async put(item: PutInput, c?: PutCondition): Promise<StoreItem> {
        if (this.failing) throw new Error('ProvisionedThroughputExceededException');
        return super.put(item, c);
      }
    }
    const store = new FlakyStore({ now: () => now + 10 });
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
    const a = trail(store, { now: () => now + 10 }, log);
    await expect(a.record(ev(a, now, 'server_info'))).resolves.toBeUndefined();
    expect(a.failures).toBe(1);
    expect(lines.join('')).toContain('audit write failed');
    expect(lines.join('')).toContain('server_info');
    store.failing = false;
    await a.record(ev(a, now + 1, 'audit_events_list'));
    const page = await a.list({ limit: 10 });
    expect(page.events.map((e) => e.tool)).toEqual(['audit_events_list', 'server_info']);
  });
});

describe('audit trail: bounded records, no blocked queue, idempotent writes', () => {
  const T0 = Date.parse('2026-11-21T10:00:00Z');
  const alice = { subject: 'alice', name: 'alice', roles: ['operator' as const], method: 'oauth' as const };

  async function all(a: AuditTrail): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await a.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      out.push(...page.events);
      cursor = page.cursor;
      if (!cursor) break;
    }
    return out;
  }

  const hostile: Array<[string, Parameters<AuditTrail['recordCall']>[0]]> = [
    [
      'a 10 KB tool name',
      { requestId: 'r1', identity: alice, tool: 't'.repeat(10_240), args: {}, outcome: 'error', startedAt: T0 },
    ],
    [
      'a 1 MB argument',
      {
        requestId: 'r2',
        identity: alice,
        tool: 'k8s_resources_apply',
        args: { manifest: 'x'.repeat(1 << 20) },
        outcome: 'ok',
        startedAt: T0,
      },
    ],
    [
      'a 5 KB request id',
      { requestId: 'i'.repeat(5120), identity: alice, tool: 'server_info', args: {}, outcome: 'ok', startedAt: T0 },
    ],
    [
      'a 64 KB caller name and subject, 500 roles',
      {
        requestId: 'r4',
        identity: {
          ...alice,
          subject: 's'.repeat(65_536),
          name: 'é'.repeat(30_000),
          roles: Array.from({ length: 500 }, () => 'viewer' as const),
        },
        tool: 'server_info',
        args: {},
        outcome: 'denied',
        startedAt: T0,
      },
    ],
    [
      'a 1 MB error text',
      {
        requestId: 'r5',
        identity: alice,
        tool: 'server_info',
        args: {},
        outcome: 'error',
        error: 'e'.repeat(1 << 20),
        startedAt: T0,
      },
    ],
    [
      '10,000 argument keys of 100 bytes',
      {
        requestId: 'r6',
        identity: alice,
        tool: 'server_info',
        args: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'.repeat(100)])),
        outcome: 'ok',
        startedAt: T0,
      },
    ],
    [
      'a multi-byte tool name cut mid-character',
      { requestId: 'r7', identity: alice, tool: '€'.repeat(4000), args: {}, outcome: 'ok', startedAt: T0 },
    ],
  ];

  for (const [what, call] of hostile) {
    it(`${what}: stored capped with a visible marker, the record within its byte cap`, async () => {
      const store = new MemoryStore({ now: () => T0 + 5 });
      const a = trail(store, { now: () => T0 + 5 });
      await a.recordCall(call);
      const [e] = await all(a);
      expect(e).toBeDefined();
      const json = JSON.stringify(e);
      expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
      expect(json).toMatch(/…\[truncated \d+ bytes\]|… \[\d+ more chars\]|omitted/);
      expect(json).not.toContain('\ufffd');
      for (const [field, max] of [
        [e?.tool, AUDIT_FIELD_BYTES.tool],
        [e?.requestId, AUDIT_FIELD_BYTES.requestId],
        [e?.caller.subject, AUDIT_FIELD_BYTES.subject],
        [e?.caller.name, AUDIT_FIELD_BYTES.name],
        [e?.error ?? '', AUDIT_FIELD_BYTES.error],
      ] as const) {
        expect(Buffer.byteLength(field ?? '')).toBeLessThanOrEqual(max);
      }
      expect(e?.roles.length).toBeLessThanOrEqual(17);
      expect(a.failures).toBe(0);
    });
  }

  it('a record the store refuses for good never holds up the records after it: the next 50 are all written', async () => {
    let now = T0;
    // Refuses every write of one request for good (as a ValidationException would), whatever its size.
    class Refusing extends MemoryStore {
      override async put(item: PutInput, c?: PutCondition): Promise<StoreItem> {
        if (item.sk.includes('#poison'))
          throw new Error('ValidationException: One or more parameter values were invalid');
        return super.put(item, c);
      }
    }
    const store = new Refusing({ now: () => now });
    const a = trail(store, { now: () => now });
    await a.recordCall({
      requestId: 'poison',
      identity: alice,
      tool: 'server_info',
      args: {},
      outcome: 'ok',
      startedAt: now,
    });
    for (let i = 0; i < 50; i++) {
      now += 1;
      await a.recordCall({
        requestId: `next-${i}`,
        identity: alice,
        tool: 'server_info',
        args: {},
        outcome: 'ok',
        startedAt: now,
      });
    }
    const ids = (await all(a)).map((e) => e.requestId);
    expect(ids).toHaveLength(50);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `next-${i}`)));
    // Retried a bounded number of times (in the background and by flush), then given up and counted.
    let left = await a.flush();
    for (let i = 0; i < 20 && left > 0; i++) left = await a.flush();
    expect(left).toBe(0);
    expect(a.dropped).toBe(1);
    expect(a.failures).toBeLessThanOrEqual(10);
  });

  it('a record too large for the store is written as a summary, and later records still land', async () => {
    let now = T0;
    const store = new MemoryStore({ now: () => now });
    // A store with a smaller item limit than DynamoDB's (Firestore-like tightening): refuses > 4 KB.
    class Small extends MemoryStore {
      override async put(item: PutInput, c?: PutCondition): Promise<StoreItem> {
        if (JSON.stringify(item.data).length > 4096) throw new ItemTooLargeError(item.pk, item.sk);
        return super.put(item, c);
      }
    }
    const small = new Small({ now: () => now });
    const a = trail(small, { now: () => now });
    await a.recordCall({
      requestId: 'big',
      identity: alice,
      tool: 'server_info',
      args: { blob: 'x'.repeat(7000) },
      outcome: 'ok',
      startedAt: now,
    });
    now += 1;
    await a.recordCall({
      requestId: 'after',
      identity: alice,
      tool: 'server_info',
      args: {},
      outcome: 'ok',
      startedAt: now,
    });
    const events = await all(a);
    expect(events.map((e) => e.requestId)).toEqual(['after', 'big']);
    expect(JSON.stringify(events[1]?.args)).toContain('omitted');
    expect(store).toBeDefined();
  });

  it('a retried write of one request leaves one record: timeouts that landed, repeated record(), concurrent retries', async () => {
    const now = T0;
    // The write lands, but the caller hears a failure (a timeout or a reset after the store committed).
    class LandsThenFails extends MemoryStore {
      lies = 3;
      override async put(item: PutInput, c?: PutCondition): Promise<StoreItem> {
        const out = await super.put(item, c);
        if (this.lies-- > 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return out;
      }
    }
    const store = new LandsThenFails({ now: () => now + 10 });
    const a = trail(store, { now: () => now + 10 });
    const e = ev(a, now, 'server_info');
    await a.record(e);
    expect(a.failures).toBe(1);
    await a.record(e);
    await a.flush();
    await Promise.all([a.record(e), a.record(e), a.record(e)]);
    expect(await a.flush()).toBe(0);
    const events = await all(a);
    expect(events).toHaveLength(1);
    expect(events[0]?.requestId).toBe(e.requestId);
  });

  it('two different calls that reuse one request id in the same millisecond leave two records', async () => {
    const store = new MemoryStore({ now: () => T0 + 10 });
    const a = trail(store, { now: () => T0 + 10 });
    for (const tool of ['server_info', 'audit_events_list', 'k8s_resources_list']) {
      await a.recordCall({ requestId: 'same', identity: alice, tool, args: {}, outcome: 'ok', startedAt: T0 });
    }
    expect((await all(a)).map((e) => e.tool).sort()).toEqual([
      'audit_events_list',
      'k8s_resources_list',
      'server_info',
    ]);
  });

  it('recordCall never throws, even for arguments JSON cannot hold', async () => {
    const store = new MemoryStore({ now: () => T0 });
    const a = trail(store, { now: () => T0 });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(
      a.recordCall({
        requestId: 'cyc',
        identity: alice,
        tool: 'server_info',
        args: { big: 10n, cyclic },
        outcome: 'ok',
        startedAt: T0,
      }),
    ).resolves.toBeUndefined();
    expect((await all(a)).map((e) => e.requestId)).toEqual(['cyc']);
  });

  it('a write that timed out is left to finish before flush() resolves, so the host never closes the store under it', async () => {
    vi.useFakeTimers({ now: T0 });
    try {
      // The first put hangs until released (a slow store); later ones answer at once.
      class Slow extends MemoryStore {
        held: Array<() => void> = [];
        hold = true;
        override async put(item: PutInput, c?: PutCondition): Promise<StoreItem> {
          if (this.hold) {
            this.hold = false;
            await new Promise<void>((r) => this.held.push(r));
          }
          return super.put(item, c);
        }
      }
      const store = new Slow({ now: () => T0 + 10 });
      const a = trail(store, { now: () => T0 + 10 });
      const e = ev(a, T0, 'server_info');
      const recorded = a.record(e);
      await vi.advanceTimersByTimeAsync(2000);
      await recorded;
      expect(a.failures).toBe(1);
      let flushed = false;
      const flushing = a.flush().then((n) => {
        flushed = true;
        return n;
      });
      // The retry lands; the first write is still running, so flush waits for it.
      await vi.advanceTimersByTimeAsync(100);
      expect(flushed).toBe(false);
      for (const release of store.held) release();
      expect(await flushing).toBe(0);
      expect(await all(a)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
