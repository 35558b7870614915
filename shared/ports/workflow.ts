/**
 * The workflow engine port: long operations run as state machines defined once, engine-neutral, in
 * shared/workflows/definitions/ (generated into Step Functions ASL and Google Cloud Workflows YAML).
 * Every task of a definition calls the workflow-step function with a StepEvent; the engine only
 * starts, describes and stops executions, so nothing that calls it knows which engine runs them.
 */
export type FlowName = 'rollout';

/** What a task sends to the workflow-step function: the step's name and its input. */
export interface StepEvent {
  step: string;
  input: Record<string, unknown>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionInfo {
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
}

export interface WorkflowEngine {
  /**
   * Names the engine in an operation's execution record (for people reading it). No caller decides
   * anything on it: whether an execution still runs is asked with `describe`.
   */
  readonly name: string;
  /** Starts an execution named `name` (the operation id). Starting the same name again is a no-op. */
  start(
    flow: FlowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionId: string; alreadyStarted: boolean }>;
  /** undefined: this engine knows no such execution (an in-process engine forgets them on restart). */
  describe(executionId: string): Promise<ExecutionInfo | undefined>;
  stop(executionId: string, reason: string): Promise<void>;
}
