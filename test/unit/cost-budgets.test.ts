import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BudgetSpend,
  budgetFingerprint,
  type DayAmount,
  daysInMonth,
  evaluateBudgets,
  formatUsd,
} from '../../shared/domain/cost/budgets.ts';
import type { BudgetPolicy } from '../../shared/domain/cost/policy.ts';

const budget = (over: Partial<BudgetPolicy> = {}): BudgetPolicy => ({
  name: 'payments-prod',
  scope: { namespace: 'payments', cluster: 'prod' },
  monthlyUsd: 1000,
  thresholds: { actual: [80, 100], forecast: [100] },
  ...over,
});
const KEY = 'namespace=payments cluster=prod';

/** Days 1..n of November 2026 with the given amounts. */
const nov = (amounts: number[]): DayAmount[] =>
  amounts.map((amount, i) => ({ date: `2026-11-${String(i + 1).padStart(2, '0')}`, amount }));

const spend = (days: DayAmount[], extra: Partial<BudgetSpend> = {}): BudgetSpend => ({
  currency: 'USD',
  days,
  ...extra,
});

// Ten days at $10 then seven at $100: running totals 10..100, then 200, 300, ..., 800 on the 17th.
const RAMP = nov([...Array(10).fill(10), ...Array(7).fill(100)]);

