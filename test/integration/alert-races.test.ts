import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/slack-notifier.ts';
import { AlertingService } from '../../shared/app/alerts/alerting.ts';
import type { AlertSettings } from '../../shared/app/alerts/types.ts';
import type { Alert, Notifier } from '../../shared/ports/notifier.ts';
import {
  type SlackFailure,
  type SlackReceiver,
  sampleDriftAlert,
  startSlackReceiver,
} from '../support/slack-receiver.ts';

const SETTINGS: AlertSettings = {
  groupWaitMs: 30_000,
  repeatIntervalMs: 4 * 3600_000,
  initialBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
};
const silent = pino({ level: 'silent' });

async function setup(wrap?: (real: Notifier, svc: () => AlertingService) => Notifier) {
  let now = Date.parse('2026-12-07T20:45:00Z');
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const rx = await startSlackReceiver({ clock });
  const store = new MemoryStore(clock);
  const real = createSlackNotifier(
    { mode: 'bot', token: rx.token, channel: rx.channel, apiUrl: rx.apiUrl, timeoutMs: 5_000 },
    clock,
  );
  let first: AlertingService | undefined;
  const make = () =>
    new AlertingService({
      store,
      clock,
      log: silent,
      settings: SETTINGS,
      random: () => 0.5,
      notifier: wrap ? wrap(real, () => first as AlertingService) : real,
    });
  first = make();
  return { rx, clock, svc: first, make };
}

const alertMessages = (rx: SlackReceiver, fingerprint: string) =>
  rx
    .messages()
    .filter((m) => m.metadata?.event_payload.fingerprint === fingerprint && /^(FIRING|RESOLVED)/.test(m.text ?? ''));

describe('alert changes that arrive while their delivery is in flight', () => {
  it('a change queued during the send follows it as an update of the same message', async () => {
    let inject: (() => Promise<unknown>) | undefined;
    const { rx, clock, svc } = await setup((real) => ({
      kind: real.kind,
      find: real.find?.bind(real),
      send: async (a, p, o) => {
        const f = inject;
        inject = undefined;
        await f?.();
        return real.send(a, p, o);
      },
    }));
    try {
      const v1 = sampleDriftAlert();
      const v2 = sampleDriftAlert({ summary: 'second version' });
      await svc.reconcile({ source: 'drift', scope: 'prod', firing: [v1] });
      clock.advance(30_000);
      inject = () => svc.reconcile({ source: 'drift', scope: 'prod', firing: [v2] });
      expect(await svc.deliver()).toMatchObject({ sent: 1, pending: 1 });
      expect(await svc.deliver()).toMatchObject({ sent: 1, pending: 0 });
      expect(rx.messages()).toHaveLength(1);
      expect(rx.messages()[0]).toMatchObject({ edits: 1 });
      expect(rx.messages()[0]?.text).toContain('second version');
    } finally {
      await rx.close();
    }
  });

  it('a resolve queued while its first post is in flight resolves the posted message', async () => {
    let inject: (() => Promise<unknown>) | undefined;
    const { rx, clock, svc } = await setup((real) => ({
      kind: real.kind,
      send: async (a, p, o) => {
        const f = inject;
        inject = undefined;
        await f?.();
        return real.send(a, p, o);
      },
    }));
    try {
      await svc.reconcile({ source: 'drift', scope: 'prod', firing: [sampleDriftAlert()] });
      clock.advance(30_000);
      inject = () => svc.reconcile({ source: 'drift', scope: 'prod', firing: [] });
      await svc.deliver();
      await svc.deliver();
      expect(rx.messages().map((m) => m.text?.slice(0, 20))).toEqual(['RESOLVED · warning: ', ':large_green_circle:']);
    } finally {
      await rx.close();
    }
  });
});

type Step =
  | { op: 'run'; firing: Array<[number, number]> }
  | { op: 'advance'; ms: number }
  /** Deliverers in parallel, and a check run alongside them when `run` is set. */
  | { op: 'deliver'; parallel: number; run: Array<[number, number]> | null }
  | { op: 'fail'; failure: SlackFailure | undefined };

const firingSet = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 })), {
  selector: (t) => t[0],
  maxLength: 5,
});

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('run' as const),
    firing: firingSet,
  }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 5_000, 30_000, 600_000, 4 * 3600_000) }),
  fc.record({
    op: fc.constant('deliver' as const),
    parallel: fc.integer({ min: 1, max: 3 }),
    run: fc.option(firingSet, { nil: null }),
  }),
  fc.record({
    op: fc.constant('fail' as const),
    failure: fc.constantFrom<SlackFailure | undefined>(
      undefined,
      { kind: 'status', status: 503, times: 2 },
      { kind: 'ratelimit', retryAfterS: 60, times: 1 },
      { kind: 'drop-after-accept', times: 1 },
      { kind: 'drop-after-accept', times: 3 },
    ),
  }),
);

const alertOf = (i: number, v: number): Alert =>
  sampleDriftAlert({
    fingerprint: `drift-prod-obj${i}`,
    groupKey: `drift:prod/ns${i % 2}`,
    summary: `object ${i} drifted, version ${v}`,
    fields: [{ label: 'spec.replicas', value: `${v} → ${v + 1}` }],
  });

describe('the outbox under random runs, failures and concurrent deliverers', () => {
  it('never posts a delivery twice, loses none, and ends showing the last state of every alert', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 25 }), async (steps) => {
        const { rx, clock, svc, make } = await setup();
        try {
          const others = [make(), make()];
          let last: Array<[number, number]> = [];
          for (const s of steps) {
            if (s.op === 'run') {
              last = s.firing;
              await svc.reconcile({ source: 'drift', scope: 'prod', firing: s.firing.map(([i, v]) => alertOf(i, v)) });
            } else if (s.op === 'advance') clock.advance(s.ms);
            else if (s.op === 'deliver') {
              const runs = s.run;
              if (runs) last = runs;
              await Promise.all([
                ...[svc, ...others].slice(0, s.parallel).map((d) => d.deliver()),
                ...(runs
                  ? [svc.reconcile({ source: 'drift', scope: 'prod', firing: runs.map(([i, v]) => alertOf(i, v)) })]
                  : []),
              ]);
            } else if (s.failure) rx.failWith(s.failure);
            else rx.heal();
          }
          rx.heal();
          for (let i = 0; i < 20; i++) {
            clock.advance(20 * 60_000);
            if ((await svc.deliver()).pending === 0) break;
          }
          expect((await svc.deliver()).pending).toBe(0);

          // No delivery id on two messages: a retry never posted a second copy.
          const ids = rx.messages().map((m) => m.metadata?.event_payload.delivery_id);
          expect(new Set(ids).size).toBe(ids.length);
          // Every alert ends as the channel shows it: the firing ones with their last content, the others resolved.
          const firing = new Map(last);
          for (let i = 0; i <= 4; i++) {
            const shown = alertMessages(rx, `drift-prod-obj${i}`).at(-1);
            if (firing.has(i)) {
              expect(shown?.text, `obj${i}`).toMatch(new RegExp(`^FIRING.*version ${firing.get(i)}`));
            } else if (shown) {
              expect(shown.text, `obj${i}`).toMatch(/^RESOLVED/);
            }
          }
        } finally {
          await rx.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
