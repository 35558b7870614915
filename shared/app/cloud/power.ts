import { randomUUID } from 'node:crypto';
import { mapBounded } from '../../domain/concurrency.ts';
import {
  type CloudFinding,
  type CloudProvider,
  type CloudWriteIntent,
  cloudChangeHash,
  defaultCloudPolicy,
  evaluateCloudWrite,
  formatCloudVerdict,
  type PowerAction,
  type ProtectedMatch,
  powerStep,
} from '../../domain/guardrails/cloud.ts';
import { plural } from '../../domain/text.ts';
import {
  type AwsInventory,
  type AwsScope,
  CloudApiError,
  type GcpInventory,
  type InstanceStateChange,
} from '../../ports/cloud.ts';
import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { AppError, RefusedError } from '../errors.ts';
import { type Approval, ApprovalError } from '../repos/approvals.ts';
import { awsScope, gcpProject } from './scope.ts';

/*
 * Starting and stopping EC2 and Compute Engine instances, guarded: the scope is resolved against the
 * configuration, every instance is read first and judged with its tags against the policy's `cloud:`
 * section, instances already in the target state are left alone, a protected instance waits for
 * someone else's approval (bound to the change hash, used exactly once), and a dry run changes
 * nothing (on AWS it asks EC2's own DryRun whether the server may do it).
 */

export type PowerRequest = {
  action: PowerAction;
  dryRun?: boolean | undefined;
  /** An approved `cloud-` approval for exactly this change, from an earlier call. */
  approvalId?: string | undefined;
  /** Why, for the approver. */
  reason?: string | undefined;
  /** EC2 instance ids or Compute instance names, distinct. */
  ids: string[];
} & (
  | { provider: 'aws'; account?: string | undefined; region?: string | undefined }
  | { provider: 'gcp'; project?: string | undefined; zone: string }
);

export interface InstanceLine {
  id: string;
  state: string;
  /** `act`: would be (or was) changed; `skip`: already in (or on its way to) the target state. */
  step: 'act' | 'skip';
}

interface PowerCommon {
  provider: CloudProvider;
  action: PowerAction;
  /** `account/region` or `project/zone`. */
  scope: string;
  instances: InstanceLine[];
  /** Protected instances among those that would change. */
  protectedBy: ProtectedMatch[];
  changeHash: string;
}

export type PowerOutcome =
  | (PowerCommon & {
      kind: 'preview';
      approvalRequired: boolean;
      /** The approval named, checked (approved, unexpired, the caller's, this change) and not used. */
      approvalId?: string;
      /** The provider's own check of the request (EC2 DryRun), or why there is none. */
      providerCheck: { ran: boolean; ok: boolean; message: string; code?: string };
    })
  | (PowerCommon & { kind: 'approval_required'; approval: Approval })
  | (PowerCommon & {
      kind: 'done';
      changes: Array<InstanceStateChange & { operation?: string }>;
      /** GCP acts per instance: the one that failed, and those not tried after it. */
      failed?: { id: string; code: string; message: string };
      notAttempted?: string[];
      /** The approval this call used. */
      approvalId?: string;
    });

type Target =
  | { provider: 'aws'; aws: AwsInventory; scope: AwsScope; owner: string; location: string }
  | { provider: 'gcp'; gcp: GcpInventory; owner: string; location: string };

const READ_CONCURRENCY = 8;
const NOUN: Record<CloudProvider, string> = { aws: 'EC2 instance', gcp: 'Compute instance' };

