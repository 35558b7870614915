import type { CallToolResult, InputRequests } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Deps } from '../app/deps.ts';
import type { Toolset } from '../config/config.ts';
import type { Access, Identity } from '../domain/identity.ts';
import type { ParseCache } from '../domain/input/index.ts';

export interface ToolContext {
  deps: Deps;
  identity: Identity;
  requestId: string;
  log: Logger;
  signal?: AbortSignal;
  /**
   * Caller text parsed in this request (shared/domain/input): parse manifests and patches through it,
   * so the audit hook reads the same parsed value instead of parsing the text again.
   */
  parsed: ParseCache;
  /**
   * Reports progress to a client that asked for it (`_meta.progressToken`), on a host that can stream
   * the response; absent otherwise, so a tool calls it as `await ctx.progress?.(n, total)`. Values
   * must increase; a repeated or smaller one is not sent.
   */
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  /** Multi-round-trip input from the client: set for a tool that declares `asksClient` (see ClientInput). */
  clientInput?: ClientInput;
}

/**
 * Multi-round-trip input (protocol 2026-07-28, SEP-2322): the tool answers `input_required` with
 * requests for its client (elicitation, sampling, roots), and the client retries the same call with
 * the answers and the state the tool sealed. The server stays stateless: the state travels with the
 * client, sealed (HMAC) by the tool wrapper with the server's key and bound to the tool and caller.
 */
export interface ClientInput {
  /** The answers this retry carries, by request key. Untrusted client input: validate what you read. */
  readonly responses: Readonly<Record<string, unknown>>;
  /** What this tool passed to `ask` as state in the previous round (integrity-checked); undefined in the first. */
  readonly state: unknown;
  /** The client capabilities this request declares (ask only for what is declared). */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /**
   * Ends this round: return its result from the handler. The call is answered `input_required` with
   * these requests, and `state` (JSON, small) sealed as requestState for the retry.
   */
  ask(requests: InputRequests, state?: unknown): CallToolResult;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

type ZodObj = z.ZodObject<z.ZodRawShape>;

/**
 * One MCP tool: one file exports one of these. `access` decides which roles see and may call
 * it; annotations are set deliberately for every tool (the spec defaults are the unsafe ones).
 */
export interface ToolDefinition<I extends ZodObj = ZodObj, O extends ZodObj = ZodObj> {
  name: string;
  title: string;
  /** Says what it does and when to use it; a model reads it on every tools/list. */
  description: string;
  /** Its toolset: TOOLSETS picks which are served, and tools/list shows them in TOOLSET_NAMES order. */
  group: Toolset;
  access: Access;
  input: I;
  output?: O;
  annotations: ToolAnnotations;
  /**
   * Set on tools that start a long operation: the handler answers at once with
   * structuredContent.operationId, and the task layer (shared/mcp/tasks.ts) turns that answer into an
   * MCP task for clients that support tasks. `required`: a client that cannot take a task is refused
   * (-32021 on 2026-07-28, -32601 on 2025-11-25) instead of getting the plain result.
   */
  taskSupport?: 'optional' | 'required';
  /**
   * The handler may ask its client for input before it answers (ToolContext.clientInput, 2026-07-28
   * multi-round-trip requests). Without it a call's inputResponses and requestState are ignored.
   */
  asksClient?: boolean;
  handler(input: z.infer<I>, ctx: ToolContext): Promise<CallToolResult>;
  /**
   * Redacts what generic redaction cannot see before the arguments are audited (a Secret inside a
   * manifest string, say). Receives the raw, unvalidated arguments, and the request's ParseCache: the
   * one the handler parsed through (it may not have run, e.g. for a denied call). Parse through it
   * with the handler's limits, and record a bounded marker for text that does not parse.
   */
  auditArgs?(args: Record<string, unknown>, parsed: ParseCache): Record<string, unknown>;
}

/** Any tool, for the registry. `handler` is a method, so a tool of any input shape fits here. */
export type AnyTool = ToolDefinition;

export function defineTool<I extends ZodObj, O extends ZodObj>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/**
 * The one result builder: a text for the model (many clients show it only the text) and, when
 * given, the same data as structuredContent. Every tool answer is made here or through ok/fail.
 */
export function result(text: string, structured?: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text }],
    ...(structured !== undefined ? { structuredContent: structured } : {}),
    ...(isError ? { isError: true } : {}),
  };
}

/** A successful result: a short text summary for the model plus the same data structured (also in the text). */
export function ok(summary: string, structured?: Record<string, unknown>): CallToolResult {
  return result(structured === undefined ? summary : `${summary}\n${JSON.stringify(structured)}`, structured);
}

/** A failure the caller can act on: what went wrong and what to do. */
export function fail(message: string, structured?: Record<string, unknown>): CallToolResult {
  return result(message, structured, true);
}
