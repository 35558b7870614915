// The Slack approvals channel as a plain fetch handler (shared/channels/slack/actions.ts): web Requests in, no cloud
// host around it, an in-memory Store and an injected fetch for response_url. The Lambda host is tested through API
// Gateway events in test/functions/slack-actions.test.ts.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { Approvals } from '../../shared/app/repos/approvals.ts';
import { AuditTrail } from '../../shared/app/repos/audit.ts';
import { Operations } from '../../shared/app/repos/operations.ts';
import { createSlackActionsEndpoint, SLACK_BODY_MAX_BYTES } from '../../shared/channels/slack/actions.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { Store } from '../../shared/ports/store.ts';

const SECRET = 'test-signing-secret-0123456789abcdef';
const HASH = 'ab'.repeat(32);
const RESPONSE_URL = 'https://hooks.slack.com/actions/T0/1/x';
const NOW = Date.parse('2026-12-07T12:00:00Z');

function setup(opts: { store?: Store } = {}) {
  let now = NOW;
  const clock = { now: () => now };
  const store = opts.store ?? new MemoryStore(clock);
  const log = createLogger('silent');
  const deps = {
    store,
    clock,
    approvals: new Approvals(store, clock),
    operations: new Operations(store, clock),
    audit: new AuditTrail({ store, clock, log, retentionDays: 90 }),
  };
  const posted: Array<{ url: string; body: unknown }> = [];
  const serve = createSlackActionsEndpoint({
    deps,
    signingSecret: SECRET,
    approvers: { U0ALICE: { subject: 'auth0|alice', name: 'Alice' } },
    log,
    fetch: async (url, init) => {
      posted.push({ url: String(url), body: JSON.parse(String(init?.body)) });
      return new Response('ok');
    },
  });
  return { deps, posted, serve, tick: (ms: number) => (now += ms) };
}

function body(opts: { user?: string; operationId?: string; responseUrl?: string } = {}): string {
  const payload = {
    type: 'block_actions',
    user: { id: opts.user ?? 'U0ALICE', username: (opts.user ?? 'U0ALICE').toLowerCase() },
    actions: [{ value: `approve:${opts.operationId ?? 'op-1'}:${HASH}` }],
    response_url: opts.responseUrl ?? RESPONSE_URL,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Signed like Slack signs (v0), computed here independently of the code under test. */
function request(raw: string, opts: { secret?: string; at?: number; method?: string } = {}): Request {
  const ts = String(Math.floor((opts.at ?? NOW) / 1000));
  const sig = `v0=${createHmac('sha256', opts.secret ?? SECRET)
    .update(`v0:${ts}:${raw}`)
    .digest('hex')}`;
  return new Request('https://example.test/slack/actions', {
    method: opts.method ?? 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': sig,
    },
    ...(opts.method === 'GET' ? {} : { body: raw }),
  });
}

async function pending(deps: ReturnType<typeof setup>['deps'], operationId = 'op-1') {
  await deps.approvals.request({
    operationId,
    summary: 'rollout of deployment default/web to nginx:1.27.0',
    changeHash: HASH,
    requester: { subject: 'auth0|bob', name: 'bob' },
    reason: 'release',
    ttlSeconds: 3600,
  });
}

const decideEvents = async (deps: ReturnType<typeof setup>['deps']) =>
  (await deps.audit.list({ limit: 50, tool: 'ops_approvals_decide' })).events;

describe('Slack actions endpoint (web Request -> Response)', () => {
  it('approves for an approver: in_channel answer, posted to response_url, audited', async () => {
    const { deps, posted, serve } = setup();
    await pending(deps);
    const res = await serve(request(body()));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const answer = {
      response_type: 'in_channel',
      replace_original: false,
      text: 'Alice approved op-1: rollout of deployment default/web to nginx:1.27.0',
    };
    expect(await res.json()).toEqual(answer);
    expect(posted).toEqual([{ url: RESPONSE_URL, body: answer }]);
    expect(await deps.approvals.get('op-1')).toMatchObject({ status: 'approved' });
    expect(await decideEvents(deps)).toEqual([
      expect.objectContaining({ caller: { subject: 'auth0|alice', name: 'Alice', method: 'slack' }, outcome: 'ok' }),
    ]);
  });

  it('a bad signature or a stale timestamp is 401 and decides nothing', async () => {
    const { deps, posted, serve } = setup();
    await pending(deps);
    const forged = await serve(request(body(), { secret: 'not-the-secret' }));
    expect(forged.status).toBe(401);
    expect(await forged.text()).toBe('Unauthorized: mismatch Slack signature');
    const stale = await serve(request(body(), { at: NOW - 301_000 }));
    expect(await stale.text()).toBe('Unauthorized: stale Slack signature');
    expect(await deps.approvals.get('op-1')).toMatchObject({ status: 'pending' });
    expect(posted).toEqual([]);
    expect(await decideEvents(deps)).toEqual([]);
  });

  it('a replay of a signed request is 401, even after the first was answered', async () => {
    const { deps, serve, tick } = setup();
    await pending(deps);
    const raw = body();
    expect((await serve(request(raw))).status).toBe(200);
    tick(60_000);
    const replay = await serve(request(raw));
    expect(replay.status).toBe(401);
    expect(await replay.text()).toBe('Unauthorized: replayed Slack request');
  });

  it('a Slack user who is not an approver gets an ephemeral answer; nothing decided or audited', async () => {
    const { deps, posted, serve } = setup();
    await pending(deps);
    const res = await serve(request(body({ user: 'U0MALLORY' })));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { response_type: string; text: string };
    expect(answer).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not an approver') });
    expect(posted).toEqual([{ url: RESPONSE_URL, body: answer }]);
    expect(await deps.approvals.get('op-1')).toMatchObject({ status: 'pending' });
    expect(await decideEvents(deps)).toEqual([]);
  });

  it('a refused decision is ephemeral with the reason', async () => {
    const { serve } = setup();
    const res = await serve(request(body({ operationId: 'op-none' })));
    expect(await res.json()).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Nothing was decided: .*op-none/),
    });
  });

  it('a response_url outside Slack is not posted to; the answer still goes back', async () => {
    const { deps, posted, serve } = setup();
    await pending(deps);
    const res = await serve(request(body({ responseUrl: 'https://evil.example/hook' })));
    expect(res.status).toBe(200);
    expect(posted).toEqual([]);
  });

  it('only POST, bounded bodies, and a signed body that is not an approval action is 400', async () => {
    const { serve } = setup();
    const get = await serve(request('', { method: 'GET' }));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const huge = `payload=${'x'.repeat(SLACK_BODY_MAX_BYTES)}`;
    expect((await serve(request(huge))).status).toBe(413);
    const other = 'payload=%7B%22type%22%3A%22view_submission%22%7D';
    const bad = await serve(request(other));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('unsupported interaction type view_submission');
  });

  it('a fault of ours (the Store down) is a 500 that says nothing of the cause', async () => {
    const broken = new MemoryStore();
    broken.put = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:8000');
    };
    const { serve } = setup({ store: broken });
    const res = await serve(request(body()));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Internal Server Error');
  });
});
