import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { catalogFromManifest, type ToolManifest } from '../../shared/mcp/catalog.ts';
import { createGateway, type McpEndpoint } from '../../shared/mcp/gateway.ts';
import { TOOL_RUN_FAILED_EVENT } from '../../shared/mcp/tool-call.ts';
import type { ToolRunErrorKind, ToolRunResult } from '../../shared/ports/tool-runner.ts';
import manifestJson from '../../shared/tools/manifest.json' with { type: 'json' };
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

/*
 * The AWS stack alarms on tool runs that failed by counting one gateway log event per failure
 * (cdk/stateless-stack.ts, a metric filter on `$.event`). This checks the event is logged, top-level,
 * for the runner's failures and only for them: a caller's bad arguments or missing role are not a
 * failing function.
 */
describe('the gateway logs each failed tool run as one event', () => {
  const URL_ = 'http://127.0.0.1:9/mcp';
  const logs: Array<Record<string, unknown>> = [];
  let next: ToolRunErrorKind = 'timeout';
  let endpoint: McpEndpoint;
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await startTestIssuer(URL_);
    const env = {
      STORE: 'memory',
      LOG_LEVEL: 'info',
      PUBLIC_URL: URL_,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
    };
    const config = loadConfig(env);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
        done();
      },
    });
    const deps = buildDeps(config, new MemoryStore(), createLogger('info', sink), {
      metrics: new PrometheusSource(undefined),
      clusters: {
        list: async () => [],
        defaultCluster: async () => undefined,
        client: async () => Promise.reject(new Error('none')),
      },
      policy: loadPolicy(undefined),
      workflows: () =>
        ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
    });
    const manifest = manifestJson as unknown as ToolManifest;
    endpoint = createGateway({
      deps,
      catalog: catalogFromManifest({ tools: manifest.tools.filter((t) => t.name === 'k8s_namespaces_list') }),
      runner: {
        run: async (): Promise<ToolRunResult> => ({ v: 1, ok: false, error: { kind: next, message: 'as told' } }),
      },
      publicUrls: [new URL(URL_)],
      loopback: true,
    });
  });
  afterAll(async () => {
    await endpoint.close();
    await issuer.close();
  });

  async function call(kind: ToolRunErrorKind): Promise<Array<Record<string, unknown>>> {
    next = kind;
    const before = logs.length;
    const client = new Client({ name: 't', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    const token = await issuer.token({ sub: 'olga', scope: 'cloudops:read', name: 'olga' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(URL_), {
        // As an HTTP server hands it over: with the Host header a web Request leaves out.
        fetch: (u, init) => {
          const headers = new Headers(init?.headers);
          headers.set('host', new URL(URL_).host);
          return endpoint.fetch(new Request(u, { ...init, headers }));
        },
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      await client.callTool({ name: 'k8s_namespaces_list', arguments: {} }).catch(() => undefined);
    } finally {
      await client.close();
    }
    return logs.slice(before).filter((l) => l.event === TOOL_RUN_FAILED_EVENT);
  }

  it.each(['timeout', 'throttled', 'unavailable', 'internal'] as const)(
    '%s: one event naming the tool and kind',
    async (kind) => {
      const events = await call(kind);
      expect(events).toEqual([expect.objectContaining({ tool: 'k8s_namespaces_list', kind, level: 'warn' })]);
    },
  );

  it.each(['denied', 'invalid_arguments', 'unknown_tool'] as const)(
    '%s: a refusal of the caller, no event',
    async (kind) => {
      expect(await call(kind)).toEqual([]);
    },
  );
});
