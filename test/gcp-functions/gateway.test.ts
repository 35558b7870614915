/**
 * The GCP gateway (gcp-functions/mcp.ts) served by the real functions-framework on loopback over the
 * Firestore emulator, driven by the MCP SDK client in both protocol eras: tools/list from the
 * manifest (never an aws tool), a tool call through CloudFunctionToolRunner to the core toolset's
 * tool function (also on functions-framework) with a signed ID token, and each way a call can fail
 * (a refused token, a crashing function, throttling, a timeout) as a clear tool error; every call
 * leaves its audit record in Firestore.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GCP_FUNCTIONS } from '../../gcp-functions/layout.ts';
import { gcpStore, loadGcpConfig } from '../../gcp-functions/lib/host.ts';
import { createGcpToolFunction } from '../../gcp-functions/lib/tool-function.ts';
import { createGcpMcpHandler } from '../../gcp-functions/mcp.ts';
import { reach as coreReach, tools as coreTools } from '../../gcp-functions/tools/core.ts';
import type { Store } from '../../shared/ports/store.ts';
import { sharedFirestoreEmulator } from '../support/firestore-emulator.ts';
import { googleIdToken, oidcTestEnv, type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { connectClient, type Era, structured } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const GATEWAY_SA = 'cloudops-gateway@ops-project-1.iam.gserviceaccount.com';
/** The deadline of the gateway the timeout test uses; the others allow a cold tool function 10 s. */
const TOOL_TIMEOUT_MS = 600;

interface AuditData {
  tool: string;
  outcome: string;
  error?: string;
  caller: { name: string };
}

type Handler = (
  req: Parameters<Parameters<typeof serveHttpFunction>[0]>[0],
  res: Parameters<Parameters<typeof serveHttpFunction>[0]>[1],
) => unknown;

/** A function served before its handler exists: the handler's env needs the served URL (its audience, the PUBLIC_URL). */
async function serveLate(): Promise<ServedFunction & { use(h: Handler): void }> {
  let handler: Handler | undefined;
  const served = await serveHttpFunction((req, res) => handler?.(req, res));
  return { ...served, use: (h) => (handler = h) };
}

