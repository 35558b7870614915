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
import { checkCost } from '../shared/app/cost/check.ts';
import type { CostCheckReport } from '../shared/app/cost/types.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { type CostSourcesFactory, lambdaCostSources } from './lib/cost.ts';
import { ScheduledCostEvent } from './lib/cost-event.ts';
import { type ClustersFactory, lambdaDeps } from './lib/deps.ts';
import {
  type Env,
  hostLogger,
  loadCloudConfig,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
} from './lib/host.ts';
import { lambdaNotifier, type NotifierFactory } from './lib/notifier.ts';
import { checkThenDeliver } from './lib/scheduled-check.ts';

export class InvalidCostEventError extends Error {
  override name = 'InvalidCostEventError';
}

export interface CostCheckHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /**
   * Default: the kubeconfig in KUBECONFIG_SECRET (the read-only one when the stack has it): the clusters
   * whose stored usage samples price namespace budgets and anomalies (listed, not called).
   */
  clusters?: ClustersFactory;
  /** Default: Slack from SLACK_ALERTS_SECRET, or none. */
  notifier?: NotifierFactory;
  /** Default: Cost Explorer with COST_AWS (functions/lib/cost.ts). */
  costSources?: CostSourcesFactory;
}

/** What the invocation returns (and logs): per source its pages and errors, budgets and anomalies counted; no secret. */
export interface CostCheckSummary {
  scheduledTime: string;
  checkedAt: string;
  month: string;
  sources: Array<{ source: string; scope: string; pages: number; cacheHits: number; queries: number; errors: number }>;
  /** Cost Explorer requests paid for in this run ($0.01 each). */
  pages: number;
  /** Per cluster: namespaces priced from its usage samples. */
  clusters?: CostCheckReport['clusters'];
  budgets: number;
  /** Budgets that could not be evaluated (the log says why; the check is then an error). */
  budgetsNotEvaluated: number;
  budgetFindings: number;
  anomalies: number;
  errors: number;
  alerts?: CostCheckReport['alerts'];
}

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
    const log = d.log.child({ requestId: context.awsRequestId, executionId: e.executionId });
    const { report, alerts } = await checkThenDeliver(d.alerting, context, logger, () =>
      checkCost({ ...d, log }, { trigger: 'schedule', requestId: `schedule:${e.executionId}`.slice(0, 128) }),
    );
    const summary: CostCheckSummary = {
      scheduledTime: e.scheduledTime,
      checkedAt: report.checkedAt,
      month: report.month,
      sources: report.sources.map((r) => ({
        source: r.source,
        scope: r.scope,
        pages: r.pages,
        cacheHits: r.cacheHits,
        queries: r.queries,
        errors: r.errors.length,
      })),
      pages: report.sources.reduce((n, r) => n + r.pages, 0),
      ...(report.clusters ? { clusters: report.clusters } : {}),
      budgets: report.budgets.length,
      budgetsNotEvaluated: report.budgets.filter((b) => !b.evaluated).length,
      budgetFindings: report.budgetFindings.length,
      anomalies: report.anomalies.length,
      errors: report.errors.length,
      ...(alerts ? { alerts } : {}),
    };
    if (report.errors.length) logger.warn('cost check errors', { errors: report.errors.slice(0, 20) });
    logger.info('cost check done', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { ScheduledCostEvent };

export const handler = createCostCheckHandler({ env: process.env });
