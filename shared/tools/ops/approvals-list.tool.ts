import { z } from 'zod';
import { canAccess } from '../../domain/identity.ts';
import { defineTool } from '../../mcp/tool.ts';
import { result, table } from '../k8s/render.ts';

export const opsApprovalsListTool = defineTool({
  name: 'ops_approvals_list',
  title: 'List approvals',
  description:
    'Changes waiting for (or decided by) a human approver: what, who asked, why, change hash, expiry. Approvers ' +
    'see all; others their own requests. Use before ops_approvals_decide.',
  group: 'ops',
  access: 'read',
  input: z.object({
    status: z.enum(['pending', 'approved', 'rejected', 'expired']).default('pending'),
    limit: z.number().int().min(1).max(50).default(20),
  }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const all = canAccess(ctx.identity.roles, 'approve');
    const page = await ctx.deps.approvals.list({ status: input.status, limit: input.limit });
    const items = page.items
      .filter((a) => all || a.requester.subject === ctx.identity.subject)
      .map((a) => ({
        operationId: a.operationId,
        status: a.status,
        summary: a.summary,
        requester: a.requester.name,
        reason: a.reason,
        changeHash: a.changeHash,
        expiresAt: a.expiresAt,
        ...(a.decision ? { decidedBy: a.decision.by.name, decisionReason: a.decision.reason } : {}),
      }));
    return result(
      `${items.length} ${input.status} approvals\n${table(['operationId', 'requester', 'expiresAt', 'changeHash', 'reason', 'summary'], items)}`,
      {
        count: items.length,
        items,
      },
    );
  },
});