describe('GCP gateway on functions-framework -> CloudFunctionToolRunner -> tool functions', () => {
  let google: TestIssuer;
  let users: TestIssuer;
  let store: Store;
  const served: ServedFunction[] = [];
  let gateway: ServedFunction;
  let hasty: ServedFunction;
  let baseEnv: Record<string, string>;
  let functions: Record<string, string>;

  const gatewayEnv = (publicUrl: string, extra: Record<string, string> = {}) => ({
    ...baseEnv,
    PUBLIC_URL: publicUrl,
    OAUTH_ISSUER: users.issuer,
    OAUTH_JWKS_URL: users.jwksUrl,
    TOOL_FUNCTIONS: JSON.stringify(functions),
    TOOL_TIMEOUT_MS: '10000',
    ...extra,
  });
  const idToken = (aud: string) => googleIdToken(google, { aud, email: GATEWAY_SA });

  async function connect(target: ServedFunction, era: Era, sub: string, scope = 'cloudops:read') {
    const token = await users.token({ sub, scope, name: sub, aud: `${target.url}/mcp` });
    return connectClient(`${target.url}/mcp`, era, { authorization: `Bearer ${token}` });
  }

  async function auditOf(tool: string): Promise<AuditData[]> {
    const day = new Date().toISOString().slice(0, 10);
    const { items } = await store.query({ pk: `audit#${day}`, limit: 200 });
    return items.map((i) => i.data as unknown as AuditData).filter((d) => d.tool === tool);
  }

  const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

  beforeAll(async () => {
    const emulator = await sharedFirestoreEmulator();
    google = await startTestIssuer('unused');
    users = await startTestIssuer('unused');
    baseEnv = {
      FIRESTORE_PROJECT: emulator.projectId,
      FIRESTORE_EMULATOR_HOST: emulator.host,
      FIRESTORE_COLLECTION: `gateway-${randomUUID().slice(0, 8)}`,
      LOG_LEVEL: 'silent',
    };

    // The core toolset's function, as terraform deploys it: its tools, its audience, the gateway as invoker.
    const core = await serveLate();
    const toolEnv = (audience: string) => ({
      ...baseEnv,
      PUBLIC_URL: 'https://mcp.example.run.app/mcp',
      OAUTH_ISSUER: users.issuer,
      OAUTH_JWKS_URL: users.jwksUrl,
      TOOL_NAMES: 'server_info,audit_events_list',
      ...oidcTestEnv(google, audience, [GATEWAY_SA]),
    });
    core.use(createGcpToolFunction(coreTools, { env: toolEnv(core.url), ...coreReach }));
    // The same function deployed under another URL than its OIDC_AUDIENCE says: every token is for the wrong audience.
    const elsewhere = await serveLate();
    elsewhere.use(
      createGcpToolFunction(coreTools, { env: toolEnv('https://tool-elsewhere-abc-uc.a.run.app'), ...coreReach }),
    );
    // Stand-ins for the platform's own answers.
    const crash = await serveHttpFunction(() => {
      throw new TypeError('Cannot read properties of undefined (reading "items")');
    });
    const throttled = await serveHttpFunction((_req, res) => {
      res.status(429).set('retry-after', '3').send('Rate exceeded.');
    });
    const slow = await serveHttpFunction(async (_req, res) => {
      await Promise.race([new Promise((r) => res.once('close', r)), sleep(20_000)]);
    });
    served.push(core, elsewhere, crash, throttled, slow);
    functions = {
      server_info: core.url,
      audit_events_list: elsewhere.url,
      k8s_events_list: crash.url,
      k8s_namespaces_list: throttled.url,
      k8s_metrics_top: slow.url,
    };

    const gw = await serveLate();
    gw.use(createGcpMcpHandler({ env: gatewayEnv(`${gw.url}/mcp`), idToken }));
    const hastyGw = await serveLate();
    hastyGw.use(
      createGcpMcpHandler({
        env: gatewayEnv(`${hastyGw.url}/mcp`, { TOOL_TIMEOUT_MS: String(TOOL_TIMEOUT_MS) }),
        idToken,
      }),
    );
    gateway = gw;
    hasty = hastyGw;
    served.push(gw, hastyGw);
    store = gcpStore(loadGcpConfig(gatewayEnv(`${gw.url}/mcp`), []));
  });
  afterAll(async () => {
    await Promise.all(served.map((s) => s.close()));
    await store?.close();
    await google?.close();
    await users?.close();
  });

  for (const era of ['modern', 'legacy'] as Era[]) {
    it(`${era === 'modern' ? '2026-07-28' : '2025-11-25'} era: tools/list from the manifest, a call through the tool function with a signed ID token, audited in Firestore`, async () => {
      const caller = `vera-${era}`;
      const client = await connect(gateway, era, caller);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(functions).sort());
        const result = await client.callTool({ name: 'server_info', arguments: {} });
        expect(result.isError).toBeFalsy();
        expect(structured(result)).toBeTruthy();
      } finally {
        await client.close();
      }
      expect((await auditOf('server_info')).filter((a) => a.caller.name === caller)).toMatchObject([{ outcome: 'ok' }]);
    });
  }

  it("a tool function that refuses the gateway's token (401) is an unavailable tool error, audited", async () => {
    const client = await connect(gateway, 'modern', 'walt');
    try {
      const result = await client.callTool({ name: 'audit_events_list', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/^audit_events_list is unavailable: the gateway may not invoke .* \(HTTP 401\)/);
    } finally {
      await client.close();
    }
    expect(await auditOf('audit_events_list')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^unavailable: the gateway may not invoke/) },
    ]);
  });

  it('a crashing function (500) and throttling (429 Retry-After) are clear tool errors naming no internals, audited', async () => {
    const client = await connect(gateway, 'legacy', 'walt');
    try {
      const crashed = await client.callTool({ name: 'k8s_events_list', arguments: {} });
      expect(crashed.isError).toBe(true);
      expect(text(crashed)).toMatch(/^k8s_events_list failed: its function failed \(HTTP 500\)/);
      expect(text(crashed)).not.toContain('reading "items"');
      const busy = await client.callTool({ name: 'k8s_namespaces_list', arguments: {} });
      expect(busy.isError).toBe(true);
      expect(text(busy)).toMatch(/^k8s_namespaces_list is busy \(its function is throttled\): .* Retry in 3 s\./);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_events_list')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^internal: /) },
    ]);
    expect(await auditOf('k8s_namespaces_list')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^throttled: /) },
    ]);
  });

  it('a function slower than the deadline is a timeout tool error, audited', async () => {
    const client = await connect(hasty, 'modern', 'walt');
    try {
      const result = await client.callTool({ name: 'k8s_metrics_top', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/^k8s_metrics_top did not answer in time: no answer within \d+ ms/);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_metrics_top')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^timeout: /) },
    ]);
  });

  it('serves the protected resource metadata, and refuses a caller without a token', async () => {
    const prm = await fetch(`${gateway.url}/.well-known/oauth-protected-resource`);
    expect(prm.status).toBe(200);
    expect(await prm.json()).toMatchObject({ resource: `${gateway.url}/mcp` });
    const anonymous = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("a body that is not JSON is refused by functions-framework's parser before the gateway sees it: a 400, never a 5xx", async () => {
    // functions-framework parses application/json itself (body-parser) and answers its own 400: the
    // gateway cannot word this one as a JSON-RPC parse error.
    const res = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0",',
    });
    expect(res.status).toBe(400);
  });

  it('a gateway told to route an aws tool does not start: a generic JSON-RPC error, the cause only in its log', async () => {
    const wrong = await serveLate();
    served.push(wrong);
    const env = gatewayEnv(`${wrong.url}/mcp`, {
      TOOL_FUNCTIONS: JSON.stringify({ ...functions, aws_ec2_instances_list: 'https://tool-aws-abc-uc.a.run.app' }),
    });
    wrong.use(createGcpMcpHandler({ env, idToken }));
    const token = await users.token({ sub: 'walt', scope: 'cloudops:read', aud: `${wrong.url}/mcp` });
    const res = await fetch(`${wrong.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32603);
    expect(body.error.message).not.toMatch(/aws|TOOL_FUNCTIONS/);
  });

  it('the bundle registers the entry point the layout names', async () => {
    // Test files share a module cache here: a fresh instance of the bundle registers now.
    const bundle = (await import(`../../${GCP_FUNCTIONS.mcp.source}?registers=${randomUUID()}`)) as {
      handler: unknown;
    };
    expect(getFunction(GCP_FUNCTIONS.mcp.entryPoint)).toBe(bundle.handler);
  });
});