/** Starts or stops instances of one provider, as described at the top of this file. */
export async function powerInstances(
  deps: Deps,
  call: Pick<Call, 'identity' | 'requestId' | 'signal'>,
  req: PowerRequest,
): Promise<PowerOutcome> {
  const signal = call.signal;
  const policy = deps.policy.cloud ?? defaultCloudPolicy();
  const dupes = req.ids.filter((id, i) => req.ids.indexOf(id) !== i);
  if (dupes.length > 0) throw new AppError(`instances named twice: ${[...new Set(dupes)].join(', ')}; name each once`);
  if (req.ids.length === 0) throw new AppError('name at least one instance');

  const target: Target =
    req.provider === 'aws'
      ? await awsScope(deps.cloud, req, signal).then(({ aws, scope }) => ({
          provider: 'aws' as const,
          aws,
          scope,
          owner: scope.account,
          location: scope.region,
        }))
      : (() => {
          const { gcp, project } = gcpProject(deps.cloud, req.project);
          return { provider: 'gcp' as const, gcp, owner: project, location: req.zone };
        })();
  const scope = `${target.owner}/${target.location}`;
  const intent: CloudWriteIntent = {
    provider: req.provider,
    action: req.action,
    owner: target.owner,
    location: target.location,
    ids: req.ids,
  };
  // Scope rules first: nothing is read from an account the policy closes.
  refuseUnlessAllowed(evaluateCloudWrite(intent, policy).findings, req, scope);

  const read =
    target.provider === 'aws'
      ? (await target.aws.getInstances(target.scope, req.ids, signal)).map((i) => ({
          id: i.id,
          state: i.state,
          tags: i.tags,
        }))
      : await mapBounded(req.ids, READ_CONCURRENCY, async (name) => {
          const i = await target.gcp.getInstance(target.owner, target.location, name, signal);
          return { id: name, state: i.status, tags: i.labels };
        });
  const verdict = evaluateCloudWrite({ ...intent, instances: read }, policy);
  refuseUnlessAllowed(verdict.findings, req, scope);

  const lines: InstanceLine[] = [];
  const stuck: string[] = [];
  for (const i of read) {
    const s = powerStep(req.provider, req.action, i.state);
    if (s.kind === 'refuse') stuck.push(`${i.id}: ${s.why}`);
    else lines.push({ id: i.id, state: i.state, step: s.kind });
  }
  if (stuck.length > 0) {
    throw new AppError(
      `cannot ${req.action} ${plural(stuck.length, 'instance')} in ${scope}; nothing was changed:\n${stuck.join('\n')}\nLeave ${stuck.length === 1 ? 'it' : 'them'} out of the call, or wait and retry.`,
    );
  }
  const toAct = lines.filter((l) => l.step === 'act').map((l) => l.id);
  const protectedBy = verdict.protectedBy.filter((p) => toAct.includes(p.instance));
  const changeHash = cloudChangeHash({ provider: req.provider, scope, action: req.action, ids: req.ids });
  const common: PowerCommon = {
    provider: req.provider,
    action: req.action,
    scope,
    instances: lines,
    protectedBy,
    changeHash,
  };

  const approvalId = req.approvalId;
  // An approval named is checked even when nothing is left to change (or this is a dry run): one for
  // another change, or not yet approved, is a mistake to report before the real call.
  if (approvalId !== undefined) await checkApproval(deps, call, approvalId, changeHash);

  if (req.dryRun) {
    let providerCheck: Extract<PowerOutcome, { kind: 'preview' }>['providerCheck'];
    if (toAct.length === 0) providerCheck = { ran: false, ok: true, message: 'nothing would change' };
    else if (target.provider === 'aws') {
      try {
        await target.aws.powerInstances(target.scope, req.action, toAct, {
          dryRun: true,
          ...(signal ? { signal } : {}),
        });
        providerCheck = { ran: true, ok: true, message: `EC2 DryRun: the server may ${req.action} these instances` };
      } catch (err) {
        if (!(err instanceof CloudApiError)) throw err;
        providerCheck = {
          ran: true,
          ok: false,
          code: err.providerCode ?? err.code,
          message: `EC2 DryRun refused it (${err.providerCode ?? err.code}): ${err.message}`,
        };
      }
    } else {
      providerCheck = {
        ran: false,
        ok: true,
        message: "Compute Engine has no dry run: the server's permission is checked only by the real call",
      };
    }
    return {
      ...common,
      kind: 'preview',
      approvalRequired: protectedBy.length > 0,
      providerCheck,
      ...(approvalId ? { approvalId } : {}),
    };
  }

  if (toAct.length === 0) return { ...common, kind: 'done', changes: [] };

  if (approvalId !== undefined) {
    await deps.approvals.consume(approvalId, changeHash, call.requestId);
  } else if (protectedBy.length > 0) {
    const tags = [...new Set(protectedBy.map((p) => `${p.tag}=${p.value}`))].join(', ');
    const approval = await deps.approvals.request({
      operationId: `cloud-${randomUUID()}`,
      summary: `${req.action} ${plural(req.ids.length, NOUN[req.provider])} in ${scope}: ${req.ids.join(', ')} (${tags})`,
      changeHash,
      requester: { subject: call.identity.subject, name: call.identity.name },
      reason: req.reason ?? '',
      ttlSeconds: policy.approvalTtlSeconds,
    });
    return { ...common, kind: 'approval_required', approval };
  }

  const used = approvalId ? { approvalId } : {};
  if (target.provider === 'aws') {
    try {
      const r = await target.aws.powerInstances(target.scope, req.action, toAct, {
        dryRun: false,
        ...(signal ? { signal } : {}),
      });
      return { ...common, kind: 'done', changes: r.changes, ...used };
    } catch (err) {
      if (!(err instanceof CloudApiError) || !approvalId) throw err;
      throw new CloudApiError(
        err.provider,
        err.code,
        `${err.message} (approval ${approvalId} was used by this call; request a new one to retry)`,
        err.providerCode,
      );
    }
  }
  // Compute acts per instance: one at a time, stopping at the first refusal, so the answer says
  // exactly what was changed and what was not tried. Each changed instance is read again for its state.
  const { gcp, owner, location } = target;
  const states = new Map(lines.map((l) => [l.id, l.state]));
  const accepted: Array<{ id: string; operation: string }> = [];
  let failed: { id: string; code: string; message: string } | undefined;
  for (const name of toAct) {
    try {
      const op = await gcp.powerInstance(owner, location, name, req.action, signal);
      accepted.push({ id: name, operation: `${op.operation} (${op.status})` });
    } catch (err) {
      if (!(err instanceof CloudApiError)) throw err;
      failed = { id: name, code: err.providerCode ?? err.code, message: err.message };
      break;
    }
  }
  const changes = await mapBounded(accepted, READ_CONCURRENCY, async (a) => ({
    id: a.id,
    previous: states.get(a.id) ?? '',
    current: await gcp.getInstance(owner, location, a.id, signal).then(
      (i) => i.status,
      () => 'unknown (could not be read again)',
    ),
    operation: a.operation,
  }));
  if (!failed) return { ...common, kind: 'done', changes, ...used };
  const tried = accepted.length + 1;
  return { ...common, kind: 'done', changes, failed, notAttempted: toAct.slice(tried), ...used };
}

