/**
 * Fuzz: hostile text through the MCP endpoint over HTTP (local host -> real tools -> fake Kubernetes
 * API server), raw bytes included (invalid UTF-8, lone surrogate escapes). Every request answers
 * with JSON: a tool result or a clear tool/JSON-RPC error without stack traces or parser internals;
 * the process keeps serving; every call leaves one audit record, whose manifest or patch is the
 * redacted text or a bounded "unparseable" marker. And the endpoint hands the handler and the
 * audit hook one ParseCache, so a text is parsed once per request.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { ParseCache } from '../../shared/domain/input/index.ts';
import { createMcpEndpoint } from '../../shared/mcp/endpoint.ts';
import { k8sResourcesApplyTool } from '../../shared/tools/k8s/resources-apply.tool.ts';
import { defineTool, ok } from '../../shared/tools/tool.ts';
import { type Harness, startHarness } from '../support/k8s-harness.ts';
import { hostileString, hostileText, INTERNALS, validDeployment } from './hostile-text.ts';

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface Answer {
  status: number;
  body: {
    result?: { isError?: boolean; content?: Array<{ type: string; text?: string }> };
    error?: { code: number; message: string };
  };
  text: string;
}

/** One tools/call as raw bytes; `raw` replaces the JSON of `arguments` (for bytes JSON.stringify cannot make). */
function request(
  url: string,
  name: string,
  args: Record<string, unknown> | Buffer,
  requestId: string,
  inProcess = false,
): Request {
  const head = Buffer.from(
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":`,
  );
  const tail = Buffer.from(`,"_meta":${JSON.stringify(META)}}}`);
  const argBytes = Buffer.isBuffer(args) ? args : Buffer.from(JSON.stringify(args));
  return new Request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      'x-request-id': requestId,
      // fetch() sets Host on the wire; a Request handed straight to the endpoint needs it spelled out.
      ...(inProcess ? { host: new URL(url).host } : {}),
    },
    body: Buffer.concat([head, argBytes, tail]),
  });
}

async function answer(res: Response): Promise<Answer> {
  const raw = await res.text();
  const body = JSON.parse(raw) as Answer['body'];
  const text = body.error ? body.error.message : (body.result?.content ?? []).map((c) => c.text ?? '').join('\n');
  return { status: res.status, body, text };
}

function expectClean(a: Answer, what: string): void {
  if (a.status === 413) {
    expect(a.text).toMatch(/^Payload Too Large/); // escaping can push a text under the parser's limit over the body's
    return;
  }
  // The caller's mistake is never a 5xx, and the answer is a result or a JSON-RPC error.
  expect(a.status, `${what}: ${a.text.slice(0, 200)}`).toBeLessThan(500);
  expect(a.body.result !== undefined || a.body.error !== undefined).toBe(true);
  if (a.body.error) expect([-32602, -32600, -32700]).toContain(a.body.error.code);
  for (const pattern of INTERNALS) expect(a.text, what).not.toMatch(pattern);
  expect(a.text).not.toMatch(/failed unexpectedly/);
}

