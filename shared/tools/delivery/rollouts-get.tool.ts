import * as z from 'zod';
import { visibleOperation } from '../../app/operation-access.ts';
import { describeOperation } from '../../app/present.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool, fail } from '../tool.ts';

export const deliveryRolloutsGetTool = defineTool({
  name: 'delivery_rollouts_get',
  title: 'Rollout progress',
  description:
    'Where a rollout stands: step, weight, last gate measurements, what it waits for, the actions allowed next.',
  group: 'delivery',
  access: 'read',
  input: z.object({ operationId: args.operationId }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    return answer(async () => {
      const op = await visibleOperation(ctx.deps, input.operationId, ctx.identity);
      if (op.kind !== 'rollout') return fail(`${op.id} is not a rollout`);
      const view = describeOperation(op);
      const gate = op.progress.gate as { verdict?: string; reason?: string } | undefined;
      const extra = [
        op.progress.currentStep ? `Current: ${op.progress.currentStep} (weight ${op.progress.weight ?? 0}%)` : '',
        gate ? `Last gate: ${gate.verdict} — ${gate.reason}` : '',
      ].filter(Boolean);
      // The summary line, then where it stands, then the steps: when a large record (long status or
      // step messages) is cut to the output budget, it is cut from the end, so the summary stays.
      const [head, ...rest] = view.text.split('\n');
      return fitRecord(
        [head, ...extra, ...rest].join('\n'),
        view.structured,
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});
