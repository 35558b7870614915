import { setTimeout as sleep } from 'node:timers/promises';
import { deliverWithinBudget } from '../app/alerts/settle.ts';
import type { Alerting, DeliverResult, ReconcileResult } from '../app/alerts/types.ts';
import { checkCost } from '../app/cost/check.ts';
import { type SampleUsageReport, sampleUsage } from '../app/cost/sample-usage.ts';
import type { CostCheckReport } from '../app/cost/types.ts';
import type { Deps } from '../app/deps.ts';
import { checkDrift } from '../app/drift/check.ts';
import type { DriftCheckReport } from '../app/drift/types.ts';
import { capText } from '../domain/bounds.ts';
import { mapBounded } from '../domain/concurrency.ts';
import type { Logger } from '../logging/logger.ts';
import type { SecretReader } from '../ports/secrets.ts';
import type { CloudFactory, ClustersFactory, CostSourcesFactory, Env, NotifierFactory } from './factories.ts';

/*
 * The scheduled checks of a cloud host, written once for Lambda (EventBridge Scheduler) and Cloud
 * Functions (Cloud Scheduler): each host parses its scheduler's request, then runs one of these with
 * the time its invocation has left, and shapes the answer. What comes back holds counts, never a
 * finding's values.
 *
 * The checks that alert (drift, cost) run their check; if it fails, they still deliver what earlier
 * runs queued (their retries are due whatever this run found) and rethrow, so the host reports a
 * failed run; if it ran, they keep delivering what falls due within a bounded part of the invocation
 * (a new group's alerts wait for their group wait, a passing Slack failure defers an entry) rather
 * than at the next run.
 */

/**
 * What a scheduled check's function is made with, on either host: its environment, and stand-ins
 * (tests) for what it reaches; each part absent is the host's own (its secret store, the kubeconfig
 * in KUBECONFIG_SECRET, Slack from SLACK_ALERTS_SECRET, the cloud and spend sources of its settings).
 */
export interface ScheduledCheckOptions {
  env: Env;
  readSecret?: SecretReader;
  clusters?: ClustersFactory;
  notifier?: NotifierFactory;
  cloud?: CloudFactory;
  costSources?: CostSourcesFactory;
}

/** One scheduled run. */
export interface ScheduledRun {
  /** What the check records as its request (`schedule:<execution>`, `scheduler:<job>:<time>`); cut at 128. */
  requestId: string;
  /** Milliseconds the invocation has left (Lambda's context; the function's timeout on GCP). */
  remainingMs: () => number;
  /** The run's logger (the deps' logger with the host's request id bound). */
  log: Logger;
}

/** Delivery after a failed check gets what is left of the invocation, less this margin. */
const DELIVERY_MARGIN_MS = 10_000;
/**
 * How long a run may wait for alerts falling due after its check (a group wait, 30 s by default; a
 * Slack retry): at most this, so a run costs at most this much more compute (1 GB for 90 s, about
 * $0.0015) and only when something is queued.
 */
const SETTLE_BUDGET_MS = 90_000;

type Alerts = { reconcile: ReconcileResult; deliver: DeliverResult };

export async function checkThenDeliver<R extends { alerts?: Alerts }>(
  alerting: Alerting,
  run: Pick<ScheduledRun, 'remainingMs' | 'log'>,
  check: () => Promise<R>,
): Promise<{ report: R; alerts: Alerts | undefined }> {
  let report: R;
  try {
    report = await check();
  } catch (err) {
    const budgetMs = Math.max(1000, run.remainingMs() - DELIVERY_MARGIN_MS);
    await alerting.deliver({ budgetMs }).catch((deliverErr: unknown) => {
      run.log.error({ err: (deliverErr as Error).message }, 'alert delivery after a failed check failed too');
    });
    throw err;
  }
  const alerts = report.alerts
    ? {
        ...report.alerts,
        deliver: await deliverWithinBudget(alerting, {
          first: report.alerts.deliver,
          budgetMs: Math.min(SETTLE_BUDGET_MS, run.remainingMs() - DELIVERY_MARGIN_MS),
          now: Date.now,
          sleep: (ms) => sleep(ms),
        }),
      }
    : undefined;
  return { report, alerts };
}

const requestOf = (run: ScheduledRun) => ({ trigger: 'schedule' as const, requestId: run.requestId.slice(0, 128) });

