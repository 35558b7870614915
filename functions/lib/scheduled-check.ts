import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { deliverWithinBudget } from '../../shared/app/alerts/settle.ts';
import type { Alerting, DeliverResult, ReconcileResult } from '../../shared/app/alerts/types.ts';
import type { hostLogger } from './host.ts';

/*
 * What the scheduled checks that alert (drift, cost) do around their check on Lambda, written once:
 * run the check; if it fails, still deliver what earlier runs queued (their retries are due whatever
 * this run found) and rethrow, so the Errors alarm counts it; if it ran, keep delivering what falls
 * due within a bounded part of the invocation (a new group's alerts wait for their group wait, a
 * passing Slack failure defers an entry) rather than at the next run.
 */

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
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  logger: ReturnType<typeof hostLogger>,
  check: () => Promise<R>,
): Promise<{ report: R; alerts: Alerts | undefined }> {
  let report: R;
  try {
    report = await check();
  } catch (err) {
    const budgetMs = Math.max(1000, context.getRemainingTimeInMillis() - DELIVERY_MARGIN_MS);
    await alerting.deliver({ budgetMs }).catch((deliverErr: unknown) => {
      logger.error('alert delivery after a failed check failed too', deliverErr as Error);
    });
    throw err;
  }
  const alerts = report.alerts
    ? {
        ...report.alerts,
        deliver: await deliverWithinBudget(alerting, {
          first: report.alerts.deliver,
          budgetMs: Math.min(SETTLE_BUDGET_MS, context.getRemainingTimeInMillis() - DELIVERY_MARGIN_MS),
          now: Date.now,
          sleep: (ms) => sleep(ms),
        }),
      }
    : undefined;
  return { report, alerts };
}
