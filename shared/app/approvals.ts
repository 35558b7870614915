import type { Identity } from '../domain/identity.ts';
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
