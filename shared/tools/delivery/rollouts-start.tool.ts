import { z } from 'zod';
import { describeOperation } from '../../app/present.ts';
import { Leases } from '../../app/repos/operations.ts';
import { ROLLOUT_LIMITS, templateHash } from '../../domain/rollout-plan.ts';
import { auditedManifest, kubeTool } from '../k8s/common.ts';
import { fitRecord, result, resultBudget } from '../k8s/render.ts';
import { defineTool } from '../tool.ts';
import { prepareRollout, refusalText, rolloutInput } from './rollout-request.ts';

const TTL_SECONDS = 7 * 86_400;
const POLL_MS = 5000;

export const deliveryRolloutsStartTool = defineTool({
  name: 'delivery_rollouts_start',
  title: 'Start a rollout',
  description:
    'Roll a Deployment to a new image or template progressively (rolling, blueGreen or canary) with health gates ' +
    'and automatic rollback, as a long operation: answers at once with an operationId (or an MCP task). Risky ' +
    'targets wait for a human approver. Preview with delivery_rollouts_plan.',
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
    return kubeTool(async () => {
      const p = await prepareRollout(ctx, input);
      if (!p.verdict.allowed) {
        return result(refusalText(p), { refused: true, findings: p.verdict.findings }, true);
      }
      const deps = ctx.deps;
      const id = deps.operations.newId();
      const targetRef = { cluster: p.t.cluster, namespace: p.namespace, kind: 'Deployment', name: input.name };
      const lease = Leases.key(targetRef);
      // The lease outlives the longest possible execution (its TimeoutSeconds): it cannot expire while
      // the workflow may still run. Every way the workflow ends releases it earlier.
      const got = await deps.leases.acquire(lease, id, ROLLOUT_LIMITS.leaseTtlSeconds);
      if (!got.ok) {
        return result(
          `Another operation (${got.holder}) is running on deployment ${p.namespace}/${input.name}; one operation per target at a time. Follow it with ops_operations_get or cancel it.`,
          { refused: true, runningOperationId: got.holder },
          true,
        );
      }
      const requester = { subject: ctx.identity.subject, name: ctx.identity.name };
      const { reason, ...request } = input;
      let op: Awaited<ReturnType<typeof deps.operations.create>>;
      try {
        op = await deps.operations.create({
          id,
          kind: 'rollout',
          target: targetRef,
          requester,
          status: p.approvalRequired ? 'input_required' : 'working',
          statusMessage: p.approvalRequired ? `waiting for approval: ${p.approvalReason}` : 'starting',
          input: { ...request, ...(input.manifest ? { manifest: '(template stored in plan)' } : {}) },
          changeHash: p.changeHash,
          steps: p.plan.steps.map((s) => ({ name: s.name, status: 'pending' as const })),
          progress: {
            nextActions: p.approvalRequired
              ? ['ops_approvals_decide (by another person)', 'ops_operations_cancel']
              : ['delivery_rollouts_get', 'delivery_rollouts_abort'],
          },
          requests: {},
          approval: { required: p.approvalRequired, ...(p.approvalReason ? { reason: p.approvalReason } : {}) },
          plan: {
            ...p.plan,
            baseTemplateHash: templateHash((p.live.spec as Record<string, unknown> | undefined)?.template),
          } as unknown as Record<string, unknown>,
          lease,
          deadline: new Date(deps.clock.now() + ROLLOUT_LIMITS.deadlineSeconds * 1000).toISOString(),
          ttlSeconds: TTL_SECONDS,
          pollIntervalMs: POLL_MS,
        });
        if (p.approvalRequired) {
          await deps.approvals.request({
            operationId: id,
            summary: p.summary,
            changeHash: p.changeHash,
            requester,
            reason: reason ?? '',
            ttlSeconds: Math.min(deps.policy.approvals.ttlSeconds, ROLLOUT_LIMITS.maxApprovalTtlSeconds),
          });
        }
      } catch (err) {
        // Nothing runs yet: the lease must not outlive this failed start.
        await deps.operations
          .update(id, (o) => {
            o.status = 'failed';
            o.statusMessage = `could not start: ${(err as Error).message}`;
            return undefined;
          })
          .catch(() => undefined);
        await deps.leases.release(lease, id);
        throw err;
      }
      try {
        const started = await deps.workflows.start('rollout', id, { operationId: id });
        op = await deps.operations.update(id, (o) => {
          o.execution = { engine: deps.workflows.kind, id: started.executionId };
          return undefined;
        });
      } catch (err) {
        op = await deps.operations.update(id, (o) => {
          o.status = 'failed';
          o.statusMessage = `could not start the workflow: ${(err as Error).message}`;
          return undefined;
        });
        await deps.leases.release(lease, id);
      }
      const view = describeOperation(op);
      // How to follow it comes before the record, which is what gives way to the output budget.
      return fitRecord(
        `Started ${p.summary}.\nFollow with delivery_rollouts_get or ops_operations_get (operationId ${id}).\n${view.text}`,
        {
          ...view.structured,
          approvalRequired: p.approvalRequired,
          changeHash: p.changeHash,
        },
        resultBudget(deps.config.outputBudgetBytes),
      );
    });
  },
});
