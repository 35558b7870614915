import * as z from 'zod';
import { auditedManifest } from '../../app/k8s/manifests.ts';
import { describeOperation } from '../../app/present.ts';
import { startRollout } from '../../app/rollouts/start.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';
import { rolloutInput } from './rollout-input.ts';

export const deliveryRolloutsStartTool = defineTool({
  name: 'delivery_rollouts_start',
  title: 'Start a rollout',
  description:
    'Roll a Deployment to a new image or template progressively, with health gates and automatic rollback. Answers ' +
    'at once with an operationId; risky targets wait for approval. Preview: delivery_rollouts_plan.',
  group: 'delivery',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({ ...rolloutInput, reason: z.string().max(500).optional().describe('Why, for approvers and audit') }),
  output: z.object({ operationId: z.string(), status: z.string() }).passthrough(),
  // The manifest as k8s_resources_apply audits one: the handler's parse, redacted (Secret values,
  // secret-named env and ConfigMap values), never the text under generic masking only.
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { op, prepared: p } = await startRollout(ctx.deps, ctx, input);
      const view = describeOperation(op);
      // How to follow it comes before the record, which is what gives way to the output budget.
      return fitRecord(
        `Started ${p.summary}.\nFollow with delivery_rollouts_get or ops_operations_get (operationId ${op.id}).\n${view.text}`,
        {
          ...view.structured,
          approvalRequired: p.approvalRequired,
          changeHash: p.changeHash,
        },
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});
