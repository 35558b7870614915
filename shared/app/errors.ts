import { KubeApiError } from '../ports/kube.ts';

/**
 * A request a use case cannot carry out as asked (a bad argument, a missing object, a limit met):
 * the message says what went wrong and what to do. Every channel shows it to the caller as it is.
 */
export class AppError extends Error {
  override name = 'AppError';
}

/**
 * A write the guardrails (or a conflicting writer) stopped before anything changed. `message` is
 * the verdict for a person or model; `details` the same as data (findings, cluster, object).
 */
export interface Refusal {
  message: string;
  details: Record<string, unknown>;
}

/** Thrown by a use case whose request was refused: nothing was changed. */
export class RefusedError extends Error {
  override name = 'RefusedError';
  readonly details: Record<string, unknown>;
  constructor(refusal: Refusal) {
    super(refusal.message);
    this.details = refusal.details;
  }
}

/** A Kubernetes API failure as a caller can act on it: the server's message, its causes, and what to do. */
export function describeKubeError(err: KubeApiError): string {
  const hint: Record<string, string> = {
    NotFound: 'Check the name, namespace and kind (k8s_resources_list shows what exists).',
    AlreadyExists: 'The object exists; use k8s_resources_apply to update it.',
    Conflict: 'The object changed meanwhile or another manager owns the field; read it again and retry.',
    Invalid: 'Fix the fields named above and retry.',
    Forbidden: "The cluster's RBAC denies this to the identity the server acts as (yours with K8S_IMPERSONATE).",
    Unauthorized: "The server's credentials for this cluster were refused.",
    Timeout: 'The API server is slow or unreachable; retry later or check the cluster.',
    Unreachable: 'Check that the cluster is up and reachable from the server.',
    TooManyRequests: 'The API server is throttling; retry in a few seconds.',
    InternalError: 'The API server failed; retry, and check its health if it persists.',
    ServiceUnavailable: 'The API server (or an aggregated API) is unavailable; retry later.',
  };
  const causes = causesOf(err.details);
  return `${err.message}${causes ? `\n${causes}` : ''}\n${unknownFieldHint(err) ?? hint[err.reason] ?? ''}`.trim();
}

/**
 * Server-side apply of a manifest with a field the type's schema lacks fails with a plain 500
 * (`failed to create typed patch object (...): .spec.replica: field not declared in schema`,
 * kubernetes/kubernetes#122480): the caller's mistake, which a retry repeats, not a server failure.
 */
function unknownFieldHint(err: KubeApiError): string | undefined {
  const m = /:\s*\.?([^\s:][^:]*?):\s*field not declared in schema/.exec(err.message);
  if (!m) return undefined;
  const field = (m[1] ?? '').slice(0, 200);
  return `The manifest has a field the ${field ? '' : 'API '}schema does not declare${field ? `: ${field}` : ''}. Fix the manifest (check the field's spelling, its place and the apiVersion; kubectl explain shows the schema) and send it again: retrying it unchanged fails the same way.`;
}

function causesOf(details: unknown): string {
  const causes = (details as { causes?: Array<{ field?: string; message?: string }> } | undefined)?.causes;
  if (!Array.isArray(causes) || causes.length === 0) return '';
  return causes
    .slice(0, 10)
    .map((c) => `- ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`)
    .join('\n');
}

/** The message of an expected failure (API error, refused request); anything else is rethrown. */
export function expectedFailureText(err: unknown): string {
  if (err instanceof KubeApiError) return describeKubeError(err);
  if (err instanceof AppError) return err.message;
  throw err;
}
