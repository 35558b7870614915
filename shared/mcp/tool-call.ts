import type {
  CallToolRequest,
  CallToolResult,
  ClientCapabilities,
  InputRequests,
  McpServer,
  RequestStateCodec,
  Result,
  ServerContext,
} from '@modelcontextprotocol/server';
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/server';
import type { Deps } from '../app/deps.ts';
import { errorText } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { canAccess, roleFor } from '../domain/identity.ts';
import type { ParseCache } from '../domain/input/index.ts';
import type { ToolInvocation, ToolRunErrorKind, ToolRunner, ToolRunResult } from '../ports/tool-runner.ts';
import type { ToolContext } from '../tools/tool.ts';
import type { CatalogTool } from './catalog.ts';
import {
  refuseTaskAugmentation,
  TASKS_EXTENSION_ID,
  type TaskCaller,
  type TaskEra,
  taskHandle,
  wantsTask,
} from './tasks.ts';
import { deniedMessage } from './tool-runner.ts';

/**
 * The tool wrapper: the one place a `tools/call` is decided. It is installed as the per-request
 * server's `tools/call` handler (the SDK's `setRequestHandler` hook), so it runs after the SDK has
 * checked the wire (envelope, protocol version, Mcp-Method / Mcp-Name headers, the params' shape)
 * and answers with a result or a ProtocolError that the SDK frames. In order: the tool exists, the
 * caller's role may use it, a 2025 task augmentation fits it, then the ToolRunner runs it (in this
 * process, or in the tool's own function): the runner checks the role again, refuses arguments that
 * do not pass the tool's strict schema (-32602 with a did-you-mean, before the handler runs) and
 * checks the output schema. A function's failure, timeout or throttling is a tool error. Then a task
 * handle is made when the client asked for one, and the call's one audit record is written.
 */

/** The log event of a tool run that failed on the runner's side (not a refusal of the caller). */
export const TOOL_RUN_FAILED_EVENT = 'tool_run_failed';
const TOOL_RUN_FAILURES: ReadonlySet<ToolRunErrorKind> = new Set(['internal', 'timeout', 'unavailable', 'throttled']);

/** Per-request state shared by the HTTP layer and the tool wrapper. */
export interface CallState {
  identity: Identity;
  requestId: string;
  /** The wire of this request: decides which tasks methods and capabilities the server offers. */
  era: TaskEra;
  /** Caller text parsed in this request, shared by the tool's handler and its audit hook (one parse each). */
  parsed: ParseCache;
  /** Set once the wrapper has written the call's audit record. */
  audited?: boolean;
  /** Why the SDK refused the request before any handler ran (its `onerror` report), for the audit. */
  refusal?: string;
  /** A server-side failure (e.g. the audit write) the HTTP layer answers with 503/500 instead of the SDK's -32603. */
  fault?: unknown;
}

/**
 * A tool that cannot run without a client capability (the conformance fixture test_missing_capability
 * needs sampling). SEP-2575: a server MUST NOT rely on a capability the request does not declare in
 * its client capabilities, and answers -32021 naming what is missing.
 */
export interface ClientRequirements {
  requiresClientCapabilities?: ClientCapabilities;
}

/** What the wrapper seals into a requestState: the tool that asked, and its own state. */
export interface SealedState {
  tool: string;
  state: unknown;
}

/**
 * Bounds of multi-round-trip input (the request body limit bounds them too; these keep one call's
 * share small and the minted state within what a client is expected to echo).
 */
export const CLIENT_INPUT_LIMITS = {
  /** Answers per retry. */
  responses: 16,
  /** Serialized answers per retry, in bytes. */
  responseBytes: 64 * 1024,
  /** A requestState, minted or echoed, in characters. */
  stateChars: 8 * 1024,
} as const;

export type CallOutcome = { outcome: 'ok' | 'error' | 'denied'; error?: string };

/** What the wrapper needs beyond the request. */
export interface ToolCallEnv {
  deps: Deps;
  tools: ReadonlyMap<string, CatalogTool>;
  runner: ToolRunner;
  state: CallState;
  caller: TaskCaller;
  /** Seals and verifies requestState (HMAC with the server's key, bound to the method and caller). */
  stateCodec: RequestStateCodec<SealedState>;
  /** The host can stream a response: a call that asked for progress gets ToolContext.progress. */
  streaming: boolean;
}

