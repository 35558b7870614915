import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnomalyInput,
  anomalyFingerprint,
  findAnomalies,
  type GroupDay,
  median,
} from '../../shared/domain/cost/anomaly.ts';
import { type AnomalyPolicy, defaultAnomalyPolicy } from '../../shared/domain/cost/policy.ts';

const POLICY: AnomalyPolicy = defaultAnomalyPolicy(); // 1.5x and $20 over the median of 14 days, 7 needed

const date = (day: number) => `2026-11-${String(day).padStart(2, '0')}`;
/** Rows for days 1..n of November; undefined amounts leave the day out for that group. */
const series = (group: string, amounts: Array<number | undefined>): GroupDay[] =>
  amounts.flatMap((amount, i) => (amount === undefined ? [] : [{ date: date(i + 1), group, amount }]));
const input = (days: GroupDay[], lastDay: number, extra: Partial<AnomalyInput> = {}): AnomalyInput => ({
  dimension: 'service',
  scope: 'aws:123456789012',
  period: { start: '2026-11-01', end: date(lastDay + 1) },
  days,
  ...extra,
});
const fill = (n: number, v: number) => Array<number>(n).fill(v);

describe('spend anomalies against the median of the days before', () => {
  // EC2: $50 a day for 18 days, then 80, 120, 150. Each of the last three days' 14-day windows has a
  // median of $50 (at most two raised days among 14), so all three are anomalous: 1.6x +30, 2.4x +70, 3x +100.
  const ec2 = series('AmazonEC2', [...fill(18, 50), 80, 120, 150]);
  // S3: 2.5x but only +$15: under the amount threshold. Lambda: +$40 but only 1.4x: under the ratio.
  const s3 = series('AmazonS3', [...fill(20, 10), 25]);
  const lambda = series('AWSLambda', [...fill(20, 100), 140]);
  // Bedrock: nothing until day 20 (25), day 21 (30): a zero baseline, where the amount decides.
  const bedrock = series('AmazonBedrock', [...Array(19).fill(undefined), 25, 30]);

  it('says what grew, by how much and since when; the ratio and the amount must both hold', () => {
    const r = findAnomalies(input([...ec2, ...s3, ...lambda, ...bedrock], 21), POLICY);
    expect(r.day).toBe('2026-11-21');
    expect(r.gaps).toEqual([]);
    expect(r.notJudged).toEqual([]);
    expect(r.anomalies.map((a) => a.group)).toEqual(['AmazonEC2', 'AmazonBedrock']);
    expect(r.anomalies[0]).toMatchObject({
      dimension: 'service',
      scope: 'aws:123456789012',
      group: 'AmazonEC2',
      day: '2026-11-21',
      amount: 150,
      baseline: 50,
      increase: 100,
      ratio: 3,
      since: '2026-11-19',
      runDays: 3,
      runIncrease: 200, // 30 + 70 + 100
      estimated: false,
      fingerprint: anomalyFingerprint('aws:123456789012', 'service', 'AmazonEC2'),
    });
    expect(r.anomalies[0]?.summary).toBe(
      'Spend of service AmazonEC2 (aws:123456789012) on 2026-11-21: $150.00, 3x its 14-day median $50.00 (+$100.00 a day) since 2026-11-19',
    );
    expect(r.anomalies[0]?.fields).toContainEqual({
      label: 'Since',
      value: '2026-11-19 (3 anomalous days, $200.00 above baseline in all)',
    });
    // Day 19 had no Bedrock row while other services had rows: zero spend, not a gap, so the run starts on the 20th.
    expect(r.anomalies[1]).toMatchObject({
      group: 'AmazonBedrock',
      amount: 30,
      baseline: 0,
      increase: 30,
      ratio: null,
      since: '2026-11-20',
      runDays: 2,
      runIncrease: 55,
    });
    expect(r.anomalies[1]?.summary).toContain('up from nothing');
  });

  it('on a zero baseline the amount threshold decides', () => {
    const small = series('AmazonBedrock', [...Array(20).fill(undefined), 19.99]);
    const r = findAnomalies(input([...ec2.filter((d) => d.date <= date(18)), ...small, ...s3], 21), POLICY);
    expect(r.anomalies.map((a) => a.group)).toEqual([]);
    // With a $0 amount threshold, a day at $0 over a $0 baseline is still no anomaly: nothing grew.
    const zero = findAnomalies(input(series('x', fill(21, 0)), 21), { ...POLICY, minAmountUsd: 0 });
    expect(zero.anomalies).toEqual([]);
  });

  it('one spike in the window does not hide the next (a mean would)', () => {
    // $50 a day with one $500 day on the 10th; the 21st costs $100. The mean of days 7..20 is
    // (13 x 50 + 500) / 14 = $82.14, against which $100 is 1.22x; the median is $50: 2x, +$50.
    const days = series('AmazonEC2', [...fill(9, 50), 500, ...fill(10, 50), 100]);
    const r = findAnomalies(input(days, 21), POLICY);
    expect(r.anomalies).toHaveLength(1);
    expect(r.anomalies[0]).toMatchObject({ baseline: 50, ratio: 2, increase: 50, since: '2026-11-21', runDays: 1 });
  });

  it('a lasting new level becomes the baseline once it fills half the window, and the alert resolves', () => {
    // $50 for 14 days then $100. Day 21: days 7..20 hold eight 50s and six 100s, median 50: anomalous
    // since the 15th. Day 22: seven of each, median 75, and 100 is 1.33x: not reported.
    const days = series('AmazonEC2', [...fill(14, 50), ...fill(8, 100)]);
    const d21 = findAnomalies(
      input(
        days.filter((d) => d.date <= date(21)),
        21,
      ),
      POLICY,
    );
    expect(d21.anomalies[0]).toMatchObject({ since: '2026-11-15', runDays: 7, baseline: 50 });
    const d22 = findAnomalies(input(days, 22), POLICY);
    expect(d22.day).toBe('2026-11-22');
    expect(d22.anomalies).toEqual([]);
  });

  it('a day without any data is a gap: neither zero nor in a baseline, and it does not break a run', () => {
    // Day 10 and day 20 have no rows at all. Day 20's gap sits inside the run 19, 21.
    const amounts: Array<number | undefined> = [...fill(18, 50), 80, undefined, 150];
    amounts[9] = undefined;
    const r = findAnomalies(input(series('AmazonEC2', amounts), 21), POLICY);
    expect(r.gaps).toEqual(['2026-11-10', '2026-11-20']);
    expect(r.anomalies[0]).toMatchObject({
      day: '2026-11-21',
      baseline: 50,
      since: '2026-11-19',
      runDays: 2,
      runIncrease: 130,
    });
  });

  it('judges the newest day with data when the newest days of the period have none yet', () => {
    const r = findAnomalies(input(series('AmazonEC2', [...fill(18, 50), 80, 120]), 21), POLICY);
    expect(r.day).toBe('2026-11-20');
    expect(r.gaps).toEqual(['2026-11-21']);
    expect(r.anomalies[0]).toMatchObject({ day: '2026-11-20', amount: 120, since: '2026-11-19' });
  });

  it('too short a history is no anomaly, and says so', () => {
    // Six days: the sixth has five days before it; seven are needed.
    const r = findAnomalies(input(series('AmazonEC2', [...fill(5, 10), 500]), 6), POLICY);
    expect(r.anomalies).toEqual([]);
    expect(r.notJudged).toEqual([
      {
        group: 'AmazonEC2',
        why: 'only 5 of the 14 days before 2026-11-06 have data; 7 are needed for a baseline',
      },
    ]);
    // Gaps count against the history too: eight days with two missing leave five.
    const gappy = findAnomalies(input(series('AmazonEC2', [10, undefined, 10, undefined, 10, 10, 10, 500]), 8), POLICY);
    expect(gappy.notJudged[0]?.why).toMatch(/^only 5 of the 14 days/);
    // Seven days before: judged.
    expect(findAnomalies(input(series('AmazonEC2', [...fill(7, 10), 500]), 8), POLICY).anomalies).toHaveLength(1);
  });

  it('flags an anomaly on a day the provider still estimates', () => {
    const r = findAnomalies(input(ec2, 21, { estimatedFrom: '2026-11-21' }), POLICY);
    expect(r.anomalies[0]?.estimated).toBe(true);
    expect(r.anomalies[0]?.summary.endsWith('(estimated)')).toBe(true);
    expect(r.anomalies[0]?.fields).toContainEqual({
      label: 'Spend on 2026-11-21',
      value: '$150.00 (an estimate; may still rise)',
    });
    expect(findAnomalies(input(ec2, 21, { estimatedFrom: '2026-11-22' }), POLICY).anomalies[0]?.estimated).toBe(false);
  });

  it('names untagged spend and the cut groups, and keeps one fingerprint per scope, dimension and group', () => {
    const days = [...series('', [...fill(18, 50), 80, 120, 150]), ...series('other', [...fill(20, 50), 150])];
    const r = findAnomalies(input(days, 21, { dimension: 'tag:team' }), POLICY);
    expect(r.anomalies.map((a) => a.fields[0]?.value)).toEqual([
      'tag:team (untagged) in aws:123456789012',
      'tag:team other (the smaller groups together) in aws:123456789012',
    ]);
    const a = anomalyFingerprint('aws:1', 'service', 'x');
    expect(anomalyFingerprint('aws:1', 'service', 'x')).toBe(a);
    expect(
      new Set([
        a,
        anomalyFingerprint('aws:2', 'service', 'x'),
        anomalyFingerprint('aws:1', 'namespace', 'x'),
        anomalyFingerprint('aws:1', 'service', 'y'),
      ]).size,
    ).toBe(4);
  });

  it('refuses a bad period, and ignores rows outside it', () => {
    expect(() => findAnomalies(input([], 0), POLICY)).toThrow(/the period must cover 1 to 400 days, got 0/);
    expect(() => findAnomalies({ ...input([], 1), period: { start: '2026-11-1', end: '2026-11-10' } }, POLICY)).toThrow(
      /period.start must be a YYYY-MM-DD date/,
    );
    expect(() =>
      findAnomalies({ ...input([], 1), period: { start: '2025-01-01', end: '2026-11-10' } }, POLICY),
    ).toThrow(/got 678/);
    const r = findAnomalies(input([{ date: '2026-12-01', group: 'x', amount: 1e6 }], 5), POLICY);
    expect(r).toEqual({
      day: undefined,
      anomalies: [],
      notJudged: [],
      gaps: ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05'],
    });
  });

  it('median: middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('property: a flat series has no anomalies, and every anomaly reported meets both thresholds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50_000 }), { minLength: 8, maxLength: 40 }),
        fc.integer({ min: 0, max: 10_000 }),
        (cents, flat) => {
          const n = cents.length;
          const flatR = findAnomalies(input(series('f', fill(n, flat / 100)), n), POLICY);
          expect(flatR.anomalies).toEqual([]);
          const r = findAnomalies(
            input(
              series(
                'g',
                cents.map((c) => c / 100),
              ),
              n,
            ),
            POLICY,
          );
          for (const a of r.anomalies) {
            const window = cents.slice(Math.max(0, n - 1 - 14), n - 1).map((c) => c / 100);
            expect(Math.abs(a.baseline - median(window))).toBeLessThanOrEqual(0.0051); // rounded to cents
            expect(a.increase).toBeGreaterThanOrEqual(POLICY.minAmountUsd - 0.01);
            expect(a.amount).toBeGreaterThanOrEqual(POLICY.minRatio * median(window) - 0.01);
          }
        },
      ),
    );
  });
});
