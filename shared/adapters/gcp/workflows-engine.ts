import { createHash } from 'node:crypto';
import type { GoogleAuth } from 'google-auth-library';
import { CloudApiError } from '../../ports/cloud.ts';
import type { ExecutionInfo, FlowName, WorkflowEngine } from '../../ports/workflow.ts';
import { defaultGoogleAuth } from './google-auth.ts';
import { cloudError, googleRest, type RestCall, restBase } from './google-rest.ts';

/**
 * Google Cloud Workflows through the Workflow Executions API v1 (REST; reference:
 * https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions):
 * start = executions.create (POST {workflow}/executions, body {argument: <JSON string>, labels}),
 * describe = executions.get (GET {execution}), stop = executions.cancel (POST {execution}:cancel),
 * and executions.list (GET {workflow}/executions?filter=&pageSize=) to find an execution already
 * started. One deployed workflow per flow (the YAML generated from its definition, deployed with
 * WORKFLOW_STEP_URL), named projects/P/locations/L/workflows/W.
 *
 * Through googleRest (google-auth-library's authorized client, the bearer from ADC), not
 * @google-cloud/workflows: that package brings google-gax and its protos into the delivery bundle
 * for three REST calls. Failures are CloudApiError with Google's status as providerCode.
 *
 * Idempotency. An execution's id is chosen by the service (Execution.name is output only), so a
 * start cannot be made idempotent by name as on Step Functions. Each execution carries the label
 * `cloudops_operation=<the operation id>` (label values: at most 63 of [a-z0-9_-]; an id that does not
 * fit is labelled by its hash), and start first lists the workflow's executions with that label,
 * answering the newest one as already started. The check and the create are two calls: two starts
 * of one operation at the same instant could both see none and both create. That is not what keeps
 * a rollout single: the operations repository creates the operation record with a conditional write
 * and takes the target's lease the same way (shared/app/repos/operations.ts), so only the one
 * caller that won both ever calls start for an operation id; the label check covers that caller's
 * retry after a create whose answer was lost.
 */

