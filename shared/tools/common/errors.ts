import type { CallToolResult } from '@modelcontextprotocol/server';
import { AppError, describeKubeError, RefusedError } from '../../app/errors.ts';
import { OperationAccessError } from '../../app/operation-access.ts';
import { ApprovalError } from '../../app/repos/approvals.ts';
import { KubeApiError, UnknownClusterError } from '../../ports/kube.ts';
import { fail, result } from '../tool.ts';

/**
 * Runs a tool body and turns the failures a caller can act on into error results, in this one
 * place: a request the use case cannot carry out (AppError), a refused write (its findings as
 * structuredContent), an unknown cluster, an operation the caller may not see or change, an approval
 * that cannot be decided, and API errors (naming the cluster and the call). Anything else is thrown
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
    throw err;
  }
}
