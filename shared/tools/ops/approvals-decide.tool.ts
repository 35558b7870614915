import * as z from 'zod';
import { decideApproval } from '../../app/approvals.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const opsApprovalsDecideTool = defineTool({
  name: 'ops_approvals_decide',
  title: 'Approve or reject',
  description:
    "Approve or reject someone else's pending change, with a reason and the changeHash you reviewed " +
    '(ops_approvals_list); a change modified since needs a new review. Closed ones cannot be decided.',
  group: 'ops',
  access: 'approve',
  input: z.object({
    operationId: args.operationId,
    decision: z.enum(['approve', 'reject']),
    reason: z.string().min(3).max(500),
    changeHash: z
      .string()
      .max(64)
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(input, ctx) {
    return answer(async () => {
      // The tool wrapper audits this call: no DecisionAudit here.
      const a = await decideApproval(ctx.deps, {
        operationId: input.operationId,
        approver: ctx.identity,
        decision: input.decision,
        reason: input.reason,
        ...(input.changeHash ? { changeHash: input.changeHash } : {}),
      });
      return fitRecord(
        `${a.status === 'approved' ? 'Approved' : 'Rejected'} ${a.operationId}; the operation continues within one poll interval.\nChange: ${a.summary}`,
        {
          operationId: a.operationId,
          status: a.status,
          decidedBy: a.decision?.by.name,
        },
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});
