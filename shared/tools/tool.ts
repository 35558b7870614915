import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Deps } from '../app/deps.ts';
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
  /** What the client answered to the input the tool asked for first (the wrapper's `asksClient`), by key. */
  clientAnswers?: Readonly<Record<string, unknown>>;
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
  /** Toolset, for the README table and for enabling tool groups. */
  group: 'core' | 'k8s' | 'delivery' | 'ops' | 'drift' | 'cost' | 'security' | 'cloud';
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
