import { z } from 'zod';
import { defineTool, fail } from '../../mcp/tool.ts';
import { cancelOperation, OperationAccessError } from '../../workflows/control.ts';
import { describeOperation } from '../../workflows/present.ts';
import { result } from '../k8s/render.ts';

export const deliveryRolloutsAbortTool = defineTool({
  name: 'delivery_rollouts_abort',
  title: 'Abort a rollout',
  description:
    'Stop a rollout and roll it back completely: previous template, replicas and Service selector restored in one ' +
    'idempotent step. Use when a rollout misbehaves; follow with delivery_rollouts_get.',
  group: 'delivery',
  access: 'write',
  input: z.object({ operationId: z.string().min(1), reason: z.string().max(500).optional() }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    try {
      const op = await cancelOperation(ctx.deps, input.operationId, ctx.identity, input.reason ?? 'aborted');
      const view = describeOperation(op);
      return result(`Abort requested; the workflow rolls back at its next step.\n${view.text}`, view.structured);
    } catch (err) {
      if (err instanceof OperationAccessError) return fail(err.message);
      throw err;
    }
  },
});
