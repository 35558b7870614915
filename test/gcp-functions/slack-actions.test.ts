/**
 * The GCP slackActions function on the real functions-framework, called as Slack calls an interactive
 * endpoint: POST application/x-www-form-urlencoded `payload=<JSON>` with X-Slack-Signature over
 * X-Slack-Request-Timestamp and the raw body (https://api.slack.com/authentication/verifying-requests-from-slack).
 * The signing secret comes from Secret Manager (the loopback fake); approvals live in Firestore (the
 * emulator).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gcpStore, loadGcpConfig } from '../../gcp-functions/lib/host.ts';
import { createSlackActionsHandler } from '../../gcp-functions/slack-actions.ts';
import type { FirestoreStore } from '../../shared/adapters/gcp/firestore-store.ts';
import { Approvals } from '../../shared/app/repos/approvals.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { type GcpFunctionHost, startGcpFunctionHost } from '../support/gcp-function-host.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { fixture } from '../support/lambda.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';
import { nowSeconds, slackSignatureHeaders } from '../support/slack-signing.ts';

const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const HASH = 'cd'.repeat(32);

const sign = (body: string, timestamp: number, secret = SIGNING_SECRET) =>
  slackSignatureHeaders(body, timestamp, secret);

let host: GcpFunctionHost;
let served: ServedFunction;
let store: FirestoreStore;
let approvals: Approvals;
/** Where the outcome goes: the response_url of the click, Slack's loopback stand-in here. */
let slack: SlackReceiver;
const posted = () => slack.webhookPosts;
let n = 0;

/** A pending approval requested by bob. */
async function pending(): Promise<string> {
  const operationId = `op-gcp-slack-${++n}-${Date.now()}`;
  await approvals.request({
    operationId,
    summary: `rollout of deployment default/web${n} to nginx:1.27.0`,
    changeHash: HASH,
    requester: { subject: 'auth0|bob', name: 'bob' },
    reason: 'release',
    ttlSeconds: 3600,
  });
  return operationId;
}

/** Slack's block_actions payload for an Approve/Reject click by alice, form-encoded. */
function form(operationId: string, decision: 'approve' | 'reject' = 'approve'): string {
  const payload = fixture<Record<string, unknown> & { actions: Array<{ value: string }> }>(
    'slack-block-actions-payload.json',
  );
  (payload.actions[0] as { value: string }).value = `${decision}:${operationId}:${HASH}`;
  payload.response_url = slack.webhookUrl;
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

const post = (body: string, headers: Record<string, string>) =>
  fetch(`${served.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...headers,
    },
    body,
  });

beforeAll(async () => {
  host = await startGcpFunctionHost({
    collection: 'gcp-slack-actions-test',
    // As `gcloud secrets versions add` from a file stores it: with its newline.
    secrets: { 'slack-signing': `${SIGNING_SECRET}\n` },
  });
  store = gcpStore(loadGcpConfig(host.env, []));
  approvals = new Approvals(store, systemClock);
  slack = await startSlackReceiver();
  served = await serveHttpFunction(
    createSlackActionsHandler({
      env: {
        ...host.env,
        SLACK_SIGNING_SECRET: host.secret('slack-signing'),
        SLACK_APPROVERS: JSON.stringify({ U0ALICE01: { subject: 'auth0|alice', name: 'Alice' } }),
      },
      responseUrlAllowed: (u) => u.hostname === '127.0.0.1',
    }),
  );
}, 120_000);
afterAll(async () => {
  await served?.close();
  await slack?.close();
  await store?.close();
  await host?.close();
});
beforeEach(() => {
  slack.webhookPosts.length = 0;
});

describe('slackActions on functions-framework (Slack interactive callback)', () => {
  it('a correctly signed Approve from an approver approves the approval in Firestore, and the channel is told', async () => {
    const op = await pending();
    const body = form(op);
    const res = await post(body, sign(body, nowSeconds()));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ text: expect.stringContaining(`Alice approved ${op}`) });
    expect(await approvals.get(op)).toMatchObject({
      status: 'approved',
      decision: { by: { subject: 'auth0|alice', name: 'Alice' } },
    });
    expect(posted()).toEqual([expect.objectContaining({ text: expect.stringContaining('Alice approved') })]);
  });

  it('a bad signature, a tampered body or none: 401, and nothing changes', async () => {
    const op = await pending();
    const body = form(op);
    const forged = await post(body, sign(body, nowSeconds(), 'not-the-signing-secret'));
    expect(forged.status).toBe(401);
    const tampered = await post(body.replace('approve%3A', 'reject%3A'), sign(body, nowSeconds()));
    expect(tampered.status).toBe(401);
    expect((await post(body, {})).status).toBe(401);
    expect((await approvals.get(op))?.status).toBe('pending');
    expect(posted()).toEqual([]);
  });

  it('the signature is checked over the bytes Slack sent, not a re-encoding of the parsed form', async () => {
    const op = await pending();
    // The same form, encoded as some clients do (%20 for spaces, `*` escaped): a parse-and-re-encode
    // would change these bytes and break a valid signature.
    const body = form(op, 'reject').replaceAll('+', '%20').replaceAll('*', '%2A');
    const res = await post(body, sign(body, nowSeconds()));
    expect(res.status).toBe(200);
    expect((await approvals.get(op))?.status).toBe('rejected');
  });

  it('the signing secret cannot be read: 500, nothing decided', async () => {
    const broken = await serveHttpFunction(
      createSlackActionsHandler({
        env: { ...host.env, SLACK_SIGNING_SECRET: 'projects/ops-project/secrets/missing/versions/latest' },
      }),
    );
    try {
      const op = await pending();
      const body = form(op);
      const res = await fetch(broken.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body, nowSeconds()) },
        body,
      });
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain(SIGNING_SECRET);
      expect((await approvals.get(op))?.status).toBe('pending');
    } finally {
      await broken.close();
    }
  });
});
