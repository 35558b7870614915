/**
 * Step Functions as the deployed state machines behave, in process: aws-local-stepfunctions runs a
 * shared/workflows/*.asl.json definition with its `${WorkflowStepFunctionArn}` substituted (as
 * CloudFormation does), and every Task state invokes the workflow-step *Lambda handler* with the
 * Task's effective input, as Step Functions invokes the function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { statesOfType, taskStates } from '../../shared/adapters/local/local-workflow-engine.ts';
import type { ExecutionInfo, FlowName, WorkflowEngine } from '../../shared/ports/workflow.ts';
import { lambdaContext } from './lambda.ts';

const WORKFLOWS = join(import.meta.dirname, '..', '..', 'shared', 'workflows');
export const STEP_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cloudops-workflow-step';

/** The DefinitionSubstitutions placeholder of every Task's Resource, as written in the ASL files. */
const PLACEHOLDER = ['$', '{WorkflowStepFunctionArn}'].join('');

export type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> } & Record<string, unknown>;
export type StepLambda = (event: never, context: Context) => Promise<unknown>;

/** The flows that exist: one per shared/workflows/*.asl.json. */
export function aslFlows(): string[] {
  return readdirSync(WORKFLOWS)
    .filter((f) => f.endsWith('.asl.json'))
    .map((f) => f.replace(/\.asl\.json$/, ''))
    .sort();
}

/** A flow's definition as deployed: the placeholder replaced by the workflow-step function's ARN. */
export function deployedDefinition(flow: string): Definition {
  const text = readFileSync(join(WORKFLOWS, `${flow}.asl.json`), 'utf8');
  return JSON.parse(text.replaceAll(PLACEHOLDER, STEP_FUNCTION_ARN)) as Definition;
}

/** Overrides that send each Task state's input to the workflow-step Lambda handler. */
export function lambdaTaskOverrides(
  def: Definition,
  handler: StepLambda,
): Record<string, (input: unknown) => Promise<unknown>> {
  return Object.fromEntries(
    taskStates(def).map((name) => [name, (input: unknown) => handler(input as never, lambdaContext('workflow-step'))]),
  );
}

/**
 * The WorkflowEngine port backed by the above: what the mcp function sees on AWS (Step Functions
 * running the deployed definitions), with Wait states and retry intervals shortened for tests.
 */
export class LambdaBackedStepFunctions implements WorkflowEngine {
  readonly name = 'stepfunctions';
  private readonly runs = new Map<string, ExecutionInfo & { abort: () => void }>();
  private readonly handler: StepLambda;
  private readonly waitMs: number;

  constructor(handler: StepLambda, opts: { waitMs: number }) {
    this.handler = handler;
    this.waitMs = opts.waitMs;
  }

  async start(flow: FlowName, name: string, input: Record<string, unknown>) {
    const executionId = `arn:aws:states:eu-west-1:123456789012:execution:${flow}:${name}`;
    if (this.runs.has(executionId)) return { executionId, alreadyStarted: true };
    const def = deployedDefinition(flow);
    // checkArn on: every Task Resource must be a real ARN once substituted, as Step Functions demands.
    const machine = new StateMachine(def as never, { validationOptions: { checkArn: true } });
    const waits = Object.fromEntries(statesOfType(def, 'Wait').map((w) => [w, this.waitMs]));
    const retries = Object.fromEntries(taskStates(def).map((t) => [t, 10]));
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: lambdaTaskOverrides(def, this.handler) as never,
        waitTimeOverrides: waits,
        retryIntervalOverrides: retries,
      },
      noThrowOnAbort: true,
    });
    const run: ExecutionInfo & { abort: () => void } = { status: 'RUNNING', abort: () => execution.abort() };
    this.runs.set(executionId, run);
    execution.result.then(
      (output) => {
        if (run.status === 'RUNNING') Object.assign(run, { status: 'SUCCEEDED', output });
      },
      (err: Error) => Object.assign(run, { status: 'FAILED', error: `${err.name}: ${err.message}` }),
    );
    return { executionId, alreadyStarted: false };
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    const r = this.runs.get(executionId);
    return r
      ? {
          status: r.status,
          ...(r.output !== undefined ? { output: r.output } : {}),
          ...(r.error ? { error: r.error } : {}),
        }
      : undefined;
  }

  async stop(executionId: string, reason: string): Promise<void> {
    const r = this.runs.get(executionId);
    if (r?.status !== 'RUNNING') return;
    Object.assign(r, { status: 'ABORTED', error: reason });
    r.abort();
  }

  stopAll(): void {
    for (const [id, r] of this.runs) if (r.status === 'RUNNING') void this.stop(id, 'test over');
  }
}
