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

/**
 * The executions an in-process engine keeps in memory (this one, and the Cloud Workflows test engine
 * in test/support): each started once by name, described and stopped from memory, and the step calls
 * still running, which a shutdown waits for (an abort does not stop a step already called).
 */
export class InProcessExecutions {
  private readonly runs = new Map<string, ExecutionInfo & { abort: () => void }>();
  private readonly inFlight = new Set<Promise<unknown>>();

  /**
   * Starts execution `id` unless one by that name exists (then false). `begin` runs it: its result
   * settles it, SUCCEEDED with the output or FAILED with `failure(err)`, unless it was stopped first.
   */
  start(
    id: string,
    begin: () => { result: Promise<unknown>; abort: () => void },
    failure: (err: unknown) => string,
  ): boolean {
    if (this.runs.has(id)) return false;
    const run: ExecutionInfo & { abort: () => void } = { status: 'RUNNING', abort: () => {} };
    this.runs.set(id, run);
    let begun: ReturnType<typeof begin>;
    try {
      begun = begin();
    } catch (err) {
      this.runs.delete(id); // never ran: a later start may try again
      throw err;
    }
    const { result, abort } = begun;
    run.abort = abort;
    result.then(
      (output) => {
        if (run.status === 'RUNNING') Object.assign(run, { status: 'SUCCEEDED', output });
      },
      (err: unknown) => {
        if (run.status === 'RUNNING') Object.assign(run, { status: 'FAILED', error: failure(err) });
      },
    );
    return true;
  }

  describe(id: string): ExecutionInfo | undefined {
    const r = this.runs.get(id);
    if (!r) return undefined;
    return {
      status: r.status,
      ...(r.output !== undefined ? { output: r.output } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  }

  stop(id: string, reason: string): void {
    const r = this.runs.get(id);
    if (r?.status !== 'RUNNING') return;
    Object.assign(r, { status: 'ABORTED', error: reason });
    r.abort();
  }

  /** A step call, kept until it settles so that stopAll can wait for it. */
  track<T>(step: Promise<T>): Promise<T> {
    const settled = step.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return step;
  }

  /**
   * Stops every running execution (host shutdown) and waits for the steps they were running: the
   * host closes the Store right after this.
   */
  async stopAll(): Promise<void> {
    for (const [id, r] of this.runs) if (r.status === 'RUNNING') this.stop(id, 'host shutting down');
    await Promise.all([...this.inFlight]);
  }
}

/**
 * Runs the ASL state machines in this process with aws-local-stepfunctions: every Task state calls
 * the step dispatcher directly (the same handlers the workflow-step Lambda runs). Executions live
 * in memory; their progress lives in the Store like on AWS.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  readonly name = 'local';
  private readonly executions = new InProcessExecutions();
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
    const started = this.executions.start(
      executionId,
      () => {
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
        return { result: execution.result, abort: () => execution.abort() };
      },
      (err) => {
        const error = `${(err as Error).name}: ${(err as Error).message}`;
        this.log.error({ executionId, err: error }, 'workflow execution failed');
        return error;
      },
    );
    return { executionId, alreadyStarted: !started };
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    return this.executions.describe(executionId);
  }

  async stop(executionId: string, reason: string): Promise<void> {
    this.executions.stop(executionId, reason);
  }

  private step(event: StepEvent): Promise<Record<string, unknown>> {
    return this.executions.track(this.dispatch(event));
  }

  /**
   * Stops every running execution (host shutdown) and waits for the steps they were running: an
   * abort does not stop a step already called, and the host closes the Store right after this.
   */
  async stopAll(): Promise<void> {
    await this.executions.stopAll();
  }
}
