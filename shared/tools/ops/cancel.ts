import type { CallToolResult } from '@modelcontextprotocol/server';
import { cancelOperation } from '../../app/operation-access.ts';
import { describeOperation } from '../../app/present.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import type { ToolContext } from '../tool.ts';

/** Cancel (which rolls back) and show the operation; shared by ops_operations_cancel and delivery_rollouts_abort. */
export async function cancelAndDescribe(
  ctx: ToolContext,
  operationId: string,
  reason: string,
  lead: string,
): Promise<CallToolResult> {
  return answer(async () => {
    const op = await cancelOperation(ctx.deps, operationId, ctx.identity, reason);
    const view = describeOperation(op);
    // One that waited for approval ended at once (its approval closed); a running one rolls back first.
    const head = op.status === 'cancelled' ? 'Cancelled.' : lead;
    return fitRecord(`${head}\n${view.text}`, view.structured, resultBudget(ctx.deps.config.outputBudgetBytes));
  });
}
