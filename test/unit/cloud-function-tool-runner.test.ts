import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudFunctionToolRunner, parseToolFunctions } from '../../shared/adapters/gcp/cloud-function-tool-runner.ts';
import type { ToolInvocation } from '../../shared/ports/tool-runner.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';

/*
 * CloudFunctionToolRunner against tool functions stood in by handlers on the real
 * functions-framework: what it sends, and how each way a function can fail becomes a ToolRunResult.
 */

interface Seen {
  authorization?: string;
  serverless?: string;
  contentType?: string;
  body: unknown;
}

const inv = (tool: string, extra: Partial<ToolInvocation> = {}): ToolInvocation => ({
  v: 1,
  tool,
  args: { a: 1 },
  caller: { subject: 'alice', name: 'alice', roles: ['viewer'], method: 'oauth' },
  requestId: '5f0c3a52-93c1-4f43-9d55-2a4f5bb1c0de',
  ...extra,
});

describe('CloudFunctionToolRunner', () => {
  const seen: Seen[] = [];
  const served: Record<string, ServedFunction> = {};
  let functions: Record<string, string>;
  const tokensFor: string[] = [];
  const runner = (timeoutMs = 5_000, idToken?: (aud: string) => Promise<string>) =>
    new CloudFunctionToolRunner({
      functions,
      timeoutMs,
      idToken:
        idToken ??
        (async (aud) => {
          tokensFor.push(aud);
          return `token-for-${aud.length}`;
        }),
    });

  beforeAll(async () => {
    served.ok = await serveHttpFunction((req, res) => {
      seen.push({
        authorization: req.get('authorization'),
        serverless: req.get('x-serverless-authorization'),
        contentType: req.get('content-type'),
        body: JSON.parse((req.rawBody ?? Buffer.alloc(0)).toString('utf8')),
      });
      res.json({ v: 1, ok: true, result: { content: [{ type: 'text', text: 'hi' }] } });
    });
    served.toolError = await serveHttpFunction((_req, res) => {
      res.json({ v: 1, ok: false, error: { kind: 'denied', message: 'needs operator' } });
    });
    served.crash = await serveHttpFunction(() => {
      throw new Error('secret internals: token=abc');
    });
    served.throttled = await serveHttpFunction((_req, res) => {
      res.status(429).set('retry-after', '7').send('Rate exceeded.');
    });
    served.gatewayTimeout = await serveHttpFunction((_req, res) => {
      res.status(504).send('upstream request timeout');
    });
    served.forbidden = await serveHttpFunction((_req, res) => {
      res.status(403).json({ error: 'forbidden' });
    });
    served.unauthenticated = await serveHttpFunction((_req, res) => {
      res.status(401).json({ error: 'unauthenticated' });
    });
    served.notFound = await serveHttpFunction((_req, res) => {
      res.status(404).send('Page not found');
    });
    served.notAResult = await serveHttpFunction((_req, res) => {
      res.json({ hello: 'world' });
    });
    served.huge = await serveHttpFunction((_req, res) => {
      res
        .type('application/json')
        .send(`{"v":1,"ok":true,"result":{"content":[{"type":"text","text":"${'x'.repeat(7 * 1024 * 1024)}"}]}}`);
    });
    served.slow = await serveHttpFunction(async (_req, res) => {
      // Answers only after the caller gave up (or 20 s).
      await Promise.race([new Promise((r) => res.once('close', r)), sleep(20_000)]);
      if (!res.headersSent) res.json({ v: 1, ok: true, result: { content: [] } });
    });
    const closed = await serveHttpFunction((_req, res) => res.end());
    await closed.close();
    functions = {
      ...Object.fromEntries(Object.entries(served).map(([k, s]) => [k, `${s.url}/fn-${k}`])),
      closed: `${closed.url}/fn-closed`,
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(served).map((s) => s.close()));
  });

  it('POSTs the invocation with its deadline, an ID token for the function URL in both auth headers, and returns the answer', async () => {
    const before = Date.now();
    const result = await runner().run(inv('ok'));
    expect(result).toEqual({ v: 1, ok: true, result: { content: [{ type: 'text', text: 'hi' }] } });
    expect(tokensFor.at(-1)).toBe(functions.ok);
    const last = seen.at(-1) as Seen;
    expect(last.authorization).toBe(`Bearer token-for-${functions.ok?.length}`);
    expect(last.serverless).toBe(last.authorization);
    expect(last.contentType).toBe('application/json');
    expect(last.body).toMatchObject({ v: 1, tool: 'ok', args: { a: 1 }, caller: { subject: 'alice' } });
    expect((last.body as { deadlineMs: number }).deadlineMs).toBeGreaterThanOrEqual(before + 5_000);
  });

  it("passes a tool function's own refusal through", async () => {
    expect(await runner().run(inv('toolError'))).toEqual({
      v: 1,
      ok: false,
      error: { kind: 'denied', message: 'needs operator' },
    });
  });

  it('maps each failure of the platform or the function to a clear kind, naming no internals', async () => {
    const r = runner();
    const crash = await r.run(inv('crash'));
    expect(crash).toMatchObject({ ok: false, error: { kind: 'internal', message: 'its function failed (HTTP 500)' } });
    expect(JSON.stringify(crash)).not.toContain('token=abc');
    expect(await r.run(inv('throttled'))).toMatchObject({
      ok: false,
      error: { kind: 'throttled', retryAfterMs: 7000 },
    });
    expect(await r.run(inv('gatewayTimeout'))).toMatchObject({ ok: false, error: { kind: 'timeout' } });
    expect(await r.run(inv('forbidden'))).toMatchObject({
      ok: false,
      error: { kind: 'unavailable', message: 'the gateway may not invoke fn-forbidden (HTTP 403)' },
    });
    expect(await r.run(inv('unauthenticated'))).toMatchObject({
      ok: false,
      error: { kind: 'unavailable', message: expect.stringMatching(/may not invoke fn-unauthenticated \(HTTP 401\)/) },
    });
    expect(await r.run(inv('notFound'))).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
    expect(await r.run(inv('notAResult'))).toMatchObject({
      ok: false,
      error: { kind: 'internal', message: 'its function answered something other than a tool result' },
    });
    expect(await r.run(inv('huge'))).toMatchObject({
      ok: false,
      error: { kind: 'internal', message: expect.stringMatching(/more than 6291456 bytes/) },
    });
    expect(await r.run(inv('closed'))).toMatchObject({
      ok: false,
      error: { kind: 'unavailable', message: expect.stringMatching(/^fn-closed could not be reached/) },
    });
    expect(await r.run(inv('nobody'))).toMatchObject({ ok: false, error: { kind: 'unknown_tool' } });
  });

  it("answers timeout at the invocation's deadline, and when the caller cancels", async () => {
    const r = runner(60_000);
    const late = await r.run(inv('slow', { deadlineMs: Date.now() + 300 }));
    expect(late).toMatchObject({
      ok: false,
      error: { kind: 'timeout', message: expect.stringMatching(/no answer within/) },
    });
    const cancel = new AbortController();
    const pending = r.run(inv('slow'), { signal: cancel.signal });
    await sleep(100);
    cancel.abort();
    expect(await pending).toMatchObject({
      ok: false,
      error: { kind: 'timeout', message: expect.stringMatching(/cancelled/) },
    });
  });

  it('an identity token that cannot be had is unavailable, and nothing is sent', async () => {
    const before = seen.length;
    const result = await runner(5_000, () => Promise.reject(new Error('metadata server unreachable'))).run(inv('ok'));
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'unavailable', message: expect.stringMatching(/could not get an identity token for fn-ok/) },
    });
    expect(seen.length).toBe(before);
  });
});

describe('parseToolFunctions (GCP)', () => {
  it('takes https function URLs, and plain http only on loopback', () => {
    expect(
      parseToolFunctions(
        JSON.stringify({
          server_info: 'https://tool-server-info-abc-uc.a.run.app',
          k8s_pods_list: 'http://127.0.0.1:8080',
        }),
      ),
    ).toEqual({ server_info: 'https://tool-server-info-abc-uc.a.run.app', k8s_pods_list: 'http://127.0.0.1:8080' });
    expect(() => parseToolFunctions('{"a":"http://fn.example.com"}')).toThrow(/not an https URL for a/);
    expect(() => parseToolFunctions('{"a":"cloudops-tool-a"}')).toThrow(/not an https URL for a/);
    expect(() => parseToolFunctions('{"a":"https://user:pw@fn.example.com"}')).toThrow(/not an https URL for a/);
    expect(() => parseToolFunctions('[]')).toThrow(/expected an object of tool name -> function URL/);
    expect(() => parseToolFunctions('{')).toThrow(/not JSON/);
    expect(() => parseToolFunctions('{"a":""}')).toThrow(/no function for a/);
  });
});
