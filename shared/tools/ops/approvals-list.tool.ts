import * as z from 'zod';
import { canAccess } from '../../domain/identity.ts';
import { args } from '../common/args.ts';
import { capCells, cellCap, fitFetchedPage, moreLine, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const opsApprovalsListTool = defineTool({
  name: 'ops_approvals_list',
  title: 'List approvals',
  description:
    'Changes awaiting (or decided by) an approver: what, who asked, why, changeHash, expiry. Approvers see all; ' +
    'others their own. `closed`: the operation ended first.',
  group: 'ops',
  access: 'read',
  input: z.object({
    status: z.enum(['pending', 'approved', 'rejected', 'expired', 'closed']).default('pending'),
    limit: z.number().int().min(1).max(50).default(20),
    cursor: args.cursor,
  }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const all = canAccess(ctx.identity.roles, 'approve');
    const fetch = async (limit: number) => {
      const page = await ctx.deps.approvals.list({
        status: input.status,
        limit,
        ...(input.cursor ? { cursor: input.cursor } : {}),
      });
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
          // Why nobody can decide it any more: how its operation ended, and when.
          ...(a.closed
            ? { closedAt: a.closed.at, operationStatus: a.closed.operationStatus, closedBecause: a.closed.reason }
            : {}),
        }))
        .map((row) => capCells(row, cellCap(budget)));
      return { items, cursor: page.cursor };
    };
    const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
    return fitFetchedPage(input.limit, budget, fetch, (items, cursor) => {
      const more = cursor ? moreLine('ops_approvals_list', 'approvals', { token: cursor }, 'cursor') : undefined;
      const head = `${items.length} ${input.status} approvals${more ? `\n${more}` : ''}`;
      const cols =
        input.status === 'closed'
          ? ['operationId', 'requester', 'closedAt', 'closedBecause', 'reason', 'summary']
          : ['operationId', 'requester', 'expiresAt', 'changeHash', 'reason', 'summary'];
      return result(`${head}\n${table(cols, items)}`, {
        count: items.length,
        items,
        ...(cursor ? { cursor, more } : {}),
      });
    });
  },
});
