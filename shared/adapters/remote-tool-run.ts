import type { ToolInvocation, ToolRunErrorKind, ToolRunOptions, ToolRunResult } from '../ports/tool-runner.ts';

/*
 * What every ToolRunner that invokes a remote tool function shares (LambdaToolRunner on AWS,
 * CloudFunctionToolRunner on GCP): the TOOL_FUNCTIONS map, and the answer, trusted only once it has
 * the shape of a ToolRunResult; a runner's own failures are ToolRunResults too.
 */

/** Parses TOOL_FUNCTIONS: a JSON object of tool name -> `what` (a function name or ARN, a URL). */
export function parseToolMap(json: string, what: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`TOOL_FUNCTIONS: not JSON (expected an object of tool name -> ${what})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`TOOL_FUNCTIONS: expected an object of tool name -> ${what}`);
  }
  const bad = Object.entries(parsed).filter(([, v]) => typeof v !== 'string' || !v.trim());
  if (bad.length) throw new Error(`TOOL_FUNCTIONS: no function for ${bad.map(([k]) => k).join(', ')}`);
  return parsed as Record<string, string>;
}

/** The largest answer a runner reads back (Lambda's own RequestResponse limit is 6 MB; GCP runners keep the same bound). */
export const MAX_ANSWER_BYTES = 6 * 1024 * 1024;

/** Retry advice when the platform's throttle carries none. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** A runner's own failure as a ToolRunResult. */
export const runFailure = (kind: ToolRunErrorKind, message: string, retryAfterMs?: number) =>
  ({
    v: 1,
    ok: false,
    error: { kind, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  }) as const;

const KINDS: ReadonlySet<string> = new Set<ToolRunErrorKind>([
  'denied',
  'invalid_arguments',
  'unknown_tool',
  'timeout',
  'throttled',
  'unavailable',
  'internal',
]);

/** The function's answer, when it is one (v 1, ok, and a result or an error of the right shape). */
export function toolRunAnswer(text: string): ToolRunResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return undefined;
  if (r.ok === true) {
    const result = r.result as { content?: unknown } | undefined;
    return result && typeof result === 'object' && Array.isArray(result.content) ? (r as ToolRunResult) : undefined;
  }
  if (r.ok === false) {
    const error = r.error as { kind?: unknown; message?: unknown } | undefined;
    return error && typeof error.kind === 'string' && KINDS.has(error.kind) && typeof error.message === 'string'
      ? (r as ToolRunResult)
      : undefined;
  }
  return undefined;
}

/**
 * One remote call's deadline: the invocation's own, or `timeoutMs` from now. `payload` is what crosses
 * the boundary (the ParseCache and progress callback stay in this process), `signal` aborts at the
 * deadline or when the caller cancels, and `stopped()` says which of the two ended the call.
 */
export function remoteCall(inv: ToolInvocation, options: ToolRunOptions, timeoutMs: number, now: () => number) {
  const deadlineMs = inv.deadlineMs ?? now() + timeoutMs;
  const budgetMs = Math.max(1, deadlineMs - now());
  const timer = AbortSignal.timeout(budgetMs);
  const payload: ToolInvocation = { ...inv, deadlineMs };
  return {
    payload,
    signal: options.signal ? AbortSignal.any([timer, options.signal]) : timer,
    stopped: (): ToolRunResult | undefined =>
      timer.aborted
        ? runFailure('timeout', `no answer within ${budgetMs} ms`)
        : options.signal?.aborted
          ? runFailure('timeout', 'the request was cancelled before the tool answered')
          : undefined,
  };
}
