import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CallToolResult,
  CreateTaskResult,
  ListTasksResult,
  McpServer,
  Result,
  ServerContext,
  Task,
} from '@modelcontextprotocol/server';
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  RELATED_TASK_META_KEY,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import * as z from 'zod';
import type { Deps } from '../app/deps.ts';
import { cancelOperation, canSeeOperation, OperationAccessError } from '../app/operation-access.ts';
import { describeOperation } from '../app/present.ts';
import { isTerminal, type Operation, type OperationStatus } from '../app/repos/operations.ts';
import { errorText } from '../domain/errors.ts';
import { canAccess, type Identity, roleFor } from '../domain/identity.ts';
import type { AnyTool } from '../tools/tool.ts';

/**
 * MCP tasks for long operations, in both protocol eras, over the Operation records in the Store.
 *
 * The task id IS the operation id and the Operation record is the task's only state: no task
 * table, no in-memory registry, so any instance (any Lambda) answers any task request.
 *
 * - 2025-11-25 (tasks in core, SEP-1686): a `tools/call` with `params.task` on a tool whose
 *   `execution.taskSupport` is "optional" is answered with `CreateTaskResult` `{ task }`;
 *   `tasks/get`, `tasks/result` (bounded wait, see {@link TaskLayerOptions.resultWaitMs}),
 *   `tasks/list` (the caller's own tasks, paged) and `tasks/cancel`. Capability
 *   `tasks: { list, cancel, requests.tools.call }` on `initialize`.
 *   Spec: modelcontextprotocol.io/specification/2025-11-25/basic/utilities/tasks
 * - 2026-07-28 (extension `io.modelcontextprotocol/tasks`, SEP-2663): a `tools/call` from a client
 *   that declares the extension in its per-request capabilities is answered with the flat
 *   `CreateTaskResult` (`resultType: "task"`); `tasks/get` (final result inline), `tasks/update`,
 *   `tasks/cancel`. The extension is advertised under `capabilities.extensions` on `server/discover`.
 *   Spec: modelcontextprotocol.github.io/ext-tasks/specification/2026-07-28/tasks.html
 *
 * The tasks/* methods are served as request handlers on the per-request McpServer, so the SDK does
 * the JSON-RPC framing and, on 2026-07-28, the envelope and `Mcp-Method`/`Mcp-Name` header checks
 * (`Mcp-Name` must equal `params.taskId`). The SDK strips `execution` from tools and `tasks` from
 * capabilities on the 2026 wire, and answers `tasks/result`/`tasks/list` there with -32601.
 *
 * Status mapping (Operation -> task):
 * - `input_required` is reported as `working`. Our operations wait for a human approver (never the
 *   requester's client), and both specs define `input_required` as the receiver needing input FROM
 *   THE CLIENT: a 2025 client would open a blocking `tasks/result` to receive input requests that
 *   never come, and a 2026 `input_required` task must list `inputRequests` we do not have. The
 *   statusMessage says what the operation waits for.
 * - 2025: `failed` stays `failed` (the 2025 spec puts tool results with isError there).
 * - 2026: `failed` becomes `completed` with `result.isError: true`: SEP-2663 reserves `failed` for
 *   JSON-RPC errors and requires tool-level failures to be `completed` with the result inline. An
 *   operation that ended on a protocol-level error (its result carries `protocolError: {code,
 *   message}`, see operationProtocolError) stays `failed`, with that error inline and no result.
 *
 * Task creation is the tool wrapper's (tool-call.ts): it calls taskHandle with the tool's result.
 */

export const TASKS_EXTENSION_ID = 'io.modelcontextprotocol/tasks';

/** Which wire a request speaks: 2026-07-28 (`modern`) or the 2025 stateless lane (`legacy`). */
export type TaskEra = 'modern' | 'legacy';

export interface TaskLayerOptions {
  /**
   * Longest a 2025 `tasks/result` waits for a running task before answering with its current
   * state. API Gateway HTTP APIs cut requests at 30 s; the default of 20 s leaves room for auth and
   * the Store. Tests set it short.
   */
  resultWaitMs?: number;
  /** How often that wait re-reads the operation from the Store (default 1 s). */
  resultPollMs?: number;
  /** Tasks per `tasks/list` page (default 20). */
  listPageSize?: number;
}

