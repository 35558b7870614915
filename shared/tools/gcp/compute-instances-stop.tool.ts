import * as z from 'zod';
import { powerInstances } from '../../app/cloud/power.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { gcpTarget, powerArgs, renderPower } from '../common/instance-power.ts';
import { resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const gcpComputeInstancesStopTool = defineTool({
  name: 'gcp_compute_instances_stop',
  title: 'Stop Compute instances',
  description:
    'Stop Compute Engine VMs in one zone under the cloud policy; dryRun previews. Protected ones (env=prod) return an approvalId: once someone else approves it, repeat the call with it.',
  group: 'gcp',
  access: 'write',
  input: z.object({ ...gcpTarget, dryRun: args.dryRun, ...powerArgs }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const o = await powerInstances(ctx.deps, ctx, { provider: 'gcp', action: 'stop', ...input, ids: input.names });
      return renderPower(o, resultBudget(ctx.deps.config.outputBudgetBytes));
    });
  },
});
