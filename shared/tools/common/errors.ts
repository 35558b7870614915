import type { CallToolResult } from '@modelcontextprotocol/server';
import { AppError, describeKubeError, RefusedError } from '../../app/errors.ts';
import { OperationAccessError } from '../../app/operation-access.ts';
import { ApprovalError } from '../../app/repos/approvals.ts';
import { CloudApiError } from '../../ports/cloud.ts';
import { KubeApiError, UnknownClusterError } from '../../ports/kube.ts';
import { fail, result } from '../tool.ts';

/**
 * Runs a tool body and turns the failures a caller can act on into error results, in this one
 * place: a request the use case cannot carry out (AppError), a refused write (its findings as
 * structuredContent), an unknown cluster, an operation the caller may not see or change, an approval
 * that cannot be decided, and API errors (naming the cluster and the call; for a cloud API, the
 * provider and its error code). Anything else is thrown
 * on: the tool wrapper reports it as an internal error.
 */
export async function answer(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof RefusedError) return result(err.message, err.details, true);
    if (
      err instanceof AppError ||
      err instanceof UnknownClusterError ||
      err instanceof OperationAccessError ||
      err instanceof ApprovalError
    )
      return fail(err.message);
    if (err instanceof KubeApiError)
      return fail(describeKubeError(err), {
        cluster: err.cluster,
        call: err.call,
        status: err.status,
        reason: err.reason,
      });
    if (err instanceof CloudApiError)
      return fail(
        `${err.provider.toUpperCase()} refused the call (${err.providerCode ?? err.code}): ${err.message}${CLOUD_HINT[err.code]}`,
        {
          provider: err.provider,
          code: err.code,
          ...(err.providerCode ? { providerCode: err.providerCode } : {}),
        },
      );
    throw err;
  }
}

const CLOUD_HINT: Record<CloudApiError['code'], string> = {
  NotFound: ' Check the id, account/project and region/zone (the list tools show what exists).',
  Forbidden: " The server's cloud role lacks this permission; nothing was changed.",
  InvalidArgument: ' Fix the argument named above and retry.',
  Conflict: ' The resource is in a state that does not allow this now; read it again.',
  Throttled: ' The provider is throttling: retry in a minute.',
  Unavailable: ' The provider could not be reached; retry later.',
  Timeout: ' The call took too long and was abandoned; retry, or ask for less.',
  Internal: ' The provider failed; retry later.',
};
