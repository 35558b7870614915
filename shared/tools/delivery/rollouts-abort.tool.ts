import * as z from 'zod';
import { args } from '../common/args.ts';
import { cancelAndDescribe } from '../ops/cancel.ts';
import { defineTool } from '../tool.ts';

export const deliveryRolloutsAbortTool = defineTool({
  name: 'delivery_rollouts_abort',
  title: 'Abort a rollout',
  description:
    'Stop a rollout and roll it back completely (template, replicas, Service selector) in one idempotent step.',
  group: 'delivery',
  access: 'write',
  input: z.object({ operationId: args.operationId, reason: z.string().max(500).optional() }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return cancelAndDescribe(
      ctx,
      input.operationId,
      input.reason ?? 'aborted',
      'Abort requested; the workflow rolls back at its next step.',
    );
  },
});
