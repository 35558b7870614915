/**
 * The scheduled drift check on AWS. EventBridge Scheduler invokes it (asynchronously, no retry) with
 * the input the stack sets (cdk/stateless-stack.ts), its context attributes filled in:
 *   { "check": "drift", "scheduleArn": "arn:aws:scheduler:…:schedule/default/…",
 *     "scheduledTime": "2026-12-07T21:00:00Z", "executionId": "…", "attemptNumber": "1" }
 * It runs one check over every configured cluster (checkDrift: findings recorded, alerts reconciled,
 * then the alert outbox delivered: this run's alerts and any an earlier run could not send).
 * Drift found is a result, not a failure; a check that cannot run throws, so the function's Errors
 * metric (and its alarm) counts it.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type DriftRunSummary, scheduledDriftCheck } from '../shared/host/scheduled-check.ts';
import { createLogger } from '../shared/logging/logger.ts';
import type { CloudFactory } from './lib/cloud-settings.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { type ClustersFactory, lambdaDeps } from './lib/deps.ts';
import { ScheduledDriftEvent } from './lib/drift-event.ts';
import { lambdaEksCloud } from './lib/eks-cloud.ts';
import {
  type Env,
  hostLogger,
  loadCloudConfig,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
} from './lib/host.ts';
import { lambdaNotifier, type NotifierFactory } from './lib/notifier.ts';
import { lambdaScheduledRun } from './lib/scheduled-check.ts';

export class InvalidDriftEventError extends Error {
  override name = 'InvalidDriftEventError';
}

export interface DriftCheckHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /** Default: the kubeconfig in KUBECONFIG_SECRET (the read-only one when the stack has it). */
  clusters?: ClustersFactory;
  /** Default: Slack from SLACK_ALERTS_SECRET, or none. */
  notifier?: NotifierFactory;
  /** Default: AWS from AWS_ACCOUNTS/AWS_REGIONS, EKS only (cloud baselines; functions/lib/eks-cloud.ts), or none. */
  cloud?: CloudFactory;
}

/** What the invocation returns (and logs): the report's counts, never its findings' values. */
export type DriftCheckSummary = { scheduledTime: string } & DriftRunSummary;

export function createDriftCheckHandler(opts: DriftCheckHandlerOptions) {
  const logger = hostLogger(opts.env, 'drift-check');
  const deps = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.driftCheck);
    return lambdaDeps(config, opts.env, createLogger(config.logLevel), {
      readSecret: opts.readSecret,
      clusters: opts.clusters ?? lambdaClusters,
      cloud: opts.cloud ?? lambdaEksCloud,
      notifier: opts.notifier ?? lambdaNotifier,
    });
  });

  return middy(async (event: unknown, context: Context): Promise<DriftCheckSummary> => {
    const parsed = ScheduledDriftEvent.safeParse(event);
    if (!parsed.success) {
      throw new InvalidDriftEventError(
        'expected the schedule\'s input { "check": "drift", "scheduleArn", "scheduledTime", "executionId" }',
      );
    }
    const e = parsed.data;
    const d = await deps();
    const run = await scheduledDriftCheck(d, lambdaScheduledRun(d, context, e.executionId));
    const summary: DriftCheckSummary = { scheduledTime: e.scheduledTime, ...run };
    logger.info('drift check done', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { ScheduledDriftEvent };

export const handler = createDriftCheckHandler({ env: process.env });
