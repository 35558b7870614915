import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import {
  AlertInputError,
  AlertingNotConfiguredError,
  AlertingService,
  contentHashOf,
  mergeReason,
  scopeCovers,
} from '../../shared/app/alerts/alerting.ts';
import { CorruptRecordError } from '../../shared/app/repos/codec.ts';
import { sampleDriftAlert } from '../support/slack-receiver.ts';

const SETTINGS = {
  groupWaitMs: 30_000,
  repeatIntervalMs: 4 * 3600_000,
  initialBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
};

function service(random = () => 0.5) {
  let now = Date.parse('2026-12-07T20:45:00Z');
  const clock = { now: () => now };
  const store = new MemoryStore(clock);
  const svc = new AlertingService({ store, clock, log: pino({ level: 'silent' }), settings: SETTINGS, random });
  return { svc, store, tick: (ms: number) => (now += ms) };
}

describe('scope coverage', () => {
  it('a scope covers its own group and the groups under it, never a sibling sharing a prefix', () => {
    expect(scopeCovers('drift', 'prod', 'drift:prod')).toBe(true);
    expect(scopeCovers('drift', 'prod', 'drift:prod/payments')).toBe(true);
    expect(scopeCovers('drift', 'prod', 'drift:production/payments')).toBe(false);
    expect(scopeCovers('drift', 'prod/payments', 'drift:prod/payments')).toBe(true);
    expect(scopeCovers('drift', 'prod/payments', 'drift:prod/shop')).toBe(false);
    expect(scopeCovers('drift', 'prod', 'cost:prod')).toBe(false);
  });
});

describe('merging what is queued for one fingerprint', () => {
  it('an unshown alert is always a new message, and its resolve sends nothing', () => {
    for (const prev of [undefined, 'new', 'update', 'repeat', 'resolve'] as const) {
      expect(mergeReason(prev, 'update', false)).toBe('new');
      expect(mergeReason(prev, 'resolve', false)).toBeNull();
    }
  });
  it('a shown alert: an update wins over a repeat, and firing again over a queued resolve edits the message back', () => {
    expect(mergeReason('update', 'repeat', true)).toBe('update');
    expect(mergeReason('repeat', 'repeat', true)).toBe('repeat');
    expect(mergeReason('resolve', 'repeat', true)).toBe('update');
    expect(mergeReason(undefined, 'new', true)).toBe('update');
    expect(mergeReason('update', 'resolve', true)).toBe('resolve');
  });
});

describe('content hash', () => {
  it('ignores times and status, sees every shown field', () => {
    const a = sampleDriftAlert();
    expect(contentHashOf({ ...a, startsAt: '2020-01-01T00:00:00Z', status: 'resolved' })).toBe(contentHashOf(a));
    expect(contentHashOf({ ...a, fields: [...a.fields, { label: 'x', value: 'y' }] })).not.toBe(contentHashOf(a));
    expect(contentHashOf({ ...a, severity: 'critical' })).not.toBe(contentHashOf(a));
  });
});

describe('backoff', () => {
  it('doubles per attempt within jitter, is capped, and never beats Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 3_600_000 })),
        (attempts, r, retryAfter) => {
          const { svc } = service(() => r);
          const d = svc.backoffMs(attempts, retryAfter ?? undefined);
          const exp = Math.min(SETTINGS.maxBackoffMs, SETTINGS.initialBackoffMs * 2 ** (attempts - 1));
          expect(d).toBeGreaterThanOrEqual(Math.max(retryAfter ?? 0, Math.floor(exp / 2)));
          expect(d).toBeLessThanOrEqual(Math.max(retryAfter ?? 0, exp));
        },
      ),
    );
  });
});

describe('reconcile input', () => {
  it('refuses bad fingerprints, group keys, scopes and oversized runs with what was wrong', async () => {
    const { svc } = service();
    const run = (over: Parameters<typeof sampleDriftAlert>[0], scope = 'prod') =>
      svc.reconcile({ source: 'drift', scope, firing: [sampleDriftAlert(over)] });
    await expect(run({ fingerprint: 'has|pipe' })).rejects.toThrow(/fingerprint must match/);
    await expect(run({ groupKey: 'drift:prod/a b' })).rejects.toThrow(/groupKey must be/);
    await expect(run({ groupKey: `drift:prod/${'n'.repeat(300)}` })).rejects.toThrow(/at most 256/);
    await expect(run({}, '')).rejects.toThrow(/scope must be/);
    await expect(run({ status: 'resolved' })).rejects.toThrow(/reported firing with status resolved/);
    await expect(
      svc.reconcile({
        source: 'drift',
        scope: 'prod',
        firing: Array.from({ length: 10_001 }, () => sampleDriftAlert()),
      }),
    ).rejects.toBeInstanceOf(AlertInputError);
  });

  it('without a channel, alerts are recorded and queued, and sendTest says what to set', async () => {
    const { svc } = service();
    expect(svc.channel).toBeUndefined();
    await svc.reconcile({ source: 'drift', scope: 'prod', firing: [sampleDriftAlert()] });
    expect(await svc.deliver()).toMatchObject({ sent: 0, pending: 1 });
    await expect(svc.sendTest('alice')).rejects.toBeInstanceOf(AlertingNotConfiguredError);
    await expect(svc.sendTest('alice')).rejects.toThrow(/SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL/);
  });

  it('stores every alert masked and bounded', async () => {
    const { svc, store } = service();
    const huge = sampleDriftAlert({
      summary: `password=hunter2hunter2 ${'s'.repeat(10_000)}`,
      fields: Array.from({ length: 100 }, (_, i) => ({ label: `l${i}`, value: 'v'.repeat(50_000) })),
    });
    await svc.reconcile({ source: 'drift', scope: 'prod', firing: [huge] });
    const page = await store.query({ pk: 'alert#drift', limit: 10 });
    const json = JSON.stringify(page.items);
    expect(json).not.toContain('hunter2hunter2');
    expect(json.length).toBeLessThan(40_000);
  });
});

describe('alerts_list', () => {
  it('pages newest first with a continue token, filters by state and source, and refuses a bad token', async () => {
    const { svc, tick } = service();
    for (let i = 0; i < 5; i++) {
      await svc.reconcile({
        source: 'drift',
        scope: `c${i}`,
        firing: [sampleDriftAlert({ fingerprint: `fp${i}`, groupKey: `drift:c${i}/ns` })],
      });
      tick(1000);
    }
    const first = await svc.list({ limit: 2 });
    expect(first.items.map((i) => i.fingerprint)).toEqual(['fp4', 'fp3']);
    const second = await svc.list({ limit: 2, after: first.next as string });
    expect(second.items.map((i) => i.fingerprint)).toEqual(['fp2', 'fp1']);
    const third = await svc.list({ limit: 2, after: second.next as string });
    expect(third.items.map((i) => i.fingerprint)).toEqual(['fp0']);
    expect(third.next).toBeUndefined();
    expect((await svc.list({ limit: 10, state: 'sent' })).items).toEqual([]);
    expect((await svc.list({ limit: 10, source: 'cost' })).items).toEqual([]);
    await expect(svc.list({ limit: 10, after: 'x'.repeat(5000) })).rejects.toThrow(/continue token/);
  });

  it('a corrupt record is named, not guessed around', async () => {
    const { svc, store } = service();
    await store.put({ pk: 'alert#drift', sk: 'drift:prod|fp', data: { fingerprint: 'fp', state: 'weird' } });
    await expect(svc.list({ limit: 10 })).rejects.toBeInstanceOf(CorruptRecordError);
  });
});
