import * as z from 'zod';
import { OperationAccessError, visibleOperation } from '../../app/operation-access.ts';
import { describeOperation } from '../../app/present.ts';
import { args } from '../common/args.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool, fail } from '../tool.ts';

export const opsOperationsGetTool = defineTool({
  name: 'ops_operations_get',
  title: 'Get an operation',
  description:
    'Status, steps and result of a long operation. Without MCP tasks, poll a started one with this every ' +
    'pollIntervalMs.',
  group: 'ops',
  access: 'read',
  input: z.object({ operationId: args.operationId }),
  output: z
    .object({ operationId: z.string(), status: z.string(), steps: z.array(z.object({}).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    try {
      const view = describeOperation(await visibleOperation(ctx.deps, input.operationId, ctx.identity));
      return fitRecord(view.text, view.structured, resultBudget(ctx.deps.config.outputBudgetBytes));
    } catch (err) {
      if (err instanceof OperationAccessError) return fail(err.message);
      throw err;
    }
  },
});