/** A drift run's outcome: the report's counts, never its findings' values. */
export interface DriftRunSummary {
  checkedAt: string;
  clusters: string[];
  counts: DriftCheckReport['counts'];
  apiCalls: number;
  alerts?: DriftCheckReport['alerts'];
}

/** One drift check over every configured cluster (findings recorded, alerts reconciled), then delivery. */
export async function scheduledDriftCheck(d: Deps, run: ScheduledRun): Promise<DriftRunSummary> {
  const { report, alerts } = await checkThenDeliver(d.alerting, run, () =>
    checkDrift({ ...d, log: run.log }, requestOf(run)),
  );
  return {
    checkedAt: report.checkedAt,
    clusters: report.clusters,
    counts: report.counts,
    apiCalls: report.apiCalls,
    ...(alerts ? { alerts } : {}),
  };
}

/** A cost run's outcome: per source its pages and errors, budgets and anomalies counted; no secret. */
export interface CostRunSummary {
  checkedAt: string;
  month: string;
  sources: Array<{ source: string; scope: string; pages: number; cacheHits: number; queries: number; errors: number }>;
  /** Provider requests paid for in this run (Cost Explorer: $0.01 each). */
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

/** One cost check (spend of the configured sources, budgets of the policy, anomalies; alerts), then delivery. */
export async function scheduledCostCheck(d: Deps, run: ScheduledRun): Promise<CostRunSummary> {
  const { report, alerts } = await checkThenDeliver(d.alerting, run, () =>
    checkCost({ ...d, log: run.log }, requestOf(run)),
  );
  if (report.errors.length) run.log.warn({ errors: report.errors.slice(0, 20) }, 'cost check errors');
  return {
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
}

/** No cluster could be sampled (every one failed, or none is configured): the run failed. */
export class UsageSampleFailedError extends Error {
  override name = 'UsageSampleFailedError';
}

/** One cluster's outcome: sampleUsage's report, or `skipped` when the invocation ran out of time first. */
export type UsageSampleResult = SampleUsageReport | { cluster: string; status: 'skipped'; message: string };

/** A usage run's outcome: per cluster its status and counts, never a pod's data. */
export interface UsageRunSummary {
  clusters: UsageSampleResult[];
  counts: { stored: number; noMetrics: number; error: number; skipped: number };
}

/** Clusters sampled at once: each sample is a handful of lists, mostly waiting on the API servers. */
const SAMPLE_CONCURRENCY = 4;
/**
 * A cluster is started only while this much of the invocation is left: a sample of a large cluster
 * is a few paged lists (each bounded by K8S_TIMEOUT_MS) and its Store writes.
 */
const SAMPLE_START_MARGIN_MS = 20_000;

/**
 * One metrics.k8s.io sample of every cluster the function reaches, a few at a time, within the
 * invocation's time. A cluster without metrics.k8s.io, or one that cannot be read, is a result;
 * UsageSampleFailedError only when no cluster could be sampled at all.
 */
export async function scheduledUsageSample(d: Deps, run: ScheduledRun): Promise<UsageRunSummary> {
  const names = (await d.clusters.list()).map((c) => c.name);
  if (names.length === 0) throw new UsageSampleFailedError('no cluster to sample: the function reaches none');
  const log = run.log;
  const clusters = await mapBounded(names, SAMPLE_CONCURRENCY, async (cluster): Promise<UsageSampleResult> => {
    if (run.remainingMs() < SAMPLE_START_MARGIN_MS) {
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
  for (const r of clusters) {
    if (r.status === 'stored') counts.stored++;
    else if (r.status === 'no-metrics') counts.noMetrics++;
    else if (r.status === 'error') counts.error++;
    else counts.skipped++;
  }
  for (const r of clusters) {
    if (r.status === 'no-metrics') log.warn({ cluster: r.cluster }, 'cluster without metrics.k8s.io');
  }
  // A cluster that answers without metrics.k8s.io is a state to fix, not a failed run.
  if (counts.stored + counts.noMetrics === 0) {
    log.error({ counts }, 'no cluster could be sampled');
    throw new UsageSampleFailedError(
      capText(
        `no cluster could be sampled: ${clusters.map((r) => `${r.cluster}: ${'message' in r ? r.message : r.status}`).join('; ')}`,
        2000,
      ),
    );
  }
  return { clusters, counts };
}
