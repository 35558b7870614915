import type { Identity } from '../domain/identity.ts';
import type { ParseCache } from '../domain/input/index.ts';

/**
 * One tools/call handed from the gateway (shared/mcp/tool-call.ts: auth, roles, audit, tasks) to
 * whatever runs the tool: the same process (local host, tests) or the tool's own function (a Lambda
 * Invoke on AWS). JSON-serializable: on AWS it is the Invoke payload, so it carries only data.
 */
export interface ToolInvocation {
  v: 1;
  /** The tool's name. */
  tool: string;
  /** The arguments as the client sent them; the runner validates them with the tool's strict schema. */
  args: Record<string, unknown>;
  /** Who called: the runner checks the role again, and the tool acts as this caller. */
  caller: Pick<Identity, 'subject' | 'name' | 'roles' | 'method' | 'clientId'>;
  requestId: string;
  /** Epoch ms by which the call must answer (the gateway's own deadline). */
  deadlineMs?: number;
  /**
   * Multi-round-trip input (2026-07-28) for a tool that asks its client: the answers this retry
   * carries, the tool's own state from the previous round (already verified and unsealed by the
   * gateway, which alone holds the key) and the client capabilities the request declares.
   */
  clientInput?: {
    responses: Record<string, unknown>;
    state?: unknown;
    capabilities: Record<string, unknown>;
  };
}

/** A CallToolResult as plain JSON (ports name no SDK types). */
export interface CallToolResultJson {
  content: unknown[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [key: string]: unknown;
}

export type ToolRunErrorKind =
  | 'denied'
  | 'invalid_arguments'
  | 'unknown_tool'
  | 'timeout'
  | 'throttled'
  | 'unavailable'
  | 'internal';

/** What a run answers. Either variant may carry the arguments as the tool's own audit hook redacted them. */
export type ToolRunResult =
  | {
      v: 1;
      ok: true;
      /** The tool's answer (its output already checked against the tool's output schema). */
      result: CallToolResultJson;
      /** The handler threw: `result` is the generic failure text, this is the error for the log and audit. */
      crash?: string;
      /**
       * The tool ended a multi-round-trip round: the client is asked for these inputs, and `state`
       * is sealed by the gateway as requestState for the retry. `result` is then only a placeholder.
       */
      ask?: { inputRequests: Record<string, unknown>; state?: unknown };
      auditArgs?: Record<string, unknown>;
    }
  | {
      v: 1;
      ok: false;
      error: { kind: ToolRunErrorKind; message: string; retryAfterMs?: number };
      auditArgs?: Record<string, unknown>;
    };

/** What only an in-process run can take: nothing here crosses a function boundary. */
export interface ToolRunOptions {
  signal?: AbortSignal;
  /** The request's parses, shared with the gateway's audit (in-process only; a remote runner parses its own). */
  parsed?: ParseCache;
  /** Progress notifications, on a host that streams (in-process only). */
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
}

export interface ToolRunner {
  run(inv: ToolInvocation, opts?: ToolRunOptions): Promise<ToolRunResult>;
  /**
   * The tool's audit redaction of raw arguments, for a call refused before it ran (denied, bad
   * params). Only a runner that holds the tool implementations has it; without it the gateway records
   * only the argument names of a tool whose manifest says it redacts (`auditArgs`).
   */
  auditArgs?(tool: string, args: Record<string, unknown>, parsed: ParseCache): Record<string, unknown> | undefined;
}
