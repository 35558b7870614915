import type { Identity } from '../domain/identity.ts';
import { canAccess } from '../domain/identity.ts';
import { quoted } from '../domain/text.ts';
import type { Deps } from './deps.ts';
import { isTerminal, type Operation } from './repos/operations.ts';

export class OperationAccessError extends Error {
  override name = 'OperationAccessError';
}

/**
 * Whether a caller may see an operation: its requester, approvers and admins. Everyone else is
 * told it does not exist (no existence oracle for other people's operations).
 */
export function canSeeOperation(op: Operation, who: Identity): boolean {
  return op.requester.subject === who.subject || canAccess(who.roles, 'approve') || canAccess(who.roles, 'admin');
}

/** Whether a caller may change an operation (cancel, promote): its requester or an admin. */
export function canControlOperation(op: Operation, who: Identity): boolean {
  return op.requester.subject === who.subject || canAccess(who.roles, 'admin');
}

/** The operation if the caller may see it; otherwise the same error as a missing one. */
export async function visibleOperation(deps: Deps, id: string, who: Identity): Promise<Operation> {
  const op = await deps.operations.get(id);
  if (!op || !canSeeOperation(op, who)) throw new OperationAccessError(`no operation ${quoted(id)}`);
  return op;
}

/**
 * Asks a running operation to stop and roll back. The workflow notices at its next poll and runs
 * its rollback step, so everything it changed is restored; an operation still waiting for
 * approval has changed nothing and ends as cancelled at once.
 *
 * Waiting for approval is decided on the approval record, not on a read of the operation: closing
 * the pending approval is a compare-and-set that races an approver's decision. If the close wins,
 * nothing can approve it any more and the operation ends now (closing it again on the way is a
 * no-op); if the approval was decided first, the workflow may already be applying the change, so
 * the cancel becomes an abort request like any other and the rollback restores what it changed.
 */
export async function cancelOperation(deps: Deps, id: string, who: Identity, reason: string): Promise<Operation> {
  const op = await visibleOperation(deps, id, who);
  if (!canControlOperation(op, who))
    throw new OperationAccessError(`only the requester or an admin may cancel ${op.id}`);
  if (isTerminal(op.status)) return op;
  const at = new Date(deps.clock.now()).toISOString();
  const abort = { by: who.name, at, reason };
  if (op.approval?.required && (await deps.approvals.close(id, { status: 'cancelled', at }))) {
    const why = `cancelled by ${who.name} before any change`;
    return deps.operations.update(id, (o) => {
      if (isTerminal(o.status)) return 'skip';
      o.requests.abort = abort;
      o.status = 'cancelled';
      o.statusMessage = `${why}; nothing was changed`;
      for (const s of o.steps) if (s.status === 'pending') s.status = 'skipped';
      o.progress.nextActions = [];
      o.result = { changed: false, reason: why };
      return undefined;
    });
  }
  return deps.operations.update(id, (o) => {
    if (isTerminal(o.status)) return 'skip';
    o.requests.abort = abort;
    o.statusMessage = `cancel requested by ${who.name}; rolling back`;
    o.progress.nextActions = [];
    return undefined;
  });
}
