import * as z from 'zod';
import { powerInstances } from '../../app/cloud/power.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { awsTarget, powerArgs, renderPower } from '../common/instance-power.ts';
import { resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const awsEc2InstancesStartTool = defineTool({
  name: 'aws_ec2_instances_start',
  title: 'Start EC2 instances',
  description:
    'Start stopped EC2 instances by id under the cloud policy; dryRun previews. Protected ones (env=prod) return an approvalId: once someone else approves it, repeat the call with it.',
  group: 'aws',
  access: 'write',
  input: z.object({ ...awsTarget, dryRun: args.dryRun, ...powerArgs }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const o = await powerInstances(ctx.deps, ctx, {
        provider: 'aws',
        action: 'start',
        ...input,
        ids: input.instanceIds,
      });
      return renderPower(o, resultBudget(ctx.deps.config.outputBudgetBytes));
    });
  },
});
