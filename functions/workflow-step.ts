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
import type { Deps } from '../shared/app/deps.ts';
import { ConfigError } from '../shared/config/config.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { dispatchStep, STEPS, type StepEvent, type StepTable, TransientStepError } from '../shared/workflows/index.ts';
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

export class InvalidStepEventError extends Error {
  override name = 'InvalidStepEventError';
}

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

  return middy(async (event: StepEvent, context: Context): Promise<Record<string, unknown>> => {
    if (!event || typeof event.step !== 'string' || (event.input !== undefined && typeof event.input !== 'object')) {
      throw new InvalidStepEventError('expected { "step": "<name>", "input": { ... } } from a Task state');
    }
    let d: Deps;
    try {
      d = await deps();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      logger.error('cold start failed', { step: event.step, errorName: error.name, errorMessage: error.message });
      if (error instanceof ConfigError) throw error;
      throw new TransientStepError(`cold start: ${error.name}: ${error.message}`, { cause: error });
    }
    const started = performance.now();
    try {
      const output = await dispatchStep(
        { step: event.step, input: event.input ?? {} },
        { ...d, log: d.log.child({ requestId: context.awsRequestId, step: event.step }) },
        steps,
      );
      logger.info('step done', { step: event.step, ms: Math.round(performance.now() - started) });
      return output;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      logger.warn('step failed', { step: event.step, errorName: error.name, errorMessage: error.message });
      throw error;
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export const handler = createWorkflowStepHandler({ env: process.env });
