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
import { type SampleUsageReport, sampleUsage } from '../shared/app/cost/sample-usage.ts';
import { capText } from '../shared/domain/bounds.ts';
import { mapBounded } from '../shared/domain/concurrency.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { lambdaClusters } from './lib/clusters.ts';
import { ScheduledUsageSampleEvent } from './lib/cost-event.ts';
import { type ClustersFactory, lambdaDeps } from './lib/deps.ts';
import {
  type Env,
  hostLogger,
  loadCloudConfig,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
} from './lib/host.ts';

export class InvalidUsageSampleEventError extends Error {
  override name = 'InvalidUsageSampleEventError';
}

/** No cluster could be sampled (every one failed, or none is configured): the run failed. */
export class UsageSampleFailedError extends Error {
  override name = 'UsageSampleFailedError';
}

export interface UsageSampleHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /** Default: the kubeconfig in KUBECONFIG_SECRET (the read-only one when the stack has it). */
  clusters?: ClustersFactory;
}

/** One cluster's outcome: sampleUsage's report, or `skipped` when the invocation ran out of time first. */
export type UsageSampleResult = SampleUsageReport | { cluster: string; status: 'skipped'; message: string };

/** What the invocation returns (and logs): per cluster its status and counts, never a pod's data. */
export interface UsageSampleSummary {
  scheduledTime: string;
  clusters: UsageSampleResult[];
  counts: { stored: number; noMetrics: number; error: number; skipped: number };
}

/** Clusters sampled at once: each sample is a handful of lists, mostly waiting on the API servers. */
const CONCURRENCY = 4;
/**
 * A cluster is started only while this much of the invocation is left: a sample of a large cluster
 * is a few paged lists (each bounded by K8S_TIMEOUT_MS) and its Store writes.
 */
const START_MARGIN_MS = 20_000;

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
    const log = d.log.child({ requestId: context.awsRequestId, executionId: e.executionId });
    const names = (await d.clusters.list()).map((c) => c.name);
    if (names.length === 0) throw new UsageSampleFailedError('no cluster to sample: the function reaches none');

    const results = await mapBounded(names, CONCURRENCY, async (cluster): Promise<UsageSampleResult> => {
      if (context.getRemainingTimeInMillis() < START_MARGIN_MS) {
        return { cluster, status: 'skipped', message: 'not sampled: the invocation ran out of time' };
      }
      try {
        return await sampleUsage(
          { clusters: d.clusters, usageSamples: d.usageSamples, clock: d.clock, log },
          { cluster },
        );
      } catch (err) {
        // Not a cluster's answer (a Store failure, a client that cannot be built): this cluster's result.
        log.warn({ cluster, err: (err as Error).message }, 'usage sample failed');
        return {
          cluster,
          status: 'error',
          at: new Date(d.clock.now()).toISOString(),
          message: capText(`${(err as Error).name}: ${(err as Error).message}`, 400),
        };
      }
    });

    const counts = { stored: 0, noMetrics: 0, error: 0, skipped: 0 };
    for (const r of results) {
      if (r.status === 'stored') counts.stored++;
      else if (r.status === 'no-metrics') counts.noMetrics++;
      else if (r.status === 'error') counts.error++;
      else counts.skipped++;
    }
    const summary: UsageSampleSummary = { scheduledTime: e.scheduledTime, clusters: results, counts };
    for (const r of results) {
      if (r.status === 'no-metrics') logger.warn('cluster without metrics.k8s.io', { cluster: r.cluster });
    }
    // A cluster that answers without metrics.k8s.io is a state to fix, not a failed run.
    if (counts.stored + counts.noMetrics === 0) {
      logger.error('no cluster could be sampled', { ...summary });
      throw new UsageSampleFailedError(
        capText(
          `no cluster could be sampled: ${results.map((r) => `${r.cluster}: ${'message' in r ? r.message : r.status}`).join('; ')}`,
          2000,
        ),
      );
    }
    logger.info('usage sample done', { ...summary });
    return summary;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { ScheduledUsageSampleEvent };

export const handler = createUsageSampleHandler({ env: process.env });
