import { z } from 'zod';
import { canControlOperation, OperationAccessError, visibleOperation } from '../../app/operation-access.ts';
import { describeOperation } from '../../app/present.ts';
import { args } from '../k8s/common.ts';
import { fitRecord, resultBudget } from '../k8s/render.ts';
import { defineTool, fail } from '../tool.ts';

export const deliveryRolloutsPromoteTool = defineTool({
  name: 'delivery_rollouts_promote',
  title: 'Promote a paused rollout',
  description:
    'Continue a rollout that paused after a step or on an inconclusive gate. Check delivery_rollouts_get first; ' +
    'the rollout goes on within one poll interval.',
  group: 'delivery',
  access: 'write',
  input: z.object({ operationId: args.operationId }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    try {
      const op = await visibleOperation(ctx.deps, input.operationId, ctx.identity);
      if (!canControlOperation(op, ctx.identity)) return fail(`only the requester or an admin may promote ${op.id}`);
      if (op.status !== 'input_required' || !op.progress.pausedFor) {
        return fail(`${op.id} is not paused (status ${op.status}: ${op.statusMessage}); nothing to promote`);
      }
      const seenStep = op.progress.stepIndex ?? 0;
      let stale = false;
      const updated = await ctx.deps.operations.update(op.id, (o) => {
        // Checked again inside the compare-and-set: the pause the caller saw may have ended (or moved
        // to the next step) since the read above, and a promote must only continue that pause.
        if (o.status !== 'input_required' || !o.progress.pausedFor || (o.progress.stepIndex ?? 0) !== seenStep) {
          stale = true;
          return 'skip';
        }
        stale = false;
        o.requests.promote = {
          by: ctx.identity.name,
          at: new Date(ctx.deps.clock.now()).toISOString(),
          step: seenStep,
        };
        o.statusMessage = `promote requested by ${ctx.identity.name}`;
        return undefined;
      });
      if (stale) {
        return fail(
          `${op.id} is no longer paused where you saw it (status ${updated.status}: ${updated.statusMessage}); check delivery_rollouts_get and promote again if it is paused`,
        );
      }
      const view = describeOperation(updated);
      return fitRecord(
        `Promote requested.\n${view.text}`,
        view.structured,
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    } catch (err) {
      if (err instanceof OperationAccessError) return fail(err.message);
      throw err;
    }
  },
});
