import type { Context } from 'aws-lambda';
import type { Deps } from '../../shared/app/deps.ts';
import type { ScheduledRun } from '../../shared/host/scheduled-check.ts';

/*
 * A scheduled run on Lambda (shared/host/scheduled-check.ts runs the check): EventBridge Scheduler's
 * execution id is the run's request, the invocation's remaining time its budget.
 */

export function lambdaScheduledRun(d: Deps, context: Context, executionId: string): ScheduledRun {
  return {
    requestId: `schedule:${executionId}`,
    remainingMs: () => context.getRemainingTimeInMillis(),
    log: d.log.child({ requestId: context.awsRequestId, executionId }),
  };
}
