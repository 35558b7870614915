/**
 * The MCP gateway on AWS: API Gateway HTTP API (payload 2.0) -> this function -> the shared MCP
 * gateway. Serves POST /mcp (both protocol eras), GET/DELETE /mcp (405) and the OAuth protected
 * resource metadata at /.well-known/oauth-protected-resource{,/mcp}. It holds no tool and no cluster
 * credential: tools/list comes from the build-time manifest (shared/tools/manifest.json), and each
 * tools/call is a Lambda Invoke of the tool's own function (TOOL_FUNCTIONS: tool name -> function),
 * which checks the caller's role again and runs the tool with only that tool's rights.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LambdaToolRunner, parseToolFunctions } from '../shared/adapters/aws/lambda-tool-runner.ts';
import { buildDeps, type Deps } from '../shared/app/deps.ts';
import { sharedRequestStateKey } from '../shared/app/repos/server-keys.ts';
import { type Config, ConfigError } from '../shared/config/config.ts';
import { loadPolicy } from '../shared/config/policy-file.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { catalogFromManifest, type ToolManifest } from '../shared/mcp/catalog.ts';
import { createGateway } from '../shared/mcp/gateway.ts';
import { type Clusters, UnknownClusterError } from '../shared/ports/kube.ts';
import type { MetricsSource } from '../shared/ports/metrics.ts';
import type { ToolRunner } from '../shared/ports/tool-runner.ts';
import type { WorkflowEngine } from '../shared/ports/workflow.ts';
import manifestJson from '../shared/tools/manifest.json' with { type: 'json' };
import { selectTools } from '../shared/tools/toolsets.ts';
import {
  cloudStore,
  type Env,
  hostLogger,
  loadCloudConfig,
  logFailure,
  perColdStart,
  REQUIRED_SETTINGS,
} from './lib/host.ts';
import { requestFromEvent, resultFromResponse } from './lib/http.ts';

export interface McpHandlerOptions {
  env: Env;
  /** Default: none; the gateway starts no workflow (delivery_rollouts_start runs in its own function). */
  workflows?: (deps: Deps) => WorkflowEngine;
  /**
   * Runs the tools. Default: a Lambda Invoke of each tool's function (TOOL_FUNCTIONS); a test may
   * hand in another (the tool functions' handlers called in-process). With neither, a cold start fails.
   */
  runner?: ToolRunner;
  /** The Lambda client the default runner invokes with (a test points one at its stand-in). */
  lambda?: LambdaClient;
  /** Default: the build-time manifest (a test passes a stale one to see the tool function refuse). */
  manifest?: ToolManifest;
}

/** How long a tool call may take when TOOL_TIMEOUT_MS does not say (API Gateway answers by 30 s). */
const DEFAULT_TOOL_TIMEOUT_MS = 25_000;

/** The gateway reaches no cluster and no metrics: the tools that do run in their own functions. */
const NOT_HERE = 'the MCP gateway reaches no cluster; tools run in their own functions';
const gatewayClusters: Clusters = {
  list: async () => [],
  defaultCluster: async () => undefined,
  client: () => Promise.reject(new UnknownClusterError(NOT_HERE)),
};
const gatewayMetrics: MetricsSource = {
  endpoint: undefined,
  query: () => Promise.reject(new Error(NOT_HERE)),
};
/** Nor does it start, inspect or stop workflows: its role holds no Step Functions action. */
const NO_WORKFLOWS = 'the MCP gateway runs no workflow; the tool that starts one runs in its own function';
const gatewayWorkflows: WorkflowEngine = {
  name: 'none',
  start: () => Promise.reject(new Error(NO_WORKFLOWS)),
  describe: () => Promise.reject(new Error(NO_WORKFLOWS)),
  stop: () => Promise.reject(new Error(NO_WORKFLOWS)),
};

/** The tool -> function map and the catalog of the tools it serves, in the manifest's order. */
function toolRouting(env: Env, manifest: ToolManifest, toolsets: Config['toolsets']) {
  const functions = env.TOOL_FUNCTIONS?.trim() ? parseToolFunctions(env.TOOL_FUNCTIONS) : undefined;
  if (!functions) return { functions, catalog: catalogFromManifest({ tools: selectTools(manifest.tools, toolsets) }) };
  const known = new Set(manifest.tools.map((t) => t.name));
  const unknown = Object.keys(functions).filter((name) => !known.has(name));
  if (unknown.length) {
    throw new ConfigError(`Invalid configuration:\n  TOOL_FUNCTIONS: ${unknown.join(', ')} not in the tool manifest`);
  }
  // Only the tools deployed with a function are listed, and of those the toolsets TOOLSETS names.
  const deployed = manifest.tools.filter((t) => t.name in functions);
  return { functions, catalog: catalogFromManifest({ tools: selectTools(deployed, toolsets) }) };
}

function toolTimeoutMs(env: Env): number {
  const raw = env.TOOL_TIMEOUT_MS?.trim();
  if (!raw) return DEFAULT_TOOL_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100 || ms > 900_000) {
    throw new ConfigError('Invalid configuration:\n  TOOL_TIMEOUT_MS: an integer between 100 and 900000');
  }
  return ms;
}

/** What a caller sees when the function itself fails (bad configuration, an unreachable secret): no details. */
const INTERNAL_ERROR = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32603, message: 'Internal error: the server could not start; its log says why.' },
});

export function createMcpHandler(opts: McpHandlerOptions) {
  const logger = hostLogger(opts.env, 'mcp');
  const app = perColdStart(async () => {
    const started = performance.now();
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.mcp);
    const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
    const { functions, catalog } = toolRouting(
      opts.env,
      opts.manifest ?? (manifestJson as unknown as ToolManifest),
      config.toolsets,
    );
    const timeoutMs = toolTimeoutMs(opts.env);
    const deps = buildDeps(config, cloudStore(config), createLogger(config.logLevel), {
      clusters: gatewayClusters,
      metrics: gatewayMetrics,
      policy: loadPolicy(config.policyFile),
      workflows: opts.workflows ?? (() => gatewayWorkflows),
    });
    let runner = opts.runner;
    if (!runner && functions) {
      // One attempt: a retried Invoke could run a write twice, and the caller's deadline bounds the call.
      const client = opts.lambda ?? new LambdaClient({ region, maxAttempts: 1 });
      runner = new LambdaToolRunner({ client, functions, timeoutMs });
    }
    if (!runner) {
      throw new ConfigError(
        'Invalid configuration:\n  TOOL_FUNCTIONS: required on AWS (a JSON object of tool name -> function name or ARN)',
      );
    }
    const endpoint = createGateway({
      deps,
      catalog,
      runner,
      publicUrls: config.publicUrls,
      loopback: false,
      // Shared by every instance: a client's next round of a multi-round-trip call may reach another one.
      requestStateKey: await sharedRequestStateKey(deps.store),
    });
    logger.info('ready', { initMs: Math.round(performance.now() - started), publicUrl: config.publicUrls[0]?.href });
    return endpoint;
  });

  return middy(async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const endpoint = await app();
    const res = await endpoint.fetch(requestFromEvent(event), { requestId: context.awsRequestId });
    return resultFromResponse(res);
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(
      httpErrorHandler({
        logger: (err: unknown) => logFailure(logger, err),
        fallbackMessage: INTERNAL_ERROR,
      }),
    );
}

export const handler = createMcpHandler({ env: process.env });
