import * as z from 'zod';
import { canAccess } from '../../domain/identity.ts';
import { plural } from '../../domain/text.ts';
import { args } from '../common/args.ts';
import { fitFetchedPage, moreLine, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const opsOperationsListTool = defineTool({
  name: 'ops_operations_list',
  title: 'List operations',
  description:
    'Long operations (rollouts), newest first, with status and target. Operators see their own; approvers and ' +
    'admins all. Finds an operationId.',
  group: 'ops',
  access: 'read',
  input: z.object({
    status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']).optional(),
    limit: z.number().int().min(1).max(50).default(20),
    cursor: args.cursor,
  }),
  output: z
    .object({ count: z.number(), items: z.array(z.object({}).passthrough()), cursor: z.string().optional() })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    const all = canAccess(ctx.identity.roles, 'approve') || canAccess(ctx.identity.roles, 'admin');
    const fetch = async (limit: number) => {
      const page = await ctx.deps.operations.list({
        limit,
        ...(all ? {} : { subject: ctx.identity.subject }),
        ...(input.cursor ? { cursor: input.cursor } : {}),
      });
      const items = page.items
        .filter((o) => !input.status || o.status === input.status)
        .map((o) => ({
          operationId: o.id,
          kind: o.kind,
          status: o.status,
          target: `${o.target.cluster}/${o.target.namespace}/${o.target.name}`,
          requester: o.requester.name,
          createdAt: o.createdAt,
          message: o.statusMessage.slice(0, 160),
        }));
      return { items, cursor: page.cursor };
    };
    const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
    return fitFetchedPage(input.limit, budget, fetch, (items, cursor) => {
      const more = cursor ? moreLine('ops_operations_list', 'operations', { token: cursor }, 'cursor') : undefined;
      const head = `${plural(items.length, 'operation')}${more ? `\n${more}` : ''}`;
      return result(`${head}\n${table(['operationId', 'status', 'target', 'requester', 'createdAt'], items)}`, {
        count: items.length,
        items,
        ...(cursor ? { cursor, more } : {}),
      });
    });
  },
});
