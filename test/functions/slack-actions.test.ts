import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { createSlackActionsHandler } from '../../functions/slack-actions.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { Approvals } from '../../shared/app/repos/approvals.ts';
import { AuditTrail } from '../../shared/app/repos/audit.ts';
import { Operations } from '../../shared/app/repos/operations.ts';
import { verifySlackSignature } from '../../shared/channels/slack/protocol.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { apiGatewayFetch, eventFor, fixture, type HttpHandler, lambdaContext } from '../support/lambda.ts';
import { nowSeconds, slackSignatureHeaders } from '../support/slack-signing.ts';

const URL_ = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/slack/actions';
const SIGNING_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/slack-signing-Xy12Zw';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TABLE = 'cloudops-slack-test';
const HASH = 'ab'.repeat(32);

const sign = (body: string, timestamp: number, secret = SIGNING_SECRET) =>
  slackSignatureHeaders(body, timestamp, secret);

describe('slack-actions function: signed approval buttons', () => {
  let dynamo: EmbeddedDynamo;
  let secrets: FakeSecretsManager;
  let receiver: Server;
  let receiverUrl: string;
  const posted: Array<{ response_type: string; text: string; replace_original: boolean }> = [];
  let handler: HttpHandler;
  let post: (body: string, headers: Record<string, string>) => Promise<Response>;
  let approvals: Approvals;
  let operations: Operations;
  let n = 0;

  /** A pending approval requested by bob (subject auth0|bob). */
  async function pending(): Promise<string> {
    const operationId = `op-slack-${++n}`;
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
  function form(opts: { decision?: 'approve' | 'reject'; operationId: string; user?: string; hash?: string }): string {
    const payload = fixture<
      Record<string, unknown> & { user: { id: string; username: string }; actions: Array<{ value: string }> }
    >('slack-block-actions-payload.json');
    payload.user = {
      ...payload.user,
      id: opts.user ?? 'U0ALICE01',
      username: opts.user === 'U0BOB0001' ? 'bob' : 'alice',
    };
    (payload.actions[0] as { value: string }).value =
      `${opts.decision ?? 'approve'}:${opts.operationId}:${opts.hash ?? HASH}`;
    payload.response_url = receiverUrl;
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    approvals = new Approvals(dynamo.store, systemClock);
    operations = new Operations(dynamo.store, systemClock);
    secrets = await startFakeSecretsManager({ [SIGNING_ARN]: `${SIGNING_SECRET}\n` });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        posted.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/actions/T0/1/x`;
    handler = createSlackActionsHandler({
      env: {
        DYNAMODB_TABLE: TABLE,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        AWS_REGION: 'eu-west-1',
        SLACK_SIGNING_SECRET: SIGNING_ARN,
        SLACK_APPROVERS: JSON.stringify({
          U0ALICE01: { subject: 'auth0|alice', name: 'Alice' },
          U0BOB0001: { subject: 'auth0|bob', name: 'Bob' },
        }),
        LOG_LEVEL: 'silent',
      },
      readSecret: secretsManagerReader(secrets.client),
      responseUrlAllowed: (u) => u.hostname === '127.0.0.1',
    });
    const gateway = apiGatewayFetch({ slackActions: handler });
    post = (body, headers) =>
      gateway(URL_, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
  });
  beforeEach(() => {
    posted.length = 0;
  });
  afterAll(async () => {
    await new Promise<void>((r) => receiver?.close(() => r()));
    await secrets?.close();
    await dynamo?.store.close();
  });

  it('a validly signed Approve from an approver approves, and the channel is told', async () => {
    const op = await pending();
    const body = form({ operationId: op });
    const res = await post(body, sign(body, nowSeconds()));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ text: expect.stringContaining(`Alice approved ${op}`) });
    const a = await approvals.get(op);
    expect(a).toMatchObject({ status: 'approved', decision: { by: { subject: 'auth0|alice', name: 'Alice' } } });
    expect(a?.decision?.reason).toContain('via Slack by alice (U0ALICE01)');
    expect(posted).toEqual([
      { response_type: 'in_channel', replace_original: false, text: expect.stringContaining('Alice approved') },
    ]);
    // The decision is in the audit trail like one made through ops_approvals_decide.
    const audit = new AuditTrail({
      store: dynamo.store,
      clock: systemClock,
      log: createLogger('silent'),
      retentionDays: 90,
    });
    const events = (await audit.list({ limit: 50, tool: 'ops_approvals_decide' })).events;
    expect(events.find((e) => (e.args as { operationId?: string }).operationId === op)).toMatchObject({
      caller: { subject: 'auth0|alice', name: 'Alice', method: 'slack' },
      outcome: 'ok',
    });
  });

  it('Reject rejects', async () => {
    const op = await pending();
    const body = form({ operationId: op, decision: 'reject' });
    expect((await post(body, sign(body, nowSeconds()))).status).toBe(200);
    expect((await approvals.get(op))?.status).toBe('rejected');
  });

  it('an invalid signature is refused with 401 and decides nothing', async () => {
    const op = await pending();
    const body = form({ operationId: op });
    const forged = await post(body, sign(body, nowSeconds(), 'not-the-signing-secret'));
    expect(forged.status).toBe(401);
    const tampered = await post(body.replace('approve%3A', 'reject%3A'), sign(body, nowSeconds()));
    expect(tampered.status).toBe(401);
    expect((await approvals.get(op))?.status).toBe('pending');
    expect(posted).toEqual([]);
  });

  it('a stale timestamp is refused even when the signature over it is valid', async () => {
    const op = await pending();
    const body = form({ operationId: op });
    const stale = await post(body, sign(body, nowSeconds() - 301));
    expect(stale.status).toBe(401);
    expect(await stale.text()).toContain('stale');
    const future = await post(body, sign(body, nowSeconds() + 301));
    expect(future.status).toBe(401);
    expect((await approvals.get(op))?.status).toBe('pending');
  });

  it('an unsigned request is refused', async () => {
    const op = await pending();
    const res = await post(form({ operationId: op }), {});
    expect(res.status).toBe(401);
    expect((await approvals.get(op))?.status).toBe('pending');
  });

  it('a replay of a signed request within the window is refused', async () => {
    const op = await pending();
    const body = form({ operationId: op, decision: 'reject' });
    const headers = sign(body, nowSeconds());
    expect((await post(body, headers)).status).toBe(200);
    const replay = await post(body, headers);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain('replayed');
  });

  it('the requester cannot approve their own change from Slack either', async () => {
    const op = await pending();
    const body = form({ operationId: op, user: 'U0BOB0001' });
    const res = await post(body, sign(body, nowSeconds()));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('you requested this change'),
    });
    expect((await approvals.get(op))?.status).toBe('pending');
  });

  it('a Slack user who is not an approver decides nothing; a changed change hash decides nothing', async () => {
    const op = await pending();
    const stranger = form({ operationId: op, user: 'U0MALLORY' });
    const res = await post(stranger, sign(stranger, nowSeconds()));
    expect(await res.json()).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('not an approver'),
    });
    const stale = form({ operationId: op, hash: 'cd'.repeat(32) });
    const res2 = await post(stale, sign(stale, nowSeconds()));
    const text = ((await res2.json()) as { text: string }).text;
    // A hash the button carries that is not the approval's is a wrong hash, not a modified change.
    expect(text).toContain(
      `changeHash ${'cd'.repeat(32)} does not match this approval's change (${HASH.slice(0, 12)}…)`,
    );
    expect(text).toContain('fetch the approval again');
    expect(text).not.toContain('modified');
    expect((await approvals.get(op))?.status).toBe('pending');
  });

  /** An operation in the Store behind a pending approval, as delivery_rollouts_start leaves it. */
  async function operationWithApproval(changeHash = HASH): Promise<string> {
    const operationId = await pending();
    await operations.create({
      id: operationId,
      kind: 'rollout',
      target: { cluster: 'fake', namespace: 'default', kind: 'Deployment', name: `web${n}` },
      requester: { subject: 'auth0|bob', name: 'bob' },
      status: 'input_required',
      statusMessage: 'waiting for approval',
      input: {},
      changeHash,
      steps: [],
      progress: { nextActions: [] },
      requests: {},
      approval: { required: true },
      ttlSeconds: 3600,
      pollIntervalMs: 1000,
    });
    return operationId;
  }

  for (const ending of ['cancelled', 'failed', 'completed'] as const) {
    it(`the button of an approval whose operation was ${ending} says why nothing can be decided`, async () => {
      const op = await operationWithApproval();
      const ended = await operations.update(op, (o) => {
        o.status = ending;
        return undefined;
      });
      expect((await approvals.get(op))?.status).toBe('closed');
      expect((await approvals.list({ status: 'pending', limit: 50 })).items.map((a) => a.operationId)).not.toContain(
        op,
      );
      for (const decision of ['approve', 'reject'] as const) {
        const body = form({ operationId: op, decision });
        const res = await post(body, sign(body, nowSeconds()));
        expect(await res.json()).toMatchObject({
          response_type: 'ephemeral',
          text: `Nothing was decided: the approval for ${op} was closed because operation ${op} was ${ending} at ${ended.updatedAt}; nothing to decide.`,
        });
      }
      expect((await approvals.get(op))?.status).toBe('closed');
    });
  }

  it('an operation that ended while its approval stayed open (older record) has it closed on the click', async () => {
    const op = await operationWithApproval();
    // Written behind the repository's back, as a record from before approvals were closed would be.
    const item = await dynamo.store.get(`op#${op}`, 'op');
    await dynamo.store.put({ pk: `op#${op}`, sk: 'op', data: { ...item?.data, status: 'cancelled' } });
    expect((await approvals.get(op))?.status).toBe('pending');
    const body = form({ operationId: op });
    const res = await post(body, sign(body, nowSeconds()));
    expect(((await res.json()) as { text: string }).text).toContain(`operation ${op} was cancelled at`);
    expect((await approvals.get(op))?.status).toBe('closed');
  });

  it('a change modified behind its approval is reported as modified, even with the approval hash', async () => {
    const op = await operationWithApproval('ef'.repeat(32));
    const body = form({ operationId: op });
    const res = await post(body, sign(body, nowSeconds()));
    const text = ((await res.json()) as { text: string }).text;
    expect(text).toContain('the change was modified after approval was requested');
    expect(text).not.toContain('does not match');
    expect((await approvals.get(op))?.status).toBe('pending');
  });

  it('a signed body that is not an approval action is a 400', async () => {
    const body = 'payload=%7B%22type%22%3A%22view_submission%22%7D';
    const res = await post(body, sign(body, nowSeconds()));
    expect(res.status).toBe(400);
  });

  it('accepts the body whether API Gateway passes it as text or base64', async () => {
    const op = await pending();
    const body = form({ operationId: op });
    const event = await eventFor(
      new Request(URL_, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body, nowSeconds()) },
        body,
      }),
      'POST /slack/actions',
    );
    expect(event.isBase64Encoded).toBe(true);
    const plain = { ...event, body, isBase64Encoded: false };
    const res = await handler(plain, lambdaContext('slack-actions'));
    expect(res.statusCode).toBe(200);
    expect((await approvals.get(op))?.status).toBe('approved');
  });
});

