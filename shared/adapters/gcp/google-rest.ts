import type { AuthClient, GoogleAuth } from 'google-auth-library';
import { capText } from '../../domain/bounds.ts';
import { maskSecretsInText } from '../../domain/redact.ts';
import { CloudApiError, type CloudErrorCode } from '../../ports/cloud.ts';
import { GcpApiError } from './google-auth.ts';

/**
 * Google REST calls (Compute v1, Monitoring v3) through google-auth-library's authorized client:
 * it adds the bearer token (ADC: the metadata server on Cloud Functions) and sends with gaxios.
 * Not @google-cloud/compute or @google-cloud/monitoring: each is several MB of generated code and
 * protos, more than the function bundles can hold, for four REST calls. Every call is bounded by
 * the adapter's timeout and the caller's signal, the token fetch included; failures are
 * CloudApiError with Google's status as providerCode.
 */

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A base URL (no trailing slash): https, or plain http only to loopback (the token would travel in the clear). */
export function restBase(setting: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${setting} must be a URL like ${fallback}, not ${value.slice(0, 100)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`${setting} must be https:// (plain http only to loopback), not ${url.protocol}//${url.host}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Google's canonical status for an HTTP code (https://cloud.google.com/apis/design/errors#http_mapping). */
const HTTP_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const STATUS_CODE: Record<string, CloudErrorCode> = {
  NOT_FOUND: 'NotFound',
  PERMISSION_DENIED: 'Forbidden',
  UNAUTHENTICATED: 'Forbidden',
  INVALID_ARGUMENT: 'InvalidArgument',
  OUT_OF_RANGE: 'InvalidArgument',
  FAILED_PRECONDITION: 'Conflict',
  ABORTED: 'Conflict',
  ALREADY_EXISTS: 'Conflict',
  RESOURCE_EXHAUSTED: 'Throttled',
  UNAVAILABLE: 'Unavailable',
  DEADLINE_EXCEEDED: 'Timeout',
  CANCELLED: 'Timeout',
};

function codeOf(http: number | undefined, status: string): CloudErrorCode {
  switch (http) {
    case 400:
      return status === 'FAILED_PRECONDITION' ? 'Conflict' : 'InvalidArgument';
    case 401:
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
    case 412:
      return 'Conflict';
    case 429:
      return 'Throttled';
    case 502:
    case 503:
      return 'Unavailable';
    case 504:
      return 'Timeout';
  }
  return STATUS_CODE[status] ?? 'Internal';
}

const MAX_MESSAGE = 300;

export function cloudError(code: CloudErrorCode, message: string, providerCode?: string): CloudApiError {
  return new CloudApiError('gcp', code, capText(maskSecretsInText(message), MAX_MESSAGE), providerCode);
}

/**
 * Any failure of `what` as a CloudApiError. Google's body is `{error: {code, message, status?, errors?}}`;
 * Compute often leaves out `status` (its errors carry `errors[].reason`), so the HTTP code decides.
 */
export function toCloudError(err: unknown, what: string): CloudApiError {
  if (err instanceof CloudApiError) return err;
  if (err instanceof GcpApiError) return cloudError(codeOf(undefined, err.status), err.message, err.status);
  const e = err as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { status?: unknown; data?: unknown };
  };
  const http = typeof e?.response?.status === 'number' ? e.response.status : undefined;
  if (http !== undefined) {
    const body = (e.response?.data as { error?: { message?: unknown; status?: unknown } } | undefined)?.error;
    const status = typeof body?.status === 'string' ? body.status : (HTTP_STATUS[http] ?? `HTTP_${http}`);
    const text = typeof body?.message === 'string' ? body.message : `HTTP ${http}`;
    return cloudError(codeOf(http, status), `${what}: ${text}`, status);
  }
  const text = typeof e?.message === 'string' ? e.message : String(err);
  return cloudError('Unavailable', `${what}: no answer: ${text}`, 'UNAVAILABLE');
}

export interface RestRequest {
  url: string;
  method?: 'GET' | 'POST';
  /** Query parameters; an array value repeats the parameter. */
  params?: Record<string, string | number | boolean | string[] | undefined>;
  /** A JSON request body (POST). */
  body?: unknown;
  signal?: AbortSignal;
}

export interface RestCall {
  <T>(what: string, req: RestRequest): Promise<T>;
  /** Finds the credentials (ADC) within the same bound; a failure says there are none. */
  credentials(what: string, signal?: AbortSignal): Promise<void>;
}

class NoCredentials extends Error {}

/**
 * Runs `work` with a signal that aborts after `timeoutMs` or when the caller's does, and settles
 * then even if `work` ignores the signal (the token fetch takes none).
 */
async function bounded<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  let reason: 'timeout' | 'cancel' | undefined;
  const stop = (why: 'timeout' | 'cancel') => {
    reason ??= why;
    ac.abort();
  };
  const onAbort = () => stop('cancel');
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  if (signal?.aborted) stop('cancel');
  signal?.addEventListener('abort', onAbort, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error('aborted'));
    if (ac.signal.aborted) fail();
    else ac.signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  try {
    const call = work(ac.signal);
    call.catch(() => {}); // settles after the race when the deadline won it
    return await Promise.race([call, aborted]);
  } catch (err) {
    if (reason === 'timeout') {
      throw cloudError('Timeout', `${what}: no answer within ${timeoutMs} ms`, 'DEADLINE_EXCEEDED');
    }
    if (reason === 'cancel') throw cloudError('Timeout', `${what}: cancelled by the caller`, 'CANCELLED');
    if (err instanceof NoCredentials) {
      throw cloudError(
        'Forbidden',
        `${what}: the server found no Google credentials (${err.message})`,
        'UNAUTHENTICATED',
      );
    }
    throw toCloudError(err, what);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A caller of Google REST APIs bounded by `timeoutMs` per call (token fetch, retries and answer
 * together) and by the caller's signal. GETs are retried twice on 429 and 5xx (gaxios' backoff),
 * within the same bound; POSTs (instances.start/stop) never, since each creates an operation.
 */
export function googleRest(auth: GoogleAuth, timeoutMs: number): RestCall {
  let client: Promise<AuthClient> | undefined;
  const authorized = () => {
    client ??= auth.getClient().catch((err: unknown) => {
      client = undefined;
      throw new NoCredentials(err instanceof Error ? err.message : String(err));
    });
    return client;
  };

  const call = <T>(what: string, req: RestRequest): Promise<T> =>
    bounded(what, timeoutMs, req.signal, async (signal) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(req.params ?? {})) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
      }
      const method = req.method ?? 'GET';
      const c = await authorized();
      const res = await c.request<T>({
        url: params.size ? `${req.url}?${params}` : req.url,
        method,
        ...(req.body !== undefined ? { data: req.body } : {}),
        signal,
        timeout: timeoutMs,
        ...(method === 'GET'
          ? { retry: true, retryConfig: { retry: 2, httpMethodsToRetry: ['GET'], noResponseRetries: 0 } }
          : { retry: false }),
      });
      return res.data;
    });
  return Object.assign(call, {
    credentials: (what: string, signal?: AbortSignal) =>
      bounded(what, timeoutMs, signal, async () => {
        await authorized();
      }),
  });
}