export const GCP_WORKFLOW_NAME =
  /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/workflows\/[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** An execution's resource name: a workflow's name, then `/executions/<id>`. */
const EXECUTION_NAME =
  /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/workflows\/[A-Za-z][A-Za-z0-9_-]{0,63}\/executions\/[A-Za-z0-9_-]{1,100}$/;

export const DEFAULT_EXECUTIONS_URL = 'https://workflowexecutions.googleapis.com/v1';

/** The label that names an execution's operation (underscore, not dash: a dash reads as minus in a filter). */
export const OPERATION_LABEL = 'cloudops_operation';

/** Execution.argument: "The size limit is 32KB" (Execution, workflowexecutions v1). */
export const MAX_ARGUMENT_BYTES = 32 * 1024;

/** Longest execution name and operation id accepted (caller input is bounded). */
const MAX_NAME = 200;

type State = 'STATE_UNSPECIFIED' | 'ACTIVE' | 'QUEUED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'UNAVAILABLE';

interface Execution {
  name?: string;
  state?: State;
  result?: string;
  error?: { payload?: string; context?: string };
  stateError?: { details?: string; type?: string };
}

const STATUS: Record<State, ExecutionInfo['status']> = {
  STATE_UNSPECIFIED: 'RUNNING',
  ACTIVE: 'RUNNING',
  QUEUED: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'ABORTED',
  UNAVAILABLE: 'FAILED',
};

/** The label value for an operation id: itself when it is one ([a-z0-9_-], at most 63), else `h-` and its hash. */
export function operationLabel(name: string): string {
  if (/^[a-z0-9_-]{1,63}$/.test(name) && !name.startsWith('h-')) return name;
  return `h-${createHash('sha256').update(name).digest('hex').slice(0, 61)}`;
}

/** A raised value as people read it: `Error: Cause` for the step contract's `{Error, Cause}`, else the payload. */
function describeError(e: Execution): string | undefined {
  if (e.error?.payload !== undefined) {
    try {
      const v = JSON.parse(e.error.payload) as { Error?: unknown; Cause?: unknown; message?: unknown };
      if (typeof v?.Error === 'string') return `${v.Error}: ${typeof v.Cause === 'string' ? v.Cause : ''}`;
      if (typeof v?.message === 'string') return v.message;
    } catch {
      // not JSON: the payload as it is
    }
    return e.error.payload.slice(0, 1000);
  }
  if (e.stateError) return `execution data unavailable: ${e.stateError.details ?? e.stateError.type ?? ''}`;
  return undefined;
}

export class CloudWorkflowsEngine implements WorkflowEngine {
  readonly name = 'cloudworkflows';
  private readonly rest: RestCall;
  private readonly workflows: Record<FlowName, string>;
  private readonly base: string;

  constructor(rest: RestCall, workflows: Record<FlowName, string>, baseUrl = DEFAULT_EXECUTIONS_URL) {
    for (const [flow, name] of Object.entries(workflows)) {
      if (!GCP_WORKFLOW_NAME.test(name)) {
        throw new Error(
          `the ${flow} workflow must be named projects/PROJECT/locations/LOCATION/workflows/NAME, not ${name.slice(0, 200)}`,
        );
      }
    }
    this.rest = rest;
    this.workflows = workflows;
    this.base = restBase('Workflow Executions endpoint', baseUrl, DEFAULT_EXECUTIONS_URL);
  }

  async start(
    flow: FlowName,
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ executionId: string; alreadyStarted: boolean }> {
    const workflow = this.workflows[flow];
    if (!workflow) throw new Error(`no Cloud Workflows workflow is configured for the ${flow} flow`);
    if (name.length === 0 || name.length > MAX_NAME)
      throw new Error(`execution name must be 1 to ${MAX_NAME} characters`);
    const argument = JSON.stringify(input);
    const bytes = Buffer.byteLength(argument, 'utf8');
    if (bytes > MAX_ARGUMENT_BYTES) {
      throw cloudError(
        'InvalidArgument',
        `the ${flow} workflow's argument is ${bytes} bytes; Cloud Workflows takes at most ${MAX_ARGUMENT_BYTES} (32 KB): keep large data in the operation record`,
        'INVALID_ARGUMENT',
      );
    }
    const label = operationLabel(name);
    const found = await this.rest<{ executions?: Execution[] }>('list workflow executions', {
      url: `${this.base}/${workflow}/executions`,
      params: { filter: `labels.${OPERATION_LABEL}="${label}"`, pageSize: 1 },
    });
    const existing = found.executions?.[0]?.name;
    if (existing) return { executionId: existing, alreadyStarted: true };
    const created = await this.rest<Execution>('start a workflow execution', {
      url: `${this.base}/${workflow}/executions`,
      method: 'POST',
      body: { argument, labels: { [OPERATION_LABEL]: label } },
    });
    if (!created.name) throw cloudError('Internal', 'start a workflow execution: the answer names no execution');
    return { executionId: created.name, alreadyStarted: false };
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    // Another engine's id (a Step Functions ARN, a local one) is no execution of this one.
    if (executionId.length > MAX_NAME + 200 || !EXECUTION_NAME.test(executionId)) return undefined;
    let e: Execution;
    try {
      e = await this.rest<Execution>('describe a workflow execution', { url: `${this.base}/${executionId}` });
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'NotFound') return undefined;
      throw err;
    }
    const status = STATUS[e.state ?? 'STATE_UNSPECIFIED'] ?? 'RUNNING';
    let output: unknown;
    if (status === 'SUCCEEDED' && e.result !== undefined) {
      try {
        output = JSON.parse(e.result);
      } catch {
        output = e.result;
      }
    }
    const error = status === 'FAILED' || status === 'ABORTED' ? describeError(e) : undefined;
    return { status, ...(output !== undefined ? { output } : {}), ...(error ? { error } : {}) };
  }

  /**
   * Cancels the execution; one already over (the API refuses to cancel it) is not an error, nor is
   * one the service no longer knows. Workflows' cancel takes no reason: it is the caller's to record.
   */
  async stop(executionId: string, _reason: string): Promise<void> {
    if (!EXECUTION_NAME.test(executionId))
      throw new Error(`not a Cloud Workflows execution: ${executionId.slice(0, 200)}`);
    try {
      await this.rest('cancel a workflow execution', {
        url: `${this.base}/${executionId}:cancel`,
        method: 'POST',
        body: {},
      });
    } catch (err) {
      const now = await this.describe(executionId).catch(() => null);
      if (now === undefined || (now && now.status !== 'RUNNING')) return;
      throw err;
    }
  }
}

/** The engine over ADC (the function's service account on Cloud Functions). */
export function createCloudWorkflowsEngine(opts: {
  workflows: Record<FlowName, string>;
  baseUrl?: string;
  auth?: GoogleAuth;
  timeoutMs?: number;
}): CloudWorkflowsEngine {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 100 && timeoutMs <= 120_000)) {
    throw new Error('Cloud Workflows timeoutMs must be an integer from 100 to 120000');
  }
  return new CloudWorkflowsEngine(
    googleRest(opts.auth ?? defaultGoogleAuth(), timeoutMs),
    opts.workflows,
    opts.baseUrl ?? DEFAULT_EXECUTIONS_URL,
  );
}