describe('Slack signature verification (v0)', () => {
  const body = 'payload=%7B%7D';
  const ts = 1_795_093_603;
  const at = (offsetSeconds: number) => (ts + offsetSeconds) * 1000;
  const check = (signature: string | null, timestamp: string | null, nowMs = at(0), raw = body) =>
    verifySlackSignature({ signingSecret: SIGNING_SECRET, signature, timestamp, rawBody: raw, nowMs });
  const good = sign(body, ts)['x-slack-signature'] as string;

  it('valid', () => {
    expect(check(good, String(ts))).toEqual({ ok: true });
    expect(check(good, String(ts), at(300))).toEqual({ ok: true });
  });
  it('invalid', () => {
    expect(
      check(
        good.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        String(ts),
      ),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(good, String(ts), at(0), `${body}x`)).toEqual({ ok: false, reason: 'mismatch' });
    expect(check('v1=abc', String(ts))).toEqual({ ok: false, reason: 'malformed' });
    expect(check(null, String(ts))).toEqual({ ok: false, reason: 'unsigned' });
  });
  it('stale timestamp', () => {
    expect(check(good, String(ts), at(301))).toEqual({ ok: false, reason: 'stale' });
    expect(check(good, String(ts), at(-301))).toEqual({ ok: false, reason: 'stale' });
  });
});
