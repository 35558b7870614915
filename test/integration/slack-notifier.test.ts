import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLACK_LIMITS } from '../../shared/adapters/slack/message.ts';
import { createSlackNotifier, SlackRefusedError } from '../../shared/adapters/slack/slack-notifier.ts';
import { type Alert, type Notifier, NotifierUnavailableError } from '../../shared/ports/notifier.ts';
import { type SlackReceiver, sampleDriftAlert, startSlackReceiver } from '../support/slack-receiver.ts';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );

describe('Slack bot-token notifier against the loopback Slack', () => {
  let rx: SlackReceiver;
  let slack: Notifier;
  beforeEach(async () => {
    rx = await startSlackReceiver();
    slack = createSlackNotifier({
      mode: 'bot',
      token: rx.token,
      channel: rx.channel,
      apiUrl: rx.apiUrl,
      timeoutMs: 2_000,
    });
  });
  afterEach(async () => {
    await rx.close();
  });

  it('posts a new alert with its fingerprint and delivery id in metadata, visible in history only with include_all_metadata', async () => {
    const receipt = await slack.send(sampleDriftAlert(), undefined, { deliveryId: 'd-1' });
    const [msg] = rx.messages();
    expect(receipt).toMatchObject({ channel: 'slack', messageId: `${rx.channel}/${msg?.ts}`, threadId: msg?.ts });
    expect(msg?.metadata).toEqual({
      event_type: 'cloudops_alert',
      event_payload: {
        fingerprint: sampleDriftAlert().fingerprint,
        group_key: 'drift:prod/payments',
        status: 'firing',
        delivery_id: 'd-1',
      },
    });
    expect(await slack.find?.(sampleDriftAlert(), 'd-1', { sinceMs: Date.now() })).toMatchObject({
      messageId: receipt.messageId,
    });
    expect(await slack.find?.(sampleDriftAlert(), 'd-2', { sinceMs: Date.now() })).toBeUndefined();
  });

  it("a huge alert is accepted by Slack's block validation (the receiver refuses what Slack refuses)", async () => {
    const big = 'y'.repeat(20_000);
    const alert: Alert = sampleDriftAlert({
      summary: big,
      fields: Array.from({ length: 60 }, (_, i) => ({ label: `f${i}${big}`, value: `${big}\n${big}` })),
    });
    await slack.send(alert, undefined, { deliveryId: 'big' });
    const [msg] = rx.messages();
    expect(msg?.blocks?.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(msg?.text?.length).toBeLessThanOrEqual(SLACK_LIMITS.textChars);
    expect(rx.calls).toEqual([{ method: 'chat.postMessage', ok: true }]);
  });

  it('an update edits the message; a resolve edits it and replies in its thread; a deleted message is posted again', async () => {
    const first = await slack.send(sampleDriftAlert(), undefined, { deliveryId: 'n' });
    await slack.send(sampleDriftAlert({ summary: 'changed' }), first, { deliveryId: 'u', reason: 'update' });
    expect(rx.messages()).toHaveLength(1);
    expect(rx.messages()[0]?.text).toMatch(/^FIRING \(changed\) · warning: changed/);
    const resolved = sampleDriftAlert({ status: 'resolved', endsAt: '2026-12-07T21:00:00.000Z' });
    const after = await slack.send(resolved, first, { deliveryId: 'r' });
    expect(after.messageId).toBe(first.messageId);
    expect(rx.messages()[0]?.text).toMatch(/^RESOLVED/);
    expect(rx.messages()[1]).toMatchObject({ thread_ts: rx.messages()[0]?.ts });
    // The resolve's reply is found by its delivery id; the edited root still carries its post's id.
    expect(await slack.find?.(resolved, 'r', { previous: first, sinceMs: Date.now() })).toMatchObject({
      messageId: first.messageId,
    });
    expect(await slack.find?.(resolved, 'u', { previous: first, sinceMs: Date.now() })).toBeUndefined();

    const gone = { ...first, messageId: `${rx.channel}/1700000000.000001` };
    const again = await slack.send(sampleDriftAlert({ summary: 'again' }), gone, {
      deliveryId: 'u2',
      reason: 'update',
    });
    expect(again.messageId).not.toBe(first.messageId);
    expect(rx.messages().at(-1)?.text).toContain('again');
  });

  it('5xx, 429 with Retry-After, a closed port and a hang are passing failures, each tried once (the client does not retry)', async () => {
    rx.failWith({ kind: 'status', status: 502, times: 1 });
    let err = await failure(slack.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    expect(err.message).toBe('Slack chat.postMessage: HTTP 502');
    expect(rx.requests()).toBe(1);

    rx.failWith({ kind: 'ratelimit', retryAfterS: 7, times: 1 });
    err = await failure(slack.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    expect((err as NotifierUnavailableError).retryAfterMs).toBe(7000);
    expect(rx.requests()).toBe(2);

    rx.failWith({ kind: 'hang' });
    const hungSlack = createSlackNotifier({
      mode: 'bot',
      token: rx.token,
      channel: rx.channel,
      apiUrl: rx.apiUrl,
      timeoutMs: 200,
    });
    err = await failure(hungSlack.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    expect(err.message).toMatch(/request failed/);
    rx.heal();

    await rx.stopListening();
    err = await failure(slack.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    await rx.reopen();
    await slack.send(sampleDriftAlert());
    expect(rx.messages()).toHaveLength(1);
  });

  it("Slack's refusals are permanent errors with its code, and the token never appears", async () => {
    const wrong = createSlackNotifier({
      mode: 'bot',
      token: 'xoxb-1111111111-not-the-right-token',
      channel: rx.channel,
      apiUrl: rx.apiUrl,
      timeoutMs: 2000,
    });
    let err = await failure(wrong.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(SlackRefusedError);
    expect(err.message).toBe('Slack chat.postMessage refused: invalid_auth');
    expect(JSON.stringify({ m: err.message, s: err.stack })).not.toContain('not-the-right-token');

    const nowhere = createSlackNotifier({
      mode: 'bot',
      token: rx.token,
      channel: 'C0NOWHERE1',
      apiUrl: rx.apiUrl,
      timeoutMs: 2000,
    });
    err = await failure(nowhere.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(SlackRefusedError);
    expect((err as SlackRefusedError).code).toBe('channel_not_found');
  });
});

describe('Slack incoming-webhook notifier against the loopback Slack', () => {
  let rx: SlackReceiver;
  beforeEach(async () => {
    rx = await startSlackReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  it('posts Block Kit, maps 5xx/429/closed to passing failures and Slack refusals to permanent ones, never showing the URL', async () => {
    const hook = createSlackNotifier({ mode: 'webhook', webhookUrl: rx.webhookUrl, timeoutMs: 2000 });
    const receipt = await hook.send(sampleDriftAlert(), undefined, { deliveryId: 'w1' });
    expect(receipt).toMatchObject({ channel: 'slack-webhook', messageId: 'webhook:w1' });
    expect(rx.webhookPosts[0]?.blocks?.length).toBeGreaterThan(2);
    expect(hook.find).toBeUndefined();

    rx.failWith({ kind: 'ratelimit', retryAfterS: 30, times: 1 });
    let err = await failure(hook.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    expect((err as NotifierUnavailableError).retryAfterMs).toBe(30_000);
    rx.failWith({ kind: 'status', status: 500, times: 1 });
    expect(await failure(hook.send(sampleDriftAlert()))).toBeInstanceOf(NotifierUnavailableError);

    const wrongPath = createSlackNotifier({ mode: 'webhook', webhookUrl: `${rx.webhookUrl}x`, timeoutMs: 2000 });
    err = await failure(wrongPath.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(SlackRefusedError);
    expect(err.message).toBe('Slack webhook refused: HTTP 404 no_service');
    expect(err.message).not.toContain('xyzWebhookSecret');

    await rx.stopListening();
    err = await failure(hook.send(sampleDriftAlert()));
    expect(err).toBeInstanceOf(NotifierUnavailableError);
    expect(err.message).not.toContain('xyzWebhookSecret');
    expect(rx.webhookPosts).toHaveLength(1);
  });
});

describe('the loopback Slack refuses what Slack refuses', () => {
  let rx: SlackReceiver;
  beforeEach(async () => {
    rx = await startSlackReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  const call = async (method: string, body: Record<string, unknown>, token: string | null = rx.token) => {
    const res = await fetch(`${rx.apiUrl}${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { ok: boolean; error?: string };
  };
  const section = (n: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(n) } });

  it('Web API: auth, channel, text, block and metadata checks', async () => {
    const channel = rx.channel;
    expect(await call('chat.postMessage', { channel, text: 'hi' }, null)).toEqual({
      ok: false,
      error: 'not_authed',
    });
    expect(await call('chat.postMessage', { channel, text: 'hi' }, 'xoxb-other')).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    expect(await call('chat.postMessage', { channel: 'C0NOPE0001', text: 'hi' })).toMatchObject({
      error: 'channel_not_found',
    });
    expect(await call('chat.postMessage', { channel })).toMatchObject({ error: 'no_text' });
    expect(await call('chat.postMessage', { channel, text: 'x'.repeat(40_001) })).toMatchObject({
      error: 'msg_too_long',
    });
    expect(await call('chat.postMessage', { channel, blocks: [section(3001)] })).toMatchObject({
      error: 'invalid_blocks',
    });
    expect(
      await call('chat.postMessage', { channel, blocks: Array.from({ length: 51 }, () => section(1)) }),
    ).toMatchObject({
      error: 'invalid_blocks',
    });
    expect(await call('chat.postMessage', { channel, text: 'a', metadata: { event_type: 'x' } })).toMatchObject({
      error: 'invalid_metadata_format',
    });
    expect(await call('chat.update', { channel, ts: '1.000001', text: 'a' })).toMatchObject({
      error: 'message_not_found',
    });
    expect(await call('conversations.replies', { channel, ts: '1.000001' })).toMatchObject({
      error: 'thread_not_found',
    });
    expect(await call('chat.postMessage', { channel, blocks: [section(3000)], text: 'ok' })).toMatchObject({
      ok: true,
    });
    expect(rx.messages()).toHaveLength(1);
  });

  it('incoming webhook: invalid payloads are 400s with Slack’s codes', async () => {
    const post = async (body: string) => {
      const res = await fetch(rx.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return [res.status, await res.text()];
    };
    expect(await post('{not json')).toEqual([400, 'invalid_payload']);
    expect(await post('{}')).toEqual([400, 'no_text']);
    expect(await post(JSON.stringify({ blocks: [section(3001)] }))).toEqual([400, 'invalid_blocks']);
    expect(await post(JSON.stringify({ text: 'hello' }))).toEqual([200, 'ok']);
    expect(rx.webhookPosts).toEqual([{ text: 'hello' }]);
  });
});