/** What a task request needs to know about its caller. */
export interface TaskCaller {
  deps: Deps;
  identity: Identity;
  requestId: string;
  era: TaskEra;
  log: Logger;
}

const DEFAULTS = { resultWaitMs: 20_000, resultPollMs: 1000, listPageSize: 20 } as const;

/** The structuredContent of {@link operationResult}. */
export interface OperationResultContent extends Record<string, unknown> {
  operationId: string;
  kind: Operation['kind'];
  status: OperationStatus;
  statusMessage: string;
  steps: Operation['steps'];
  result?: Record<string, unknown>;
}

/**
 * An operation as a tool result: what `tasks/result` (2025) and the inline `result` of `tasks/get`
 * (2026) carry, and what the ops tools show. A text summary for the model (status, each step with
 * its status, the result) and the same data structured; `isError` when the operation failed or
 * was cancelled.
 */
export function operationResult(op: Operation): CallToolResult {
  // The same view ops_operations_get gives, so a task's result and the tools never disagree.
  const view = describeOperation(op);
  const text = op.result ? `${view.text}\nResult: ${JSON.stringify(op.result)}` : view.text;
  return {
    content: [{ type: 'text', text }],
    structuredContent: view.structured as OperationResultContent,
    ...(op.status === 'failed' || op.status === 'cancelled' ? { isError: true } : {}),
  };
}

/** The task status a 2025-11-25 client sees (see the module comment for `input_required`). */
export function legacyTaskStatus(status: OperationStatus): Task['status'] {
  return status === 'input_required' ? 'working' : status;
}

/**
 * The task status a 2026-07-28 client sees: tool-level failures are `completed` with isError;
 * `input_required` only while the operation waits for input from the client itself.
 */
export function modernTaskStatus(
  status: OperationStatus,
  protocolError = false,
  waitsForClient = false,
): Task['status'] {
  if (status === 'input_required') return waitsForClient ? 'input_required' : 'working';
  return status === 'failed' && !protocolError ? 'completed' : status;
}

/** The input requests the operation still waits for from its client, when it waits for any. */
export function openClientInput(op: Operation): Record<string, Record<string, unknown>> | undefined {
  const requests = op.status === 'input_required' ? op.clientInput?.requests : undefined;
  return requests && Object.keys(requests).length ? requests : undefined;
}

/** 2025-11-25 `Task`. */
export function legacyTask(op: Operation): Task {
  return {
    taskId: op.id,
    status: legacyTaskStatus(op.status),
    statusMessage: op.statusMessage,
    createdAt: op.createdAt,
    lastUpdatedAt: op.updatedAt,
    ttl: op.ttlSeconds * 1000,
    pollInterval: op.pollIntervalMs,
  };
}

/** 2026-07-28 `Task` (SEP-2663): `ttlMs`/`pollIntervalMs`, integer milliseconds. */
export interface ModernTask extends Record<string, unknown> {
  taskId: string;
  status: Task['status'];
  statusMessage: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
}

export function modernTask(op: Operation): ModernTask {
  return {
    taskId: op.id,
    status: modernTaskStatus(op.status, operationProtocolError(op) !== undefined, openClientInput(op) !== undefined),
    statusMessage: op.statusMessage,
    createdAt: op.createdAt,
    lastUpdatedAt: op.updatedAt,
    ttlMs: Math.round(op.ttlSeconds * 1000),
    pollIntervalMs: Math.round(op.pollIntervalMs),
  };
}

/**
 * 2026-07-28 `DetailedTask` for `tasks/get`: a completed task carries its final CallToolResult
 * inline (with `resultType: "complete"`, the 2026 CallToolResult shape that requesters such as
 * @modelcontextprotocol/ext-tasks validate). A cancelled task carries no result; its
 * statusMessage says what happened.
 */
export function modernDetailedTask(op: Operation): ModernTask & {
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  inputRequests?: Record<string, Record<string, unknown>>;
} {
  const task = modernTask(op);
  if (task.status === 'input_required') {
    const inputRequests = openClientInput(op);
    return inputRequests ? { ...task, inputRequests } : task;
  }
  if (task.status === 'failed') {
    const error = operationProtocolError(op);
    return error ? { ...task, error } : task;
  }
  if (task.status !== 'completed') return task;
  return { ...task, result: { resultType: 'complete', ...operationResult(op) } };
}

