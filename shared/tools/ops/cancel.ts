import type { CallToolResult } from '@modelcontextprotocol/server';
import { cancelOperation, OperationAccessError } from '../../app/operation-access.ts';
import { describeOperation } from '../../app/present.ts';
import { fitRecord, resultBudget } from '../k8s/render.ts';
import { fail, type ToolContext } from '../tool.ts';

/** Cancel (which rolls back) and show the operation; shared by ops_operations_cancel and delivery_rollouts_abort. */
export async function cancelAndDescribe(
  ctx: ToolContext,
  operationId: string,
  reason: string,
  lead: string,
): Promise<CallToolResult> {
  try {
    const op = await cancelOperation(ctx.deps, operationId, ctx.identity, reason);
    const view = describeOperation(op);
    // One that waited for approval ended at once (its approval closed); a running one rolls back first.
    const head = op.status === 'cancelled' ? 'Cancelled.' : lead;
    return fitRecord(`${head}\n${view.text}`, view.structured, resultBudget(ctx.deps.config.outputBudgetBytes));
  } catch (err) {
    if (err instanceof OperationAccessError) return fail(err.message);
    throw err;
  }
}
