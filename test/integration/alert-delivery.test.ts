import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { dynamoClient, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/slack-notifier.ts';
import { AlertingService } from '../../shared/app/alerts/alerting.ts';
import type { AlertSettings } from '../../shared/app/alerts/types.ts';
import type { Alert } from '../../shared/ports/notifier.ts';
import type { Store } from '../../shared/ports/store.ts';
import { sampleDriftAlert as driftAlert, type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

const SETTINGS: AlertSettings = {
  groupWaitMs: 30_000,
  repeatIntervalMs: 4 * 3600_000,
  initialBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
};
const T0 = Date.parse('2026-12-07T20:45:00Z');
const silent = pino({ level: 'silent' });

interface Rig {
  receiver: SlackReceiver;
  clock: { now(): number; advance(ms: number): void };
  alerting: AlertingService;
  store: Store;
  /** Another instance over the same store (or `store`) and Slack: a second function or host. */
  another(store?: Store): AlertingService;
}

async function rig(
  opts: { webhook?: boolean; store?: (clock: { now(): number }) => Promise<Store>; timeoutMs?: number } = {},
): Promise<Rig> {
  let now = T0;
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const receiver = await startSlackReceiver({ clock });
  const store = opts.store ? await opts.store(clock) : new MemoryStore(clock);
  const make = (over?: Store) =>
    new AlertingService({
      store: over ?? store,
      clock,
      log: silent,
      settings: SETTINGS,
      random: () => 0.5,
      notifier: createSlackNotifier(
        opts.webhook
          ? { mode: 'webhook', webhookUrl: receiver.webhookUrl, timeoutMs: opts.timeoutMs ?? 5_000 }
          : {
              mode: 'bot',
              token: receiver.token,
              channel: receiver.channel,
              apiUrl: receiver.apiUrl,
              timeoutMs: opts.timeoutMs ?? 5_000,
            },
        clock,
      ),
    });
  return { receiver, clock, alerting: make(), store, another: (s) => make(s) };
}

const web = (over: Partial<Alert> = {}) => driftAlert(over);
const db = (over: Partial<Alert> = {}) =>
  driftAlert({
    fingerprint: 'drift-prod-payments-sts-db',
    summary: 'StatefulSet payments/db drifted: 1 field changed by helm',
    fields: [{ label: 'spec.template.spec.containers[db].resources.limits.memory', value: '1Gi → 2Gi' }],
    ...over,
  });
const run = (r: Rig, firing: Alert[], scope = 'prod') => r.alerting.reconcile({ source: 'drift', scope, firing });
/** Top-level messages (not thread replies). */
const roots = (r: Rig) => r.receiver.messages().filter((m) => !m.thread_ts);
const replies = (r: Rig) => r.receiver.messages().filter((m) => m.thread_ts);

describe('alerts through a bot token to a loopback Slack', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => {
    await r.receiver.close();
    await r.store.close();
  });

  it('waits for the group, sends its alerts together in one thread, and the same drift twice sends one message', async () => {
    expect(await run(r, [web(), db()])).toMatchObject({ opened: 2 });
    expect(await r.alerting.deliver()).toMatchObject({
      sent: 0,
      pending: 2,
      nextAttemptAt: new Date(T0 + 30_000).toISOString(),
    });
    expect(r.receiver.messages()).toHaveLength(0);
    r.clock.advance(30_000);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 2, pending: 0 });
    const [root, reply] = r.receiver.messages();
    expect(root?.thread_ts).toBeUndefined();
    expect(reply?.thread_ts).toBe(root?.ts);
    expect(root?.metadata).toMatchObject({
      event_type: 'cloudops_alert',
      event_payload: { fingerprint: web().fingerprint },
    });

    r.clock.advance(180_000);
    expect(await run(r, [web(), db()])).toMatchObject({ opened: 0, unchanged: 2 });
    expect(await r.alerting.deliver()).toMatchObject({ sent: 0, pending: 0 });
    expect(r.receiver.messages()).toHaveLength(2);
    expect(r.receiver.messages().every((m) => m.edits === 0)).toBe(true);
  });

  it('a change updates its message (chat.update), a repeat after the interval replies in its thread, a resolve updates and replies', async () => {
    await run(r, [web()]);
    r.clock.advance(30_000);
    await r.alerting.deliver();
    const first = roots(r)[0];
    expect(first?.text).toMatch(/^FIRING · warning/);

    r.clock.advance(60_000);
    const changed = web({ fields: [...web().fields.slice(0, 2), { label: 'spec.replicas', value: '3 → 7' }] });
    expect(await run(r, [changed])).toMatchObject({ updated: 1 });
    await r.alerting.deliver();
    expect(roots(r)).toHaveLength(1);
    expect(first?.edits).toBe(1);
    expect(first?.text).toContain('3 → 7');
    expect(first?.text).toMatch(/^FIRING \(changed\)/);

    r.clock.advance(SETTINGS.repeatIntervalMs - 1000);
    expect(await run(r, [changed])).toMatchObject({ unchanged: 1 });
    r.clock.advance(1000);
    expect(await run(r, [changed])).toMatchObject({ repeated: 1 });
    await r.alerting.deliver();
    expect(roots(r)).toHaveLength(1);
    expect(replies(r)).toHaveLength(1);
    expect(replies(r)[0]?.text).toMatch(/Still firing since 2026-12-07T20:45:00.000Z/);

    r.clock.advance(60_000);
    // The run covered prod and no longer reports it: resolved.
    expect(await run(r, [])).toMatchObject({ resolved: 1 });
    await r.alerting.deliver();
    expect(first?.text).toMatch(/^RESOLVED/);
    expect(replies(r).at(-1)?.text).toMatch(/^:large_green_circle: Resolved at /);
    expect(replies(r).at(-1)?.thread_ts).toBe(first?.ts);

    const list = await r.alerting.list({ limit: 10 });
    expect(list.items[0]).toMatchObject({ fingerprint: web().fingerprint, status: 'resolved', state: 'sent' });
    // Firing again after the delivered resolve is a new message.
    r.clock.advance(60_000);
    expect(await run(r, [changed])).toMatchObject({ opened: 1 });
  });

  it('a run resolves only what its scope covers', async () => {
    const other = web({ fingerprint: 'drift-prod-shop-web', groupKey: 'drift:prod/shop' });
    const elsewhere = web({ fingerprint: 'drift-production-web', groupKey: 'drift:production/payments' });
    await run(r, [web(), other]);
    await r.alerting.reconcile({ source: 'drift', scope: 'production', firing: [elsewhere] });
    expect(await run(r, [], 'prod/payments')).toMatchObject({ resolved: 1 });
    expect(await run(r, [], 'prod')).toMatchObject({ resolved: 1 });
    const states = (await r.alerting.list({ limit: 10 })).items.map((i) => [i.fingerprint, i.status]);
    expect(states).toContainEqual(['drift-production-web', 'firing']);
    await expect(run(r, [elsewhere], 'prod')).rejects.toThrow(/outside the run's scope drift:prod/);
  });

  it('an alert that clears before it was ever sent sends nothing', async () => {
    await run(r, [web()]);
    expect(await run(r, [])).toMatchObject({ resolved: 1 });
    r.clock.advance(60_000);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 0, pending: 0 });
    expect(r.receiver.messages()).toHaveLength(0);
    const [view] = (await r.alerting.list({ limit: 1 })).items;
    expect(view).toMatchObject({ status: 'resolved', state: 'sent' });
    expect(view?.receipt).toBeUndefined();
  });

  it('Slack failing with 5xx, 429 (Retry-After honoured) and a closed port, then recovering: the alert arrives exactly once', async () => {
    await run(r, [web()]);
    r.clock.advance(30_000);
    r.receiver.failWith({ kind: 'status', status: 503, times: 1 });
    expect(await r.alerting.deliver()).toMatchObject({ sent: 0, deferred: 1, pending: 1 });
    let view = (await r.alerting.list({ limit: 1 })).items[0];
    expect(view).toMatchObject({ state: 'queued', attempts: 1, lastError: 'Slack chat.postMessage: HTTP 503' });
    // Backoff 5 s × (0.5 + 0.5 × 0.5) jitter = 3.75 s.
    expect(Date.parse(view?.nextAttemptAt ?? '')).toBe(r.clock.now() + 3750);

    r.clock.advance(3750);
    r.receiver.failWith({ kind: 'ratelimit', retryAfterS: 120, times: 1 });
    expect(await r.alerting.deliver()).toMatchObject({ deferred: 1 });
    view = (await r.alerting.list({ limit: 1 })).items[0];
    expect(view?.lastError).toMatch(/rate limited, retry after 120s/);
    r.clock.advance(119_000);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 0, deferred: 0, pending: 1 });

    r.clock.advance(1000);
    await r.receiver.stopListening();
    expect(await r.alerting.deliver()).toMatchObject({ deferred: 1 });
    const closed = (await r.alerting.list({ limit: 1 })).items[0]?.lastError;
    // A pooled connection the closing server dropped, or a refused new one: both a network failure.
    expect(closed, closed).toMatch(/request failed \((ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET)\)/);
    await r.receiver.reopen();
    r.clock.advance(60_000);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 1, pending: 0 });
    expect(r.receiver.messages()).toHaveLength(1);
    expect((await r.alerting.list({ limit: 1 })).items[0]).toMatchObject({ state: 'sent', attempts: 0 });
    expect((await r.alerting.list({ limit: 1 })).items[0]?.lastError).toBeUndefined();
  });

  it('Slack posting but the answer being lost (connection dropped, a timeout): the retry finds the message and posts no second copy', async () => {
    await run(r, [web(), db()]);
    r.clock.advance(30_000);
    r.receiver.failWith({ kind: 'drop-after-accept', times: 1 });
    const first = await r.alerting.deliver();
    expect(first).toMatchObject({ sent: 0, deferred: 1, pending: 2 });
    expect(r.receiver.messages()).toHaveLength(1);
    r.clock.advance(10 * 60_000);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 2, pending: 0 });
    // The root was adopted, db replied in its thread: two messages, no copies.
    expect(r.receiver.messages()).toHaveLength(2);
    expect(r.receiver.messages()[1]?.thread_ts).toBe(r.receiver.messages()[0]?.ts);
    expect(r.receiver.calls.filter((c) => c.method === 'conversations.history')).not.toHaveLength(0);
  });

  it('a deliverer that stopped after posting and before recording: the next one adopts the message when the lease expires', async () => {
    await run(r, [web()]);
    r.clock.advance(30_000);
    // A deliverer whose process dies right after Slack accepted its post: no Store write of it lands after that.
    const posted = () => r.receiver.messages().length > 0;
    const dyingStore: Store = {
      kind: r.store.kind,
      get: (pk, sk) => r.store.get(pk, sk),
      query: (q) => r.store.query(q),
      close: async () => {},
      put: async (item, cond) => {
        if (posted()) throw new Error('process stopped');
        return r.store.put(item, cond);
      },
      delete: async (pk, sk, cond) => {
        if (posted()) throw new Error('process stopped');
        return r.store.delete(pk, sk, cond);
      },
    };
    await expect(r.another(dyingStore).deliver()).rejects.toThrow('process stopped');
    expect(r.receiver.messages()).toHaveLength(1);
    // Its lease still holds: nobody sends the entry now.
    expect(await r.alerting.deliver()).toMatchObject({ sent: 0, pending: 1 });
    r.clock.advance(3 * 60_000 + 1);
    expect(await r.alerting.deliver()).toMatchObject({ sent: 1, pending: 0 });
    expect(r.receiver.messages()).toHaveLength(1);
    expect((await r.alerting.list({ limit: 1 })).items[0]?.receipt?.messageId).toBe(
      `${r.receiver.channel}/${r.receiver.messages()[0]?.ts}`,
    );
  });

  it('concurrent deliverers send each alert exactly once', async () => {
    const alerts = Array.from({ length: 12 }, (_, i) =>
      web({
        fingerprint: `drift-prod-ns${i % 3}-obj${i}`,
        groupKey: `drift:prod/ns${i % 3}`,
        summary: `object ${i} drifted`,
      }),
    );
    for (let round = 0; round < 5; round++) {
      const firing = alerts.map((a) => ({ ...a, summary: `${a.summary} (round ${round})` }));
      await run(r, firing);
      r.clock.advance(30_000);
      const deliverers = [r.alerting, r.another(), r.another(), r.another()];
      await Promise.all(deliverers.map((d) => d.deliver()));
      expect(await r.alerting.deliver()).toMatchObject({ pending: 0 });
    }
    // 12 posts, then each later round is an update of those 12 messages: never a second post.
    expect(r.receiver.messages()).toHaveLength(12);
    const posts = r.receiver.calls.filter((c) => c.method === 'chat.postMessage' && c.ok);
    expect(posts).toHaveLength(12);
    expect(r.receiver.messages().every((m) => m.edits === 4)).toBe(true);
  });

  it('a permanent refusal marks the alert failed with the error, and it is not retried forever', async () => {
    const receiver2 = await startSlackReceiver({ channel: 'C0OTHER001' });
    const svc = new AlertingService({
      store: r.store,
      clock: r.clock,
      log: silent,
      settings: SETTINGS,
      notifier: createSlackNotifier(
        { mode: 'bot', token: receiver2.token, channel: 'C0MISSING1', apiUrl: receiver2.apiUrl, timeoutMs: 5000 },
        r.clock,
      ),
    });
    await svc.reconcile({ source: 'drift', scope: 'prod', firing: [web()] });
    r.clock.advance(30_000);
    expect(await svc.deliver()).toMatchObject({ failed: 1, pending: 0 });
    expect((await svc.list({ limit: 1, state: 'failed' })).items[0]).toMatchObject({
      state: 'failed',
      lastError: 'Slack chat.postMessage refused: channel_not_found',
    });
    r.clock.advance(60_000);
    expect(await svc.reconcile({ source: 'drift', scope: 'prod', firing: [web()] })).toMatchObject({ unchanged: 1 });
    expect(await svc.deliver()).toMatchObject({ failed: 0, pending: 0 });
    expect(receiver2.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    // A repeat interval after the failure it is tried again (the operator may have fixed the channel).
    r.clock.advance(SETTINGS.repeatIntervalMs);
    expect(await svc.reconcile({ source: 'drift', scope: 'prod', firing: [web()] })).toMatchObject({ repeated: 1 });
    await receiver2.close();
  });

  it('a bad token is refused for good and never appears in the error', async () => {
    const svc = new AlertingService({
      store: r.store,
      clock: r.clock,
      log: silent,
      settings: SETTINGS,
      notifier: createSlackNotifier(
        {
          mode: 'bot',
          token: 'xoxb-9999999999-wrong-token-value',
          channel: r.receiver.channel,
          apiUrl: r.receiver.apiUrl,
          timeoutMs: 5000,
        },
        r.clock,
      ),
    });
    await expect(svc.sendTest('alice')).rejects.toThrow('Slack chat.postMessage refused: invalid_auth');
    await svc.reconcile({ source: 'drift', scope: 'prod', firing: [web()] });
    r.clock.advance(30_000);
    await svc.deliver();
    expect(JSON.stringify(await svc.list({ limit: 5 }))).not.toContain('wrong-token-value');
  });

  it('sendTest posts a message now', async () => {
    const receipt = await r.alerting.sendTest('alice@example.com');
    expect(receipt.channel).toBe('slack');
    expect(r.receiver.messages()[0]?.text).toMatch(/Test message from cloudops-mcp/);
  });
});