/**
 * The JSON-RPC error of an operation that ended on a protocol-level error (an internal fault, not the
 * tool's verdict): its result carries `protocolError: { code, message }`. SEP-2663 reports such a
 * task `failed` with that `error` inline and no result.
 */
export function operationProtocolError(op: Operation): { code: number; message: string } | undefined {
  const raw = op.status === 'failed' && isRecord(op.result) ? op.result.protocolError : undefined;
  if (!isRecord(raw) || typeof raw.code !== 'number' || typeof raw.message !== 'string') return undefined;
  return { code: raw.code, message: raw.message.slice(0, 500) };
}

/** Whether a client-capabilities object declares the tasks extension. */
export function declaresTasksExtension(capabilities: unknown): boolean {
  if (!isRecord(capabilities) || !isRecord(capabilities.extensions)) return false;
  return isRecord(capabilities.extensions[TASKS_EXTENSION_ID]);
}

/**
 * Whether a `tools/call` asks to run as a task: on 2025-11-25 the client augments the request with
 * `params.task`; on 2026-07-28 the server decides, and does so whenever the client declares the
 * extension in the request's capabilities (a 2026 request's `params.task` is ignored, per SEP-2663).
 * The 2026 capabilities are read from the request envelope the SDK lifted out of `params._meta`.
 */
export function wantsTask(era: TaskEra, params: unknown, ctx?: ServerContext): boolean {
  if (!isRecord(params)) return false;
  if (era === 'legacy') return params.task !== undefined;
  const envelope: unknown = ctx?.mcpReq.envelope ?? params._meta;
  return declaresTasksExtension(isRecord(envelope) ? envelope[CLIENT_CAPABILITIES_META_KEY] : undefined);
}

/**
 * A 2025-11-25 `tools/call` with `params.task` on a tool that does not support tasks: the spec
 * says servers SHOULD answer -32601. Returns the error message, or undefined when the call is fine.
 */
export function refuseTaskAugmentation(
  era: TaskEra,
  tool: Pick<AnyTool, 'name' | 'taskSupport'> | undefined,
  params: unknown,
): string | undefined {
  if (era !== 'legacy' || !tool || tool.taskSupport || !wantsTask(era, params)) return undefined;
  return `Tool ${tool.name} does not support task execution (execution.taskSupport is forbidden); call it without params.task.`;
}

/**
 * The era's task-creation result for the answer of a task tool, which ran normally and answered
 * with structuredContent.operationId. The Operation it created is read back from the Store (which
 * the spec requires anyway: a task is returned only once a tasks/get would find it). Undefined for
 * an answer without an operationId or an operation the caller cannot see: the caller then gets the
 * plain tool result. (The SDK validates a tools/call result as a CallToolResult on 2025-11-25, so
 * that handle carries an empty `content` next to `task`; on 2026-07-28 the SDK adds it itself.)
 */
export async function taskHandle(caller: TaskCaller, result: CallToolResult): Promise<Result | undefined> {
  const operationId = isRecord(result.structuredContent) ? result.structuredContent.operationId : undefined;
  if (typeof operationId !== 'string') return undefined;
  const op = await caller.deps.operations.get(operationId);
  if (!op || !canSeeOperation(op, caller.identity)) {
    caller.log.warn(
      { requestId: caller.requestId, operationId },
      'task tool answered with an operation it cannot show',
    );
    return undefined;
  }
  const meta = result._meta ?? {};
  const created: Result =
    caller.era === 'legacy'
      ? ({
          content: [],
          task: legacyTask(op),
          _meta: {
            ...meta,
            [RELATED_TASK_META_KEY]: { taskId: op.id },
            // SEP-1686's hint for hosts that hand control back to the model while the task runs.
            'io.modelcontextprotocol/model-immediate-response': immediateText(result),
          },
        } satisfies CreateTaskResult & { content: [] })
      : { resultType: 'task', ...modernTask(op), ...(Object.keys(meta).length ? { _meta: meta } : {}) };
  caller.log.info(
    { requestId: caller.requestId, caller: caller.identity.name, taskId: op.id, era: caller.era, status: op.status },
    'task created',
  );
  return created;
}

