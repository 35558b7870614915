import * as z from 'zod';
import { describeOperation } from '../../app/present.ts';
import { promoteRollout } from '../../app/rollouts/promote.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const deliveryRolloutsPromoteTool = defineTool({
  name: 'delivery_rollouts_promote',
  title: 'Promote a rollout',
  description:
    'Continue a rollout paused after a step or an inconclusive gate; it resumes within a poll interval. Check ' +
    'delivery_rollouts_get first.',
  group: 'delivery',
  access: 'write',
  input: z.object({ operationId: args.operationId }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    return answer(async () => {
      const view = describeOperation(await promoteRollout(ctx.deps, ctx, input.operationId));
      return fitRecord(
        `Promote requested.\n${view.text}`,
        view.structured,
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});
