/**
 * The function every Task state of the state machines invokes with `{ step, input }`
 * (generated from shared/workflows/definitions/). It runs that one step and returns its output.
 *
 * A failure is rethrown as it is: the Lambda runtime reports `errorType` = the error's `name`, and
 * that is what the ASL's Retry/Catch match, so a TransientError stays retryable and anything else
 * goes to the Catch (rollback).
 *
 * Building the dependencies (config, the kubeconfig secret) happens on the first invocation of a
 * sandbox, inside a Task: a failure there that retrying can cure (Secrets Manager throttling, a 5xx,
 * the network) is thrown as a TransientError, so the Task is retried instead of rolling back a
 * healthy change. A configuration error keeps its name (ConfigError): no retry can fix it.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InvalidStepEventError, runWorkflowStep, stepEventOf } from '../shared/host/workflow-step.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { STEPS, type StepEvent, type StepTable } from '../shared/workflows/index.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { lambdaDeps, stepsStartNoWorkflows } from './lib/deps.ts';
import {
  type Env,
  hostLogger,
  loadCloudConfig,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
} from './lib/host.ts';

export { InvalidStepEventError };

export interface WorkflowStepHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /** The steps it runs (default: STEPS, every flow's); tests pass a table of their own. */
  steps?: StepTable;
}

export function createWorkflowStepHandler(opts: WorkflowStepHandlerOptions) {
  const logger = hostLogger(opts.env, 'workflow-step');
  const steps = opts.steps ?? STEPS;
  const deps = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.workflowStep);
    return lambdaDeps(config, opts.env, createLogger(config.logLevel), {
      readSecret: opts.readSecret,
      workflows: () => stepsStartNoWorkflows,
      clusters: lambdaClusters,
    });
  });

  return middy(
    async (event: StepEvent, context: Context): Promise<Record<string, unknown>> =>
      runWorkflowStep(stepEventOf(event), { deps, steps, requestId: context.awsRequestId, log: logger }),
  ).use(injectLambdaContext(logger, { resetKeys: true }));
}

export const handler = createWorkflowStepHandler({ env: process.env });