/**
 * Serves the tasks methods of the caller's era on a per-request server and declares the matching
 * capability. Call before connecting the server.
 */
export function attachTasks(server: McpServer, caller: TaskCaller, options: TaskLayerOptions = {}): void {
  const opts = { ...DEFAULTS, ...options };
  const low = server.server;
  const TaskIdParams = z.object({ taskId: z.string().min(1) });

  if (caller.era === 'legacy') {
    low.registerCapabilities({ tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } });
    low.setRequestHandler('tasks/get', { params: TaskIdParams }, (p) =>
      handle(caller, 'tasks/get', p.taskId, async () => legacyTask(await visible(caller, p.taskId))),
    );
    low.setRequestHandler('tasks/result', { params: TaskIdParams }, (p, ctx) =>
      handle(caller, 'tasks/result', p.taskId, () => legacyResult(caller, p.taskId, opts, ctx)),
    );
    low.setRequestHandler('tasks/list', { params: z.object({ cursor: z.string().optional() }) }, (p) =>
      handle(caller, 'tasks/list', undefined, () => legacyList(caller, p.cursor, opts.listPageSize)),
    );
    low.setRequestHandler('tasks/cancel', { params: TaskIdParams }, (p) =>
      handle(caller, 'tasks/cancel', p.taskId, () => legacyCancel(caller, p.taskId)),
    );
    return;
  }

  low.registerCapabilities({ extensions: { [TASKS_EXTENSION_ID]: {} } });
  low.setRequestHandler('tasks/get', { params: TaskIdParams }, (p, ctx) =>
    handle(caller, 'tasks/get', p.taskId, async () => {
      requireExtension(ctx);
      return { resultType: 'complete', ...modernDetailedTask(await visible(caller, p.taskId)) };
    }),
  );
  // The SDK lifts `inputResponses` out of the params into ctx.mcpReq (the MRTR plumbing it shares).
  low.setRequestHandler('tasks/update', { params: TaskIdParams }, (p, ctx) =>
    handle(caller, 'tasks/update', p.taskId, async () => {
      requireExtension(ctx);
      const op = await visible(caller, p.taskId);
      // SEP-2663: responses to keys the task asked for are delivered (the operation's runner resumes
      // once none is open); responses to any other key are ignored, and the update is acknowledged.
      const responses = ctx.mcpReq.inputResponses ?? {};
      const open = openClientInput(op) ?? {};
      const answered = Object.keys(responses).filter((k) => k in open);
      const ignored = [
        ...Object.keys(responses).filter((k) => !(k in open)),
        ...(ctx.mcpReq.droppedInputResponseKeys ?? []),
      ];
      if (ignored.length) {
        caller.log.info(
          { requestId: caller.requestId, taskId: p.taskId, keys: ignored },
          'tasks/update: responses to keys the task does not wait for; ignored',
        );
      }
      if (answered.length) await deliverClientInput(caller, op.id, answered, responses);
      return { resultType: 'complete' };
    }),
  );
  low.setRequestHandler('tasks/cancel', { params: TaskIdParams }, (p, ctx) =>
    handle(caller, 'tasks/cancel', p.taskId, async () => {
      requireExtension(ctx);
      await cancel(caller, p.taskId);
      // SEP-2663: an empty acknowledgement, also for a task that already ended; the outcome (a
      // rollback, then `cancelled`) is observed with tasks/get.
      return { resultType: 'complete' };
    }),
  );
}

/**
 * Hands the client's answers to the operation: each answered key leaves `requests` for `responses`,
 * in one compare-and-set. Delivering input changes the operation, so it is audited like a cancel.
 */
