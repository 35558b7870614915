import type { Identity } from '../domain/identity.ts';
import { canAccess } from '../domain/identity.ts';
import { isTerminal, type Operation } from '../domain/operations.ts';
import type { Deps } from '../mcp/tool.ts';

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
  if (!op || !canSeeOperation(op, who)) throw new OperationAccessError(`no operation ${id}`);
  return op;
}

/**
 * Asks a running operation to stop and roll back. The workflow notices at its next poll and runs
 * its rollback step, so everything it changed is restored; an operation still waiting for
 * approval has changed nothing and ends as cancelled at once.
 */
export async function cancelOperation(deps: Deps, id: string, who: Identity, reason: string): Promise<Operation> {
  const op = await visibleOperation(deps, id, who);
  if (!canControlOperation(op, who)) throw new OperationAccessError(`only the requester or an admin may cancel ${id}`);
  if (isTerminal(op.status)) return op;
  return deps.operations.update(id, (o) => {
    if (isTerminal(o.status)) return 'skip';
    o.requests.abort = { by: who.name, at: new Date(deps.clock.now()).toISOString(), reason };
    o.statusMessage = `cancel requested by ${who.name}; rolling back`;
    o.progress.nextActions = [];
    return undefined;
  });
}
