/**
 * The scheduled cost check on AWS (issue 14). EventBridge Scheduler invokes it (asynchronously, no
 * retry) with the input the stack sets (cdk/stateless-stack.ts), its context attributes filled in:
 *   { "check": "cost", "scheduleArn": "arn:aws:scheduler:…:schedule/default/…",
 *     "scheduledTime": "2026-12-07T21:00:00Z", "executionId": "…", "attemptNumber": "1" }
 * It runs one check (checkCost: spend from Cost Explorer with COST_AWS, budgets of the policy,
 * anomalies; alerts reconciled), then delivers the alert outbox within a bounded part of the
 * invocation, as the drift check does. A budget crossed is a result, not a failure; a check that
 * cannot run throws, so the function's Errors metric (and its alarm) counts it.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type CostRunSummary, type ScheduledCheckOptions, scheduledCostCheck } from '../shared/host/scheduled-check.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { lambdaCostSources } from './lib/cost.ts';
import { ScheduledCostEvent } from './lib/cost-event.ts';
import { lambdaDeps } from './lib/deps.ts';
import { hostLogger, loadCloudConfig, perColdStart, REQUIRED_SETTINGS } from './lib/host.ts';
import { lambdaNotifier } from './lib/notifier.ts';
import { lambdaScheduledRun } from './lib/scheduled-check.ts';

export class InvalidCostEventError extends Error {
  override name = 'InvalidCostEventError';
}

/** Each part absent is the AWS function's own (Secrets Manager, then what the handler below builds). */
export type CostCheckHandlerOptions = Pick<
  ScheduledCheckOptions,
  'env' | 'readSecret' | 'clusters' | 'notifier' | 'costSources'
>;

/** What the invocation returns (and logs): per source its pages and errors, budgets and anomalies counted; no secret. */
export type CostCheckSummary = { scheduledTime: string } & CostRunSummary;

export function createCostCheckHandler(opts: CostCheckHandlerOptions) {
  const logger = hostLogger(opts.env, 'cost-check');
  const deps = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.costCheck);
    return lambdaDeps(config, opts.env, createLogger(config.logLevel), {
      readSecret: opts.readSecret,
      clusters: opts.clusters ?? lambdaClusters,
      notifier: opts.notifier ?? lambdaNotifier,
      costSources: opts.costSources ?? lambdaCostSources,
    });
  });

  return middy(async (event: unknown, context: Context): Promise<CostCheckSummary> => {
    const parsed = ScheduledCostEvent.safeParse(event);
    if (!parsed.success) {
      throw new InvalidCostEventError(
        'expected the schedule\'s input { "check": "cost", "scheduleArn", "scheduledTime", "executionId" }',
      );
    }
    const e = parsed.data;
    const d = await deps();
    const run = await scheduledCostCheck(d, lambdaScheduledRun(d, context, e.executionId));
    const summary: CostCheckSummary = { scheduledTime: e.scheduledTime, ...run };
    logger.info('cost check done', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { ScheduledCostEvent };

export const handler = createCostCheckHandler({ env: process.env });
