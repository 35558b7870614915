import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudWorkflowsEngine,
  createCloudWorkflowsEngine,
  GCP_WORKFLOW_NAME,
  OPERATION_LABEL,
  operationLabel,
} from '../../shared/adapters/gcp/workflows-engine.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';
import type { ExecutionInfo, StepEvent } from '../../shared/ports/workflow.ts';
import { CLOUD_PLATFORM_SCOPE, FakeGoogleTokens, listenLoopback } from '../support/fake-gcp/identity.ts';
import { type FakeWorkflowExecutions, startFakeWorkflowExecutions } from '../support/fake-gcp/workflows.ts';
import type { Harness } from '../support/k8s-harness.ts';
import { startHarness } from '../support/k8s-harness.ts';
import { startRollout, terminal, waitFor, workloads } from '../support/rollout-scenarios.ts';

/**
 * The Cloud Workflows engine (googleRest through google-auth-library) against a loopback Workflow
 * Executions API whose executions run the generated rollout YAML in the test interpreter: steps
 * answered by a scripted dispatcher, by a step function over HTTP that checks the ID token's
 * audience, and by the real step handlers over the Kubernetes harness (full rollouts).
 */

const SA = 'cloudops@ops-project.iam.gserviceaccount.com';
const WF = 'projects/ops-project/locations/europe-west1/workflows';
const SCRIPTED = `${WF}/scripted`;
const OVER_HTTP = `${WF}/over-http`;
const WRONG_AUDIENCE = `${WF}/wrong-audience`;
const HANGS_UP = `${WF}/hangs-up`;
const ROLLOUT = `${WF}/cloudops-rollout`;
const ID_TOKEN_KEY = 'test-only-id-token-key';

