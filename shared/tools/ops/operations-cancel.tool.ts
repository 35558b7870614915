import { z } from 'zod';
import { defineTool, fail } from '../../mcp/tool.ts';
import { cancelOperation, OperationAccessError } from '../../workflows/control.ts';
import { describeOperation } from '../../workflows/present.ts';
import { result } from '../k8s/render.ts';

export const opsOperationsCancelTool = defineTool({
  name: 'ops_operations_cancel',
  title: 'Cancel an operation',
  description:
    'Cancel a long operation: one waiting for approval ends without changes; a running one stops and rolls back ' +
    'what it changed. Requester or admin only.',
  group: 'ops',
  access: 'write',
  input: z.object({ operationId: z.string().min(1), reason: z.string().max(500).optional() }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    try {
      const op = await cancelOperation(ctx.deps, input.operationId, ctx.identity, input.reason ?? 'cancelled');
      const view = describeOperation(op);
      return result(`Cancel requested.\n${view.text}`, view.structured);
    } catch (err) {
      if (err instanceof OperationAccessError) return fail(err.message);
      throw err;
    }
  },
});
