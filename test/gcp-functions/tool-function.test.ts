/**
 * A GCP tool function (gcp-functions/lib/tool-function.ts) served by the real functions-framework,
 * over the Firestore emulator: the caller's ID token is checked before anything else (401/403, no
 * invocation read, nothing run), and every tool outcome is a 200 with the ToolRunResult. The bundles
 * register the `tool` entry point that gcp-functions/layout.ts names.
 */
import { randomUUID } from 'node:crypto';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GCP_TOOLSETS, toolsetEntry } from '../../gcp-functions/layout.ts';
import { createGcpToolFunction } from '../../gcp-functions/lib/tool-function.ts';
import { reach as coreReach, tools as coreTools } from '../../gcp-functions/tools/core.ts';
import type { ToolInvocation } from '../../shared/ports/tool-runner.ts';
import { sharedFirestoreEmulator } from '../support/firestore-emulator.ts';
import { googleIdToken, oidcTestEnv, type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const GATEWAY_SA = 'cloudops-gateway@ops-project-1.iam.gserviceaccount.com';
const PUBLIC_URL = 'https://mcp-abc123-uc.a.run.app/mcp';

const invocation = (tool: string, roles: string[] = ['viewer']): ToolInvocation =>
  ({
    v: 1,
    tool,
    args: {},
    caller: { subject: 'vera', name: 'vera', roles, method: 'oauth' },
    requestId: randomUUID(),
  }) as ToolInvocation;

describe('GCP tool function on functions-framework', () => {
  let google: TestIssuer;
  let users: TestIssuer;
  let fn: ServedFunction;
  let misconfigured: ServedFunction;
  let baseEnv: Record<string, string>;

  /** POSTs `body` as JSON; a string goes as it is, as text/plain (broken JSON as application/json never reaches the handler). */
  async function post(target: ServedFunction, body: unknown, token?: string) {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }
  const gatewayToken = (aud = fn.url) => googleIdToken(google, { aud, email: GATEWAY_SA });

  beforeAll(async () => {
    const emulator = await sharedFirestoreEmulator();
    google = await startTestIssuer('unused');
    users = await startTestIssuer(PUBLIC_URL);
    baseEnv = {
      PUBLIC_URL,
      FIRESTORE_PROJECT: emulator.projectId,
      FIRESTORE_EMULATOR_HOST: emulator.host,
      FIRESTORE_COLLECTION: `tool-fn-${randomUUID().slice(0, 8)}`,
      OAUTH_ISSUER: users.issuer,
      OAUTH_JWKS_URL: users.jwksUrl,
      LOG_LEVEL: 'silent',
    };
    let handler: ReturnType<typeof createGcpToolFunction> | undefined;
    fn = await serveHttpFunction((req, res) => handler?.(req, res));
    handler = createGcpToolFunction(coreTools, {
      env: { ...baseEnv, ...oidcTestEnv(google, fn.url, [GATEWAY_SA]), TOOL_NAMES: 'server_info,admin_config_get' },
      ...coreReach,
    });
    // OIDC_INVOKERS forgotten: nobody may call it, and it says so in its log, not to the caller.
    const noInvokers = createGcpToolFunction(coreTools, {
      env: { ...baseEnv, OIDC_AUDIENCE: 'http://127.0.0.1', TOOL_NAMES: 'server_info' },
      ...coreReach,
    });
    misconfigured = await serveHttpFunction((req, res) => noInvokers(req, res));
  });
  afterAll(async () => {
    await fn?.close();
    await misconfigured?.close();
    await google?.close();
    await users?.close();
  });

  it('runs a tool for the gateway: 200 with the ToolRunResult', async () => {
    const { status, body } = await post(fn, invocation('server_info'), await gatewayToken());
    expect(status).toBe(200);
    expect(body).toMatchObject({ v: 1, ok: true, result: { content: expect.any(Array) } });
  });

  it('checks the token before it reads anything: no token, a stranger, another audience, a forged key', async () => {
    // A malformed invocation would be a 200 tool result: a 401/403 shows the check came first.
    const none = await post(fn, { v: 2 }, undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body).toEqual({ error: 'unauthenticated' });
    const stranger = await googleIdToken(google, {
      aud: fn.url,
      email: 'intruder@ops-project-1.iam.gserviceaccount.com',
    });
    expect((await post(fn, { v: 2 }, stranger)).status).toBe(403);
    expect((await post(fn, { v: 2 }, await gatewayToken('https://other-fn.a.run.app'))).status).toBe(401);
    const forged = await googleIdToken(google, { aud: fn.url, email: GATEWAY_SA, foreignKey: true });
    expect((await post(fn, invocation('server_info'), forged)).status).toBe(401);
    const unverified = await googleIdToken(google, { aud: fn.url, email: GATEWAY_SA, email_verified: false });
    expect((await post(fn, invocation('server_info'), unverified)).status).toBe(403);
  });

  it('answers every tool outcome as a 200 ToolRunResult: malformed, not served, denied', async () => {
    const token = await gatewayToken();
    const malformed = await post(fn, '{not json', token);
    expect(malformed).toMatchObject({
      status: 200,
      body: { v: 1, ok: false, error: { kind: 'internal', message: expect.stringMatching(/malformed invocation/) } },
    });
    const wrongShape = await post(fn, { v: 2, tool: 'server_info' }, token);
    expect(wrongShape.body).toMatchObject({ ok: false, error: { kind: 'internal' } });
    const notServed = await post(fn, invocation('audit_events_list'), token);
    expect(notServed).toMatchObject({ status: 200, body: { ok: false, error: { kind: 'unknown_tool' } } });
    const denied = await post(fn, invocation('admin_config_get', ['viewer']), token);
    expect(denied).toMatchObject({ status: 200, body: { ok: false, error: { kind: 'denied' } } });
  });

  it("leaves broken JSON sent as application/json to functions-framework's own parser: a 400 before any handler", async () => {
    const res = await fetch(fn.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gatewayToken()}` },
      body: '{not json',
    });
    expect(res.status).toBe(400);
  });

  it('takes only POST', async () => {
    const res = await fetch(fn.url, { headers: { authorization: `Bearer ${await gatewayToken()}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('a function whose invoker check is misconfigured lets nobody in (503) and names no setting to the caller', async () => {
    const token = await googleIdToken(google, { aud: 'http://127.0.0.1', email: GATEWAY_SA });
    const { status, body } = await post(misconfigured, invocation('server_info'), token);
    expect(status).toBe(503);
    expect(JSON.stringify(body)).not.toMatch(/OIDC_INVOKERS/);
  });

  it('each toolset bundle registers the `tool` entry point with its own toolset only', async () => {
    for (const toolset of GCP_TOOLSETS) {
      const entry = toolsetEntry(toolset);
      // Test files share a module cache here: a fresh instance of the bundle registers now.
      const mod = (await import(`../../${entry.source}?registers=${randomUUID()}`)) as {
        tools: Array<{ group: string }>;
        handler: unknown;
      };
      expect(mod.tools.length).toBeGreaterThan(0);
      expect(new Set(mod.tools.map((t) => t.group))).toEqual(new Set([toolset]));
      expect(getFunction(entry.entryPoint)).toBe(mod.handler);
    }
  });
});
