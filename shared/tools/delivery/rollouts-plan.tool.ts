import * as z from 'zod';
import { auditedManifest } from '../../app/k8s/manifests.ts';
import { planRollout } from '../../app/rollouts/plan.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool } from '../tool.ts';
import { rolloutInput } from './rollout-input.ts';

export const deliveryRolloutsPlanTool = defineTool({
  name: 'delivery_rollouts_plan',
  title: 'Plan a rollout',
  description:
    'Preview a rollout, changing nothing: steps, gates (and whether each can be evaluated), expected duration, ' +
    'guardrail findings, approval need.',
  group: 'delivery',
  access: 'read',
  input: z.object(rolloutInput),
  output: z
    .object({ strategy: z.string(), steps: z.array(z.object({}).passthrough()), approvalRequired: z.boolean() })
    .passthrough(),
  // The manifest as k8s_resources_apply audits one: the handler's parse, redacted (Secret values,
  // secret-named env and ConfigMap values), never the text under generic masking only.
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const { prepared: p, metricGates } = await planRollout(ctx.deps, ctx, input);
      const findings = p.verdict.findings;
      const lines = [
        `${p.verdict.allowed ? 'Plan' : 'REFUSED'}: ${p.summary}`,
        ...p.plan.steps.map((s, i) => `${i + 1}. ${s.name}${s.pause ? ' (pause for promote)' : ''}`),
        `Gates: kubectl rollout rules, all new pods Ready, no CrashLoopBackOff/ImagePullBackOff, restarts <= ${p.plan.gates.maxRestarts}, ` +
          `deadline ${p.plan.gates.progressDeadlineSeconds} s${metricGates.map((m) => `; metric ${m.name}: ${m.evaluable ? 'evaluable' : `NOT evaluable (${m.why})`}`).join('')}`,
        `Expected about ${p.plan.expectedSeconds} s when every gate passes at once; rollback on failure restores template and traffic.`,
        p.approvalRequired ? `Needs approval: ${p.approvalReason}.` : 'No approval needed.',
        ...findings.map((f) => `[${f.mode}] ${f.ruleId} at ${f.path}: ${f.message}`),
      ];
      return fitRecord(
        lines.join('\n'),
        {
          strategy: p.plan.strategy,
          steps: p.plan.steps,
          gates: { ...p.plan.gates, metrics: metricGates },
          expectedSeconds: p.plan.expectedSeconds,
          approvalRequired: p.approvalRequired,
          ...(p.approvalReason ? { approvalReason: p.approvalReason } : {}),
          allowed: p.verdict.allowed,
          findings,
          changeHash: p.changeHash,
        },
        resultBudget(ctx.deps.config.outputBudgetBytes),
      );
    });
  },
});
