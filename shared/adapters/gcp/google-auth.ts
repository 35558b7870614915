import { GoogleAuth } from 'google-auth-library';
import { capText } from '../../domain/bounds.ts';
import { maskSecretsInText } from '../../domain/redact.ts';

/**
 * Google credentials and call errors shared by every GCP adapter, apart from container-client.ts so
 * a function that never calls the Container API (Secret Manager, Workflows, BigQuery, Firestore)
 * does not bundle @google-cloud/container.
 */

/** The scope the Container API and GKE's authenticator accept, as gke-gcloud-auth-plugin requests it. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS or gcloud's ADC file locally, the
 * metadata server (the function's service account) on Cloud Functions and GCE.
 */
export function defaultGoogleAuth(): GoogleAuth {
  return new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
}

const RPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** A failed Google API call: `status` is the RPC status name (PERMISSION_DENIED, NOT_FOUND, ...). */
export class GcpApiError extends Error {
  override readonly name = 'GcpApiError';
  readonly status: string;
  constructor(status: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** Any failure of a call as a GcpApiError with a bounded, secret-free message. */
export function toGcpApiError(err: unknown, what: string): GcpApiError {
  if (err instanceof GcpApiError) return err;
  const e = err as { code?: unknown; message?: unknown };
  let status = typeof e?.code === 'number' ? (RPC_STATUS[e.code] ?? 'UNKNOWN') : 'UNKNOWN';
  // google-gax prefixes REST errors with the numeric code and status ("7 PERMISSION_DENIED: ..."): keep the text.
  let text = typeof e?.message === 'string' ? e.message.replace(/^\d+ [A-Z_]+: /, '') : String(err);
  // Retries run out (only UNAVAILABLE is retried before an answer) as a long DEADLINE_EXCEEDED: say what failed.
  const exhausted = /retrying error (?:Error: )?(.*?) before any response was received/s.exec(text);
  if (exhausted?.[1]) {
    status = 'UNAVAILABLE';
    text = `no answer after retries: ${exhausted[1]}`;
  }
  return new GcpApiError(status, `${what}: ${status}: ${capText(maskSecretsInText(text), 600)}`, { cause: err });
}

/**
 * Settles with `call`, or fails after `timeoutMs` or when `signal` aborts; cancels a google-gax call
 * it gives up on. A hung API or token endpoint never holds the caller longer than that.
 */
export function withDeadline<T>(
  call: Promise<T> & { cancel?: () => void },
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (status: string, message: string) => {
      cleanup();
      call.cancel?.();
      reject(new GcpApiError(status, `${what}: ${status}: ${message}`));
    };
    const onAbort = () => stop('CANCELLED', 'cancelled by the caller');
    const timer = setTimeout(() => stop('DEADLINE_EXCEEDED', `no answer within ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    call.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(toGcpApiError(err, what));
      },
    );
  });
}
