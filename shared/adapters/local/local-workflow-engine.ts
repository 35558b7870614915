import { StateMachine } from 'aws-local-stepfunctions';
import type { Logger } from 'pino';
import type { ExecutionInfo, FlowName, StepEvent, WorkflowEngine } from '../../ports/workflow.ts';
import { toAsl, WORKFLOWS } from '../../workflows/definitions/index.ts';

export { STEP_FUNCTION_PLACEHOLDER } from '../../workflows/definitions/index.ts';

type Definition = { States: Record<string, { Type: string; Resource?: string }> } & Record<string, unknown>;

/**
 * A flow's ASL (generated from its definition, as committed in shared/workflows/<flow>.asl.json),
 * with the step function's ARN in every Task. Locally every Task is overridden to call the
 * dispatcher in-process, so the ARN only has to be well-formed.
 */
export function loadDefinition(
  flow: FlowName,
  stepFunctionArn = 'arn:aws:lambda:us-east-1:000000000000:function:workflow-step',
): Definition {
  return toAsl(WORKFLOWS[flow], stepFunctionArn) as Definition;
}

/** The states of one type in a definition, including those inside Parallel/Map branches. */
export function statesOfType(def: { States: Record<string, unknown> }, type: string): string[] {
  const out: string[] = [];
  for (const [name, raw] of Object.entries(def.States)) {
    const s = raw as {
      Type: string;
      Branches?: Array<{ States: Record<string, unknown> }>;
      ItemProcessor?: { States: Record<string, unknown> };
      Iterator?: { States: Record<string, unknown> };
    };
    if (s.Type === type) out.push(name);
    for (const b of s.Branches ?? []) out.push(...statesOfType(b, type));
    const inner = s.ItemProcessor ?? s.Iterator;
    if (inner) out.push(...statesOfType(inner, type));
  }
  return out;
}

export const taskStates = (def: { States: Record<string, unknown> }) => statesOfType(def, 'Task');

interface Running {
  status: ExecutionInfo['status'];
  output?: unknown;
  error?: string;
  abort: () => void;
}

/**
 * Runs the ASL state machines in this process with aws-local-stepfunctions: every Task state calls
 * the step dispatcher directly (the same handlers the workflow-step Lambda runs). Executions live
 * in memory; their progress lives in the Store like on AWS.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  readonly name = 'local';
  private readonly executions = new Map<string, Running>();
  /** Steps being run: an aborted execution's step still finishes, and stopAll waits for it. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly machines = new Map<FlowName, { machine: StateMachine; tasks: string[]; waits: string[] }>();
  private readonly dispatch: (event: StepEvent) => Promise<Record<string, unknown>>;
  private readonly waitMs: number | undefined;
  private readonly log: Logger;

  constructor(opts: {
    dispatch: (event: StepEvent) => Promise<Record<string, unknown>>;
    log: Logger;
    /** Every Wait state and Retry interval lasts this long instead (tests and demos). */
    waitMs?: number;
  }) {
    this.dispatch = opts.dispatch;
    this.log = opts.log;
    this.waitMs = opts.waitMs;
  }

  private machine(flow: FlowName): { machine: StateMachine; tasks: string[]; waits: string[] } {
    let m = this.machines.get(flow);
    if (!m) {
      const def = loadDefinition(flow);
      m = {
        machine: new StateMachine(def as never, { validationOptions: { checkArn: false } }),
        tasks: taskStates(def),
        waits: statesOfType(def, 'Wait'),
      };
      this.machines.set(flow, m);
    }
    return m;
  }

  async start(
    flow: FlowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionId: string; alreadyStarted: boolean }> {
    const executionId = `local:${flow}:${name}`;
    if (this.executions.has(executionId)) return { executionId, alreadyStarted: true };
    const { machine, tasks, waits } = this.machine(flow);
    const handlers = Object.fromEntries(tasks.map((t) => [t, (event: unknown) => this.step(event as StepEvent)]));
    const waitTimeOverrides =
      this.waitMs === undefined ? {} : Object.fromEntries(waits.map((w) => [w, this.waitMs as number]));
    const retryIntervalOverrides =
      this.waitMs === undefined ? {} : Object.fromEntries(tasks.map((t) => [t, this.waitMs as number]));
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides, retryIntervalOverrides },
      noThrowOnAbort: true,
    });
    const running: Running = { status: 'RUNNING', abort: () => execution.abort() };
    this.executions.set(executionId, running);
    execution.result.then(
      (output) => {
        if (running.status === 'RUNNING') {
          running.status = 'SUCCEEDED';
          running.output = output;
        }
      },
      (err: Error) => {
        running.status = 'FAILED';
        running.error = `${err.name}: ${err.message}`;
        this.log.error({ executionId, err: running.error }, 'workflow execution failed');
      },
    );
    return { executionId, alreadyStarted: false };
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    const r = this.executions.get(executionId);
    if (!r) return undefined;
    return {
      status: r.status,
      ...(r.output !== undefined ? { output: r.output } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  }

  async stop(executionId: string, reason: string): Promise<void> {
    const r = this.executions.get(executionId);
    if (r?.status !== 'RUNNING') return;
    r.status = 'ABORTED';
    r.error = reason;
    r.abort();
  }

  private step(event: StepEvent): Promise<Record<string, unknown>> {
    const run = this.dispatch(event);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return run;
  }

  /**
   * Stops every running execution (host shutdown) and waits for the steps they were running: an
   * abort does not stop a step already called, and the host closes the Store right after this.
   */
  async stopAll(): Promise<void> {
    for (const [id, r] of this.executions) if (r.status === 'RUNNING') void this.stop(id, 'host shutting down');
    await Promise.all([...this.inFlight]);
  }
}
