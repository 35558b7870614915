import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { canControlOperation, visibleOperation } from '../operation-access.ts';
import type { Operation } from '../repos/operations.ts';

/**
 * Asks a paused rollout to go on: its requester or an admin, and only the pause the caller saw (the
 * workflow notices the request at its next poll).
 */
export async function promoteRollout(
  deps: Deps,
  call: Pick<Call, 'identity'>,
  operationId: string,
): Promise<Operation> {
  const who = call.identity;
  const op = await visibleOperation(deps, operationId, who);
  if (!canControlOperation(op, who)) throw new AppError(`only the requester or an admin may promote ${op.id}`);
  if (op.status !== 'input_required' || !op.progress.pausedFor) {
    throw new AppError(`${op.id} is not paused (status ${op.status}: ${op.statusMessage}); nothing to promote`);
  }
  const seenStep = op.progress.stepIndex ?? 0;
  let stale = false;
  const updated = await deps.operations.update(op.id, (o) => {
    // Checked again inside the compare-and-set: the pause the caller saw may have ended (or moved
    // to the next step) since the read above, and a promote must only continue that pause.
    if (o.status !== 'input_required' || !o.progress.pausedFor || (o.progress.stepIndex ?? 0) !== seenStep) {
      stale = true;
      return 'skip';
    }
    stale = false;
    o.requests.promote = { by: who.name, at: new Date(deps.clock.now()).toISOString(), step: seenStep };
    o.statusMessage = `promote requested by ${who.name}`;
    return undefined;
  });
  if (stale) {
    throw new AppError(
      `${op.id} is no longer paused where you saw it (status ${updated.status}: ${updated.statusMessage}); check delivery_rollouts_get and promote again if it is paused`,
    );
  }
  return updated;
}
