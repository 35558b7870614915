import { describe, expect, it } from 'vitest';
import { humanDuration, sinceTimestamp } from '../../shared/domain/k8s/index.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe('humanDuration (kubectl AGE, apimachinery duration.HumanDuration)', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [-999, '0s'], // clock skew under a second reads as now
    [-1999, '0s'], // int(-1.999s) truncates to -1: still tolerated
    [-2 * S, '<invalid>'],
    [45 * S, '45s'],
    [119 * S, '119s'], // seconds up to 2 minutes
    [2 * M, '2m'],
    [2 * M + 30 * S, '2m30s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 59 * S, '10m'], // from 10 minutes the seconds are dropped
    [179 * M, '179m'], // minutes up to 3 hours
    [3 * H, '3h'],
    [3 * H + 20 * M, '3h20m'],
    [7 * H + 59 * M, '7h59m'],
    [8 * H + 30 * M, '8h'], // from 8 hours the minutes are dropped
    [47 * H, '47h'],
    [48 * H, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D + 5 * H, '8d'],
    [729 * D, '729d'],
    [2 * Y, '2y'],
    [2 * Y + 30 * D, '2y30d'],
    [7 * Y + 364 * D, '7y364d'],
    [8 * Y + 100 * D, '8y'],
    [12 * Y, '12y'],
  ])('%d ms -> %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });

  it('formats the age of a timestamp against an explicit now, <unknown> when missing or invalid', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(sinceTimestamp('2026-11-21T11:57:30Z', now)).toBe('2m30s');
    expect(sinceTimestamp('2026-11-18T08:00:00Z', now)).toBe('3d4h');
    expect(sinceTimestamp(undefined, now)).toBe('<unknown>');
    expect(sinceTimestamp('', now)).toBe('<unknown>');
    expect(sinceTimestamp('not a date', now)).toBe('<unknown>');
    expect(sinceTimestamp(12345, now)).toBe('<unknown>');
  });
});
