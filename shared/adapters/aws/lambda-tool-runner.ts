/**
 * The ToolRunner on AWS: each tools/call is a Lambda Invoke (RequestResponse) of the tool's own
 * function with the invocation as its payload; the function answers a ToolRunResult
 * (functions/lib/tool-function.ts). Whatever goes wrong on the way becomes a ToolRunResult too, so
 * the gateway answers a clear tool error and audits it: the function's own failure (FunctionError)
 * is `internal` (`timeout` when Lambda stopped it at its timeout), Lambda throttling is `throttled`
 * with the retry advice Lambda gives, the gateway's deadline or the client's cancel is `timeout`, and
 * an unreachable function is `unavailable`.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { errorText } from '../../domain/errors.ts';
import type { ToolInvocation, ToolRunner, ToolRunOptions, ToolRunResult } from '../../ports/tool-runner.ts';
import {
  DEFAULT_RETRY_AFTER_MS,
  runFailure as fail,
  MAX_ANSWER_BYTES,
  parseToolMap,
  remoteCall,
  toolRunAnswer,
} from '../remote-tool-run.ts';

export interface LambdaToolRunnerOptions {
  client: LambdaClient;
  /** Tool name -> the function (name or ARN) that serves it (TOOL_FUNCTIONS, set by the CDK stack). */
  functions: Readonly<Record<string, string>>;
  /** How long a call may take when the invocation names no deadline. */
  timeoutMs: number;
  now?: () => number;
}

/** Parses TOOL_FUNCTIONS: a JSON object of tool name -> function name or ARN. */
export function parseToolFunctions(json: string): Record<string, string> {
  return parseToolMap(json, 'function name or ARN');
}

export class LambdaToolRunner implements ToolRunner {
  private readonly opts: LambdaToolRunnerOptions;
  constructor(opts: LambdaToolRunnerOptions) {
    this.opts = opts;
  }

  async run(inv: ToolInvocation, options: ToolRunOptions = {}): Promise<ToolRunResult> {
    const fn = this.opts.functions[inv.tool];
    if (!fn) return fail('unknown_tool', `no function serves ${inv.tool} in this deployment`);
    const { payload, signal, stopped } = remoteCall(inv, options, this.opts.timeoutMs, this.opts.now ?? Date.now);
    try {
      const out = await this.opts.client.send(
        new InvokeCommand({
          FunctionName: fn,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
        { abortSignal: signal },
      );
      const text = out.Payload ? new TextDecoder().decode(out.Payload.subarray(0, MAX_ANSWER_BYTES)) : '';
      if (out.FunctionError) {
        // Lambda's error payload: { errorType, errorMessage, trace }. Only the type leaves the gateway's
        // log: the message may carry the function's internals.
        const errorType = errorTypeOf(text);
        if (errorType === 'Sandbox.Timedout') return fail('timeout', `its function timed out (${fn})`);
        return fail('internal', `its function failed (${out.FunctionError}${errorType ? `: ${errorType}` : ''})`);
      }
      return toolRunAnswer(text) ?? fail('internal', 'its function answered something other than a tool result');
    } catch (err) {
      const stop = stopped();
      if (stop) return stop;
      const name = (err as { name?: string }).name;
      if (name === 'TooManyRequestsException') {
        const seconds = Number((err as { retryAfterSeconds?: string }).retryAfterSeconds);
        const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
        return fail('throttled', 'Lambda throttled its function (too many concurrent calls)', retryAfterMs);
      }
      return fail('unavailable', `its function could not be invoked (${name ?? errorText(err).slice(0, 200)})`);
    }
  }
}

function errorTypeOf(text: string): string | undefined {
  try {
    const t = (JSON.parse(text) as { errorType?: unknown }).errorType;
    return typeof t === 'string' ? t.slice(0, 100) : undefined;
  } catch {
    return undefined;
  }
}
