#!/usr/bin/env node
/**
 * `npm run start:gcp`: the GCP deployment (gcp-functions/) run on this machine, for trying it without
 * a Google Cloud project. The real entry points on the real functions-framework (its own server for a
 * registered function, as the gen2 buildpack serves it), each on its own loopback port:
 * - the gateway (gcp-functions/mcp.ts) on HOST:PORT (default 127.0.0.1:8787), printing
 *   `MCP endpoint: http://127.0.0.1:<PORT>/mcp` as `npm start` does;
 * - one tool function per GCP toolset (gcp-functions/tools/<toolset>.ts), serving all of that
 *   toolset's tools (deployed, each tool is a function of its own; one per toolset here keeps it to
 *   eight servers), on random loopback ports. The gateway calls them through CloudFunctionToolRunner
 *   with ID tokens signed by a key pair generated at start, whose public half a loopback JWKS serves;
 *   each function verifies them (OIDC_AUDIENCE its own URL, the gateway's account its only invoker),
 *   as deployed.
 * - The Store is Firestore: the emulator at FIRESTORE_EMULATOR_HOST, or one started for this run (its
 *   data lives as long as it does) and stopped on exit.
 * - Authentication as `npm start`: off on loopback unless AUTH=required or OAUTH_* say otherwise (the
 *   gateway's narrow LocalEmulation option in gcp-functions/lib/host.ts); never off beyond loopback.
 * - Clusters as `npm start`: KUBECONFIG (or ~/.kube/config) and GCP_PROJECTS/AWS_* discovery with the
 *   local credentials. KUBECONFIG_SECRET (a Secret Manager version when deployed) is refused.
 * - Rollouts: there is no Cloud Workflows emulator, so the delivery function starts them on the
 *   in-process LocalWorkflowEngine that `npm start` uses, running the same steps over that function's
 *   dependencies (LOCAL_WORKFLOW_WAIT_MS shortens its waits). The generated Cloud Workflows YAML is run
 *   by the tests (test/gcp-functions/e2e.test.ts), not here. A rollout running when this stops stays
 *   `running` in the Store (an emulator started here forgets it anyway); `npm start`'s recovery of
 *   interrupted operations is not run. Its rollback reconciler is (every minute, from the first
 *   delivery call on), as the deployments run it on workflow-step every 5 minutes.
 * - Other reach is the deployed one: the gcp and cost toolsets, Slack secrets etc. use Application
 *   Default Credentials against the real Google APIs when they are set up, and fail clearly when not.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HttpFunction, http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { GCP_TOOLSETS, type GcpToolset } from '../gcp-functions/layout.ts';
import { GCP_REQUIRED_SETTINGS, type LocalEmulation, loadGcpConfig } from '../gcp-functions/lib/host.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../gcp-functions/lib/tool-function.ts';
import { createGcpMcpHandler } from '../gcp-functions/mcp.ts';
import { LocalWorkflowEngine } from '../shared/adapters/local/local-workflow-engine.ts';
import { ConfigError, loadConfig } from '../shared/config/config.ts';
import type { Env } from '../shared/host/factories.ts';
import { createLogger } from '../shared/logging/logger.ts';
import type { AnyTool } from '../shared/tools/tool.ts';
import { dispatchStep } from '../shared/workflows/index.ts';
import { startRollbackReconciler } from '../shared/workflows/recovery.ts';
import { type FirestoreEmulator, startFirestoreEmulator } from './firestore-emulator.ts';
import { localClusters } from './server.ts';
import { stopOnSignals } from './signals.ts';

/** The gateway's service account, as the tool functions know their invoker. */
const GATEWAY_SA = 'cloudops-gateway@local.iam.gserviceaccount.com';
const LOOPBACK = '127.0.0.1';
/** The project of an emulator started here (a `demo-` project never reaches Google). */
const LOCAL_PROJECT = 'demo-cloudops-local';

interface Served {
  url: string;
  server: Server;
}

/** `handler` on functions-framework's own server for a registered function, listening on host:port. */
async function serveFunction(name: string, handler: HttpFunction, host: string, port: number): Promise<Served> {
  http(name, handler);
  const server = getTestServer(name);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, server };
}

/** A function whose handler is made once its URL (its OIDC audience, the gateway's PUBLIC_URL) is known. */
async function serveLate(name: string, host = LOOPBACK, port = 0) {
  let handler: HttpFunction | undefined;
  const served = await serveFunction(name, (req, res) => handler?.(req, res), host, port);
  return { ...served, use: (h: HttpFunction) => (handler = h) };
}

/** A key pair made now; the public half on a loopback JWKS; ID tokens of the gateway signed with the private one. */
async function startLocalIdentity() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = `local-${Date.now().toString(36)}`;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const issuer = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  return {
    server,
    env: { OIDC_ISSUER: issuer, OIDC_JWKS_URL: `${issuer}/jwks`, OIDC_INVOKERS: GATEWAY_SA },
    idToken: (audience: string) =>
      new SignJWT({ email: GATEWAY_SA, email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject('100000000000000000001')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey),
  };
}

export interface LocalGcp {
  /** The MCP endpoint, http://<HOST>:<PORT>/mcp. */
  url: string;
  /** Each toolset's function URL. */
  functions: Record<GcpToolset, string>;
  close(): Promise<void>;
}