/** Polls `probe` until `until` holds (a busy machine gets 20 s). */
async function eventually<T>(probe: () => Promise<T>, until: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 20_000;
  let last: T;
  do {
    last = await probe();
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  } while (Date.now() < end);
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

const done = (i: ExecutionInfo | undefined) => i !== undefined && i.status !== 'RUNNING';

/** An HS256 JWT standing for Google's ID token (the step server checks signature, audience, expiry). */
function mintIdToken(audience: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({
    iss: 'https://accounts.google.com',
    sub: SA,
    email: SA,
    aud: audience,
    exp: Math.floor(Date.now() / 1000) + 3600,
  })}`;
  return `${body}.${createHmac('sha256', ID_TOKEN_KEY).update(body).digest('base64url')}`;
}

function audienceOf(header: string | undefined): string | undefined {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (!m) return undefined;
  const want = createHmac('sha256', ID_TOKEN_KEY).update(`${m[1]}.${m[2]}`).digest();
  const got = Buffer.from(m[3] as string, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  const claims = JSON.parse(Buffer.from(m[2] as string, 'base64url').toString()) as { aud?: string; exp?: number };
  return (claims.exp ?? 0) * 1000 > Date.now() ? claims.aud : undefined;
}

/**
 * The success path of the rollout flow, one step at a time: prepare (no approval), apply, gate
 * (`verdict` per operation), complete (→ finalize), finalize; a prepare for `op-broken` fails. Step
 * inputs the YAML reads from earlier answers (applyStep's stepIndex) are answered as the real steps do.
 */
const scripted = {
  calls: [] as string[],
  verdict: new Map<string, string>(),
  async dispatch(event: StepEvent): Promise<Record<string, unknown>> {
    const op = String(event.input.operationId);
    scripted.calls.push(`${op} ${event.step}`);
    switch (event.step) {
      case 'rollout.prepare':
        if (op === 'op-broken') throw new Error('the operation record is unreadable');
        return { approvalRequired: false };
      case 'rollout.applyStep':
        return { stepIndex: 0 };
      case 'rollout.gate':
        return { verdict: scripted.verdict.get(op) ?? 'pass' };
      case 'rollout.completeStep':
        return { next: 'finalize' };
      case 'rollout.finalize':
        return { scaleDownOld: false, changed: true };
      default:
        return {};
    }
  },
};

let tokens: FakeGoogleTokens;
let fake: FakeWorkflowExecutions;
let engine: CloudWorkflowsEngine;
let auth: GoogleAuth;
/** The step dispatcher of the harness's host, once it has built its Deps. */
let hostDispatch: ((event: StepEvent) => Promise<Record<string, unknown>>) | undefined;
/** A step function that reads each request and drops the connection without answering. */
let dropper: { url: string; steps: string[]; close(): Promise<void> };
let stepServer: { url: string; calls: Array<{ step: string; audience: string | undefined }>; close(): Promise<void> };

async function startStepServer(): Promise<typeof stepServer> {
  const calls: Array<{ step: string; audience: string | undefined }> = [];
  let gateCalls = 0;
  let url = '';
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const audience = audienceOf(req.headers.authorization);
    const event = JSON.parse(raw) as StepEvent;
    calls.push({ step: event.step, audience });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // Cloud Functions with an invoker IAM check: a token for another audience is refused.
    if (audience !== url) return send(401, { error: 'the ID token is not for this function' });
    if (event.step === 'rollout.gate' && gateCalls++ === 0) {
      res.writeHead(503).end(); // the platform, not the step: no {Error} body, retried
      return;
    }
    try {
      send(200, await scripted.dispatch(event));
    } catch (err) {
      send(500, { Error: (err as Error).name, Cause: (err as Error).message });
    }
  };
  const l = await listenLoopback((req, res) => void handle(req, res));
  url = `http://127.0.0.1:${l.port}/workflow-step`;
  return { url, calls, close: l.close };
}

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  stepServer = await startStepServer();
  const steps: string[] = [];
  const drops = await listenLoopback((req) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += String(c);
    });
    req.on('end', () => {
      steps.push((JSON.parse(raw) as StepEvent).step);
      req.socket.destroy();
    });
  });
  dropper = { url: `http://127.0.0.1:${drops.port}/workflow-step`, steps, close: drops.close };
  fake = await startFakeWorkflowExecutions({
    tokens,
    waitMs: 20,
    workflows: [
      { name: SCRIPTED, flow: 'rollout', steps: { dispatch: scripted.dispatch }, invokers: [SA] },
      {
        name: OVER_HTTP,
        flow: 'rollout',
        steps: { http: { stepUrl: stepServer.url, idToken: async (aud) => mintIdToken(aud) } },
      },
      {
        name: WRONG_AUDIENCE,
        flow: 'rollout',
        steps: { http: { stepUrl: stepServer.url, idToken: async () => mintIdToken('https://elsewhere.test/') } },
      },
      {
        name: HANGS_UP,
        flow: 'rollout',
        steps: { http: { stepUrl: dropper.url, idToken: async (aud) => mintIdToken(aud) } },
      },
      {
        name: ROLLOUT,
        flow: 'rollout',
        steps: {
          dispatch: (event) => {
            if (!hostDispatch) throw new Error('no host yet');
            return hostDispatch(event);
          },
        },
      },
    ],
  });
  const client = new OAuth2Client();
  client.setCredentials({
    access_token: tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token,
    expiry_date: Date.now() + 3_600_000,
  });
  auth = new GoogleAuth({ authClient: client });
  engine = createCloudWorkflowsEngine({ workflows: { rollout: SCRIPTED }, baseUrl: fake.url, auth, timeoutMs: 5_000 });
});

afterAll(async () => {
  await fake?.stop();
  await stepServer?.close();
  await dropper?.close();
});

