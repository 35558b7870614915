import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { AUDIT_FIELD_BYTES, type AuditEvent, MAX_RECORD_BYTES } from '../../shared/app/repos/audit.ts';
import type { Store } from '../../shared/ports/store.ts';

const MODERN = '2026-07-28';

interface Shot {
  what: string;
  tool: string;
  args?: unknown;
  id?: unknown;
  headers?: Record<string, string>;
}

function post(url: string, shot: Shot, requestId: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-request-id': requestId,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      // A header carries Latin-1 only: a multi-byte name goes without one (the SDK refuses that call).
      ...(/^[\x20-\x7e]*$/.test(shot.tool) ? { 'mcp-name': shot.tool } : {}),
      ...shot.headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: shot.id ?? requestId,
      method: 'tools/call',
      params: {
        name: shot.tool,
        arguments: shot.args ?? {},
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'audit-bounds', version: '1' },
        },
      },
    }),
  });
}

const KB = 1024;
const shots: Shot[] = [
  { what: 'a 1 MB argument', tool: 'server_info', args: { blob: 'x'.repeat(1024 * KB) } },
  {
    what: 'a 1 MB argument of many keys',
    tool: 'server_info',
    args: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'.repeat(100)])),
  },
  { what: 'a 10 KB tool name', tool: 't'.repeat(10 * KB) },
  { what: 'a 10 KB multi-byte tool name', tool: '€'.repeat(3500) },
  { what: 'a 5 KB User-Agent', tool: 'server_info', headers: { 'user-agent': 'u'.repeat(5 * KB) } },
  { what: 'a 5 KB Mcp-Session-Id', tool: 'server_info', headers: { 'mcp-session-id': 's'.repeat(5 * KB) } },
  { what: 'a 5 KB X-Request-Id', tool: 'server_info', headers: { 'x-request-id': 'r'.repeat(5 * KB) } },
  {
    what: 'a 5 KB Mcp-Name that disagrees with the body',
    tool: 'server_info',
    headers: { 'mcp-name': 'n'.repeat(5 * KB) },
  },
  { what: 'a 1 MB JSON-RPC id', tool: 'server_info', id: 'i'.repeat(1024 * KB) },
  { what: 'a deeply nested JSON-RPC id', tool: 'server_info', id: JSON.parse(`${'['.repeat(500)}1${']'.repeat(500)}`) },
];

async function allRecords(store: Store): Promise<AuditEvent[]> {
  const day = new Date().toISOString().slice(0, 10);
  const out: AuditEvent[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await store.query({ pk: `audit#${day}`, limit: 500, ...(after ? { after } : {}) });
    out.push(...page.items.map((it) => it.data as unknown as AuditEvent));
    after = page.lastKey;
    if (!after) break;
  }
  return out;
}

for (const kind of ['memory', 'dynamodb (dynalite)'] as const) {
  describe(`hostile sizes through the endpoint, ${kind} store`, () => {
    let server: LocalServer;
    beforeAll(async () => {
      const env = { PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent', HOME: '/nonexistent-home' };
      if (kind === 'memory') server = await startLocalServer(env);
      else {
        const embedded = await startEmbeddedDynamo({ table: 'audit-bounds' });
        server = await startLocalServer(env, { store: embedded.store });
      }
    });
    afterAll(async () => {
      await server?.close();
    });

    it('every hostile call is answered and recorded within the caps, and the next 50 calls are all recorded once', async () => {
      for (const [i, shot] of shots.entries()) {
        const res = await post(server.url, shot, `hostile-${i}`);
        expect(res.status, shot.what).toBeLessThan(500);
        await res.arrayBuffer();
      }
      const next = Array.from({ length: 50 }, (_, i) => `next-${i}`);
      for (const id of next) {
        const res = await post(server.url, { what: 'plain', tool: 'server_info' }, id);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect(await server.deps.audit.flush()).toBe(0);
      expect(server.deps.audit.failures).toBe(0);
      const records = await allRecords(server.deps.store);
      // One record per call: the hostile ones (every tools/call is audited) and the 50 after them.
      expect(records).toHaveLength(shots.length + next.length);
      const ids = records.map((r) => r.requestId);
      for (const id of next) expect(ids.filter((x) => x === id)).toHaveLength(1);
      for (const r of records) {
        expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(MAX_RECORD_BYTES);
        expect(Buffer.byteLength(r.tool)).toBeLessThanOrEqual(AUDIT_FIELD_BYTES.tool);
        expect(Buffer.byteLength(r.requestId)).toBeLessThanOrEqual(AUDIT_FIELD_BYTES.requestId);
        expect(Buffer.byteLength(r.error ?? '')).toBeLessThanOrEqual(AUDIT_FIELD_BYTES.error);
      }
      const longTools = records.filter((r) => r.tool.startsWith('ttt') || r.tool.startsWith('€'));
      expect(longTools).toHaveLength(2);
      for (const r of longTools) expect(r.tool).toMatch(/…\[truncated \d+ bytes\]$/);
    });
  });
}
