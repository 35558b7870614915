/**
 * The workflow engine port: long operations run as state machines defined once in
 * shared/workflows/*.asl.json. Locally aws-local-stepfunctions runs them in-process with the real
 * step handlers; on AWS, Step Functions runs the same ASL with the workflow-step Lambda.
 */
export type FlowName = 'rollout';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionInfo {
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
}

export interface WorkflowEngine {
  readonly kind: 'local' | 'stepfunctions';
  /** Starts an execution named `name` (the operation id). Starting the same name again is a no-op. */
  start(
    flow: FlowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionId: string; alreadyStarted: boolean }>;
  describe(executionId: string): Promise<ExecutionInfo | undefined>;
  stop(executionId: string, reason: string): Promise<void>;
}
