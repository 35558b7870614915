import type { Alerting, DeliverResult } from './types.ts';

/*
 * A check reconciles its alerts and delivers the outbox once; but a new group's alerts are not due
 * before its group wait (30 s by default), and a passing Slack failure defers an entry by seconds.
 * A scheduled run that stopped there would leave them until the next run (minutes later). So the
 * schedule's hosts (the drift-check function, the local timer) keep delivering what falls due within
 * a budget, then leave the rest to the next run: the outbox keeps it either way. A pass in which the
 * channel failed ends the wait: retrying an outage is the next run's, not worth a busy function.
 */

export interface SettleOptions {
  /** The check's own delivery, when it made one (so the first pass is not repeated). */
  first?: DeliverResult;
  /** How long the host may spend waiting and delivering, in all. */
  budgetMs: number;
  now: () => number;
  /** Waits; rejects (or resolves early) when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops waiting (the host is shutting down); what is queued stays queued. */
  signal?: AbortSignal;
}

/** Passes at most: a channel that keeps deferring cannot keep the host busy for the whole budget. */
const MAX_PASSES = 8;

/** Delivers what falls due within the budget; returns the last pass's result. */
export async function deliverWithinBudget(alerting: Alerting, opts: SettleOptions): Promise<DeliverResult> {
  const end = opts.now() + Math.max(0, opts.budgetMs);
  let last = opts.first ?? (await alerting.deliver({ budgetMs: Math.max(0, end - opts.now()) }));
  for (let pass = 1; pass < MAX_PASSES; pass++) {
    if (opts.signal?.aborted || last.pending === 0 || !last.nextAttemptAt) break;
    if (last.deferred > 0 || last.failed > 0) break;
    const due = Date.parse(last.nextAttemptAt);
    if (!Number.isFinite(due) || due >= end) break;
    try {
      await opts.sleep(Math.max(0, due - opts.now()), opts.signal);
    } catch {
      break;
    }
    if (opts.signal?.aborted) break;
    const left = end - opts.now();
    if (left <= 0) break;
    last = await alerting.deliver({ budgetMs: left });
  }
  return last;
}