/** Progress notifications one call may send (a runaway loop must not flood the stream). */
export const MAX_PROGRESS_NOTIFICATIONS = 1000;

/** A refusal the wrapper decided: the JSON-RPC error to answer with, and how the audit records it. */
class Refusal extends Error {
  readonly error: ProtocolError;
  readonly outcome: CallOutcome;
  constructor(error: ProtocolError, outcome: CallOutcome) {
    super(error.message);
    this.error = error;
    this.outcome = outcome;
  }
}

const refuse = (code: number, message: string, outcome: CallOutcome['outcome'] = 'error', data?: unknown) =>
  new Refusal(new ProtocolError(code, message, data), { outcome, error: message });

/** Installs the wrapper as `tools/call` of a per-request server whose tools are registered (for tools/list). */
export function installToolCall(server: McpServer, env: ToolCallEnv): void {
  const low = server.server;
  // McpServer's own tools/call turns every failure (bad arguments included) into a tool result;
  // ours answers protocol errors as protocol errors.
  low.removeRequestHandler('tools/call');
  // A task handle is an open Result beside the CallToolResult the handler type names; the SDK's wire
  // codec validates what goes out either way.
  low.setRequestHandler('tools/call', (request, ctx) => callTool(server, env, request, ctx) as Promise<CallToolResult>);
}

async function callTool(
  server: McpServer,
  env: ToolCallEnv,
  request: CallToolRequest,
  ctx: ServerContext,
): Promise<Result> {
  const { deps, state } = env;
  const { name, arguments: args } = request.params;
  const startedAt = deps.clock.now();
  let outcome: CallOutcome = { outcome: 'ok' };
  /** The arguments as the tool's own audit hook redacted them, when the runner ran it. */
  const audited: { args?: Record<string, unknown> } = {};
  try {
    const tool = env.tools.get(name);
    const answer = await decide(server, env, tool, request, ctx, audited);
    outcome = answer.outcome;
    return answer.result;
  } catch (err) {
    if (err instanceof Refusal) {
      outcome = err.outcome;
      throw err.error;
    }
    outcome = { outcome: 'error', error: `internal: ${errorText(err)}` };
    // A fault of ours, not the caller's: the HTTP layer answers it (503 with Retry-After when transient).
    state.fault ??= err;
    throw err;
  } finally {
    try {
      await recordCall(env, name, args, startedAt, outcome, audited.args);
    } catch (err) {
      // The call ran but left no record: the HTTP layer answers 503/500, never a result.
      state.fault = err;
    }
  }
}

