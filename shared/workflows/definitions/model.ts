/**
 * The engine-neutral shape of a long operation: a state machine whose tasks each call one workflow
 * step (shared/workflows/steps.ts) with `{ step, input }`. One definition per flow generates both
 * the Step Functions ASL (asl.ts) and the Google Cloud Workflows YAML (cloud-workflows.ts); the
 * generated files are committed beside the steps and compared with a regeneration by a test.
 */
import type { FlowName } from '../../ports/workflow.ts';

/** A reference into the execution's state: `$` is all of it, `$.a.b` a nested key. */
export type StatePath = `$${string}`;

/**
 * When a failed task is tried again. `transient`: the step said so (TransientError: API server 5xx,
 * throttling, a busy Store). `platform`: the call never reached the step or its answer was lost
 * (the function platform throttled, failed or was unreachable).
 */
export interface RetryPolicy {
  on: 'transient' | 'platform';
  intervalSeconds: number;
  /** Retries after the first attempt. */
  maxAttempts: number;
  backoffRate: number;
}

/** Calls one step; its output is stored at `resultPath`. Any error that is not retried goes to `catch`. */
export interface TaskState {
  type: 'task';
  step: string;
  /** The step's input: each key read from the state. */
  input: Record<string, StatePath>;
  resultPath: StatePath;
  timeoutSeconds: number;
  retry: readonly RetryPolicy[];
  /** The error (`{ Error, Cause }`) is stored at `resultPath` before going to `next`. */
  catch: { resultPath: StatePath; next: string };
  next?: string;
  /** The execution succeeds after this task. */
  end?: true;
}

export interface ChoiceState {
  type: 'choice';
  /** The first rule whose value at `variable` equals `equals` decides; none: `default`. */
  choices: ReadonlyArray<{ variable: StatePath; equals: string | boolean; next: string }>;
  default: string;
}

export interface WaitState {
  type: 'wait';
  /** A fixed number of seconds, or where in the state to read it. */
  seconds: number | StatePath;
  next: string;
}

export interface SucceedState {
  type: 'succeed';
}

export interface FailState {
  type: 'fail';
  error: string;
  cause: string;
}

export type State = TaskState | ChoiceState | WaitState | SucceedState | FailState;

export interface WorkflowDefinition {
  flow: FlowName;
  comment: string;
  startAt: string;
  /** The execution's time limit (Step Functions' TimeoutSeconds; the steps keep their own deadline below it). */
  timeoutSeconds: number;
  states: Readonly<Record<string, State>>;
}

const PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** The keys of a state path: `$.a.b` -> ['a', 'b'], `$` -> []. */
export function pathKeys(path: StatePath): string[] {
  if (!PATH.test(path)) throw new Error(`not a state path: ${path}`);
  return path === '$' ? [] : path.slice(2).split('.');
}

/** The states a state can go to next. */
export function successors(state: State): string[] {
  switch (state.type) {
    case 'task':
      return [...(state.next ? [state.next] : []), state.catch.next];
    case 'choice':
      return [...state.choices.map((c) => c.next), state.default];
    case 'wait':
      return [state.next];
    default:
      return [];
  }
}

/** The steps a definition calls, in the order their tasks are declared. */
export function stepsOf(def: WorkflowDefinition): string[] {
  return [...new Set(Object.values(def.states).flatMap((s) => (s.type === 'task' ? [s.step] : [])))];
}

/**
 * What is wrong with a definition (empty: nothing): unknown targets, unreachable states, malformed
 * names and paths, a task with both or neither of `next` and `end`. The generators refuse an invalid one.
 */
export function definitionErrors(def: WorkflowDefinition): string[] {
  const errors: string[] = [];
  const names = Object.keys(def.states);
  if (!def.states[def.startAt]) errors.push(`startAt ${def.startAt} is not a state`);
  for (const [name, state] of Object.entries(def.states)) {
    // Names become Workflows step names and ASL state names: keep them plain.
    if (!NAME.test(name)) errors.push(`state name ${JSON.stringify(name)} is not alphanumeric`);
    for (const next of successors(state)) if (!def.states[next]) errors.push(`${name} -> ${next}: no such state`);
    const paths: string[] = [];
    if (state.type === 'task') {
      if ((state.next === undefined) === (state.end !== true)) errors.push(`${name}: a task has either next or end`);
      if (state.retry.length === 0) errors.push(`${name}: a task retries at least transient errors`);
      paths.push(state.resultPath, state.catch.resultPath, ...Object.values(state.input));
    }
    if (state.type === 'choice') paths.push(...state.choices.map((c) => c.variable));
    if (state.type === 'wait' && typeof state.seconds === 'string') paths.push(state.seconds);
    for (const p of paths) if (!PATH.test(p)) errors.push(`${name}: ${p} is not a state path`);
  }
  const seen = new Set<string>();
  const queue = [def.startAt];
  while (queue.length) {
    const name = queue.pop() as string;
    if (seen.has(name) || !def.states[name]) continue;
    seen.add(name);
    queue.push(...successors(def.states[name]));
  }
  for (const name of names) if (!seen.has(name)) errors.push(`${name} is unreachable from ${def.startAt}`);
  return errors;
}

export function assertValid(def: WorkflowDefinition): void {
  const errors = definitionErrors(def);
  if (errors.length) throw new Error(`workflow ${def.flow} is invalid:\n  ${errors.join('\n  ')}`);
}
