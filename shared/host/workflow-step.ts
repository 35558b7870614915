import type { Deps } from '../app/deps.ts';
import { ConfigError } from '../config/config.ts';
import { dispatchStep, type StepEvent, type StepTable, TransientStepError } from '../workflows/index.ts';

/*
 * The workflow step function, written once for Step Functions (Lambda) and Cloud Workflows (Cloud
 * Functions): run the one step the workflow names and return its output. A failure keeps its name,
 * which is what the workflow's retries and catches match (a TransientError is retried, anything else
 * goes to the rollback). Building the dependencies (config, the kubeconfig secret) happens on a
 * sandbox's first invocation, inside a step: a failure there that retrying can cure (throttling, a
 * 5xx, the network) becomes a TransientError, so the step is retried instead of rolling back a healthy
 * change; a ConfigError keeps its name, since no retry can fix it.
 */

export class InvalidStepEventError extends Error {
  override name = 'InvalidStepEventError';
}

/** Where the step function logs (each host's own logger, message first). */
export interface StepLog {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** The `{ step, input }` a workflow sends, or InvalidStepEventError. */
export function stepEventOf(value: unknown): StepEvent {
  const e = value as Partial<StepEvent> | null | undefined;
  if (
    !e ||
    typeof e !== 'object' ||
    typeof e.step !== 'string' ||
    e.step.length > 128 ||
    (e.input !== undefined && (typeof e.input !== 'object' || e.input === null || Array.isArray(e.input)))
  ) {
    throw new InvalidStepEventError('expected { "step": "<name>", "input": { ... } } from a workflow step');
  }
  return { step: e.step, input: e.input ?? {} };
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** Runs `event`'s step over the function's dependencies (built once per cold start by `deps`). */
export async function runWorkflowStep(
  event: StepEvent,
  opts: { deps: () => Promise<Deps>; steps: StepTable; requestId: string; log: StepLog },
): Promise<Record<string, unknown>> {
  let d: Deps;
  try {
    d = await opts.deps();
  } catch (err) {
    const error = asError(err);
    opts.log.error('cold start failed', { step: event.step, errorName: error.name, errorMessage: error.message });
    if (error instanceof ConfigError) throw error;
    throw new TransientStepError(`cold start: ${error.name}: ${error.message}`, { cause: error });
  }
  const started = performance.now();
  try {
    const output = await dispatchStep(
      event,
      { ...d, log: d.log.child({ requestId: opts.requestId, step: event.step }) },
      opts.steps,
    );
    opts.log.info('step done', { step: event.step, ms: Math.round(performance.now() - started) });
    return output;
  } catch (err) {
    const error = asError(err);
    opts.log.warn('step failed', { step: event.step, errorName: error.name, errorMessage: error.message });
    throw error;
  }
}
