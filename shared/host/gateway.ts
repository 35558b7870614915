/**
 * The MCP gateway of a cloud host (functions/mcp.ts on Lambda, gcp-functions/mcp.ts on Cloud
 * Functions): the shared MCP gateway over the build-time tool manifest, with no tool, cluster,
 * metrics or workflow of its own. Each tools/call goes to the tool's own function through the host's
 * ToolRunner (TOOL_FUNCTIONS: tool name -> function), which checks the caller's role again and runs
 * the tool with only that tool's rights. The host says how TOOL_FUNCTIONS names a function and how
 * one is invoked.
 */
import { buildDeps, type Deps } from '../app/deps.ts';
import { sharedRequestStateKey } from '../app/repos/server-keys.ts';
import { type Config, ConfigError } from '../config/config.ts';
import { loadPolicy } from '../config/policy-file.ts';
import type { Logger } from '../logging/logger.ts';
import { catalogFromManifest, type ToolManifest } from '../mcp/catalog.ts';
import { createGateway, type McpEndpoint } from '../mcp/gateway.ts';
import { type Clusters, UnknownClusterError } from '../ports/kube.ts';
import type { MetricsSource } from '../ports/metrics.ts';
import type { Store } from '../ports/store.ts';
import type { ToolRunner } from '../ports/tool-runner.ts';
import type { WorkflowEngine } from '../ports/workflow.ts';
import { selectTools } from '../tools/toolsets.ts';
import type { Env } from './factories.ts';

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
/** Nor does it start, inspect or stop workflows: its identity holds no workflow permission. */
const NO_WORKFLOWS = 'the MCP gateway runs no workflow; the tool that starts one runs in its own function';
const gatewayWorkflows: WorkflowEngine = {
  name: 'none',
  start: () => Promise.reject(new Error(NO_WORKFLOWS)),
  describe: () => Promise.reject(new Error(NO_WORKFLOWS)),
  stop: () => Promise.reject(new Error(NO_WORKFLOWS)),
};

/** What a caller sees when the function itself fails (bad configuration, an unreachable secret): no details. */
export const GATEWAY_INTERNAL_ERROR = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32603, message: 'Internal error: the server could not start; its log says why.' },
});

export interface CloudGatewayOptions {
  config: Config;
  store: Store;
  env: Env;
  log: Logger;
  /** The tools this host can deploy (the build-time manifest, less the toolsets the host does not run). */
  manifest: ToolManifest;
  /**
   * The gateway listens on loopback only (`npm run start:gcp`): localhost names join the Host and
   * Origin allow lists, as for `npm start`. Default false: a deployed gateway accepts its public URL's host.
   */
  loopback?: boolean;
  /** Parses TOOL_FUNCTIONS as this host names functions (Lambda names or ARNs, function URLs). */
  parseFunctions(json: string): Record<string, string>;
  /** The runner over the parsed TOOL_FUNCTIONS (undefined when it is unset): undefined fails the start with `runnerRequired`. */
  runner(functions: Record<string, string> | undefined, timeoutMs: number): ToolRunner | undefined;
  /** The TOOL_FUNCTIONS line of the configuration error when there is no runner. */
  runnerRequired: string;
  /** Default: none (delivery_rollouts_start runs in its own function). */
  workflows?: ((deps: Deps) => WorkflowEngine) | undefined;
}

/** The tool -> function map and the catalog of the tools it serves, in the manifest's order. */
function toolRouting(opts: CloudGatewayOptions) {
  const { env, manifest } = opts;
  const toolsets = opts.config.toolsets;
  const functions = env.TOOL_FUNCTIONS?.trim() ? opts.parseFunctions(env.TOOL_FUNCTIONS) : undefined;
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

/** The gateway's MCP endpoint, built once per cold start. */
export async function cloudGateway(opts: CloudGatewayOptions): Promise<McpEndpoint> {
  const { config } = opts;
  const { functions, catalog } = toolRouting(opts);
  const timeoutMs = toolTimeoutMs(opts.env);
  const deps = buildDeps(config, opts.store, opts.log, {
    clusters: gatewayClusters,
    metrics: gatewayMetrics,
    policy: loadPolicy(config.policyFile),
    workflows: opts.workflows ?? (() => gatewayWorkflows),
  });
  const runner = opts.runner(functions, timeoutMs);
  if (!runner) throw new ConfigError(`Invalid configuration:\n  ${opts.runnerRequired}`);
  return createGateway({
    deps,
    catalog,
    runner,
    publicUrls: config.publicUrls,
    loopback: opts.loopback ?? false,
    // Shared by every instance: a client's next round of a multi-round-trip call may reach another one.
    requestStateKey: await sharedRequestStateKey(deps.store),
  });
}