describe('budgets against month-to-date spend and the forecast', () => {
  it('reports the highest actual threshold crossed, by how much and since when (>= crosses)', () => {
    const r = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(RAMP) } });
    // $800 is exactly 80% of $1,000: crossed on the 17th, the day the running total reached it.
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({
      budget: 'payments-prod',
      scopeKey: KEY,
      month: '2026-11',
      kind: 'actual',
      threshold: 80,
      limit: 800,
      current: 800,
      over: 0,
      percent: 80,
      since: '2026-11-17',
      sinceBasis: 'running-total',
      severity: 'warning',
      estimated: false,
    });
    expect(r.findings[0]?.summary).toBe(
      'Budget payments-prod (namespace=payments cluster=prod): month-to-date spend $800.00 is 80% of $1,000.00, over the 80% threshold by $0.00 since 2026-11-17',
    );
    expect(r.statuses).toEqual([
      {
        budget: 'payments-prod',
        scopeKey: KEY,
        monthlyUsd: 1000,
        evaluated: true,
        actual: 800,
        actualPercent: 80,
        estimated: false,
        crossed: ['actual'],
      },
    ]);
  });

  it('a cent under the lowest threshold is no finding', () => {
    const days = nov([...Array(10).fill(10), ...Array(6).fill(100), 99.99]);
    const r = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(days) } });
    expect(r.findings).toEqual([]);
    expect(r.statuses[0]).toMatchObject({ evaluated: true, actual: 799.99, crossed: [] });
  });

  it('at 100% the actual alert is critical and names 100, not 80', () => {
    const days = nov([...RAMP.map((d) => d.amount), 150, 100]); // 800 + 150 = 950 on the 18th, 1050 on the 19th
    const r = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(days) } });
    expect(r.findings[0]).toMatchObject({
      kind: 'actual',
      threshold: 100,
      limit: 1000,
      current: 1050,
      over: 50,
      percent: 105,
      since: '2026-11-19',
      severity: 'critical',
    });
  });

  it('a forecast over its threshold says since when the run-rate crossed, and by which method', () => {
    const r = evaluateBudgets([budget()], {
      month: '2026-11',
      spend: { [KEY]: spend(RAMP, { forecast: { amount: 1700, method: 'computed' } }) },
    });
    const f = r.findings.find((x) => x.kind === 'forecast');
    // Run-rate = running total / day x 30: day 13 400/13x30 = 923.08, day 14 500/14x30 = 1071.43 >= 1000.
    expect(f).toMatchObject({
      threshold: 100,
      limit: 1000,
      current: 1700,
      over: 700,
      percent: 170,
      since: '2026-11-14',
      sinceBasis: 'run-rate',
      forecastMethod: 'computed',
      severity: 'warning',
    });
    expect(f?.fields).toContainEqual({ label: 'Forecast by', value: 'computed here from the daily spend' });
    expect(r.statuses[0]).toMatchObject({
      forecast: 1700,
      forecastPercent: 170,
      forecastMethod: 'computed',
      crossed: ['actual', 'forecast'],
    });
  });

  it("when only the provider's forecast crosses, since is the newest day and says so", () => {
    // $10 a day: run-rate $300 a month, never $1,000; the provider expects a big month end.
    const r = evaluateBudgets([budget({ thresholds: { actual: [80], forecast: [100] } })], {
      month: '2026-11',
      spend: { [KEY]: spend(nov(Array(5).fill(10)), { forecast: { amount: 1200, method: 'provider' } }) },
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({
      kind: 'forecast',
      since: '2026-11-05',
      sinceBasis: 'forecast',
      forecastMethod: 'provider',
    });
    expect(r.findings[0]?.fields).toContainEqual({
      label: 'Since',
      value: '2026-11-05 (the forecast; the run-rate has not reached it)',
    });
  });

  it('leaves a budget unevaluated, with why, without spend or with spend in another currency', () => {
    const r = evaluateBudgets([budget(), budget({ name: 'eu', scope: { project: 'my-eu-project' } })], {
      month: '2026-11',
      spend: { 'project=my-eu-project': { currency: 'EUR', days: nov([5000]) } },
    });
    expect(r.findings).toEqual([]);
    expect(r.statuses).toEqual([
      {
        budget: 'payments-prod',
        scopeKey: KEY,
        monthlyUsd: 1000,
        evaluated: false,
        why: `no spend was gathered for ${KEY}`,
      },
      {
        budget: 'eu',
        scopeKey: 'project=my-eu-project',
        monthlyUsd: 1000,
        evaluated: false,
        why: 'the spend of project=my-eu-project is in EUR; budgets are in USD',
      },
    ]);
  });

  it('counts only the days of the month judged, summing a repeated date', () => {
    const days = [{ date: '2026-10-31', amount: 10_000 }, ...nov([400, 400]), { date: '2026-11-02', amount: 50 }];
    const r = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(days) } });
    expect(r.statuses[0]).toMatchObject({ actual: 850 });
    expect(r.findings[0]).toMatchObject({ threshold: 80, since: '2026-11-02' });
  });

  it('flags estimated days in the finding', () => {
    const r = evaluateBudgets([budget()], {
      month: '2026-11',
      spend: { [KEY]: spend(nov([900]), { estimated: true }) },
    });
    expect(r.findings[0]?.estimated).toBe(true);
    expect(r.findings[0]?.fields).toContainEqual({
      label: 'Note',
      value: 'the newest days are estimates and may still rise',
    });
  });

  it('one fingerprint per budget, kind and month: 80% then 100% is the same alert; a new month resolves it', () => {
    const at80 = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(RAMP) } }).findings[0];
    const at100 = evaluateBudgets([budget()], { month: '2026-11', spend: { [KEY]: spend(nov([1000])) } }).findings[0];
    expect(at80?.threshold).toBe(80);
    expect(at100?.threshold).toBe(100);
    expect(at80?.fingerprint).toBe(at100?.fingerprint);
    expect(at80?.fingerprint).toBe(budgetFingerprint('payments-prod', 'actual', '2026-11'));
    expect(budgetFingerprint('payments-prod', 'forecast', '2026-11')).not.toBe(at80?.fingerprint);
    expect(budgetFingerprint('other', 'actual', '2026-11')).not.toBe(at80?.fingerprint);
    // December starts from zero: nothing crossed, so November's fingerprint is not reported (resolved)
    // and December's own fires only when December crosses.
    const dec = evaluateBudgets([budget()], {
      month: '2026-12',
      spend: { [KEY]: spend([{ date: '2026-12-01', amount: 30 }], { forecast: { amount: 900, method: 'computed' } }) },
    });
    expect(dec.findings).toEqual([]);
    const decOver = evaluateBudgets([budget()], {
      month: '2026-12',
      spend: { [KEY]: spend([{ date: '2026-12-20', amount: 820 }]) },
    });
    expect(decOver.findings[0]?.fingerprint).toBe(budgetFingerprint('payments-prod', 'actual', '2026-12'));
    expect(decOver.findings[0]?.fingerprint).not.toBe(at80?.fingerprint);
  });

  it('a forecast falling back under its threshold within the month is no longer reported', () => {
    const over = evaluateBudgets([budget()], {
      month: '2026-11',
      spend: { [KEY]: spend(nov([10]), { forecast: { amount: 1001, method: 'provider' } }) },
    });
    const under = evaluateBudgets([budget()], {
      month: '2026-11',
      spend: { [KEY]: spend(nov([10, 10]), { forecast: { amount: 999, method: 'provider' } }) },
    });
    expect(over.findings.map((f) => f.kind)).toEqual(['forecast']);
    expect(under.findings).toEqual([]);
  });

  it('knows month lengths and refuses a bad month', () => {
    expect([daysInMonth('2026-02'), daysInMonth('2028-02'), daysInMonth('2026-11'), daysInMonth('2026-12')]).toEqual([
      28, 29, 30, 31,
    ]);
    expect(() => evaluateBudgets([budget()], { month: '2026-13', spend: {} })).toThrow(/month must be YYYY-MM/);
    expect(formatUsd(1234.5)).toBe('$1,234.50');
  });

  it('property: an actual finding exists exactly when the total reaches the lowest threshold, and since is the first day it did', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 5000 }),
        (cents, monthlyUsd) => {
          const days = nov(cents.map((c) => c / 100));
          const r = evaluateBudgets([budget({ monthlyUsd, thresholds: { actual: [50, 100], forecast: [] } })], {
            month: '2026-11',
            spend: { [KEY]: spend(days) },
          });
          const totalCents = cents.reduce((s, c) => s + c, 0);
          const f = r.findings[0];
          expect(f !== undefined).toBe(totalCents >= monthlyUsd * 50);
          if (!f) return;
          expect(f.threshold).toBe(totalCents >= monthlyUsd * 100 ? 100 : 50);
          const idx = days.findIndex((d) => d.date === f.since);
          const before = cents.slice(0, idx).reduce((s, c) => s + c, 0);
          expect(before + (cents[idx] ?? 0)).toBeGreaterThanOrEqual(monthlyUsd * f.threshold);
          expect(before).toBeLessThan(monthlyUsd * f.threshold);
        },
      ),
    );
  });
});