async function deliverClientInput(
  caller: TaskCaller,
  taskId: string,
  keys: string[],
  responses: Record<string, unknown>,
): Promise<void> {
  const startedAt = caller.deps.clock.now();
  let outcome: { outcome: 'ok' | 'error'; error?: string } = { outcome: 'ok' };
  try {
    await caller.deps.operations.update(taskId, (o) => {
      const input = o.clientInput;
      if (!input || isTerminal(o.status)) return 'skip';
      for (const k of keys) {
        if (!(k in input.requests)) continue;
        delete input.requests[k];
        input.responses[k] = responses[k];
      }
      return undefined;
    });
  } catch (err) {
    outcome = { outcome: 'error', error: errorText(err) };
    throw err;
  } finally {
    const { identity, requestId } = caller;
    await caller.deps.audit.recordCall({
      requestId,
      identity,
      tool: 'tasks/update',
      args: { taskId, keys },
      ...outcome,
      startedAt,
    });
  }
}

/** Runs one tasks/* request: logs it, and keeps internal details out of the error the caller gets. */
async function handle<T extends Result>(
  caller: TaskCaller,
  method: string,
  taskId: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const base = { requestId: caller.requestId, caller: caller.identity.name, method, ...(taskId ? { taskId } : {}) };
  try {
    const out = await run();
    caller.log.info({ ...base, ...(typeof out.status === 'string' ? { status: out.status } : {}) }, 'task request');
    return out;
  } catch (err) {
    if (err instanceof ProtocolError) {
      caller.log.info({ ...base, code: err.code, error: err.message }, 'task request refused');
      throw err;
    }
    caller.log.error({ ...base, err: errorText(err) }, 'task request failed');
    throw new ProtocolError(ProtocolErrorCode.InternalError, `Internal error (request ${caller.requestId}).`);
  }
}

