import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { type AuditEvent, AuditTrail } from '../../shared/domain/audit.ts';
import type { PutCondition, PutInput, StoreItem } from '../../shared/ports/store.ts';

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
