import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import type { AuditEvent } from '../../shared/app/repos/audit.ts';
import { RETRY_AFTER_SECONDS } from '../../shared/mcp/pressure.ts';
import { startThrottlingDynamo, type ThrottlingDynamo } from '../support/throttling-dynamo.ts';

const MODERN = '2026-07-28';
const CALLS = 200;
const KEYS = 40;
/** A frozen clock: the API-key cache never expires during the test, however slow the machine. */
const NOW = Date.parse('2026-11-21T12:00:00Z');

function toolsCall(requestId: string, key: string, tool = 'server_info') {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'x-request-id': requestId,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: requestId,
      method: 'tools/call',
      params: {
        name: tool,
        arguments: {},
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'load-test', version: '1' },
        },
      },
    }),
  };
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of items) out.set(key(t), [...(out.get(key(t)) ?? []), t]);
  return out;
}

describe('200 concurrent tools/call against the local host while DynamoDB throttles', () => {
  let dynamo: ThrottlingDynamo;
  let server: LocalServer;
  const keys: string[] = [];

  beforeAll(async () => {
    dynamo = await startThrottlingDynamo('load');
    server = await startLocalServer(
      { PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent', AUTH: 'required', HOME: '/nonexistent-home' },
      { store: dynamo.store, clock: { now: () => NOW } },
    );
    for (let i = 0; i < KEYS; i++) keys.push((await server.deps.apiKeys.create({ role: 'viewer', name: `k${i}` })).key);
  });
  afterAll(async () => {
    // The server owns the store once started; before that, the store is closed here.
    if (server) await server.close();
    else await dynamo?.store.close();
  });

  it('answers 200 or 503 with Retry-After (never 500), reads each key once, and leaves one audit record per answered call', async () => {
    // Every other first read of a key, every 4th audit write and every 3rd lastUsedAt write are
    // throttled; every 7th audit write lands but its reply is lost (the write is retried).
    dynamo.rule = ({ command, pk, n }) => {
      if (command === 'GetItemCommand' && pk === 'apikey') return n % 2 === 0 ? 'throttle' : 'pass';
      if (command === 'UpdateItemCommand' && pk === 'apikey') return n % 3 === 0 ? 'throttle' : 'pass';
      if (command === 'UpdateItemCommand' && pk.startsWith('audit#')) {
        if (n % 4 === 1) return 'throttle';
        if (n % 7 === 3) return 'lost-reply';
      }
      return 'pass';
    };
    const results = await Promise.all(
      Array.from({ length: CALLS }, async (_, i) => {
        const requestId = `load-${i}`;
        const res = await fetch(server.url, toolsCall(requestId, keys[i % KEYS] as string));
        const body = (await res.json()) as {
          id?: unknown;
          result?: { isError?: boolean };
          error?: { code: number; message: string };
        };
        return { requestId, status: res.status, retryAfter: res.headers.get('retry-after'), body };
      }),
    );
    dynamo.rule = () => 'pass';

    const byStatus = groupBy(results, (r) => r.status);
    expect([...byStatus.keys()].sort()).toEqual([200, 503]);
    const ok = byStatus.get(200) ?? [];
    const busy = byStatus.get(503) ?? [];
    for (const r of ok) expect(r.body.result?.isError).not.toBe(true);
    for (const r of busy) {
      expect(r.retryAfter).toBe(String(RETRY_AFTER_SECONDS));
      expect(r.body).toMatchObject({ id: null, error: { code: -32000 } });
      expect(r.body.error?.message).toContain(`request ${r.requestId}`);
      expect(r.body.error?.message).not.toMatch(/Throughput|DynamoDB|apikey/);
    }
    // The pressure was real: some throttled reads, some retried audit writes.
    expect(dynamo.count('GetItemCommand', 'apikey', 'throttle')).toBeGreaterThan(0);
    expect(dynamo.count('UpdateItemCommand', 'audit', 'throttle')).toBeGreaterThan(0);
    expect(dynamo.count('UpdateItemCommand', 'audit', 'lost-reply')).toBeGreaterThan(0);

    // Key lookups: concurrent misses share one read, and a key read once is not read again.
    expect(dynamo.count('GetItemCommand', 'apikey', 'pass')).toBeLessThanOrEqual(KEYS);
    expect(dynamo.count('GetItemCommand', 'apikey')).toBeLessThan(CALLS / 2);

    // The records kept after failed writes are written; then each answered call has exactly one.
    expect(await server.deps.audit.flush()).toBe(0);
    const records = await server.deps.store.query({ pk: 'audit#2026-11-21', limit: 1000 });
    const events = records.items.map((i) => i.data as unknown as AuditEvent);
    const perRequest = groupBy(events, (e) => e.requestId);
    for (const r of ok) expect(perRequest.get(r.requestId)?.length, r.requestId).toBe(1);
    // A 503 before authentication ran nothing and is no one's call: logged, not audited.
    for (const r of busy) expect(perRequest.has(r.requestId)).toBe(false);
    expect(events).toHaveLength(ok.length);
    expect(server.deps.audit.dropped).toBe(0);
  });
});
