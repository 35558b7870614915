/**
 * Summaries of metric series for the aws and gcp metric tools: a model needs the shape of a series
 * (range, typical value, where it ends, which way it goes), never its thousands of raw points. Pure
 * and unit-tested (test/unit/series-summary.test.ts): no clock, no I/O.
 */

/** One point: epoch milliseconds and a value. Callers pass them oldest first. */
export interface Point {
  t: number;
  v: number;
}

export interface Trend {
  /** Mean of the oldest third of the values, and of the newest third. */
  firstThirdAvg: number;
  lastThirdAvg: number;
  /** Change from the first third to the last, in percent of the first (absent when the first is 0). */
  changePct?: number;
  /** `flat` when the change is within 5% of the larger of the two means. */
  direction: 'rising' | 'falling' | 'flat';
}

export interface SeriesSummary {
  /** Finite values summarized (NaN and infinities are left out). */
  count: number;
  min?: number;
  max?: number;
  avg?: number;
  /** 95th percentile by the nearest-rank method (see percentile). */
  p95?: number;
  last?: { time: string; value: number };
  /** Absent under 3 values: a third of fewer says nothing. */
  trend?: Trend;
  /** At most `maxPoints` points picked by LTTB, always the first and the last. */
  points: Array<{ time: string; value: number }>;
}

/** Six significant digits: enough to read, and a point costs a few bytes instead of twenty. */
export const round = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);

const mean = (vs: readonly number[]): number => vs.reduce((s, v) => s + v, 0) / vs.length;

/**
 * The p-th percentile by the nearest-rank method: the smallest value such that at least p% of the
 * values are less than or equal to it, i.e. sorted[ceil(p/100 * n) - 1] (a value of the series,
 * never an interpolation). Undefined for no values.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** The first third of the values against the last third; undefined under 3 values. */
export function trendOf(values: readonly number[]): Trend | undefined {
  const third = Math.floor(values.length / 3);
  if (third === 0) return undefined;
  const first = mean(values.slice(0, third));
  const last = mean(values.slice(values.length - third));
  const delta = last - first;
  const scale = Math.max(Math.abs(first), Math.abs(last));
  const direction = scale === 0 || Math.abs(delta) <= 0.05 * scale ? 'flat' : delta > 0 ? 'rising' : 'falling';
  return {
    firstThirdAvg: round(first),
    lastThirdAvg: round(last),
    ...(first !== 0 ? { changePct: Math.round((delta / Math.abs(first)) * 1000) / 10 } : {}),
    direction,
  };
}

/**
 * At most `max` points that keep the series' shape: Largest-Triangle-Three-Buckets (Steinarsson,
 * "Downsampling Time Series for Visual Representation", 2013). The first and last points are always
 * kept; in between, one point per bucket, the one that makes the largest triangle with the point
 * kept before it and the mean of the next bucket, so peaks and dips survive. `max` under 3 keeps
 * the first and last only.
 */
export function downsample(points: readonly Point[], max: number): Point[] {
  const n = points.length;
  if (n <= max) return [...points];
  if (max <= 0) return [];
  const first = points[0] as Point;
  const lastPoint = points[n - 1] as Point;
  if (max === 1) return [lastPoint];
  if (max === 2) return [first, lastPoint];
  const out: Point[] = [first];
  const every = (n - 2) / (max - 2);
  let a = 0;
  for (let i = 0; i < max - 2; i++) {
    // The mean of the next bucket (the last bucket's next is the last point).
    const avgStart = Math.floor((i + 1) * every) + 1;
    const avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgT = 0;
    let avgV = 0;
    for (let j = avgStart; j < avgEnd; j++) {
      avgT += (points[j] as Point).t;
      avgV += (points[j] as Point).v;
    }
    const span = Math.max(1, avgEnd - avgStart);
    avgT /= span;
    avgV /= span;
    // The point of this bucket that makes the largest triangle with the one kept before and that mean.
    const from = Math.floor(i * every) + 1;
    const to = Math.min(Math.floor((i + 1) * every) + 1, n - 1);
    const pa = points[a] as Point;
    let best = from;
    let bestArea = -1;
    for (let j = from; j < to; j++) {
      const p = points[j] as Point;
      const area = Math.abs((pa.t - avgT) * (p.v - pa.v) - (pa.t - p.t) * (avgV - pa.v));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(points[best] as Point);
    a = best;
  }
  out.push(lastPoint);
  return out;
}

/** count, min, max, avg, p95, last, trend and at most `maxPoints` points of one series. */
export function summarizeSeries(points: readonly Point[], maxPoints = 12): SeriesSummary {
  const kept = points.filter((p) => Number.isFinite(p.v) && Number.isFinite(p.t));
  if (kept.length === 0) return { count: 0, points: [] };
  const values = kept.map((p) => p.v);
  const last = kept[kept.length - 1] as Point;
  const trend = trendOf(values);
  return {
    count: values.length,
    // reduce, not Math.min(...values): a spread of 100k values overflows the stack.
    min: round(values.reduce((m, v) => (v < m ? v : m))),
    max: round(values.reduce((m, v) => (v > m ? v : m))),
    avg: round(mean(values)),
    p95: round(percentile(values, 95) as number),
    last: { time: new Date(last.t).toISOString(), value: round(last.v) },
    ...(trend ? { trend } : {}),
    points: downsample(kept, maxPoints).map((p) => ({ time: new Date(p.t).toISOString(), value: round(p.v) })),
  };
}
