import type { Identity } from '../domain/identity.ts';
import type { Clock } from '../ports/clock.ts';
import { type Approval, ApprovalError, type Approvals } from './repos/approvals.ts';
import type { AuditTrail } from './repos/audit.ts';
import { isTerminal, type Operations } from './repos/operations.ts';

export interface ApprovalDecision {
  operationId: string;
  approver: Identity;
  decision: 'approve' | 'reject';
  reason: string;
  /** The change hash the approver reviewed. */
  changeHash?: string;
}

/**
 * For a channel whose calls no one else audits (Slack's buttons; the MCP tool wrapper audits every
 * tool call itself): the decision and its outcome are recorded in the same trail, under the
 * decide tool's name, so a decision reads the same whichever channel made it.
 */
export interface DecisionAudit {
  trail: AuditTrail;
  requestId: string;
  /** When the channel received the request (epoch ms). */
  startedAt: number;
  /** The request as the channel received it. */
  args: Record<string, unknown>;
}

/**
 * One decision on an approval, the same from every channel (the ops_approvals_decide tool, the
 * Slack buttons). The operation is read first: one that already ended has its approval closed
 * (should an older record have left it open), so the decision is refused with when and how it
 * ended; and the operation's current change hash tells a modified change (the operation's hash no
 * longer matches the approval's) from a wrong hash sent by the approver. A refused decision throws
 * ApprovalError.
 */
export async function decideApproval(
  parts: { operations: Operations; approvals: Approvals },
  input: ApprovalDecision,
  audit?: DecisionAudit,
): Promise<Approval> {
  const record = (outcome: 'ok' | 'error', error?: string) =>
    audit?.trail.recordCall({
      requestId: audit.requestId,
      identity: input.approver,
      tool: 'ops_approvals_decide',
      args: audit.args,
      outcome,
      ...(error ? { error } : {}),
      startedAt: audit.startedAt,
    });
  let decided: Approval;
  try {
    const op = await parts.operations.get(input.operationId);
    if (op && isTerminal(op.status)) {
      await parts.approvals.close(op.id, { status: op.status, at: op.updatedAt });
    }
    decided = await parts.approvals.decide({ ...input, ...(op ? { operationChangeHash: op.changeHash } : {}) });
  } catch (err) {
    if (err instanceof ApprovalError) await record('error', err.message);
    throw err;
  }
  await record('ok');
  return decided;
}

/** A chat channel's approvers: the channel's user id -> that person's identity on this server. */
export type ChannelApprovers = Readonly<Record<string, { subject: string; name: string }>>;

/** How each chat channel is named in a decision's reason. */
const CHANNEL_LABEL = { slack: 'Slack' } as const;

export interface ChannelDecisionInput {
  channel: keyof typeof CHANNEL_LABEL;
  /** The channel's user who pressed the button (id as the channel knows it, display name). */
  user: { id: string; name: string };
  operationId: string;
  decision: 'approve' | 'reject';
  changeHash: string;
}

export type ChannelDecisionOutcome =
  /** The user is not in the channel's approver list: nothing was decided or recorded. */
  | { kind: 'not_an_approver' }
  /** The decision was refused (own change, wrong hash, closed, already decided); the refusal is audited. */
  | { kind: 'refused'; approver: Identity; reason: string }
  | { kind: 'decided'; approver: Identity; approval: Approval };

/**
 * A decision made from a chat channel's button: the channel user is mapped to their identity on this
 * server (acting as themselves, so "never your own change" holds across channels), the decision goes
 * through decideApproval and lands in the same audit trail as one made through the MCP tool. A
 * refusal is an outcome, not an error; anything else (the Store failing) throws.
 */
export async function decideFromChannel(
  parts: { operations: Operations; approvals: Approvals; audit: AuditTrail; clock: Clock },
  approvers: ChannelApprovers,
  input: ChannelDecisionInput,
): Promise<ChannelDecisionOutcome> {
  const person = Object.hasOwn(approvers, input.user.id) ? approvers[input.user.id] : undefined;
  if (!person) return { kind: 'not_an_approver' };
  const approver: Identity = { subject: person.subject, name: person.name, roles: ['approver'], method: input.channel };
  const startedAt = parts.clock.now();
  try {
    const approval = await decideApproval(
      parts,
      {
        operationId: input.operationId,
        approver,
        decision: input.decision,
        reason: `via ${CHANNEL_LABEL[input.channel]} by ${input.user.name} (${input.user.id})`,
        changeHash: input.changeHash,
      },
      {
        trail: parts.audit,
        requestId: `${input.channel}:${input.user.id}:${startedAt}`,
        startedAt,
        args: {
          operationId: input.operationId,
          decision: input.decision,
          changeHash: input.changeHash,
          [`${input.channel}User`]: input.user.id,
        },
      },
    );
    return { kind: 'decided', approver, approval };
  } catch (err) {
    if (err instanceof ApprovalError) return { kind: 'refused', approver, reason: err.message };
    throw err;
  }
}
