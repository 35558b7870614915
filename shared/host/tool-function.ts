/**
 * The cloud-neutral core of a tool function (functions/lib/tool-function.ts on Lambda,
 * gcp-functions/lib/tool-function.ts on Cloud Functions): given one ToolInvocation from the gateway,
 * it runs the tool and answers a ToolRunResult. It serves only the tools in TOOL_NAMES (the
 * function's own tool, or its toolset's), checks the caller's role again and validates the arguments
 * with the tool's strict schema: only the gateway may invoke the function, and it still trusts
 * nothing the payload says. The host only says how config and deps are built, and how it is called.
 */
import * as z from 'zod';
import type { Deps } from '../app/deps.ts';
import { type Config, ConfigError } from '../config/config.ts';
import { RoleSchema } from '../domain/identity.ts';
import { executeTool } from '../mcp/tool-runner.ts';
import type { ToolInvocation, ToolRunResult } from '../ports/tool-runner.ts';
import type { AnyTool } from '../tools/tool.ts';
import { perColdStart } from './cold-start.ts';
import type { HostParts } from './deps.ts';
import type { Env } from './factories.ts';

/**
 * What a toolset's functions reach (functions/tools/<toolset>.ts, gcp-functions/tools/<toolset>.ts):
 * each part is built only when the bundle passes it, so a bundle carries only the clients it needs.
 * The secret store defaults to the host's own.
 */
export type ToolFunctionReach = Partial<
  Pick<HostParts, 'readSecret' | 'clusters' | 'notifier' | 'cloud' | 'costSources'>
>;

/** The payload, checked: the gateway built it, but a function answers clearly to anything else. */
const InvocationSchema = z.object({
  v: z.literal(1),
  tool: z.string().min(1).max(128),
  args: z.record(z.string(), z.unknown()),
  caller: z.object({
    subject: z.string().min(1).max(512),
    name: z.string().max(512),
    roles: z.array(RoleSchema).max(8),
    method: z.enum(['oauth', 'apiKey', 'local', 'slack']),
    clientId: z.string().max(512).optional(),
  }),
  requestId: z.string().min(1).max(128),
  deadlineMs: z.number().int().positive().optional(),
  clientInput: z
    .object({
      responses: z.record(z.string(), z.unknown()),
      state: z.unknown().optional(),
      capabilities: z.record(z.string(), z.unknown()),
    })
    .optional(),
});

/** The tools named in TOOL_NAMES, each of which this bundle must hold. */
export function servedTools(tools: readonly AnyTool[], names: string | undefined): Map<string, AnyTool> {
  const wanted = (names ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!wanted.length) {
    throw new ConfigError(
      'Invalid configuration:\n  TOOL_NAMES: required: the comma-separated tools this function serves',
    );
  }
  const byName = new Map(tools.map((t) => [t.name, t]));
  const missing = wanted.filter((n) => !byName.has(n));
  if (missing.length) {
    throw new ConfigError(
      `Invalid configuration:\n  TOOL_NAMES: ${missing.join(', ')} not in this bundle (it holds ${[...byName.keys()].join(', ')})`,
    );
  }
  return new Map(wanted.map((n) => [n, byName.get(n) as AnyTool]));
}

/** What the core logs through (a host's logger: Powertools on Lambda, the shared pino logger on GCP). */
export interface ToolFunctionLog {
  warn(message: string, details: Record<string, unknown>): void;
  error(message: string, err: Error): void;
}

export interface ToolFunctionHost {
  env: Env;
  log: ToolFunctionLog;
  /** The function's config from `env` (the host's loader with the tool function's required settings). */
  loadConfig(env: Env): Config;
  /** Everything the tools need, over `config` (the host's store, secrets and reach). */
  deps(config: Config): Promise<Deps>;
}

/** Runs one invocation; every outcome, including a malformed payload or a failed cold start, is a ToolRunResult. */
export type ToolFunctionCore = (event: unknown) => Promise<ToolRunResult>;

export function createToolFunctionCore(tools: readonly AnyTool[], host: ToolFunctionHost): ToolFunctionCore {
  const { env, log } = host;
  const readTools = new Set(
    (env.KUBECONFIG_READ_TOOLS ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );
  const served = perColdStart(async () => {
    const map = servedTools(tools, env.TOOL_NAMES);
    const problems: string[] = [];
    if (env.KUBECONFIG_READ_SECRET?.trim() && readTools.size === 0)
      problems.push('KUBECONFIG_READ_TOOLS: required with KUBECONFIG_READ_SECRET (the tools that run over it)');
    const stray = [...readTools].filter((n) => !map.has(n));
    if (stray.length) problems.push(`KUBECONFIG_READ_TOOLS: ${stray.join(', ')} not in TOOL_NAMES`);
    if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    return map;
  });
  /**
   * Deps over one cluster credential: the tools named in KUBECONFIG_READ_TOOLS use
   * KUBECONFIG_READ_SECRET (a read-only kubeconfig), every other tool KUBECONFIG_SECRET. The
   * deployment names them from the permission table (cdk/tool-permissions.ts `kube`), not from a
   * tool's role: a read tool may need the write credential (delivery_rollouts_plan's dry run) and an
   * operator's tool may only read (drift_checks_run). Each credential is read once, on first use.
   */
  const depsFor = (readOnly: boolean) =>
    perColdStart(async () => {
      const secret = readOnly ? env.KUBECONFIG_READ_SECRET?.trim() : undefined;
      let config: Config;
      try {
        // The read credential is checked as KUBECONFIG_SECRET is (the host's secret name form), and named as itself.
        config = host.loadConfig(secret ? { ...env, KUBECONFIG_SECRET: secret } : env);
      } catch (err) {
        if (secret && err instanceof ConfigError) {
          throw new ConfigError(err.message.replaceAll('KUBECONFIG_SECRET:', 'KUBECONFIG_READ_SECRET:'));
        }
        throw err;
      }
      return host.deps(config);
    });
  const writeDeps = depsFor(false);
  const readDeps = env.KUBECONFIG_READ_SECRET?.trim() ? depsFor(true) : writeDeps;

  return async (event) => {
    const checked = InvocationSchema.safeParse(event);
    if (!checked.success) {
      log.warn('malformed invocation', { issues: checked.error.issues.slice(0, 5) });
      return {
        v: 1,
        ok: false,
        error: { kind: 'internal', message: 'The tool function received a malformed invocation.' },
      };
    }
    const inv = checked.data as ToolInvocation;
    let tool: AnyTool | undefined;
    let deps: Deps;
    try {
      tool = (await served()).get(inv.tool);
      if (!tool) {
        return {
          v: 1,
          ok: false,
          error: { kind: 'unknown_tool', message: `Tool ${inv.tool} is not served by this function.` },
        };
      }
      deps = await (readTools.has(tool.name) ? readDeps : writeDeps)();
    } catch (err) {
      log.error('tool function could not start', err as Error);
      const message =
        err instanceof ConfigError
          ? `The ${inv.tool} function is misconfigured; its log says why (request ${inv.requestId}).`
          : `The ${inv.tool} function could not start; retry (request ${inv.requestId}).`;
      return { v: 1, ok: false, error: { kind: 'unavailable', message } };
    }
    const remaining = inv.deadlineMs === undefined ? undefined : Math.max(1, inv.deadlineMs - Date.now());
    return executeTool(tool, inv, {
      deps,
      ...(remaining === undefined ? {} : { signal: AbortSignal.timeout(remaining) }),
    });
  };
}
