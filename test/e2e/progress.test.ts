import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '../../local/server.ts';
import { clustersFromConfig } from '../../shared/adapters/kube/index.ts';
import { LocalWorkflowEngine } from '../../shared/adapters/local/local-workflow-engine.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { createMcpEndpoint, type McpEndpoint } from '../../shared/mcp/endpoint.ts';
import { allTools } from '../../shared/tools/index.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';
import { MODERN, startFixtureServer } from '../support/fixture-host.ts';

/*
 * Progress notifications (ToolContext.progress): on a host that streams (the local host), a call whose
 * client sent `_meta.progressToken` is answered as an SSE stream with its notifications, on both
 * wires; every other response stays one JSON body; the streamed call leaves exactly one audit
 * record. A host that cannot stream (API Gateway) answers JSON, the notifications dropped.
 */

const LEGACY = '2025-11-25';
const TOOL = 'test_tool_with_progress';

function request(url: string, era: string, meta: Record<string, unknown> = {}): Request {
  const modern = era === MODERN;
  return new Request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // endpoint.fetch is called directly in the second half (no HTTP client to add it).
      host: new URL(url).host,
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': era,
      ...(modern ? { 'mcp-method': 'tools/call', 'mcp-name': TOOL } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: TOOL,
        arguments: {},
        _meta: {
          ...meta,
          ...(modern
            ? {
                'io.modelcontextprotocol/protocolVersion': MODERN,
                'io.modelcontextprotocol/clientCapabilities': {},
              }
            : {}),
        },
      },
    }),
  });
}

/** The JSON-RPC messages of an SSE body. */
function events(
  text: string,
): Array<{ id?: number; method?: string; params?: Record<string, unknown>; result?: unknown }> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => JSON.parse(l.slice(5)));
}

describe('on a host that streams (local)', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const era of [MODERN, LEGACY]) {
    it(`${era}: a call that asks for progress is an SSE stream with increasing notifications, then its result`, async () => {
      const res = await fetch(request(server.url, era, { progressToken: 'p-1' }));
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const messages = events(await res.text());
      const progress = messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params);
      expect(progress).toEqual([
        { progressToken: 'p-1', progress: 0, total: 100 },
        { progressToken: 'p-1', progress: 50, total: 100 },
        { progressToken: 'p-1', progress: 100, total: 100 },
      ]);
      expect(messages.at(-1)).toMatchObject({ id: 7, result: { content: [{ text: 'Done; progress reported.' }] } });
    });

    it(`${era}: without a progress token the same call is one JSON body`, async () => {
      const res = await fetch(request(server.url, era));
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
      expect(body.result.content[0]?.text).toBe('Done; no progress was asked for.');
    });
  }

  it('a streamed call leaves exactly one audit record, written by the tool wrapper', async () => {
    const before = (await server.deps.audit.list({ tool: TOOL, limit: 50 })).events.length;
    const res = await fetch(request(server.url, MODERN, { progressToken: 42 }));
    await res.text();
    const { events: after } = await server.deps.audit.list({ tool: TOOL, limit: 50 });
    expect(after.length - before).toBe(1);
    expect(after[0]?.outcome).toBe('ok');
  });
});

describe('on a host that cannot stream (API Gateway)', () => {
  let endpoint: McpEndpoint;
  let store: MemoryStore;
  beforeAll(() => {
    const env = { HOST: '127.0.0.1', MCP_CONFORMANCE_FIXTURES: '1' };
    const config = loadConfig(env);
    store = new MemoryStore();
    const log = createLogger('silent');
    const deps = buildDeps(config, store, log, {
      metrics: new PrometheusSource(config.prometheusUrl),
      clusters: clustersFromConfig(config, env),
      policy: loadPolicy(undefined),
      workflows: (d) => new LocalWorkflowEngine({ dispatch: (e) => dispatchStep(e, d), log }),
    });
    // Fixtures need loopback; `streaming` is left unset, as the Lambda host leaves it.
    endpoint = createMcpEndpoint({
      deps,
      tools: allTools,
      publicUrls: [new URL('http://127.0.0.1/mcp')],
      loopback: true,
    });
  });
  afterAll(async () => {
    await endpoint?.close();
    await store?.close();
  });

  for (const era of [MODERN, LEGACY]) {
    it(`${era}: a call that asks for progress is one JSON body, its tool given no progress reporter`, async () => {
      const res = await endpoint.fetch(request('http://127.0.0.1/mcp', era, { progressToken: 'p-1' }));
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
      expect(body.result.content[0]?.text).toBe('Done; no progress was asked for.');
    });
  }
});
