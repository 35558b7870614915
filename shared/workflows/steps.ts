import type { Deps } from '../app/deps.ts';
import { OperationContentionError } from '../app/repos/operations.ts';
import { StoreUnavailableError } from '../ports/store.ts';
import type { StepEvent } from '../ports/workflow.ts';
import { reconcileRollbacks, rolloutSteps } from './rollout-steps.ts';
import { type StepHandler, type StepTable, TransientStepError, UnknownStepError } from './step-contract.ts';

export type { StepEvent, StepHandler, StepTable };

/**
 * Steps no state machine calls: what a schedule runs (the local host's timer, or on AWS a scheduled
 * invocation of the workflow-step function with `{ "step": "rollbacks.reconcile" }`).
 */
export const scheduledSteps = {
  'rollbacks.reconcile': async (input, deps) => ({
    ...(await reconcileRollbacks(deps, typeof input.limit === 'number' ? { limit: input.limit } : {})),
  }),
} satisfies StepTable;

/** Every step the workflow-step function runs, by name: each flow's steps and the scheduled ones. */
export const STEPS: StepTable = { ...rolloutSteps, ...scheduledSteps };

export function stepNames(steps: StepTable = STEPS): string[] {
  return Object.keys(steps).sort();
}

/**
 * Runs one step: the same function backs every engine (the local engine calls it in-process, the
 * workflow-step function on each cloud). `steps` is the table to look the step up in (tests pass their own).
 */
export async function dispatchStep(
  event: StepEvent,
  deps: Deps,
  steps: StepTable = STEPS,
): Promise<Record<string, unknown>> {
  const handler = Object.hasOwn(steps, event.step) ? steps[event.step] : undefined;
  if (!handler) {
    throw new UnknownStepError(
      `no workflow step "${String(event.step).slice(0, 100)}"; known: ${stepNames(steps).join(', ')}`,
    );
  }
  try {
    return await handler(event.input ?? {}, deps);
  } catch (err) {
    // The Store being unreachable or busy decides nothing about the rollout: the transient retry
    // policy retries the step instead of its catch rolling back a healthy change.
    if (err instanceof StoreUnavailableError || err instanceof OperationContentionError) {
      throw new TransientStepError(err.message, { cause: err });
    }
    throw err;
  }
}
