import type { Identity } from '../domain/identity.ts';
import type { Approval, Approvals } from './repos/approvals.ts';
import { isTerminal, type Operations } from './repos/operations.ts';

/**
 * One decision on an approval, the same from every channel (the ops_approvals_decide tool, the
 * Slack buttons). The operation is read first: one that already ended has its approval closed
 * (should an older record have left it open), so the decision is refused with when and how it
 * ended; and the operation's current change hash tells a modified change (the operation's hash no
 * longer matches the approval's) from a wrong hash sent by the approver.
 */
export async function decideApproval(
  parts: { operations: Operations; approvals: Approvals },
  input: {
    operationId: string;
    approver: Identity;
    decision: 'approve' | 'reject';
    reason: string;
    changeHash?: string;
  },
): Promise<Approval> {
  const op = await parts.operations.get(input.operationId);
  if (op && isTerminal(op.status)) {
    await parts.approvals.close(op.id, { status: op.status, at: op.updatedAt });
  }
  return parts.approvals.decide({ ...input, ...(op ? { operationChangeHash: op.changeHash } : {}) });
}
