import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionInfo, FlowName, WorkflowEngine } from '../../ports/workflow.ts';

/**
 * Step Functions: one state machine per flow (deployed by CDK from the ASL generated from its definition). The execution
 * name is the operation id, so a retried start is idempotent (ExecutionAlreadyExists).
 */
export class StepFunctionsEngine implements WorkflowEngine {
  readonly name = 'stepfunctions';
  private readonly client: SFNClient;
  private readonly stateMachineArns: Record<FlowName, string>;

  constructor(client: SFNClient, stateMachineArns: Record<FlowName, string>) {
    this.client = client;
    this.stateMachineArns = stateMachineArns;
  }

  async start(
    flow: FlowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionId: string; alreadyStarted: boolean }> {
    const arn = this.stateMachineArns[flow];
    const executionId = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const out = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }),
      );
      return { executionId: out.executionArn ?? executionId, alreadyStarted: false };
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists) return { executionId, alreadyStarted: true };
      throw err;
    }
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn: executionId }));
      const status = (out.status ?? 'RUNNING') as ExecutionInfo['status'];
      return {
        status: status === ('PENDING_REDRIVE' as string) ? 'FAILED' : status,
        ...(out.output ? { output: JSON.parse(out.output) as unknown } : {}),
        ...(out.error ? { error: `${out.error}: ${out.cause ?? ''}` } : {}),
      };
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return undefined;
      throw err;
    }
  }

  async stop(executionId: string, reason: string): Promise<void> {
    await this.client.send(new StopExecutionCommand({ executionArn: executionId, cause: reason.slice(0, 256) }));
  }
}
