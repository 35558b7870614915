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
import type { AnyTool, ClientInput, ToolContext } from '../tools/tool.ts';
import { describeIssues, parseArguments } from './strict-input.ts';
import {
  refuseTaskAugmentation,
  TASKS_EXTENSION_ID,
  type TaskCaller,
  type TaskEra,
  taskHandle,
  wantsTask,
} from './tasks.ts';

/**
 * The tool wrapper: the one place a `tools/call` is decided. It is installed as the per-request
 * server's `tools/call` handler (the SDK's `setRequestHandler` hook), so it runs after the SDK has
 * checked the wire (envelope, protocol version, Mcp-Method / Mcp-Name headers, the params' shape)
 * and answers with a result or a ProtocolError that the SDK frames. In order: the tool exists, the
 * caller's role may use it, a 2025 task augmentation fits it, its arguments pass its strict schema
 * (-32602 with a did-you-mean, before anything runs), then the handler runs, its output is checked
 * against its output schema, a task handle is made when the client asked for one, and the call's
 * one audit record is written.
 */

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
  tools: ReadonlyMap<string, AnyTool>;
  /** The strict input schema of each tool (strict-input.ts), converted once per process. */
  strict: (tool: AnyTool) => AnyTool['input'];
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
  try {
    const tool = env.tools.get(name);
    const answer = await decide(server, env, tool, request, ctx);
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
      await recordCall(env, name, args, startedAt, outcome);
    } catch (err) {
      // The call ran but left no record: the HTTP layer answers 503/500, never a result.
      state.fault = err;
    }
  }
}

async function decide(
  server: McpServer,
  env: ToolCallEnv,
  tool: AnyTool | undefined,
  request: CallToolRequest,
  ctx: ServerContext,
): Promise<{ result: Result; outcome: CallOutcome }> {
  const { deps, state } = env;
  const { name, arguments: args } = request.params;
  if (!tool) throw refuse(ProtocolErrorCode.InvalidParams, `Tool ${name} not found`);
  if (!canAccess(state.identity.roles, tool.access)) {
    const error = `Tool ${name} needs the ${roleFor(tool.access)} role; you have ${state.identity.roles.join(', ') || 'no role'}.`;
    // A JSON-RPC error, so clients show the reason to the model instead of a transport failure.
    throw refuse(ProtocolErrorCode.InvalidParams, error, 'denied', { requiredRole: roleFor(tool.access) });
  }
  const required = (tool as ClientRequirements).requiresClientCapabilities;
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
  // Checked before anything runs: a wrong argument is -32602 on both eras, never dropped.
  const parsed = parseArguments(name, env.strict(tool), args);
  if (!parsed.ok) throw refuse(ProtocolErrorCode.InvalidParams, parsed.message);
  const input = tool.asksClient ? await clientInput(env, name, ctx) : undefined;

  const toolCtx: ToolContext = {
    deps,
    identity: state.identity,
    requestId: state.requestId,
    log: deps.log.child({ requestId: state.requestId, caller: state.identity.name, tool: name }),
    signal: ctx.mcpReq.signal,
    parsed: state.parsed,
    ...(input ? { clientInput: input.view } : {}),
  };
  const progress = env.streaming ? progressReporter(ctx) : undefined;
  if (progress) toolCtx.progress = progress;
  const ran = await runHandler(tool, parsed.data, toolCtx);
  const asked = input?.asked(ran.result);
  if (asked) {
    // The round ends here: the client answers and retries; nothing ran that needs a task or a record of its own.
    const requestState = asked.state === undefined ? undefined : await sealState(env, name, asked.state, ctx);
    return {
      result: inputRequired({ inputRequests: asked.requests, ...(requestState ? { requestState } : {}) }),
      outcome: { outcome: 'ok' },
    };
  }
  const result = checkOutput(tool, ran.result);
  const outcome: CallOutcome = ran.crash
    ? { outcome: 'error', error: `internal: ${ran.crash}` }
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
      toolCtx.log.error({ err: errorText(err) }, 'task handle failed; answering with the tool result');
    }
  }
  return { result: server.server.projectCallToolResult(result, undefined), outcome };
}

/**
 * The ToolContext.clientInput of one call: the answers the retry carries (bounded), the state the
 * tool sealed in its previous round (verified: never trusted as sent), and `ask`, whose result the
 * wrapper recognizes by identity after the handler returns.
 */
async function clientInput(
  env: ToolCallEnv,
  name: string,
  ctx: ServerContext,
): Promise<{
  view: ClientInput;
  asked: (result: CallToolResult) => { requests: InputRequests; state?: unknown } | undefined;
}> {
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
  const asks = new WeakMap<CallToolResult, { requests: InputRequests; state?: unknown }>();
  const view: ClientInput = {
    responses,
    state,
    capabilities,
    ask(requests, next) {
      const marker: CallToolResult = { content: [{ type: 'text', text: "Waiting for the client's input." }] };
      asks.set(marker, { requests, ...(next === undefined ? {} : { state: next }) });
      return marker;
    },
  };
  return { view, asked: (result) => asks.get(result) };
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

/** Runs the handler; a crash becomes a tool error naming the request id (its text goes to the log and audit only). */
async function runHandler(
  tool: AnyTool,
  input: unknown,
  ctx: ToolContext,
): Promise<{ result: CallToolResult; crash?: string }> {
  try {
    return { result: await tool.handler(input as never, ctx) };
  } catch (err) {
    ctx.log.error({ err: errorText(err) }, 'tool failed');
    const result: CallToolResult = {
      isError: true,
      content: [
        {
          type: 'text',
          text: `${tool.name} failed unexpectedly (request ${ctx.requestId}). The error is logged on the server; retry, or report the request id.`,
        },
      ],
    };
    return { result, crash: errorText(err) };
  }
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

async function recordCall(env: ToolCallEnv, tool: string, args: unknown, startedAt: number, outcome: CallOutcome) {
  const { state, deps } = env;
  state.audited = true;
  await auditCall(deps, env.tools.get(tool), state, tool, args, startedAt, outcome);
}

/** Writes one call's audit record, its arguments redacted by the tool's hook with the request's parses. */
export async function auditCall(
  deps: Deps,
  tool: AnyTool | undefined,
  state: CallState,
  name: string,
  args: unknown,
  startedAt: number,
  outcome: CallOutcome,
): Promise<void> {
  let auditedArgs: unknown = args ?? {};
  const hook = tool?.auditArgs;
  if (hook && auditedArgs && typeof auditedArgs === 'object' && !Array.isArray(auditedArgs)) {
    try {
      // The handler's parses, when it ran: the audit redacts the value the handler judged and wrote.
      auditedArgs = hook(auditedArgs as Record<string, unknown>, state.parsed);
    } catch {
      auditedArgs = { redacted: 'arguments could not be redacted safely and were not recorded' };
    }
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