describe('Cloud Workflows engine against the Workflow Executions fake', () => {
  it('starts an execution labelled with the operation, which runs to SUCCEEDED with its output parsed', async () => {
    const started = await engine.start('rollout', 'op-good', { operationId: 'op-good' });
    expect(started.alreadyStarted).toBe(false);
    expect(started.executionId).toMatch(new RegExp(`^${SCRIPTED}/executions/[0-9a-f-]{36}$`));
    const info = await eventually(() => engine.describe(started.executionId), done, 'op-good');
    expect(info).toEqual({
      status: 'SUCCEEDED',
      output: expect.objectContaining({
        operationId: 'op-good',
        prepared: { approvalRequired: false },
        finalized: { scaleDownOld: false, changed: true },
      }),
    });
    // What went over the wire: the argument as a JSON string, the operation as a label.
    const execution = fake.executions.get(started.executionId);
    expect(execution?.argument).toBe('{"operationId":"op-good"}');
    expect(execution?.labels).toEqual({ [OPERATION_LABEL]: 'op-good' });
    expect(scripted.calls.filter((c) => c.startsWith('op-good '))).toEqual([
      'op-good rollout.prepare',
      'op-good rollout.applyStep',
      'op-good rollout.gate',
      'op-good rollout.completeStep',
      'op-good rollout.finalize',
    ]);
  });

  it('starting the same operation again is a no-op answering the first execution', async () => {
    const first = await engine.start('rollout', 'op-twice', { operationId: 'op-twice' });
    const again = await engine.start('rollout', 'op-twice', { operationId: 'op-twice' });
    expect(again).toEqual({ executionId: first.executionId, alreadyStarted: true });
    // An id that is no label value (upper case, too long) is labelled by its hash, and found the same way.
    const odd = `Op_${'X'.repeat(80)}`;
    const a = await engine.start('rollout', odd, { operationId: odd });
    const b = await engine.start('rollout', odd, { operationId: odd });
    expect(b).toEqual({ executionId: a.executionId, alreadyStarted: true });
    expect(operationLabel(odd)).toMatch(/^h-[0-9a-f]{61}$/);
    const creates = fake.requests.filter((r) => r.startsWith(`POST /v1/${SCRIPTED}/executions`) && !r.includes(':'));
    expect(creates.length).toBe([...fake.executions.values()].filter((e) => e.workflow === SCRIPTED).length);
    expect([...fake.executions.values()].filter((e) => e.labels[OPERATION_LABEL] === 'op-twice')).toHaveLength(1);
  });

  it('stop cancels a running execution (ABORTED); stopping one that is over is not an error', async () => {
    scripted.verdict.set('op-hold', 'pending'); // the gate never passes: the execution loops on its wait
    const { executionId } = await engine.start('rollout', 'op-hold', { operationId: 'op-hold' });
    await eventually(
      async () => scripted.calls.filter((c) => c === 'op-hold rollout.gate').length,
      (n) => n >= 2,
      'op-hold gate calls',
    );
    expect(await engine.describe(executionId)).toEqual({ status: 'RUNNING' });
    await engine.stop(executionId, 'cancelled by alice');
    const info = await engine.describe(executionId);
    expect(info?.status).toBe('ABORTED');
    expect(info?.error).toContain('cancelled');
    const gates = scripted.calls.filter((c) => c === 'op-hold rollout.gate').length;
    await fake.executions.get(executionId)?.done;
    expect(scripted.calls.filter((c) => c === 'op-hold rollout.gate').length).toBeLessThanOrEqual(gates + 1);
    await expect(engine.stop(executionId, 'again')).resolves.toBeUndefined();
    const good = [...fake.executions.values()].find((e) => e.labels[OPERATION_LABEL] === 'op-good');
    await expect(engine.stop(good?.name as string, 'too late')).resolves.toBeUndefined();
    expect(await engine.describe(good?.name as string)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('a failing step ends the execution FAILED with the raised Error and Cause', async () => {
    const { executionId } = await engine.start('rollout', 'op-broken', { operationId: 'op-broken' });
    const info = await eventually(() => engine.describe(executionId), done, 'op-broken');
    expect(info).toEqual({ status: 'FAILED', error: 'RolloutFailed: The rollout failed; see the operation record.' });
    expect(scripted.calls.filter((c) => c.startsWith('op-broken '))).toEqual([
      'op-broken rollout.prepare',
      'op-broken rollout.fail',
    ]);
  });

  it('an execution it does not know, or another engine’s id, is undefined', async () => {
    expect(await engine.describe(`${SCRIPTED}/executions/00000000-0000-0000-0000-000000000000`)).toBeUndefined();
    expect(await engine.describe('arn:aws:states:eu-west-1:123456789012:execution:rollout:op-1')).toBeUndefined();
    expect(await engine.describe('local:rollout:op-1')).toBeUndefined();
  });

  it('refuses an argument over 32 KB before calling the API, and bad workflow names at construction', async () => {
    const before = fake.requests.length;
    const big = { operationId: 'op-big', blob: 'x'.repeat(33 * 1024) };
    const err = await engine.start('rollout', 'op-big', big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).code).toBe('InvalidArgument');
    expect((err as Error).message).toMatch(/at most 32768 \(32 KB\)/);
    expect(fake.requests.length).toBe(before);
    expect(() => createCloudWorkflowsEngine({ workflows: { rollout: 'cloudops-rollout' }, auth })).toThrow(
      /projects\/PROJECT\/locations\/LOCATION\/workflows\/NAME/,
    );
    expect(GCP_WORKFLOW_NAME.test(ROLLOUT)).toBe(true);
    expect(GCP_WORKFLOW_NAME.test(`${ROLLOUT}/executions/x`)).toBe(false);
  });

  it('API refusals are CloudApiError: an unknown workflow, a caller without invoker rights', async () => {
    const missing = createCloudWorkflowsEngine({
      workflows: { rollout: `${WF}/not-deployed` },
      baseUrl: fake.url,
      auth,
      timeoutMs: 5_000,
    });
    const err = await missing.start('rollout', 'op-x', { operationId: 'op-x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudApiError);
    expect(err).toMatchObject({ code: 'NotFound', providerCode: 'NOT_FOUND' });

    const stranger = new OAuth2Client();
    stranger.setCredentials({
      access_token: tokens.issue('someone@other.iam.gserviceaccount.com', [CLOUD_PLATFORM_SCOPE], 3600).token,
      expiry_date: Date.now() + 3_600_000,
    });
    const denied = createCloudWorkflowsEngine({
      workflows: { rollout: SCRIPTED },
      baseUrl: fake.url,
      auth: new GoogleAuth({ authClient: stranger }),
      timeoutMs: 5_000,
    });
    const refused = await denied.start('rollout', 'op-y', { operationId: 'op-y' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'Forbidden', providerCode: 'PERMISSION_DENIED' });
    expect((refused as Error).message).toContain('workflows.executions.list');
  });

  it('the fake refuses what the real API refuses', async () => {
    const token = tokens.issue(SA, [CLOUD_PLATFORM_SCOPE], 3600).token;
    const call = async (path: string, init: RequestInit = {}, bearer: string | null = token) => {
      const res = await fetch(`${fake.url}/${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      });
      return { status: res.status, body: (await res.json()) as { error?: { status?: string; message?: string } } };
    };
    const post = (body: unknown) => call(`${SCRIPTED}/executions`, { method: 'POST', body: JSON.stringify(body) });
    expect((await call(`${SCRIPTED}/executions`, {}, null)).status).toBe(401);
    expect(await post({ argument: '{not json' })).toMatchObject({
      status: 400,
      body: { error: { status: 'INVALID_ARGUMENT' } },
    });
    expect((await post({ argument: { operationId: 'op-1' } })).status).toBe(400); // an object, not a JSON string
    expect((await post({ argument: '{}', name: 'mine' })).body.error?.message).toContain('Unknown name "name"');
    expect((await post({ argument: '{}', labels: { Op: 'x' } })).status).toBe(400);
    expect((await post({ argument: JSON.stringify({ blob: 'x'.repeat(33 * 1024) }) })).status).toBe(400);
    expect((await call(`${WF}/nope/executions`, { method: 'POST', body: '{}' })).status).toBe(404);
    for (const filter of ['labels.a:*', 'labels.a="x" OR state="ACTIVE"', 'startTime>"2026-01-01"', 'state=ACTIVE']) {
      const r = await call(`${SCRIPTED}/executions?filter=${encodeURIComponent(filter)}`);
      expect({ filter, status: r.status }).toEqual({ filter, status: 400 });
    }
    const ok = await call(
      `${SCRIPTED}/executions?filter=${encodeURIComponent('state="SUCCEEDED" AND labels.cloudops_operation="op-good"')}`,
    );
    expect(ok).toMatchObject({ status: 200, body: { executions: [{ state: 'SUCCEEDED' }] } });
  });
});

describe('steps over HTTP with an ID token', () => {
  it('posts each step to WORKFLOW_STEP_URL with an ID token for that audience; a 503 is retried', async () => {
    const http = createCloudWorkflowsEngine({ workflows: { rollout: OVER_HTTP }, baseUrl: fake.url, auth });
    const { executionId } = await http.start('rollout', 'op-http', { operationId: 'op-http' });
    const info = await eventually(() => http.describe(executionId), done, 'op-http');
    expect(info).toMatchObject({ status: 'SUCCEEDED', output: { operationId: 'op-http' } });
    expect(stepServer.calls.map((c) => c.step)).toEqual([
      'rollout.prepare',
      'rollout.applyStep',
      'rollout.gate',
      'rollout.gate', // the retry of the 503
      'rollout.completeStep',
      'rollout.finalize',
    ]);
    expect(new Set(stepServer.calls.map((c) => c.audience))).toEqual(new Set([stepServer.url]));
  });

  it('a token for another audience is refused by the step function, and the execution fails', async () => {
    stepServer.calls.length = 0;
    const wrong = createCloudWorkflowsEngine({ workflows: { rollout: WRONG_AUDIENCE }, baseUrl: fake.url, auth });
    const { executionId } = await wrong.start('rollout', 'op-aud', { operationId: 'op-aud' });
    const info = await eventually(() => wrong.describe(executionId), done, 'op-aud');
    expect(info).toEqual({ status: 'FAILED', error: 'RolloutFailed: The rollout failed; see the operation record.' });
    expect(stepServer.calls).toEqual([
      { step: 'rollout.prepare', audience: 'https://elsewhere.test/' },
      { step: 'rollout.fail', audience: 'https://elsewhere.test/' },
    ]);
  });
});

describe('steps over HTTP: a dropped connection', () => {
  it('is a platform error, retried as the definition says (3 retries), then caught', async () => {
    const e = createCloudWorkflowsEngine({ workflows: { rollout: HANGS_UP }, baseUrl: fake.url, auth });
    const { executionId } = await e.start('rollout', 'op-drop', { operationId: 'op-drop' });
    const info = await eventually(() => e.describe(executionId), done, 'op-drop');
    expect(info).toEqual({ status: 'FAILED', error: 'RolloutFailed: The rollout failed; see the operation record.' });
    // Each Task: the first try and 3 retries on platform_error; prepare's failure goes to Fail.
    expect(dropper.steps).toEqual([...Array(4).fill('rollout.prepare'), ...Array(4).fill('rollout.fail')]);
  });
});

describe('rollouts end to end: adapter → Workflow Executions fake → generated YAML → step handlers', () => {
  let h: Harness;
  const { image, deploy } = workloads(() => h);

  beforeAll(async () => {
    h = await startHarness(
      { LOCAL_WORKFLOW_WAIT_MS: '50' },
      {
        readyDelayMs: 50,
        workflows: ({ dispatch }) => {
          hostDispatch = dispatch;
          const cloud = createCloudWorkflowsEngine({
            workflows: { rollout: ROLLOUT },
            baseUrl: fake.url,
            auth,
            timeoutMs: 5_000,
          });
          return Object.assign(cloud, { stopAll: () => fake.stopAll() });
        },
      },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('good image: completed through Cloud Workflows, the execution SUCCEEDED', async () => {
    await deploy('good');
    const started = await startRollout(h, 'good');
    const op = await waitFor(h, started.operationId, terminal);
    expect(op.status).toBe('completed');
    expect(image('good')).toBe('nginx:1.27.0');
    const record = await h.server.deps.operations.require(started.operationId);
    expect(record.execution?.engine).toBe('cloudworkflows');
    expect(record.execution?.id).toMatch(new RegExp(`^${ROLLOUT}/executions/`));
    const info = await eventually(() => engine.describe(record.execution?.id as string), done, 'good execution');
    expect(info).toMatchObject({ status: 'SUCCEEDED', output: { operationId: started.operationId } });
    expect(fake.executions.get(record.execution?.id as string)?.labels).toEqual({
      [OPERATION_LABEL]: started.operationId,
    });
  });

  it('crash-looping image: rolled back, failed; the execution ended through its rollback branch', async () => {
    await deploy('bad');
    const started = await startRollout(h, 'bad', { image: 'example/crashloop:2.0' });
    const op = await waitFor(h, started.operationId, terminal);
    expect(op).toMatchObject({ status: 'failed', result: { rolledBack: true } });
    expect(op.statusMessage).toContain('CrashLoopBackOff');
    expect(image('bad')).toBe('nginx:1.25.3');
    const record = await h.server.deps.operations.require(started.operationId);
    const info = await eventually(() => engine.describe(record.execution?.id as string), done, 'bad execution');
    // RolledBack returns the state: the workflow ended as written, the operation says it failed.
    expect(info).toMatchObject({ status: 'SUCCEEDED', output: { rolledBack: expect.anything() } });
  });
});
