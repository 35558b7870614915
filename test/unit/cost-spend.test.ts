/**
 * The spend cache (shared/app/cost/spend.ts) over the MemoryStore with an injected clock: a source
 * that counts what it was asked and what each answer paid (a page per call, as Cost Explorer bills).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { canonicalQuery, monthForecast, SPEND_LIMITS, sourceSpend, spendReports } from '../../shared/app/cost/spend.ts';
import { AppError } from '../../shared/app/errors.ts';
import type { CostPeriod, CostSource, DailySpendQuery, SpendReport } from '../../shared/ports/cost.ts';

const T0 = Date.parse('2026-12-20T12:00:00Z');
const HOUR = 3600_000;

function counting(kind: string, rows = 1, opts: { failWith?: Error; waitFor?: Promise<void> } = {}) {
  const calls: DailySpendQuery[] = [];
  let forecasts = 0;
  const source: CostSource = {
    kind,
    async dailySpend(q) {
      calls.push(q);
      await opts.waitFor;
      if (opts.failWith) throw opts.failWith;
      const days = Array.from({ length: rows }, (_, i) => ({ date: q.period.start, group: `svc-${i}`, amount: 1 }));
      return { currency: 'USD', period: q.period, days, total: rows, estimated: false, pages: 1 } satisfies SpendReport;
    },
    async forecast(period: CostPeriod) {
      forecasts++;
      return { currency: 'USD', period, amount: 100, method: 'computed', pages: 1 };
    },
  };
  return { source, calls, forecasts: () => forecasts };
}

function setup(sources: CostSource[]) {
  let now = T0;
  const clock = { now: () => now };
  const deps = { store: new MemoryStore(clock), clock, config: { cost: { cacheTtlMs: HOUR } }, costSources: sources };
  return { deps, advance: (ms: number) => (now += ms) };
}

const q: DailySpendQuery = {
  period: { start: '2026-12-01', end: '2026-12-21' },
  groupBy: { by: 'service' },
  maxGroups: 10,
  only: ['b', 'a'],
};

describe('spend cache', () => {
  it('a second ask within the TTL pays nothing and says when it was fetched; the same query in another order is the same key; after the TTL it pays again', async () => {
    const aws = counting('aws-cost-explorer');
    const { deps, advance } = setup([aws.source]);
    const first = await sourceSpend(deps, aws.source, q);
    expect(first).toMatchObject({ pages: 1 });
    expect(first.cachedAt).toBeUndefined();
    advance(HOUR - 1);
    const again = await sourceSpend(deps, aws.source, { ...q, only: ['a', 'b', 'a'] });
    expect(again).toMatchObject({ pages: 0, cachedAt: new Date(T0).toISOString(), days: first.days });
    expect(aws.calls).toHaveLength(1);
    expect(aws.calls[0]?.only).toEqual(['a', 'b']);
    advance(1);
    expect(await sourceSpend(deps, aws.source, q)).toMatchObject({ pages: 1 });
    expect(aws.calls).toHaveLength(2);
  });

  it('concurrent asks of one query in one process make one call; each source has its own key', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const aws = counting('aws-cost-explorer', 1, { waitFor: gate });
    const gcp = counting('gcp-bigquery-billing');
    const { deps } = setup([aws.source, gcp.source]);
    const all = Promise.all([spendReports(deps, q), spendReports(deps, q), sourceSpend(deps, aws.source, q)]);
    release();
    const [a, b, c] = await all;
    expect(aws.calls).toHaveLength(1);
    expect(gcp.calls).toHaveLength(1);
    const paid = [a, b].flatMap((r) => r.map((s) => (s.ok ? s.report.pages : -1)));
    expect(paid.reduce((x, y) => x + y, 0) + c.pages).toBe(2); // one page per source, paid once
  });

  it('a failing source is reported, the others answer; a caller mistake is refused before any call', async () => {
    const aws = counting('aws-cost-explorer', 1, { failWith: new Error('Throttled: slow down\nnow') });
    const gcp = counting('gcp-bigquery-billing');
    const { deps } = setup([aws.source, gcp.source]);
    const r = await spendReports(deps, q);
    expect(r[0]).toEqual({ source: 'aws-cost-explorer', ok: false, error: 'Throttled: slow down now' });
    expect(r[1]).toMatchObject({ source: 'gcp-bigquery-billing', ok: true });
    await expect(spendReports(deps, { ...q, maxGroups: 0 })).rejects.toThrow(AppError);
    expect(() => canonicalQuery({ ...q, period: { start: '2025-01-01', end: '2026-12-21' } })).toThrow(
      /at most 400 days/,
    );
    expect(() => canonicalQuery({ ...q, period: { start: '2026-12-21', end: '2026-12-01' } })).toThrow(
      /start before end/,
    );
  });

  it('an answer too large for a Store item is served but not kept, and says so', async () => {
    const big = counting('aws-cost-explorer', 8000);
    const { deps } = setup([big.source]);
    const first = await sourceSpend(deps, big.source, q);
    expect(JSON.stringify(first.days).length).toBeGreaterThan(SPEND_LIMITS.recordBytes / 2);
    expect(first.note).toMatch(/too large to cache/);
    await sourceSpend(deps, big.source, q);
    expect(big.calls).toHaveLength(2);
  });

  it("a corrupt record is a miss and is written over; the month's forecast is cached per day", async () => {
    const aws = counting('aws-cost-explorer');
    const { deps, advance } = setup([aws.source]);
    await sourceSpend(deps, aws.source, q);
    const { items } = await deps.store.query({ pk: 'cost-cache#aws-cost-explorer', limit: 10 });
    const item = items[0];
    if (!item) throw new Error('nothing cached');
    await deps.store.put({ pk: item.pk, sk: item.sk, data: { fetchedAt: 'never', answer: 7 } });
    expect(await sourceSpend(deps, aws.source, q)).toMatchObject({ pages: 1 });
    expect(await sourceSpend(deps, aws.source, q)).toMatchObject({ pages: 0 });

    const f1 = await monthForecast(deps, aws.source, T0);
    expect(f1).toMatchObject({
      amount: 100,
      method: 'computed',
      pages: 1,
      period: { start: '2026-12-01', end: '2027-01-01' },
    });
    expect(await monthForecast(deps, aws.source, T0 + 1000)).toMatchObject({ pages: 0 });
    advance(12 * HOUR); // the next day (and past the TTL)
    expect(await monthForecast(deps, aws.source, T0 + 12 * HOUR)).toMatchObject({ pages: 1 });
    expect(aws.forecasts()).toBe(2);
  });
});
