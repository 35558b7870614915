import type { Deps } from '../app/deps.ts';
import { OperationContentionError } from '../app/repos/operations.ts';
import { StoreUnavailableError } from '../ports/store.ts';

/** What a Task state sends to the workflow-step function: the step's name and its input. */
export interface StepEvent {
  step: string;
  input: Record<string, unknown>;
}

export type StepHandler = (input: Record<string, unknown>, deps: Deps) => Promise<Record<string, unknown>>;

/**
 * A failure worth retrying (API server 5xx, throttling, timeouts). The ASL retries errors with
 * this name (`ErrorEquals: ["TransientError"]`); any other error goes to the Catch (rollback).
 */
export class TransientStepError extends Error {
  override name = 'TransientError';
}

export class UnknownStepError extends Error {
  override name = 'UnknownStepError';
}

const registry = new Map<string, StepHandler>();

export function registerSteps(handlers: Record<string, StepHandler>): void {
  for (const [name, handler] of Object.entries(handlers)) registry.set(name, handler);
}

export function stepNames(): string[] {
  return [...registry.keys()].sort();
}

/** Runs one step: the same function backs the local engine and the workflow-step Lambda. */
export async function dispatchStep(event: StepEvent, deps: Deps): Promise<Record<string, unknown>> {
  const handler = registry.get(event.step);
  if (!handler) throw new UnknownStepError(`no workflow step "${event.step}"; known: ${stepNames().join(', ')}`);
  try {
    return await handler(event.input ?? {}, deps);
  } catch (err) {
    // The Store being unreachable or busy decides nothing about the rollout: the ASL's Retry on
    // TransientError retries the step instead of its Catch rolling back a healthy change.
    if (err instanceof StoreUnavailableError || err instanceof OperationContentionError) {
      throw new TransientStepError(err.message, { cause: err });
    }
    throw err;
  }
}
