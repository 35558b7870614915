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
import {
  type DriftRunSummary,
  type ScheduledCheckOptions,
  scheduledDriftCheck,
} from '../shared/host/scheduled-check.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { lambdaDeps } from './lib/deps.ts';
import { ScheduledDriftEvent } from './lib/drift-event.ts';
import { lambdaEksCloud } from './lib/eks-cloud.ts';
import { hostLogger, loadCloudConfig, perColdStart, REQUIRED_SETTINGS } from './lib/host.ts';
import { lambdaNotifier } from './lib/notifier.ts';
import { lambdaScheduledRun } from './lib/scheduled-check.ts';

export class InvalidDriftEventError extends Error {
  override name = 'InvalidDriftEventError';
}

/** Each part absent is the AWS function's own (Secrets Manager, then what the handler below builds). */
export type DriftCheckHandlerOptions = Pick<
  ScheduledCheckOptions,
  'env' | 'readSecret' | 'clusters' | 'notifier' | 'cloud'
>;

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
