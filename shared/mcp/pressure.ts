import { KubeApiError } from '../ports/kube.ts';
import { StoreUnavailableError } from '../ports/store.ts';

/**
 * Transient pressure: the Store or an API asked us to slow down or could not be reached for a
 * moment. Nothing the caller sent was wrong, so the answer is HTTP 503 with Retry-After, never a
 * 500: clients and gateways retry a 503 after the delay, and the same call may then succeed.
 */

/** Seconds a client is asked to wait; short, since the causes (throttling, a reset) pass quickly. */
export const RETRY_AFTER_SECONDS = 2;

/** Names AWS SDK v3 and Node give to throttling, capacity and timeout failures. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'TransactionConflictException',
  'TimeoutError',
]);
/** Socket-level failures (Node and undici codes). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** HTTP statuses that mean "later": too many requests, bad gateway, unavailable, gateway timeout. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Whether `err` (or an error in its `cause` chain) is transient pressure: the Store port's
 * StoreUnavailableError, a Kubernetes API answer of 429/502/503/504 or no answer at all, an AWS SDK
 * throttling error (by name, `$retryable`, or a 429/503 `$metadata.httpStatusCode`), a socket error.
 */
export function isTransient(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === 'object'; depth++) {
    if (e instanceof StoreUnavailableError) return true;
    if (e instanceof KubeApiError) return e.status === 0 || TRANSIENT_STATUSES.has(e.status);
    const x = e as {
      name?: unknown;
      code?: unknown;
      status?: unknown;
      statusCode?: unknown;
      $retryable?: unknown;
      $metadata?: { httpStatusCode?: unknown };
      cause?: unknown;
    };
    if (typeof x.name === 'string' && TRANSIENT_NAMES.has(x.name)) return true;
    if (typeof x.code === 'string' && TRANSIENT_CODES.has(x.code)) return true;
    if (x.$retryable !== undefined && x.$retryable !== null) return true;
    for (const s of [x.status, x.statusCode, x.$metadata?.httpStatusCode]) {
      if (typeof s === 'number' && TRANSIENT_STATUSES.has(s)) return true;
    }
    e = x.cause;
  }
  return false;
}