function refuseUnlessAllowed(findings: CloudFinding[], req: PowerRequest, scope: string): void {
  if (findings.length === 0) return;
  throw new RefusedError({
    message: `${req.dryRun ? 'Dry run: ' : ''}${req.action} of ${plural(req.ids.length, NOUN[req.provider])} in ${scope} ${formatCloudVerdict({ allowed: false, findings, protectedBy: [] })}`,
    details: { refused: true, provider: req.provider, scope, findings },
  });
}

/**
 * Checks an approval for this caller and this change, with a message that says what to do. Using it
 * up (Approvals.consume, a compare-and-set) checks status, expiry and hash again.
 */
async function checkApproval(
  deps: Deps,
  call: Pick<Call, 'identity' | 'requestId'>,
  id: string,
  changeHash: string,
): Promise<void> {
  const again = 'repeat this call without approvalId to request a new approval';
  const a = await deps.approvals.get(id);
  if (!a) throw new ApprovalError(`no approval ${id} (it may have expired); ${again}`);
  if (a.requester.subject !== call.identity.subject)
    throw new ApprovalError(`approval ${id} was requested by ${a.requester.name}; only they can use it; ${again}`);
  if (a.changeHash !== changeHash)
    throw new ApprovalError(
      `approval ${id} approves another change (${a.summary}); this call's change hash is ${changeHash.slice(0, 12)}…: repeat the approved call exactly, or ${again}`,
    );
  if (a.status === 'pending')
    throw new ApprovalError(
      `approval ${id} is not decided yet: someone else with the approver role decides it with ops_approvals_decide (operationId ${id}); then repeat this call`,
    );
  if (a.status === 'rejected')
    throw new ApprovalError(
      `approval ${id} was rejected by ${a.decision?.by.name ?? 'an approver'} (${a.decision?.reason ?? 'no reason'}); ${again}`,
    );
  if (a.status === 'closed')
    throw new ApprovalError(`approval ${id} was already used (${a.closed?.reason ?? 'closed'}); ${again}`);
  if (a.status === 'expired' || Date.parse(a.expiresAt) <= deps.clock.now())
    throw new ApprovalError(`approval ${id} expired at ${a.expiresAt}; ${again}`);
}