/** The same error for a task that does not exist, expired, or belongs to someone else. */
const unknownTask = (taskId: string) =>
  new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Failed to retrieve task: task ${taskId} not found (it may have expired)`,
  );

/**
 * A task is its requester's handle: only they see it through tasks/*. (Approvers and admins review
 * other people's operations with ops_operations_get/list; offering them tasks/get but not tasks/list
 * would break the spec's rule that whatever tasks/get returns, tasks/list lists.)
 */
async function visible(caller: TaskCaller, taskId: string): Promise<Operation> {
  const op = await caller.deps.operations.get(taskId);
  if (!op || op.requester.subject !== caller.identity.subject) throw unknownTask(taskId);
  return op;
}

function requireExtension(ctx: ServerContext): void {
  const envelope: unknown = ctx.mcpReq.envelope;
  const declared = isRecord(envelope) && declaresTasksExtension(envelope[CLIENT_CAPABILITIES_META_KEY]);
  if (declared) return;
  throw new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
    `Missing required client capability: declare the ${TASKS_EXTENSION_ID} extension in _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions to use tasks.`,
  );
}

/**
 * Cancelling rolls back a change, so it takes what `ops_operations_cancel` takes: the write access
 * level (a token cut down to read-only cannot start a rollback); visible() already limits a task to
 * its requester. Every attempt leaves an audit record under `tasks/cancel`, like a tool call.
 */
async function cancel(caller: TaskCaller, taskId: string, opts: { refuseEnded?: boolean } = {}): Promise<Operation> {
  const startedAt = caller.deps.clock.now();
  let outcome: { outcome: 'ok' | 'error' | 'denied'; error?: string } = { outcome: 'ok' };
  try {
    const op = await visible(caller, taskId);
    if (opts.refuseEnded && isTerminal(op.status)) {
      const error = `Cannot cancel task ${taskId}: already in terminal status '${legacyTaskStatus(op.status)}'`;
      outcome = { outcome: 'error', error };
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, error);
    }
    if (!canAccess(caller.identity.roles, 'write')) {
      const error = `Cannot cancel task ${taskId}: cancelling needs the ${roleFor('write')} role; you have ${caller.identity.roles.join(', ') || 'no role'}.`;
      outcome = { outcome: 'denied', error };
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, error);
    }
    try {
      return await cancelOperation(caller.deps, taskId, caller.identity, `tasks/cancel by ${caller.identity.name}`);
    } catch (err) {
      if (err instanceof OperationAccessError) throw unknownTask(taskId);
      throw err;
    }
  } catch (err) {
    if (outcome.outcome === 'ok') outcome = { outcome: 'error', error: errorText(err) };
    throw err;
  } finally {
    const { identity, requestId } = caller;
    await caller.deps.audit.recordCall({
      requestId,
      identity,
      tool: 'tasks/cancel',
      args: { taskId },
      ...outcome,
      startedAt,
    });
  }
}

/**
 * 2025-11-25 `tasks/cancel`. The spec wants the task `cancelled` before the response; ours asks
 * the workflow to stop (the abort request on the operation) and answers with the task as it
 * stands: the workflow rolls back what it changed and only then sets `cancelled` (or `failed` if
 * the rollback fails). Reporting `cancelled` while changes are still being reverted would be
 * false, and a task must never leave a terminal status again. A task still waiting for approval has
 * changed nothing: cancelOperation closes its approval and ends it `cancelled` before answering.
 * Cancelling an ended task is -32602.
 */
async function legacyCancel(caller: TaskCaller, taskId: string): Promise<Result> {
  return legacyTask(await cancel(caller, taskId, { refuseEnded: true }));
}

/**
 * 2025-11-25 `tasks/result`: the task's final CallToolResult with the related-task `_meta`.
 *
 * The spec says to block until the task ends. We must not hold an HTTP request past API Gateway's
 * 30 s, and the 2025 stateless JSON lane has no SSE stream to park the client on, so we wait up to
 * `resultWaitMs` (20 s) re-reading the Store, then answer with what we have. Nothing in the spec
 * or the SDK types fits a not-yet-final answer (GetTaskPayloadResult is an open Result), so the
 * answer is the current Task (taskId, status, statusMessage, pollInterval, ...) plus a text block
 * saying it is not the final result and to poll tasks/get, then call tasks/result again. Clients
 * that poll tasks/get until the task is terminal before asking for the result (what the spec
 * recommends and what @modelcontextprotocol/ext-tasks does) never see it: we never report
 * input_required, so they have no reason to call tasks/result early.
 */
async function legacyResult(
  caller: TaskCaller,
  taskId: string,
  opts: Required<TaskLayerOptions>,
  ctx: ServerContext,
): Promise<Result> {
  const deadline = performance.now() + opts.resultWaitMs;
  let op = await visible(caller, taskId);
  while (!isTerminal(op.status)) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(opts.resultPollMs, left), undefined, { signal: ctx.mcpReq.signal }).catch(() => {});
    if (ctx.mcpReq.signal.aborted) break;
    op = await visible(caller, taskId);
  }
  const related = { [RELATED_TASK_META_KEY]: { taskId } };
  if (isTerminal(op.status)) {
    const result = operationResult(op);
    return { ...result, _meta: { ...result._meta, ...related } };
  }
  const task = legacyTask(op);
  return {
    ...task,
    content: [
      {
        type: 'text',
        text:
          `Task ${taskId} is still ${task.status} after ${Math.round(opts.resultWaitMs / 1000)} s: ${op.statusMessage}. ` +
          `This is not its final result. Poll tasks/get every ${op.pollIntervalMs} ms and call tasks/result again once it is completed, failed or cancelled.`,
      },
    ],
    _meta: related,
  };
}

/** 2025-11-25 `tasks/list`: the caller's own tasks (operations they requested), newest first. */
async function legacyList(caller: TaskCaller, cursor: string | undefined, pageSize: number): Promise<ListTasksResult> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const page = await caller.deps.operations.list({
    subject: caller.identity.subject,
    limit: pageSize,
    ...(after ? { cursor: after } : {}),
  });
  return {
    tasks: page.items.map(legacyTask),
    ...(page.cursor ? { nextCursor: encodeCursor(page.cursor) } : {}),
  };
}

// Cursors are opaque to clients (base64url of the Store's continue key) and checked on the way in.
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[A-Za-z0-9-]{1,80}$/;

function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isRecord(parsed) && typeof parsed.after === 'string' && SORT_KEY.test(parsed.after)) return parsed.after;
  } catch {
    // Falls through to the error below.
  }
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    'Invalid cursor: pass nextCursor from a previous tasks/list unchanged.',
  );
}

function immediateText(result: CallToolResult): string {
  const first = result.content?.find((c) => c.type === 'text');
  return first?.type === 'text' ? first.text.slice(0, 1000) : 'The operation started; poll its task for the result.';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
