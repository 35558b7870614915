import * as z from 'zod';
import { args } from '../common/args.ts';
import { defineTool } from '../tool.ts';
import { cancelAndDescribe } from './cancel.ts';

export const opsOperationsCancelTool = defineTool({
  name: 'ops_operations_cancel',
  title: 'Cancel an operation',
  description:
    'Cancel a long operation: awaiting approval, it ends without changes; running, it stops and rolls back its ' +
    'changes. Requester or admin only.',
  group: 'ops',
  access: 'write',
  input: z.object({ operationId: args.operationId, reason: z.string().max(500).optional() }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return cancelAndDescribe(ctx, input.operationId, input.reason ?? 'cancelled', 'Cancel requested.');
  },
});