describe('fuzz: hostile text through the MCP endpoint over HTTP', () => {
  let h: Harness;
  let n = 0;
  const sent: Array<{ id: string; tool: string }> = [];

  beforeAll(async () => {
    h = await startHarness();
    await h.ok('k8s_resources_apply', { manifest: validDeployment() });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function call(name: string, args: Record<string, unknown> | Buffer): Promise<Answer> {
    const id = `fuzz-http-${++n}`;
    const a = await answer(await fetch(request(h.server.url, name, args, id)));
    // A body over the endpoint's size limit is refused unread (413): no tool ran, so no record.
    if (a.status !== 413) sent.push({ id, tool: name });
    return a;
  }

  it('manifests and patches over HTTP', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, fc.constantFrom('apply', 'patch', 'plan'), async (text, use) => {
        const a =
          use === 'apply'
            ? await call('k8s_resources_apply', { manifest: text, dryRun: true })
            : use === 'patch'
              ? await call('k8s_resources_patch', {
                  kind: 'Deployment',
                  name: 'web',
                  namespace: 'default',
                  patch: text,
                  patchType: 'merge',
                  dryRun: true,
                })
              : await call('delivery_rollouts_plan', { name: 'web', namespace: 'default', manifest: text });
        expectClean(a, use);
      }),
      { numRuns: 20 },
    );
  });

  it('raw bytes: invalid UTF-8, lone surrogate escapes, NUL escapes, a body near the size limit', {
    timeout: 120_000,
  }, async () => {
    const cases: Buffer[] = [
      Buffer.concat([
        Buffer.from('{"manifest":"a: '),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]),
        Buffer.from('","dryRun":true}'),
      ]),
      Buffer.from('{"manifest":"a: \\ud800\\udfff\\ud800","dryRun":true}'),
      Buffer.from('{"manifest":"a: \\u0000\\u001b[31m","dryRun":true}'),
      Buffer.from(`{"manifest":${JSON.stringify(`a: "${'y'.repeat(1_900_000)}"`)},"dryRun":true}`),
      Buffer.from(`{"manifest":${JSON.stringify(`${'[{"a":'.repeat(150_000)}`)},"dryRun":true}`),
    ];
    for (const [i, args] of cases.entries()) {
      expectClean(await call('k8s_resources_apply', args), `raw case ${i}`);
    }
  });

  it('selectors, names and cursors over HTTP', { timeout: 120_000 }, async () => {
    const calls: Array<(s: string) => [string, Record<string, unknown>]> = [
      (s) => ['k8s_resources_list', { kind: 'pods', labelSelector: s }],
      (s) => ['k8s_resources_list', { kind: 'pods', continue: s }],
      (s) => ['k8s_resources_get', { kind: s, name: s }],
      (s) => ['k8s_pods_logs', { name: s }],
      (s) => ['audit_events_list', { cursor: s }],
      (s) => ['ops_operations_get', { operationId: s }],
    ];
    await fc.assert(
      fc.asyncProperty(hostileString, fc.nat({ max: calls.length - 1 }), async (s, i) => {
        const [name, args] = (calls[i] as (s: string) => [string, Record<string, unknown>])(s);
        expectClean(await call(name, args), name);
      }),
      { numRuns: 25 },
    );
  });

  it('the process still serves, and every call left one audit record, bounded', async () => {
    const info = await h.call('server_info');
    expect(info.isError).toBe(false);
    const records = new Map<string, Array<{ tool: string; args: Record<string, unknown> }>>();
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const out = await h.server.deps.audit.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const e of out.events) {
        const list = records.get(e.requestId) ?? [];
        list.push({ tool: e.tool, args: e.args as Record<string, unknown> });
        records.set(e.requestId, list);
      }
      cursor = out.cursor;
      if (!cursor) break;
    }
    for (const { id, tool } of sent) {
      const got = records.get(id);
      expect(got, id).toHaveLength(1);
      expect(got?.[0]?.tool).toBe(tool);
      for (const key of ['manifest', 'patch']) {
        const v = got?.[0]?.args?.[key];
        if (typeof v === 'string' && v.startsWith('[unparseable'))
          expect(v).toMatch(/^\[unparseable (manifest|patch), \d+ bytes, not recorded: [^\n]{1,300}\]$/);
      }
    }
  });
});

describe('one parse per request', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the handler and the audit hook get the same ParseCache, so the audit reuses the parse', async () => {
    const seen: { handler?: ParseCache; audit?: ParseCache; parsesAtAudit?: number } = {};
    const probe = defineTool({
      name: 'test_parse_probe',
      title: 'probe',
      description: 'probe',
      group: 'core',
      access: 'read',
      input: z.object({ text: z.string() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async handler(input, ctx) {
        seen.handler = ctx.parsed;
        ctx.parsed.parse(input.text);
        return ok('parsed');
      },
      auditArgs(a, parsed) {
        seen.audit = parsed;
        if (typeof a.text === 'string') parsed.parse(a.text);
        seen.parsesAtAudit = parsed.parses;
        return a;
      },
    });
    const endpoint = createMcpEndpoint({
      deps: h.server.deps,
      tools: [probe, k8sResourcesApplyTool],
      publicUrls: [new URL(h.server.url)],
      loopback: true,
    });
    try {
      const a = await answer(
        await endpoint.fetch(request(h.server.url, 'test_parse_probe', { text: 'a: [1, 2]' }, 'probe-1', true)),
      );
      expect(a.body.result?.isError, JSON.stringify(a.body).slice(0, 500)).toBeFalsy();
      expect(a.body.result, JSON.stringify(a.body).slice(0, 500)).toBeDefined();
      expect(seen.handler).toBeDefined();
      expect(seen.audit).toBe(seen.handler);
      expect(seen.parsesAtAudit).toBe(1);

      // A bomb in apply: the tool error names the limit, and the audit keeps a marker, not the text.
      const bomb = `a: &a [x, x, x, x, x, x, x, x]\n${Array.from({ length: 20 }, (_, i) => `b${i}: *a`).join('\n')}\n`;
      const refused = await answer(
        await endpoint.fetch(request(h.server.url, 'k8s_resources_apply', { manifest: bomb }, 'probe-2', true)),
      );
      expect(refused.body.result?.isError).toBe(true);
      expect(refused.text).toMatch(/^manifest not accepted: more than 16 aliases \(\*name\) \(line 18, column 6\)\./);
      const audit = await h.server.deps.audit.list({ limit: 10, tool: 'k8s_resources_apply' });
      const record = audit.events.find((e) => e.requestId === 'probe-2');
      expect((record?.args as { manifest?: string } | undefined)?.manifest).toBe(
        `[unparseable manifest, ${Buffer.byteLength(bomb)} bytes, not recorded: more than 16 aliases (*name) (line 18, column 6)]`,
      );
    } finally {
      await endpoint.close();
    }
  });
});
