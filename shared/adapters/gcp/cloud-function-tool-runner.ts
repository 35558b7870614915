/**
 * The ToolRunner on GCP: each tools/call is an HTTPS POST of the invocation (JSON) to the tool's own
 * Cloud Function (gen2), with a Google-signed ID token whose audience is that function's URL; the
 * function checks the token (gcp-functions/lib/oidc.ts) and answers a ToolRunResult with 200
 * (gcp-functions/lib/tool-function.ts). Whatever goes wrong on the way becomes a ToolRunResult too,
 * so the gateway answers a clear tool error and audits it: 429 is `throttled` (with Retry-After),
 * 408/504 or the deadline is `timeout`, 401/403 is `unavailable` (the gateway may not invoke it),
 * 5xx or an answer that is no tool result is `internal`, an unreachable function `unavailable`.
 *
 * The token goes in `X-Serverless-Authorization` for Cloud Run's IAM check (roles/run.invoker), which
 * strips that header's signature, and in `Authorization`, which Cloud Run then leaves signed for the
 * function's own check (see gcp-functions/lib/oidc.ts).
 */
import { GoogleAuth, type IdTokenClient } from 'google-auth-library';
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

export interface CloudFunctionToolRunnerOptions {
  /** Tool name -> the URL of the function that serves it (TOOL_FUNCTIONS, set by terraform). */
  functions: Readonly<Record<string, string>>;
  /** How long a call may take when the invocation names no deadline. */
  timeoutMs: number;
  /** An ID token for `audience`. Default: google-auth-library's ID token client (the metadata server on GCP). */
  idToken?: (audience: string) => Promise<string>;
  now?: () => number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Parses TOOL_FUNCTIONS: a JSON object of tool name -> function URL (https; plain http only on loopback). */
export function parseToolFunctions(json: string): Record<string, string> {
  const map = parseToolMap(json, 'function URL');
  const bad = Object.entries(map).filter(([, v]) => {
    try {
      const u = new URL(v);
      return !(u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))) || u.username !== '';
    } catch {
      return true;
    }
  });
  if (bad.length) {
    throw new Error(
      `TOOL_FUNCTIONS: not an https URL for ${bad.map(([k]) => k).join(', ')} (plain http only on loopback)`,
    );
  }
  return map;
}

/** google-auth-library's ID token clients, one per audience (each caches and renews its token). */
function googleIdTokens(): (audience: string) => Promise<string> {
  const auth = new GoogleAuth();
  const clients = new Map<string, Promise<IdTokenClient>>();
  return async (audience) => {
    let client = clients.get(audience);
    if (!client) {
      client = auth.getIdTokenClient(audience);
      clients.set(audience, client);
      client.catch(() => clients.delete(audience));
    }
    const headers = await (await client).getRequestHeaders();
    const token = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1];
    if (!token) throw new Error('google-auth-library returned no ID token');
    return token;
  };
}

/** The function's name for messages: its last path segment, or its host's first label (never the whole URL). */
function functionName(url: string): string {
  const u = new URL(url);
  const segment = u.pathname.split('/').filter(Boolean).pop();
  return (segment ?? u.hostname.split('.')[0] ?? u.hostname).slice(0, 100);
}

/** Retry-After (seconds or an HTTP date) in ms, or the default. */
function retryAfterMs(header: string | null, now: number): number {
  if (!header) return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds, 3600) * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) && at > now ? Math.min(at - now, 3_600_000) : DEFAULT_RETRY_AFTER_MS;
}

/** The body as text, or undefined when it is larger than `max` bytes (reading stops there). */
async function boundedText(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class CloudFunctionToolRunner implements ToolRunner {
  private readonly opts: CloudFunctionToolRunnerOptions;
  private readonly idToken: (audience: string) => Promise<string>;
  constructor(opts: CloudFunctionToolRunnerOptions) {
    this.opts = opts;
    this.idToken = opts.idToken ?? googleIdTokens();
  }

  async run(inv: ToolInvocation, options: ToolRunOptions = {}): Promise<ToolRunResult> {
    const url = this.opts.functions[inv.tool];
    if (!url) return fail('unknown_tool', `no function serves ${inv.tool} in this deployment`);
    const fn = functionName(url);
    const now = this.opts.now ?? Date.now;
    const { payload, signal, stopped } = remoteCall(inv, options, this.opts.timeoutMs, now);

    let token: string;
    try {
      token = await this.idToken(url);
    } catch (err) {
      return fail(
        'unavailable',
        `the gateway could not get an identity token for ${fn} (${errorText(err).slice(0, 200)})`,
      );
    }
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-serverless-authorization': `Bearer ${token}`,
        },
        body: JSON.stringify(payload),
        signal,
        redirect: 'error',
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        return this.failedStatus(res, fn, now());
      }
      const text = await boundedText(res, MAX_ANSWER_BYTES);
      if (text === undefined) return fail('internal', `its function answered more than ${MAX_ANSWER_BYTES} bytes`);
      return toolRunAnswer(text) ?? fail('internal', 'its function answered something other than a tool result');
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return stopped() ?? fail('unavailable', `${fn} could not be reached (${cause ?? errorText(err).slice(0, 200)})`);
    }
  }

  private failedStatus(res: Response, fn: string, now: number): ToolRunResult {
    const status = res.status;
    if (status === 429) {
      return fail(
        'throttled',
        `${fn} is at its instance limit (HTTP 429)`,
        retryAfterMs(res.headers.get('retry-after'), now),
      );
    }
    if (status === 408 || status === 504) return fail('timeout', `${fn} timed out (HTTP ${status})`);
    if (status === 401 || status === 403)
      return fail('unavailable', `the gateway may not invoke ${fn} (HTTP ${status})`);
    if (status >= 500) return fail('internal', `its function failed (HTTP ${status})`);
    return fail('unavailable', `${fn} answered HTTP ${status}`);
  }
}