describe('alerts through an incoming webhook', () => {
  it('posts each delivery as its own message, worded by why', async () => {
    const r = await rig({ webhook: true });
    try {
      await run(r, [web()]);
      r.clock.advance(30_000);
      r.receiver.failWith({ kind: 'ratelimit', retryAfterS: 30, times: 1 });
      expect(await r.alerting.deliver()).toMatchObject({ deferred: 1 });
      expect((await r.alerting.list({ limit: 1 })).items[0]?.nextAttemptAt).toBe(
        new Date(r.clock.now() + 30_000).toISOString(),
      );
      r.clock.advance(30_000);
      expect(await r.alerting.deliver()).toMatchObject({ sent: 1 });
      r.clock.advance(60_000);
      await run(r, []);
      await r.alerting.deliver();
      expect(r.receiver.webhookPosts.map((p) => p.text?.split(':')[0])).toEqual([
        'FIRING · warning',
        'RESOLVED · warning',
      ]);
    } finally {
      await r.receiver.close();
    }
  });
});

describe('the outbox on DynamoDB (dynalite)', () => {
  it('concurrent deliverers over DynamoDB send each alert exactly once', async () => {
    const r = await rig({
      store: async (clock) => {
        const embedded = await startEmbeddedDynamo({ table: 'alerts' });
        return new DynamoDbStore(dynamoClient(embedded.endpoint, 'local', embedded.accessKeyId), 'alerts', {
          clock,
          onClose: () => embedded.store.close(),
        });
      },
    });
    try {
      const alerts = Array.from({ length: 8 }, (_, i) =>
        web({ fingerprint: `drift-prod-obj${i}`, groupKey: `drift:prod/ns${i % 2}` }),
      );
      await run(r, alerts);
      r.clock.advance(30_000);
      await Promise.all([r.alerting, r.another(), r.another()].map((d) => d.deliver()));
      expect(await r.alerting.deliver()).toMatchObject({ pending: 0 });
      expect(r.receiver.calls.filter((c) => c.method === 'chat.postMessage' && c.ok)).toHaveLength(8);
      await run(r, []);
      await Promise.all([r.alerting, r.another(), r.another()].map((d) => d.deliver()));
      expect(r.receiver.messages().filter((m) => m.text?.startsWith('RESOLVED'))).toHaveLength(8);
      expect(r.receiver.calls.filter((c) => c.method === 'chat.update' && c.ok)).toHaveLength(8);
    } finally {
      await r.receiver.close();
      await r.store.close();
    }
  });
});