async function decide(
  server: McpServer,
  env: ToolCallEnv,
  tool: CatalogTool | undefined,
  request: CallToolRequest,
  ctx: ServerContext,
  audited: { args?: Record<string, unknown> },
): Promise<{ result: Result; outcome: CallOutcome }> {
  const { deps, state } = env;
  const { name, arguments: args } = request.params;
  if (!tool) throw refuse(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
  if (!canAccess(state.identity.roles, tool.access)) {
    const error = deniedMessage(name, tool, state.identity.roles);
    // A JSON-RPC error, so clients show the reason to the model instead of a transport failure.
    throw refuse(ProtocolErrorCode.InvalidParams, error, 'denied', { requiredRole: roleFor(tool.access) });
  }
  const required = tool.requiresClientCapabilities;
  const missing = required && missingCapabilities(required, ctx);
  if (missing) {
    const error = `Missing required client capability: ${name} needs ${missing.join(', ')}; declare it in _meta["${CLIENT_CAPABILITIES_META_KEY}"].`;
    throw new Refusal(new MissingRequiredClientCapabilityError({ requiredCapabilities: required }, error), {
      outcome: 'error',
      error,
    });
  }
  const wanted = tool.taskSupport !== undefined && wantsTask(state.era, request.params, ctx);
  if (tool.taskSupport === 'required' && !wanted) throw requiredTask(name, state.era);
  const noTasks = refuseTaskAugmentation(state.era, tool, request.params);
  if (noTasks) throw refuse(ProtocolErrorCode.MethodNotFound, noTasks);
  const input = tool.asksClient ? await clientInput(env, name, ctx) : undefined;
  const { identity } = state;
  const invocation: ToolInvocation = {
    v: 1,
    tool: name,
    args: (args ?? {}) as Record<string, unknown>,
    caller: {
      subject: identity.subject,
      name: identity.name,
      roles: identity.roles,
      method: identity.method,
      ...(identity.clientId ? { clientId: identity.clientId } : {}),
    },
    requestId: state.requestId,
    ...(input ? { clientInput: input } : {}),
  };
  const progress = env.streaming ? progressReporter(ctx) : undefined;
  const ran = await env.runner.run(invocation, {
    signal: ctx.mcpReq.signal,
    parsed: state.parsed,
    ...(progress ? { progress } : {}),
  });
  if (ran.auditArgs) audited.args = ran.auditArgs;
  if (!ran.ok && TOOL_RUN_FAILURES.has(ran.error.kind)) {
    // The tool's function failed, timed out, was throttled or could not be invoked: one line per
    // call, which the AWS stack counts (a metric filter on TOOL_RUN_FAILED_EVENT) and alarms on.
    deps.log.warn(
      { requestId: state.requestId, tool: name, kind: ran.error.kind, event: TOOL_RUN_FAILED_EVENT },
      'tool run failed',
    );
  }
  if (!ran.ok) refuseRun(tool, ran.error);
  const asked = ran.ok ? ran.ask : undefined;
  if (asked) {
    // The round ends here: the client answers and retries; nothing ran that needs a task or a record of its own.
    const requestState = asked.state === undefined ? undefined : await sealState(env, name, asked.state, ctx);
    return {
      result: inputRequired({
        inputRequests: asked.inputRequests as InputRequests,
        ...(requestState ? { requestState } : {}),
      }),
      outcome: { outcome: 'ok' },
    };
  }
  const crash = ran.ok ? ran.crash : undefined;
  const result = (ran.ok ? ran.result : failedRun(name, ran.error, state.requestId)) as CallToolResult;
  const outcome: CallOutcome = crash
    ? { outcome: 'error', error: `internal: ${crash}` }
    : !ran.ok
      ? { outcome: 'error', error: `${ran.error.kind}: ${ran.error.message}` }
      : result.isError
        ? { outcome: 'error', error: firstText(result) }
        : { outcome: 'ok' };
  if (wanted && result.isError && state.era === 'legacy') {
    // 2025-11-25: a receiver that accepts a task-augmented request MUST answer with a
    // CreateTaskResult. A tool that refused (guardrails, a running operation, bad input) created no
    // task: a JSON-RPC error carrying the tool's own message, so the client still shows the reason.
    const text = allText(result) || 'The tool refused the call; no task was created.';
    throw new Refusal(new ProtocolError(-32000, text, { content: result.content }), outcome);
  }
  if (wanted && !result.isError) {
    try {
      const handle = await taskHandle(env.caller, result);
      if (handle) return { result: handle, outcome };
    } catch (err) {
      // The tool ran and its operation exists; only the task handle could not be made. The plain
      // result names the operation, which ops_operations_get follows.
      deps.log
        .child({ requestId: state.requestId, caller: identity.name, tool: name })
        .error({ err: errorText(err) }, 'task handle failed; answering with the tool result');
    }
  }
  return { result: server.server.projectCallToolResult(result, undefined), outcome };
}

/**
 * The client input of one call, for the runner: the answers the retry carries (bounded), the state
 * the tool sealed in its previous round (verified here, where the key is: never trusted as sent) and
 * the client capabilities the request declares. The runner gives the tool `ask`, and the run's `ask`
 * comes back here to be sealed.
 */
async function clientInput(
  env: ToolCallEnv,
  name: string,
  ctx: ServerContext,
): Promise<NonNullable<ToolInvocation['clientInput']>> {
  const responses = ctx.mcpReq.inputResponses ?? {};
  const keys = Object.keys(responses);
  if (keys.length > CLIENT_INPUT_LIMITS.responses) {
    throw refuse(
      ProtocolErrorCode.InvalidParams,
      `inputResponses has ${keys.length} entries; at most ${CLIENT_INPUT_LIMITS.responses} are accepted.`,
    );
  }
  if (Buffer.byteLength(JSON.stringify(responses)) > CLIENT_INPUT_LIMITS.responseBytes) {
    throw refuse(ProtocolErrorCode.InvalidParams, `inputResponses exceeds ${CLIENT_INPUT_LIMITS.responseBytes} bytes.`);
  }
  const state = await openState(env, name, ctx);
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const declared = envelope[CLIENT_CAPABILITIES_META_KEY];
  const capabilities = declared !== null && typeof declared === 'object' ? (declared as Record<string, unknown>) : {};
  return { responses: responses as Record<string, unknown>, capabilities, ...(state === undefined ? {} : { state }) };
}

type RunError = Extract<ToolRunResult, { ok: false }>['error'];

/**
 * A run refused for the caller's own reason answers as the wrapper's own refusals do: arguments that
 * do not pass the strict schema (-32602 with the did-you-mean), a role the tool's function does not
 * accept. Anything else is the tool's failure, answered as a tool error (failedRun).
 */
function refuseRun(tool: CatalogTool, error: RunError): void {
  if (error.kind === 'invalid_arguments') throw refuse(ProtocolErrorCode.InvalidParams, error.message);
  if (error.kind === 'denied') {
    throw refuse(ProtocolErrorCode.InvalidParams, error.message, 'denied', { requiredRole: roleFor(tool.access) });
  }
}

/** A tool function that failed, timed out, was throttled or does not serve the tool: a tool error the model can act on. */
function failedRun(name: string, error: RunError, requestId: string): CallToolResult {
  const retry =
    error.retryAfterMs === undefined ? '' : ` Retry in ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))} s.`;
  const what: Record<RunError['kind'], string> = {
    timeout: `${name} did not answer in time`,
    throttled: `${name} is busy (its function is throttled)`,
    unavailable: `${name} is unavailable`,
    internal: `${name} failed`,
    unknown_tool: `${name} is not served by its function`,
    denied: `${name} refused the caller`,
    invalid_arguments: `${name} refused its arguments`,
  };
  return {
    isError: true,
    content: [{ type: 'text', text: `${what[error.kind]}: ${error.message}${retry} (request ${requestId})` }],
  };
}

/**
 * Sends notifications/progress for a call whose client asked for them (`_meta.progressToken`). The
 * SDK then answers this one request as an SSE stream; without a token nothing is sent and the answer
 * stays one JSON body.
 */
function progressReporter(ctx: ServerContext): ToolContext['progress'] {
  const token = ctx.mcpReq._meta?.progressToken;
  if (typeof token !== 'string' && typeof token !== 'number') return undefined;
  let last = Number.NEGATIVE_INFINITY;
  let sent = 0;
  return async (progress, total, message) => {
    // The spec: progress MUST increase with each notification.
    if (!Number.isFinite(progress) || progress <= last || sent >= MAX_PROGRESS_NOTIFICATIONS) return;
    last = progress;
    sent++;
    await ctx.mcpReq.notify({
      method: 'notifications/progress',
      params: {
        progressToken: token,
        progress,
        ...(total !== undefined && Number.isFinite(total) ? { total } : {}),
        ...(message ? { message: message.slice(0, 200) } : {}),
      },
    });
  };
}

/** The state a retry echoes, verified and unsealed; undefined in a first round. */
async function openState(env: ToolCallEnv, name: string, ctx: ServerContext): Promise<unknown> {
  // No SDK verify hook is configured, so this is the raw wire string: checked here, per tool.
  const raw: unknown = ctx.mcpReq.requestState();
  if (raw === undefined) return undefined;
  const invalid = (why: string) =>
    refuse(ProtocolErrorCode.InvalidParams, `Invalid or expired requestState: ${why}`, 'error', {
      reason: 'invalid_request_state',
    });
  if (typeof raw !== 'string' || raw.length > CLIENT_INPUT_LIMITS.stateChars) {
    throw invalid(`not a string of at most ${CLIENT_INPUT_LIMITS.stateChars} characters`);
  }
  let sealed: SealedState;
  try {
    sealed = await env.stateCodec.verify(raw, ctx);
  } catch {
    // The codec's reason (mac, expired, bind, malformed) stays on the server: the caller learns only that it failed.
    throw invalid(
      'it was not issued by this server for this caller, or it has expired; call the tool again without it',
    );
  }
  if (sealed?.tool !== name) throw invalid(`it was issued for another tool`);
  return sealed.state;
}

async function sealState(env: ToolCallEnv, name: string, state: unknown, ctx: ServerContext): Promise<string> {
  const sealed = await env.stateCodec.mint({ tool: name, state }, ctx);
  // A tool's bug, not the caller's: its state must stay small enough for every client to echo.
  if (sealed.length > CLIENT_INPUT_LIMITS.stateChars) {
    throw new Error(
      `${name}: its requestState is ${sealed.length} characters (limit ${CLIENT_INPUT_LIMITS.stateChars})`,
    );
  }
  return sealed;
}

/**
 * A tool that runs only as a task, called by a client that did not ask for one: on 2026-07-28 the
 * tasks extension is a missing client capability (-32021, SEP-2663); on 2025-11-25 the call is
 * -32601, as that spec says for `taskSupport: "required"` without `params.task`.
 */
function requiredTask(name: string, era: TaskEra): Refusal {
  if (era === 'legacy') {
    return refuse(ProtocolErrorCode.MethodNotFound, `Tool ${name} runs only as a task: call it with params.task.`);
  }
  const error = `Missing required client capability: ${name} runs only as a task; declare the ${TASKS_EXTENSION_ID} extension in _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions.`;
  return new Refusal(
    new MissingRequiredClientCapabilityError(
      { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
      error,
    ),
    { outcome: 'error', error },
  );
}

/** The top-level capabilities in `required` that the request's client capabilities do not declare. */
function missingCapabilities(required: ClientCapabilities, ctx: ServerContext): string[] | undefined {
  const envelope: unknown = ctx.mcpReq.envelope;
  const declared =
    envelope && typeof envelope === 'object'
      ? (envelope as Record<string, unknown>)[CLIENT_CAPABILITIES_META_KEY]
      : undefined;
  const has = (key: string) =>
    declared !== null && typeof declared === 'object' && (declared as Record<string, unknown>)[key] !== undefined;
  const missing = Object.keys(required).filter((key) => !has(key));
  return missing.length ? missing : undefined;
}

async function recordCall(
  env: ToolCallEnv,
  tool: string,
  args: unknown,
  startedAt: number,
  outcome: CallOutcome,
  redacted: Record<string, unknown> | undefined,
) {
  const { state, deps } = env;
  state.audited = true;
  await auditCall(deps, env.runner, env.tools.get(tool), state, tool, redacted ?? args, startedAt, outcome, {
    redacted: redacted !== undefined,
  });
}

/**
 * Writes one call's audit record. A tool that redacts its own arguments (its catalog entry says
 * `auditArgs`) has them redacted where its code is: the run's answer carries them, or the in-process
 * runner redacts them here; a gateway that holds no tool records only the argument names of a call
 * that never reached the tool's function.
 */
export async function auditCall(
  deps: Deps,
  runner: ToolRunner,
  tool: CatalogTool | undefined,
  state: CallState,
  name: string,
  args: unknown,
  startedAt: number,
  outcome: CallOutcome,
  opts: { redacted?: boolean } = {},
): Promise<void> {
  let auditedArgs: unknown = args ?? {};
  if (
    !opts.redacted &&
    tool?.auditArgs &&
    auditedArgs &&
    typeof auditedArgs === 'object' &&
    !Array.isArray(auditedArgs)
  ) {
    const raw = auditedArgs as Record<string, unknown>;
    let redacted: Record<string, unknown> | undefined;
    try {
      // The handler's parses, when it ran: the audit redacts the value the handler judged and wrote.
      redacted = runner.auditArgs?.(name, raw, state.parsed);
    } catch {
      redacted = { redacted: 'arguments could not be redacted safely and were not recorded' };
    }
    auditedArgs = redacted ?? {
      redacted: 'the tool redacts its own arguments and did not run; only their names are recorded',
      names: Object.keys(raw).slice(0, 32),
    };
  }
  const { identity, requestId } = state;
  await deps.audit.recordCall({ requestId, identity, tool: name, args: auditedArgs, ...outcome, startedAt });
}

function firstText(result: CallToolResult): string {
  const first = result.content?.[0];
  return first && first.type === 'text' ? first.text.slice(0, 500) : 'error';
}

function allText(result: CallToolResult): string {
  return (result.content ?? [])
    .map((c) => (c.type === 'text' ? c.text : ''))
    .filter(Boolean)
    .join('\n');
}
