import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { clustersFromConfig } from '../shared/adapters/kube/index.ts';
import { LocalWorkflowEngine } from '../shared/adapters/local/local-workflow-engine.ts';
import { type Config, ConfigError, isLoopbackHost, loadConfig } from '../shared/config/config.ts';
import { loadPolicy } from '../shared/config/policy-file.ts';
import { createLogger, type Logger } from '../shared/logging/logger.ts';
import { buildDeps } from '../shared/mcp/deps.ts';
import { createMcpEndpoint, type McpEndpoint } from '../shared/mcp/endpoint.ts';
import type { Deps } from '../shared/mcp/tool.ts';
import { allTools } from '../shared/tools/index.ts';
import { dispatchStep } from '../shared/workflows/index.ts';
import { recoverInterruptedOperations } from '../shared/workflows/recovery.ts';
import { openLocalStore } from './store.ts';

export interface LocalServer {
  /** The MCP endpoint URL, e.g. http://127.0.0.1:8787/mcp */
  url: string;
  deps: Deps;
  endpoint: McpEndpoint;
  /** Settles once operations interrupted by the previous process's stop have been rolled back. */
  recovery: Promise<void>;
  close(): Promise<void>;
}

/**
 * The local host: one Node HTTP server in front of the shared MCP endpoint, with the embedded
 * store. It refuses to listen beyond loopback unless authentication is configured.
 */
export async function startLocalServer(
  env: Record<string, string | undefined>,
  opts: { log?: Logger } = {},
): Promise<LocalServer> {
  const config: Config = loadConfig(env);
  const loopback = isLoopbackHost(config.host);
  if (!loopback && !config.authRequired) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without authentication. Set AUTH=required (API keys) and/or ` +
        'OAUTH_ISSUER/OAUTH_JWKS_URL, or bind to 127.0.0.1.',
    );
  }
  // A public URL on another host means a tunnel or proxy forwards to this loopback port: without
  // authentication that would hand everyone who reaches the URL the local admin.
  const remote = config.publicUrls.find((u) => !isLoopbackHost(u.hostname));
  if (remote && !config.authRequired) {
    throw new ConfigError(
      `Refusing to serve PUBLIC_URL ${remote.href} without authentication: a request through it would act as the ` +
        'local admin. Set AUTH=required (API keys) and/or OAUTH_ISSUER/OAUTH_JWKS_URL, or leave PUBLIC_URL unset.',
    );
  }
  const log = opts.log ?? createLogger(config.logLevel);
  const policy = loadPolicy(config.policyFile);
  const clusters = clustersFromConfig(config, env);
  const store = await openLocalStore(config, { shareRunning: false });
  let engine: LocalWorkflowEngine | undefined;
  const deps = buildDeps(config, store, log, {
    clusters,
    policy,
    workflows: (d) => {
      engine = new LocalWorkflowEngine({
        dispatch: (event) => dispatchStep(event, d),
        log,
        ...(config.localWorkflowWaitMs ? { waitMs: config.localWorkflowWaitMs } : {}),
      });
      return engine;
    },
  });

  let endpoint: McpEndpoint | undefined;
  const node = toNodeHandler(
    { fetch: (req: Request) => (endpoint as McpEndpoint).fetch(req) },
    {
      maxRequestBodySize: config.maxBodyBytes,
      onerror: (err) => log.error({ err: err.message }, 'http adapter error'),
    },
  );
  const server: Server = createServer((req, res) => {
    node(req, res).catch((err: unknown) => {
      log.error({ err: String(err) }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/mcp`;
  const publicUrls = config.publicUrls.length ? config.publicUrls : [new URL(url)];
  endpoint = createMcpEndpoint({ deps, tools: allTools, publicUrls, loopback });

  // The local engine's executions died with the previous process: end what they left running. Not
  // with a shared DynamoDB table, where another replica may be running them.
  const recovery =
    config.store.kind === 'embedded'
      ? recoverInterruptedOperations(deps).then(
          (r) => {
            if (r.recovered.length || r.failed.length)
              log.warn(r, 'rolled back operations left running when this server last stopped');
          },
          (err: unknown) => log.error({ err: String(err) }, 'recovery of interrupted operations failed'),
        )
      : Promise.resolve();

  return {
    url,
    deps,
    endpoint,
    recovery,
    async close() {
      await recovery;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      engine?.stopAll();
      await endpoint?.close();
      await store.close();
    },
  };
}
