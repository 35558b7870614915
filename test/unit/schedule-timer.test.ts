import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startScheduled } from '../../local/scheduled.ts';
import { parseSchedule } from '../../shared/domain/schedule.ts';

const log = pino({ level: 'silent' });
const clock = { now: () => Date.now() };
const MIN = 60_000;

/** A run the test ends when it wants. */
function controlledRuns() {
  const started: number[] = [];
  const finishers: Array<(err?: Error) => void> = [];
  const run = () =>
    new Promise<void>((resolve, reject) => {
      started.push(Date.now());
      finishers.push((err) => (err ? reject(err) : resolve()));
    });
  return { started, finish: (err?: Error) => finishers.shift()?.(err), run };
}

describe('local scheduled runs (DRIFT_CHECK_SCHEDULE)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-07T20:03:10.000Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('a cron schedule runs at its wall-clock times, in UTC', async () => {
    const r = controlledRuns();
    const task = startScheduled({
      name: 'drift',
      schedule: parseSchedule('cron(0/5 * * * ? *)'),
      run: r.run,
      log,
      clock,
    });
    expect(new Date(task.nextAt() as number).toISOString()).toBe('2026-12-07T20:05:00.000Z');
    await vi.advanceTimersByTimeAsync(MIN);
    expect(r.started).toEqual([]);
    await vi.advanceTimersByTimeAsync(MIN);
    expect(r.started.map((t) => new Date(t).toISOString())).toEqual(['2026-12-07T20:05:00.000Z']);
    r.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(new Date(task.nextAt() as number).toISOString()).toBe('2026-12-07T20:10:00.000Z');
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(r.started).toHaveLength(2);
    r.finish();
    await task.stop();
  });

  it('never overlaps: a run that outlasts its interval delays the next, missed times are skipped', async () => {
    const r = controlledRuns();
    const task = startScheduled({ name: 'drift', schedule: parseSchedule('rate(5 minutes)'), run: r.run, log, clock });
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(r.started).toHaveLength(1);
    // Still running 17 minutes later: no second run has started.
    await vi.advanceTimersByTimeAsync(17 * MIN);
    expect(r.started).toHaveLength(1);
    // A manual run while one is in progress joins it.
    const joined = task.runNow();
    expect(r.started).toHaveLength(1);
    r.finish();
    await joined;
    // The next run is armed from the end of the last one.
    expect(task.nextAt()).toBe(Date.now() + 5 * MIN);
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(r.started).toHaveLength(2);
    r.finish();
    await task.stop();
  });

  it('a failed run is logged and the schedule goes on', async () => {
    const errors: string[] = [];
    const spyLog = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    const r = controlledRuns();
    const task = startScheduled({
      name: 'drift',
      schedule: parseSchedule('rate(1 minute)'),
      run: r.run,
      log: spyLog,
      clock,
    });
    await vi.advanceTimersByTimeAsync(MIN);
    r.finish(new Error('API server unreachable'));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors.join('')).toContain('drift: run failed');
    expect(errors.join('')).toContain('API server unreachable');
    await vi.advanceTimersByTimeAsync(MIN);
    expect(r.started).toHaveLength(2);
    r.finish();
    await task.stop();
  });

  it('stop() waits for the run in progress and starts no other', async () => {
    const r = controlledRuns();
    const task = startScheduled({ name: 'drift', schedule: parseSchedule('rate(1 minute)'), run: r.run, log, clock });
    await vi.advanceTimersByTimeAsync(MIN);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    r.finish();
    await stopping;
    expect(stopped).toBe(true);
    expect(task.nextAt()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(r.started).toHaveLength(1);
  });

  it('a schedule with no further runs arms nothing', async () => {
    const r = controlledRuns();
    const task = startScheduled({
      name: 'drift',
      schedule: parseSchedule('cron(0 0 1 1 ? 2026)'),
      run: r.run,
      log,
      clock,
    });
    expect(task.nextAt()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(r.started).toHaveLength(0);
    await task.stop();
  });
});
