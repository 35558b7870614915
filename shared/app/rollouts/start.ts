import { ROLLOUT_LIMITS, templateHash } from '../../domain/rollout-plan.ts';
import type { RolloutOpPlan } from '../../workflows/rollout-record.ts';
import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { RefusedError } from '../errors.ts';
import { Leases, type Operation } from '../repos/operations.ts';
import { type PreparedRollout, prepareRollout, type RolloutRequest, refusalText } from './prepare.ts';

const TTL_SECONDS = 7 * 86_400;
const POLL_MS = 5000;

export interface StartRolloutRequest extends RolloutRequest {
  /** Why, for approvers and the audit trail. */
  reason?: string | undefined;
}

/**
 * Starts a rollout as a long operation: works it out (as plan does), refuses it when the guardrails
 * do or another operation holds the target, then takes the target's lease, records the operation
 * (and its approval request when one is needed) and starts the workflow. Answers at once; the
 * workflow runs the steps. A workflow that cannot be started leaves the operation failed and the
 * lease released.
 */
export async function startRollout(
  deps: Deps,
  call: Pick<Call, 'identity' | 'parsed'>,
  input: StartRolloutRequest,
): Promise<{ op: Operation; prepared: PreparedRollout }> {
  const p = await prepareRollout(deps, call, input);
  if (!p.verdict.allowed) {
    throw new RefusedError({ message: refusalText(p), details: { refused: true, findings: p.verdict.findings } });
  }
  const id = deps.operations.newId();
  const targetRef = { cluster: p.t.cluster, namespace: p.namespace, kind: 'Deployment', name: input.name };
  const lease = Leases.key(targetRef);
  // The lease outlives the longest possible execution (its TimeoutSeconds): it cannot expire while
  // the workflow may still run. Every way the workflow ends releases it earlier.
  const got = await deps.leases.acquire(lease, id, ROLLOUT_LIMITS.leaseTtlSeconds);
  if (!got.ok) {
    throw new RefusedError({
      message: `Another operation (${got.holder}) is running on deployment ${p.namespace}/${input.name}; one operation per target at a time. Follow it with ops_operations_get or cancel it.`,
      details: { refused: true, runningOperationId: got.holder },
    });
  }
  // Roles and method too: with K8S_IMPERSONATE the rollout's steps act on the cluster as this caller.
  const requester = {
    subject: call.identity.subject,
    name: call.identity.name,
    roles: [...call.identity.roles],
    method: call.identity.method,
  };
  const { reason, ...request } = input;
  let op: Operation;
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
      // The record the steps parse back with RolloutOpPlanSchema (shared/workflows/rollout-record.ts).
      plan: {
        ...({
          ...p.plan,
          baseTemplateHash: templateHash((p.live.spec as Record<string, unknown> | undefined)?.template),
        } satisfies RolloutOpPlan),
      },
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
      o.execution = { engine: deps.workflows.name, id: started.executionId };
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
  return { op, prepared: p };
}
