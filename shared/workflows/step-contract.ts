import type { Deps } from '../app/deps.ts';

/**
 * A failure worth retrying (API server 5xx, throttling, timeouts, a busy Store). Every definition's
 * `transient` retry policy matches this name (ASL `ErrorEquals: ["TransientError"]`, the Cloud
 * Workflows predicate `transient_error`); any other error goes to the task's catch (rollback).
 */
export class TransientStepError extends Error {
  override name = 'TransientError';
}

export class UnknownStepError extends Error {
  override name = 'UnknownStepError';
}

/** A step called with an input it cannot use (a definition and a step that disagree). */
export class InvalidStepInputError extends Error {
  override name = 'InvalidStepInputError';
}

/** One step: its input comes from the task (`{ step, input }`), its output goes to the task's result path. */
export type StepHandler = (input: Record<string, unknown>, deps: Deps) => Promise<Record<string, unknown>>;
export type StepTable = Readonly<Record<string, StepHandler>>;
