import { describe, expect, it } from 'vitest';
import { downsample, percentile, round, summarizeSeries, trendOf } from '../../shared/tools/common/series.ts';

const T0 = Date.parse('2026-12-07T00:00:00Z');
const minute = (i: number) => T0 + i * 60_000;
const series = (values: number[]) => values.map((v, i) => ({ t: minute(i), v }));

describe('percentile (nearest rank)', () => {
  it('is sorted[ceil(p/100 * n) - 1], a value of the series, never interpolated', () => {
    // n = 20: rank ceil(19) = 19 -> the 19th smallest.
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10).reverse();
    expect(percentile(twenty, 95)).toBe(190);
    // n = 10: rank ceil(9.5) = 10 -> the largest (linear interpolation would give 95.5).
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95)).toBe(100);
    // n = 3: rank ceil(2.85) = 3.
    expect(percentile([5, 1, 3], 95)).toBe(5);
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeUndefined();
  });
});

describe('summarizeSeries', () => {
  it('gives count, min, max, avg, p95, last and the trend of a small series exactly', () => {
    // 2, 4, 6 | 8, 10, 12 | 14, 16, 18: first third mean 4, last third mean 16.
    const s = summarizeSeries(series([2, 4, 6, 8, 10, 12, 14, 16, 18]));
    expect(s).toMatchObject({ count: 9, min: 2, max: 18, avg: 10, p95: 18 });
    expect(s.last).toEqual({ time: new Date(minute(8)).toISOString(), value: 18 });
    expect(s.trend).toEqual({ firstThirdAvg: 4, lastThirdAvg: 16, changePct: 300, direction: 'rising' });
    // Nine points are within the default 12: all of them, oldest first.
    expect(s.points.map((p) => p.value)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('a falling and a flat series read as such; a first third of 0 has no percentage', () => {
    expect(trendOf([10, 10, 10, 5, 5, 5])).toEqual({
      firstThirdAvg: 10,
      lastThirdAvg: 5,
      changePct: -50,
      direction: 'falling',
    });
    // 100 -> 104: within 5% of the larger mean.
    expect(trendOf([100, 100, 100, 104, 104, 104])?.direction).toBe('flat');
    expect(trendOf([0, 0, 0, 0, 0, 0])).toEqual({ firstThirdAvg: 0, lastThirdAvg: 0, direction: 'flat' });
    expect(trendOf([0, 1, 2, 3, 4, 5])).toMatchObject({ firstThirdAvg: 0.5, lastThirdAvg: 4.5, changePct: 800 });
    const fromZero = trendOf([0, 0, 1, 4, 5, 5]);
    expect(fromZero).toEqual({ firstThirdAvg: 0, lastThirdAvg: 5, direction: 'rising' });
    // Under three values there is no third to compare.
    expect(trendOf([1, 2])).toBeUndefined();
  });

  it('an empty series, or one of NaN only, is count 0 with nothing else', () => {
    expect(summarizeSeries([])).toEqual({ count: 0, points: [] });
    expect(summarizeSeries(series([Number.NaN, Number.POSITIVE_INFINITY]))).toEqual({ count: 0, points: [] });
  });

  it('leaves non-finite values out of every figure', () => {
    const s = summarizeSeries(series([1, Number.NaN, 3]));
    expect(s).toMatchObject({ count: 2, min: 1, max: 3, avg: 2 });
    expect(s.trend).toBeUndefined();
  });

  it('rounds to six significant digits', () => {
    expect(round(0.123456789)).toBe(0.123457);
    expect(round(1234567.89)).toBe(1234570);
    const s = summarizeSeries(series([1 / 3, 2 / 3]));
    expect(s.avg).toBe(0.5);
    expect(s.min).toBe(0.333333);
  });

  it('handles a series far longer than a spread of arguments allows', () => {
    const long = Array.from({ length: 200_000 }, (_, i) => ({ t: minute(i), v: i % 1000 }));
    const s = summarizeSeries(long);
    expect(s).toMatchObject({ count: 200_000, min: 0, max: 999 });
    expect(s.points).toHaveLength(12);
  });
});

describe('downsample (LTTB)', () => {
  it('keeps the first and the last point and at most max points, in time order', () => {
    const pts = series(Array.from({ length: 100 }, (_, i) => Math.sin(i / 5)));
    const out = downsample(pts, 12);
    expect(out).toHaveLength(12);
    expect(out[0]).toEqual(pts[0]);
    expect(out[11]).toEqual(pts[99]);
    for (let i = 1; i < out.length; i++)
      expect((out[i] as { t: number }).t).toBeGreaterThan((out[i - 1] as { t: number }).t);
  });

  it('keeps a lone spike that an even pick would miss', () => {
    const values = Array.from({ length: 120 }, () => 1);
    values[37] = 500;
    const out = downsample(series(values), 12);
    // An even pick (0, 11, 22, 32, 43, ...) would not include index 37.
    expect(out.map((p) => p.v)).toContain(500);
  });

  it('returns short series whole, and the ends alone for a max under 3', () => {
    const pts = series([1, 2, 3]);
    expect(downsample(pts, 12)).toEqual(pts);
    expect(downsample(series([1, 2, 3, 4]), 2).map((p) => p.v)).toEqual([1, 4]);
    expect(downsample(series([1, 2, 3, 4]), 1).map((p) => p.v)).toEqual([4]);
    expect(downsample(series([1, 2, 3, 4]), 0)).toEqual([]);
    expect(downsample([], 12)).toEqual([]);
  });

  it('summaries carry the downsampled points with the first and last of the series', () => {
    const s = summarizeSeries(series(Array.from({ length: 50 }, (_, i) => i)), 6);
    expect(s.points).toHaveLength(6);
    expect(s.points[0]).toEqual({ time: new Date(minute(0)).toISOString(), value: 0 });
    expect(s.points[5]).toEqual({ time: new Date(minute(49)).toISOString(), value: 49 });
  });
});
