/**
 * The scheduled usage sampler on AWS (issue 14). EventBridge Scheduler invokes it (asynchronously, no
 * retry) with the input the stack sets (cdk/stateless-stack.ts), its context attributes filled in:
 *   { "check": "usage-sample", "scheduleArn": "arn:aws:scheduler:…:schedule/default/…",
 *     "scheduledTime": "2026-12-07T21:00:00Z", "executionId": "…", "attemptNumber": "1" }
 * It takes one metrics.k8s.io sample of every cluster the function reaches (sampleUsage), a few at a
 * time, within the invocation's time. A cluster without metrics.k8s.io, or one that cannot be read, is
 * a result in the summary and the log; the invocation throws (so the Errors alarm counts it) only when
 * no cluster could be sampled at all.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type ScheduledCheckOptions,
  scheduledUsageSample,
  type UsageRunSummary,
  UsageSampleFailedError,
  type UsageSampleResult,
} from '../shared/host/scheduled-check.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { ScheduledUsageSampleEvent } from './lib/cost-event.ts';
import { lambdaDeps } from './lib/deps.ts';
import { hostLogger, loadCloudConfig, perColdStart, REQUIRED_SETTINGS } from './lib/host.ts';
import { lambdaScheduledRun } from './lib/scheduled-check.ts';

export class InvalidUsageSampleEventError extends Error {
  override name = 'InvalidUsageSampleEventError';
}

export { UsageSampleFailedError, type UsageSampleResult };

/** Each part absent is the AWS function's own (Secrets Manager, then what the handler below builds). */
export type UsageSampleHandlerOptions = Pick<ScheduledCheckOptions, 'env' | 'readSecret' | 'clusters'>;

/** What the invocation returns (and logs): per cluster its status and counts, never a pod's data. */
export type UsageSampleSummary = { scheduledTime: string } & UsageRunSummary;

export function createUsageSampleHandler(opts: UsageSampleHandlerOptions) {
  const logger = hostLogger(opts.env, 'usage-sample');
  const deps = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.usageSample);
    return lambdaDeps(config, opts.env, createLogger(config.logLevel), {
      readSecret: opts.readSecret,
      clusters: opts.clusters ?? lambdaClusters,
    });
  });

  return middy(async (event: unknown, context: Context): Promise<UsageSampleSummary> => {
    const parsed = ScheduledUsageSampleEvent.safeParse(event);
    if (!parsed.success) {
      throw new InvalidUsageSampleEventError(
        'expected the schedule\'s input { "check": "usage-sample", "scheduleArn", "scheduledTime", "executionId" }',
      );
    }
    const e = parsed.data;
    const d = await deps();
    const run = await scheduledUsageSample(d, lambdaScheduledRun(d, context, e.executionId));
    const summary: UsageSampleSummary = { scheduledTime: e.scheduledTime, ...run };
    logger.info('usage sample done', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { ScheduledUsageSampleEvent };

export const handler = createUsageSampleHandler({ env: process.env });