/** Starts the emulated deployment; on failure, whatever it started is stopped again. */
export async function startLocalGcp(env: Env): Promise<LocalGcp> {
  const servers: Server[] = [];
  const engines: LocalWorkflowEngine[] = [];
  // The rollback reconciler npm start runs (and the cloud schedules run on workflow-step): one, over
  // the delivery function's deps, started with its first engine.
  let reconciler: ReturnType<typeof startRollbackReconciler> | undefined;
  let emulator: FirestoreEmulator | undefined;
  const close = async () => {
    await reconciler?.stop();
    await Promise.all(engines.map((e) => e.stopAll()));
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await emulator?.stop();
  };
  try {
    if (env.KUBECONFIG_SECRET?.trim()) {
      throw new ConfigError(
        'Invalid configuration:\n  KUBECONFIG_SECRET: start:gcp reads KUBECONFIG (or ~/.kube/config) as npm start ' +
          'does; a Secret Manager kubeconfig is for the deployed functions',
      );
    }
    // The settings as `npm start` reads them (PORT, HOST, LOG_LEVEL, LOCAL_WORKFLOW_WAIT_MS), checked before anything starts.
    const local = loadConfig({ ...env, STORE: 'memory' });
    let firestoreHost = env.FIRESTORE_EMULATOR_HOST?.trim();
    let project = env.FIRESTORE_PROJECT?.trim() || env.GOOGLE_CLOUD_PROJECT?.trim() || LOCAL_PROJECT;
    const localEmulation: LocalEmulation = { listensOn: local.host };
    // The gateway's settings (authentication beyond loopback included) refused before the emulator starts.
    loadGcpConfig(
      { ...env, FIRESTORE_PROJECT: project, PUBLIC_URL: env.PUBLIC_URL?.trim() || `http://${LOOPBACK}/mcp` },
      GCP_REQUIRED_SETTINGS.mcp,
      { localEmulation },
    );
    if (!firestoreHost) {
      emulator = await startFirestoreEmulator(120_000, project);
      firestoreHost = emulator.host;
      project = emulator.projectId;
    }
    const base: Env = { ...env, FIRESTORE_EMULATOR_HOST: firestoreHost, FIRESTORE_PROJECT: project };
    const identity = await startLocalIdentity();
    servers.push(identity.server);
    const log = createLogger(local.logLevel);

    const functions = {} as Record<GcpToolset, string>;
    const toolFunctions: Record<string, string> = {};
    for (const toolset of GCP_TOOLSETS) {
      const bundle = (await import(`../gcp-functions/tools/${toolset}.ts`)) as {
        tools: readonly AnyTool[];
        reach: Omit<GcpToolFunctionOptions, 'env'>;
      };
      const fn = await serveLate(`start-gcp-${toolset}`);
      servers.push(fn.server);
      const names = bundle.tools.map((t) => t.name);
      const fnEnv: Env = { ...base, ...identity.env, OIDC_AUDIENCE: fn.url, TOOL_NAMES: names.join(',') };
      loadGcpConfig(fnEnv, GCP_REQUIRED_SETTINGS.toolFunction);
      const reach: Omit<GcpToolFunctionOptions, 'env'> = {
        ...bundle.reach,
        ...(bundle.reach.clusters ? { clusters: (config, e) => localClusters(config, e) } : {}),
        ...(bundle.reach.workflows
          ? {
              workflows: (deps) => {
                const waitMs = deps.config.localWorkflowWaitMs;
                const engine = new LocalWorkflowEngine({
                  dispatch: (event) => dispatchStep(event, deps),
                  log,
                  ...(waitMs ? { waitMs } : {}),
                });
                engines.push(engine);
                reconciler ??= startRollbackReconciler(deps, { everyMs: 60_000 });
                return engine;
              },
            }
          : {}),
      };
      fn.use(createGcpToolFunction(bundle.tools, { env: fnEnv, ...reach }));
      functions[toolset] = fn.url;
      for (const name of names) toolFunctions[name] = fn.url;
    }

    const gateway = await serveLate('start-gcp-mcp', local.host, local.port);
    servers.push(gateway.server);
    const url = `${gateway.url}/mcp`;
    const gatewayEnv: Env = {
      ...base,
      PUBLIC_URL: env.PUBLIC_URL?.trim() || url,
      TOOL_FUNCTIONS: JSON.stringify(toolFunctions),
    };
    // A bad setting fails here, named, rather than at the first request.
    loadGcpConfig(gatewayEnv, GCP_REQUIRED_SETTINGS.mcp, { localEmulation });
    gateway.use(createGcpMcpHandler({ env: gatewayEnv, idToken: identity.idToken, localEmulation }));
    return { url, functions, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

async function main(): Promise<void> {
  let running: LocalGcp;
  try {
    running = await startLocalGcp(process.env);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      console.error(`start:gcp: PORT is already in use: stop what listens there or set another PORT.`);
    else console.error(`start:gcp: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  for (const [toolset, url] of Object.entries(running.functions)) console.log(`${toolset} tool function: ${url}`);
  console.log(`MCP endpoint: ${running.url}`);
  stopOnSignals(() => running.close(), 'exiting now');
}

if (import.meta.main) await main();
