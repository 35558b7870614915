import * as z from 'zod';
import { powerInstances } from '../../app/cloud/power.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { gcpTarget, powerArgs, renderPower } from '../common/instance-power.ts';
import { resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const gcpComputeInstancesStartTool = defineTool({
  name: 'gcp_compute_instances_start',
  title: 'Start Compute instances',
  description:
    'Start stopped Compute Engine VMs in one zone under the cloud policy; dryRun previews. Protected ones (env=prod) return an approvalId: once someone else approves it, repeat the call with it.',
  group: 'gcp',
  access: 'write',
  input: z.object({ ...gcpTarget, dryRun: args.dryRun, ...powerArgs }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const o = await powerInstances(ctx.deps, ctx, { provider: 'gcp', action: 'start', ...input, ids: input.names });
      return renderPower(o, resultBudget(ctx.deps.config.outputBudgetBytes));
    });
  },
});
