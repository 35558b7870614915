import type { Deps } from '../app/deps.ts';
import { isTerminal, type Operation } from '../app/repos/operations.ts';
import { type ReconcileReport, reconcileRollbacks } from './rollout-steps.ts';
import { dispatchStep } from './steps.ts';

/** What a host that lost its executions tells the rollback step, and so the operation's record. */
export const HOST_RESTARTED = 'HostRestarted';

export interface RecoveryReport {
  /** Operations rolled back (or ended) because their execution was gone. */
  recovered: string[];
  /** Operations whose rollback failed; they are marked failed with "manual action needed". */
  failed: string[];
  scanned: number;
  /** The pass of the rollback reconciler run after them (their failed rollbacks included). */
  rollbacks?: ReconcileReport;
}

/**
 * Ends the operations whose execution died with the process that ran it. The local engine keeps
 * executions in memory, so after a restart of a host whose store is its own (the embedded store),
 * every operation still `working` or `input_required` there has nothing driving it: it would hold
 * its target's lease, and a half-done canary or blue-green would stay half done. Each one is rolled
 * back by the same idempotent step the state machine runs (template, replicas, Service selector,
 * canary/green removed), and ends `failed` saying why; the lease is released. Rolling back rather
 * than resuming is deliberate: the health gate's history and any human decision in flight are gone
 * with the process, and "cancel means roll back" already is the rule.
 *
 * Only for hosts whose store no other process runs workflows from: with a shared DynamoDB table a
 * non-terminal operation may be running on another replica.
 */
export async function recoverInterruptedOperations(
  deps: Deps,
  opts: { maxScan?: number } = {},
): Promise<RecoveryReport> {
  const maxScan = opts.maxScan ?? 2000;
  const report: RecoveryReport = { recovered: [], failed: [], scanned: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.operations.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    report.scanned += page.items.length;
    for (const op of page.items) {
      if (!(await interrupted(deps, op))) continue;
      const ended = await endInterrupted(deps, op, {
        Error: HOST_RESTARTED,
        Cause: 'the server that ran this operation stopped before it finished',
      });
      (ended ? report.recovered : report.failed).push(op.id);
    }
    cursor = page.cursor;
  } while (cursor && report.scanned < maxScan);
  // Rollbacks left incomplete (by this recovery or before the restart) get a retry now, also those not yet due.
  report.rollbacks = await reconcileRollbacks(deps, { force: true });
  return report;
}

/**
 * The local host's schedule for the rollback reconciler: a pass every `everyMs` (never two at once),
 * each ending the operations whose execution is over (endOrphanedOperations), then retrying the
 * incomplete rollbacks whose backoff has passed (times come from the Clock port,
 * so tests move time instead of waiting). `stop` ends the schedule and waits for a pass in flight.
 */
export function startRollbackReconciler(
  deps: Deps,
  opts: { everyMs?: number } = {},
): { stop(): Promise<void>; runNow(): Promise<ReconcileReport | undefined> } {
  let running: Promise<ReconcileReport | undefined> | undefined;
  let stopped = false;
  const pass = () => {
    if (stopped) return Promise.resolve(undefined);
    running ??= endOrphanedOperations(deps)
      .then(async (orphans) => {
        if (orphans.length) deps.log.warn({ orphans }, 'ended operations whose workflow execution had ended');
        return reconcileRollbacks(deps);
      })
      .then((r) => {
        if (r.completed.length || r.superseded.length || r.incomplete.length) {
          deps.log.warn(r, 'rollback reconciler pass');
        }
        return r;
      })
      .catch((err: unknown) => {
        deps.log.error({ err: String(err) }, 'rollback reconciler pass failed');
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void pass(), opts.everyMs ?? 30_000);
  timer.unref();
  return {
    runNow: pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Ends an operation nothing drives any more, by the same idempotent rollback step the state
 * machine runs (ending it closes its approval and frees its target); a rollback that cannot
 * finish goes to the Fail step, which leaves it to the rollback reconciler. Returns whether the
 * rollback step succeeded.
 */
async function endInterrupted(deps: Deps, op: Operation, error: { Error: string; Cause: string }): Promise<boolean> {
  try {
    await dispatchStep({ step: `${op.kind}.rollback`, input: { operationId: op.id, state: { error } } }, deps);
    return true;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    await dispatchStep(
      {
        step: `${op.kind}.fail`,
        input: { operationId: op.id, state: { error, rollbackError: { Error: e.name, Cause: e.message } } },
      },
      deps,
    ).catch((failErr: unknown) =>
      deps.log.error({ operationId: op.id, err: String(failErr) }, 'could not mark an interrupted operation failed'),
    );
    return false;
  }
}

/** What the workflow engine said of an execution that ended without ending its operation. */
export const WORKFLOW_ENDED = 'WorkflowEnded';

/**
 * Ends the operations whose workflow execution is over while the operation is not: the engine
 * failed or stopped it, it timed out, or its own Fail step could not write. Asked of the engine,
 * so it is safe with a shared store (an execution another replica runs reads RUNNING). Each one
 * is rolled back and ended like an interrupted one, saying how its execution ended. Scans the
 * newest `maxScan` operations.
 */
export async function endOrphanedOperations(deps: Deps, opts: { maxScan?: number } = {}): Promise<string[]> {
  const ended: string[] = [];
  const page = await deps.operations.list({ limit: Math.min(opts.maxScan ?? 200, 1000) });
  for (const op of page.items) {
    if (isTerminal(op.status) || !op.execution) continue;
    const info = await deps.workflows.describe(op.execution.id).catch(() => undefined);
    // Unknown (a local engine after a restart: recovery's business) or still running: not ours. A
    // SUCCEEDED execution ended through a step that records the outcome; rolling back after it
    // could revert a good change, so only failed, timed-out and stopped executions are ended here.
    if (!info || !['FAILED', 'TIMED_OUT', 'ABORTED'].includes(info.status)) continue;
    await endInterrupted(deps, op, {
      Error: WORKFLOW_ENDED,
      Cause: `its workflow execution ended ${info.status}${info.error ? ` (${info.error})` : ''} without ending the operation`,
    });
    ended.push(op.id);
  }
  return ended;
}

/**
 * Not ended, and nothing runs it: no execution was recorded, or the engine does not know the one
 * that was (an in-process engine forgets its executions when its process stops).
 */
async function interrupted(deps: Deps, op: Operation): Promise<boolean> {
  if (isTerminal(op.status)) return false;
  if (op.execution === undefined) return true;
  // An engine that cannot answer leaves the operation alone: the orphan sweep asks again later.
  const info = await deps.workflows.describe(op.execution.id).catch(() => null);
  return info === undefined;
}
