/**
 * Running one tool for one invocation: the part of a tools/call that needs the tool's implementation.
 * The gateway (tool-call.ts) decides everything else (auth, the role it lists, tasks, the audit
 * record); this module runs where the tool's code and credentials are: in the same process
 * (InProcessToolRunner: the local host, tests) or in the tool's own function (functions/lib/tool-function.ts).
 * It trusts nothing the invocation says: the caller's role is checked again and the arguments are
 * validated with the tool's strict schema. It imports no SDK at run time, so a tool bundle stays small.
 */
import type { CallToolResult, InputRequests } from '@modelcontextprotocol/server';
import type { Deps } from '../app/deps.ts';
import { errorText } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { canAccess, roleFor } from '../domain/identity.ts';
import { ParseCache } from '../domain/input/index.ts';
import type {
  CallToolResultJson,
  ToolInvocation,
  ToolRunner,
  ToolRunOptions,
  ToolRunResult,
} from '../ports/tool-runner.ts';
import type { AnyTool, ClientInput, ToolContext } from '../tools/tool.ts';
import { describeIssues, parseArguments, strictInput } from './strict-input.ts';

/** The strict input schema of each tool, converted once per process. */
const strictSchemas = new WeakMap<AnyTool, AnyTool['input']>();
export function strictOf(tool: AnyTool): AnyTool['input'] {
  let strict = strictSchemas.get(tool);
  if (!strict) {
    strict = strictInput(tool.input);
    strictSchemas.set(tool, strict);
  }
  return strict;
}

/** The message a caller without the tool's role gets, from the gateway and from the runner alike. */
export function deniedMessage(name: string, tool: Pick<AnyTool, 'access'>, roles: readonly string[]): string {
  return `Tool ${name} needs the ${roleFor(tool.access)} role; you have ${roles.join(', ') || 'no role'}.`;
}

/** The tool's own audit redaction of raw arguments; a hook that throws records a marker instead. */
export function redactArgs(tool: AnyTool, args: Record<string, unknown>, parsed: ParseCache): Record<string, unknown> {
  if (!tool.auditArgs) return args;
  try {
    return tool.auditArgs(args, parsed);
  } catch {
    return { redacted: 'arguments could not be redacted safely and were not recorded' };
  }
}

export interface ExecuteOptions extends ToolRunOptions {
  deps: Deps;
}

/** Runs `tool` for `inv`: role, strict arguments, handler (a crash is a tool error), output schema. */
export async function executeTool(tool: AnyTool, inv: ToolInvocation, opts: ExecuteOptions): Promise<ToolRunResult> {
  const parsed = opts.parsed ?? new ParseCache();
  const args = inv.args;
  const audit = () => (tool.auditArgs ? { auditArgs: redactArgs(tool, args, parsed) } : {});
  const identity: Identity = {
    subject: inv.caller.subject,
    name: inv.caller.name,
    roles: [...inv.caller.roles],
    method: inv.caller.method,
    ...(inv.caller.clientId ? { clientId: inv.caller.clientId } : {}),
  };
  if (!canAccess(identity.roles, tool.access)) {
    return { v: 1, ok: false, error: { kind: 'denied', message: deniedMessage(tool.name, tool, identity.roles) } };
  }
  const input = parseArguments(tool.name, strictOf(tool), args);
  if (!input.ok) return { v: 1, ok: false, error: { kind: 'invalid_arguments', message: input.message }, ...audit() };

  const asks = new WeakMap<CallToolResult, { requests: InputRequests; state?: unknown }>();
  const clientInput: ClientInput | undefined =
    tool.asksClient && inv.clientInput
      ? {
          responses: inv.clientInput.responses,
          state: inv.clientInput.state,
          capabilities: inv.clientInput.capabilities,
          ask(requests, next) {
            const marker: CallToolResult = { content: [{ type: 'text', text: "Waiting for the client's input." }] };
            asks.set(marker, { requests, ...(next === undefined ? {} : { state: next }) });
            return marker;
          },
        }
      : undefined;
  // K8S_IMPERSONATE: the tool reaches clusters as its caller (the registry's view; itself when off).
  const clusters = opts.deps.clusters.forCaller?.(identity) ?? opts.deps.clusters;
  const ctx: ToolContext = {
    deps: clusters === opts.deps.clusters ? opts.deps : { ...opts.deps, clusters },
    identity,
    requestId: inv.requestId,
    log: opts.deps.log.child({ requestId: inv.requestId, caller: identity.name, tool: tool.name }),
    parsed,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(clientInput ? { clientInput } : {}),
  };
  let result: CallToolResult;
  try {
    result = await tool.handler(input.data as never, ctx);
  } catch (err) {
    ctx.log.error({ err: errorText(err) }, 'tool failed');
    const text = `${tool.name} failed unexpectedly (request ${inv.requestId}). The error is logged on the server; retry, or report the request id.`;
    return {
      v: 1,
      ok: true,
      result: { isError: true, content: [{ type: 'text', text }] },
      crash: errorText(err),
      ...audit(),
    };
  }
  const asked = asks.get(result);
  if (asked) {
    return {
      v: 1,
      ok: true,
      result: result as CallToolResultJson,
      ask: {
        inputRequests: asked.requests as Record<string, unknown>,
        ...(asked.state === undefined ? {} : { state: asked.state }),
      },
      ...audit(),
    };
  }
  return { v: 1, ok: true, result: checkOutput(tool, result) as CallToolResultJson, ...audit() };
}

/** A successful result must carry structuredContent that fits the tool's output schema (as McpServer checks). */
function checkOutput(tool: AnyTool, result: CallToolResult): CallToolResult {
  if (!tool.output || result.isError) return result;
  const problem =
    result.structuredContent === undefined
      ? 'the tool has an output schema but returned no structured content'
      : (() => {
          const checked = tool.output.safeParse(result.structuredContent);
          return checked.success ? undefined : `invalid structured content: ${describeIssues(checked.error.issues)}`;
        })();
  if (!problem) return result;
  return {
    isError: true,
    content: [{ type: 'text', text: `Output validation error: ${tool.name} ${problem}` }],
  };
}

/** The local host's and the tests' runner: the tools run in this process, over this process's Deps. */
export class InProcessToolRunner implements ToolRunner {
  private readonly tools: ReadonlyMap<string, AnyTool>;
  private readonly deps: Deps;
  constructor(tools: readonly AnyTool[], deps: Deps) {
    this.tools = new Map(tools.map((t) => [t.name, t]));
    this.deps = deps;
  }

  async run(inv: ToolInvocation, opts: ToolRunOptions = {}): Promise<ToolRunResult> {
    const tool = this.tools.get(inv.tool);
    if (!tool) return { v: 1, ok: false, error: { kind: 'unknown_tool', message: `Tool ${inv.tool} not found` } };
    return executeTool(tool, inv, { ...opts, deps: this.deps });
  }

  auditArgs(name: string, args: Record<string, unknown>, parsed: ParseCache): Record<string, unknown> | undefined {
    const tool = this.tools.get(name);
    return tool?.auditArgs ? redactArgs(tool, args, parsed) : undefined;
  }
}
