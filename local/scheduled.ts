import { nextRun, type Schedule } from '../shared/domain/schedule.ts';
import type { Logger } from '../shared/logging/logger.ts';
import type { Clock } from '../shared/ports/clock.ts';

/*
 * The local host's timer for scheduled checks (DRIFT_CHECK_SCHEDULE): what EventBridge Scheduler is
 * on AWS. One run at a time: the next run is armed when the current one ends, so a run that outlasts
 * its interval delays the next instead of overlapping it (a missed time is skipped, as a schedule with
 * no retries does). A failed run is logged and the schedule goes on. stop() ends the timer and waits
 * for a run in progress.
 */

export interface ScheduledTask {
  /** When the next run is due (ms since the epoch); undefined once stopped or when none is left. */
  nextAt(): number | undefined;
  /** Runs now unless a run is in progress, in which case it returns that run. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** setTimeout's longest delay (about 24.8 days): a later run is reached in several waits. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export function startScheduled(opts: {
  name: string;
  schedule: Schedule;
  run: () => Promise<void>;
  log: Logger;
  clock: Clock;
}): ScheduledTask {
  const { name, schedule, log, clock } = opts;
  let timer: NodeJS.Timeout | undefined;
  let due: number | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const arm = () => {
    if (stopped) return;
    due = nextRun(schedule, clock.now());
    if (due === undefined) {
      log.warn({ schedule: schedule.expression }, `${name}: the schedule has no further runs`);
      return;
    }
    wait();
  };
  const wait = () => {
    const at = due;
    if (stopped || at === undefined) return;
    const delay = at - clock.now();
    timer = setTimeout(
      () => {
        if (clock.now() < at) wait();
        else void runNow().finally(arm);
      },
      Math.min(Math.max(0, delay), MAX_DELAY_MS),
    );
    // The timer alone never keeps the process alive.
    timer.unref();
  };
  const runNow = (): Promise<void> => {
    running ??= (async () => {
      const started = clock.now();
      try {
        await opts.run();
        log.debug({ ms: clock.now() - started }, `${name}: run done`);
      } catch (err) {
        log.error({ err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, `${name}: run failed`);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  arm();
  log.info({ schedule: schedule.expression, next: due && new Date(due).toISOString() }, `${name}: scheduled`);
  return {
    nextAt: () => (stopped ? undefined : due),
    runNow,
    async stop() {
      stopped = true;
      due = undefined;
      clearTimeout(timer);
      await running;
    },
  };
}
