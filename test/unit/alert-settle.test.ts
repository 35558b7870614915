import { describe, expect, it } from 'vitest';
import { deliverWithinBudget } from '../../shared/app/alerts/settle.ts';
import type { Alerting, DeliverResult } from '../../shared/app/alerts/types.ts';

/** An outbox whose entries fall due at given times (ms on a fake clock); deliver sends what is due. */
function fakeOutbox(dueAt: number[], clock: { t: number }) {
  const queue = [...dueAt].sort((a, b) => a - b);
  const passes: number[] = [];
  const alerting: Pick<Alerting, 'deliver'> = {
    async deliver(): Promise<DeliverResult> {
      passes.push(clock.t);
      let sent = 0;
      while (queue.length && (queue[0] as number) <= clock.t) {
        queue.shift();
        sent++;
      }
      const next = queue[0];
      return {
        sent,
        deferred: 0,
        failed: 0,
        pending: queue.length,
        ...(next !== undefined ? { nextAttemptAt: new Date(next).toISOString() } : {}),
      };
    },
  };
  return { alerting: alerting as Alerting, passes, queue };
}

describe('deliverWithinBudget', () => {
  const setup = (dueAt: number[]) => {
    const clock = { t: 0 };
    const box = fakeOutbox(dueAt, clock);
    const sleep = async (ms: number) => {
      clock.t += ms;
    };
    return { clock, box, sleep, now: () => clock.t };
  };

  it('waits for a group wait inside the budget and sends it; leaves what falls due after the budget', async () => {
    const { box, sleep, now } = setup([0, 30_000, 500_000]);
    const r = await deliverWithinBudget(box.alerting, { budgetMs: 120_000, now, sleep });
    expect(box.passes).toEqual([0, 30_000]);
    expect(r).toMatchObject({ pending: 1, nextAttemptAt: new Date(500_000).toISOString() });
  });

  it("starts from the check's own pass instead of repeating it", async () => {
    const { box, sleep, now } = setup([30_000]);
    const first: DeliverResult = {
      sent: 2,
      deferred: 0,
      failed: 0,
      pending: 1,
      nextAttemptAt: new Date(30_000).toISOString(),
    };
    const r = await deliverWithinBudget(box.alerting, { first, budgetMs: 60_000, now, sleep });
    expect(box.passes).toEqual([30_000]);
    expect(r.pending).toBe(0);
  });

  it('leaves a failing channel to the next run: a pass with deferred entries ends the wait', async () => {
    const { box, sleep, now } = setup([30_000]);
    const first: DeliverResult = {
      sent: 0,
      deferred: 1,
      failed: 0,
      pending: 1,
      nextAttemptAt: new Date(5_000).toISOString(),
    };
    const r = await deliverWithinBudget(box.alerting, { first, budgetMs: 120_000, now, sleep });
    expect(box.passes).toEqual([]);
    expect(r).toBe(first);
  });

  it('stops at once when its host stops, and after a bounded number of passes', async () => {
    const { box, sleep, now } = setup(Array.from({ length: 50 }, (_, i) => i * 1000));
    const stop = new AbortController();
    stop.abort();
    await deliverWithinBudget(box.alerting, { budgetMs: 600_000, now, sleep, signal: stop.signal });
    expect(box.passes).toHaveLength(1);
    const again = setup(Array.from({ length: 50 }, (_, i) => i * 1000));
    await deliverWithinBudget(again.box.alerting, { budgetMs: 600_000, now: again.now, sleep: again.sleep });
    expect(again.box.passes.length).toBeLessThanOrEqual(8);
  });
});
