/**
 * The function every step of the Cloud Workflows workflows calls (generated from
 * shared/workflows/definitions/ as rollout.workflows.yaml): `http.post` with `auth: {type: OIDC}` (an ID
 * token of the workflows service account) and the body `{ step, input }`. It runs that one step
 * (shared/host/workflow-step.ts) and answers 200 with the step's output, or 500 with
 * `{ "Error": <error name>, "Cause": <message> }`: the workflow retries a `TransientError` (a cold
 * start that a retry may cure included) and sends anything else to its rollback. A request no
 * workflow would send is a 400 with the same body; a caller that is not the workflows service
 * account gets 401/403 and nothing runs.
 */
import { randomUUID } from 'node:crypto';
import { type Request as HttpRequest, http } from '@google-cloud/functions-framework';
import { capText } from '../shared/domain/bounds.ts';
import { stepsStartNoWorkflows } from '../shared/host/deps.ts';
import type { ClustersFactory } from '../shared/host/factories.ts';
import { InvalidStepEventError, runWorkflowStep, type StepLog, stepEventOf } from '../shared/host/workflow-step.ts';
import type { Logger } from '../shared/logging/logger.ts';
import { STEPS, type StepEvent, type StepTable } from '../shared/workflows/index.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpClusters } from './lib/clusters.ts';
import { gcpDeps } from './lib/deps.ts';
import {
  type Env,
  GCP_REQUIRED_SETTINGS,
  hostLogger,
  loadGcpConfig,
  perColdStart,
  type SecretReader,
} from './lib/host.ts';
import { type JsonAnswer, privateFunction } from './lib/private-function.ts';

export interface WorkflowStepHandlerOptions {
  env: Env;
  /** Default: Secret Manager (SECRET_MANAGER_URL in tests). */
  readSecret?: SecretReader;
  /** Default: the kubeconfig in KUBECONFIG_SECRET plus the GKE clusters of GCP_PROJECTS. */
  clusters?: ClustersFactory;
  /** The steps it runs (default: STEPS, every flow's); tests pass a table of their own. */
  steps?: StepTable;
}

/** Cloud Workflows keeps a step's result in a variable (512 KB at most); a larger body is no workflow's. */
const MAX_BODY_BYTES = 512 * 1024;
/** A Cause longer than this is cut: the workflow stores it, and a rollback reads it. */
const MAX_CAUSE = 4096;

const stepError = (status: number, error: Error): JsonAnswer => ({
  status,
  body: { Error: error.name, Cause: capText(error.message, MAX_CAUSE) },
});

/** The host's pino logger, message last, as the shared step runner logs (message first). */
const stepLog = (logger: Logger): StepLog => ({
  info: (message, fields) => logger.info(fields, message),
  warn: (message, fields) => logger.warn(fields, message),
  error: (message, fields) => logger.error(fields, message),
});

/** The `{ step, input }` of a workflow's http.post: JSON, bounded. */
function stepEventFrom(req: HttpRequest): StepEvent {
  const media = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (req.method !== 'POST' || media !== 'application/json') {
    throw new InvalidStepEventError('a workflow step is a POST of { "step", "input" } as application/json');
  }
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) throw new InvalidStepEventError(`the step request is over ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidStepEventError('the step request is not JSON');
  }
  return stepEventOf(body);
}

export function createWorkflowStepHandler(opts: WorkflowStepHandlerOptions) {
  const logger = hostLogger(opts.env, 'workflow-step');
  const log = stepLog(logger);
  const steps = opts.steps ?? STEPS;
  const deps = perColdStart(async () => {
    const config = loadGcpConfig(opts.env, GCP_REQUIRED_SETTINGS.workflowStep);
    return gcpDeps(config, opts.env, {
      readSecret: opts.readSecret,
      workflows: () => stepsStartNoWorkflows,
      clusters: opts.clusters ?? gcpClusters,
    });
  });

  return privateFunction({ env: opts.env, logger }, async (req) => {
    let event: StepEvent;
    try {
      event = stepEventFrom(req);
    } catch (err) {
      if (!(err instanceof InvalidStepEventError)) throw err;
      logger.warn({ reason: err.message }, 'request refused');
      return stepError(400, err);
    }
    // Cloud Run's trace header names the request in Cloud Logging; the function's own id otherwise.
    const trace = /^[0-9a-f]{32}(?=\/|;|$)/.exec(req.get('x-cloud-trace-context') ?? '')?.[0];
    const requestId = trace ?? randomUUID();
    try {
      return { status: 200, body: await runWorkflowStep(event, { deps, steps, requestId, log }) };
    } catch (err) {
      return stepError(500, err instanceof Error ? err : new Error(String(err)));
    }
  });
}

export const handler = createWorkflowStepHandler({ env: process.env });

http(GCP_FUNCTIONS['workflow-step'].entryPoint, handler);
