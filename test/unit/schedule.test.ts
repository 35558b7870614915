import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextRun, parseSchedule, ScheduleError, toEventBridgeExpression } from '../../shared/domain/schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
/** The next `n` runs after `from`. */
function runs(expr: string, from: string, n: number): Array<string | undefined> {
  const s = parseSchedule(expr);
  const out: Array<string | undefined> = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = nextRun(s, t);
    out.push(iso(t));
  }
  return out;
}

describe('parseSchedule: rate', () => {
  it('runs every interval from the last run', () => {
    expect(runs('rate(5 minutes)', '2026-12-07T20:00:30.000Z', 2)).toEqual([
      '2026-12-07T20:05:30.000Z',
      '2026-12-07T20:10:30.000Z',
    ]);
    expect(parseSchedule('rate(1 hour)')).toMatchObject({ kind: 'rate', everyMs: 3_600_000 });
    expect(parseSchedule(' rate(2 days) ')).toMatchObject({ kind: 'rate', everyMs: 2 * 86_400_000 });
  });

  it('refuses what EventBridge refuses: singular/plural, zero, unknown units', () => {
    for (const [bad, why] of [
      ['rate(1 minutes)', 'singular'],
      ['rate(5 minute)', 'plural'],
      ['rate(0 minutes)', 'positive'],
      ['rate(5 seconds)', 'unit must be'],
      ['rate(five minutes)', 'expected rate'],
      ['rate(400 days)', 'once a year'],
    ] as const) {
      expect(() => parseSchedule(bad), bad).toThrow(why);
    }
  });
});

describe('parseSchedule: EventBridge cron(...)', () => {
  it('every 5 minutes', () => {
    expect(runs('cron(0/5 * * * ? *)', '2026-12-07T20:03:10.000Z', 3)).toEqual([
      '2026-12-07T20:05:00.000Z',
      '2026-12-07T20:10:00.000Z',
      '2026-12-07T20:15:00.000Z',
    ]);
  });

  it('numbers days of the week 1-7 from Sunday, and takes their names', () => {
    // 2026-12-07 is a Monday. cron(0 9 ? * 2 *) = Mondays 09:00.
    expect(runs('cron(0 9 ? * 2 *)', '2026-12-07T10:00:00.000Z', 1)).toEqual(['2026-12-14T09:00:00.000Z']);
    expect(runs('cron(0 9 ? * MON-FRI *)', '2026-12-11T10:00:00.000Z', 1)).toEqual(['2026-12-14T09:00:00.000Z']);
    expect(runs('cron(30 6 ? * SUN *)', '2026-12-07T00:00:00.000Z', 1)).toEqual(['2026-12-13T06:30:00.000Z']);
  });

  it('month and year fields: the last run of a finite schedule ends it', () => {
    expect(runs('cron(0 0 1 JAN ? 2027-2028)', '2026-06-01T00:00:00.000Z', 3)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
      undefined,
    ]);
    expect(runs('cron(0 0 29 2 ? *)', '2026-03-01T00:00:00.000Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
  });

  it('a schedule whose days never occur has no next run', () => {
    expect(nextRun(parseSchedule('cron(0 0 30 2 ? *)'), at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses what EventBridge refuses, and what the local timer could not run', () => {
    for (const [bad, why] of [
      ['cron(0 12 * * * *)', 'exactly one'],
      ['cron(0 12 ? * ? *)', 'exactly one'],
      ['cron(0 12 * * ?)', 'six fields'],
      ['cron(60 * * * ? *)', 'outside 0-59'],
      ['cron(0 0 ? * 0 *)', 'outside 1-7'],
      ['cron(0 0 ? * */2 *)', 'steps'],
      ['cron(0 0 L * ? *)', 'L, W and #'],
      ['cron(0 0 ? * 6#3 *)', 'L, W and #'],
      ['cron(0 0 15W * ? *)', 'L, W and #'],
      ['cron(0 0 ? * 6L *)', 'L, W and #'],
      ['cron(5-2 * * * ? *)', 'backwards'],
      ['cron(0 0 ? * MON-FRI 1969)', 'outside 1970-2199'],
      ['at(2026-12-07T10:00:00)', 'one-time'],
      ['every(5 minutes)', 'unknown form'],
      ['', 'empty'],
      [`cron(${'1,'.repeat(200)}1 * * * ? *)`, 'longer than'],
    ] as const) {
      expect(() => parseSchedule(bad), bad).toThrow(ScheduleError);
      expect(() => parseSchedule(bad), bad).toThrow(why);
    }
  });

  it('names with L or W (JUL, WED) are names, not the L/W operators', () => {
    expect(runs('cron(0 0 1 JUL ? *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-07-01T00:00:00.000Z']);
    expect(runs('cron(0 0 ? * WED *)', '2026-12-07T00:00:00Z', 1)).toEqual(['2026-12-09T00:00:00.000Z']);
  });
});

describe('parseSchedule: five-field cron', () => {
  it('every 5 minutes, at hours, on weekdays (0 and 7 are Sunday)', () => {
    expect(runs('*/5 * * * *', '2026-12-07T20:03:00.000Z', 2)).toEqual([
      '2026-12-07T20:05:00.000Z',
      '2026-12-07T20:10:00.000Z',
    ]);
    expect(runs('0 9 * * 1-5', '2026-12-11T09:00:00.000Z', 1)).toEqual(['2026-12-14T09:00:00.000Z']);
    expect(runs('0 0 * * 7', '2026-12-07T00:00:00.000Z', 1)).toEqual(['2026-12-13T00:00:00.000Z']);
    expect(runs('0 0 * * 0', '2026-12-07T00:00:00.000Z', 1)).toEqual(['2026-12-13T00:00:00.000Z']);
  });

  it("both day fields restricted: either matches (cron's rule)", () => {
    // The 15th, or any Monday: from Thursday 2026-12-10, Monday the 14th comes first, then the 15th.
    expect(runs('0 0 15 * 1', '2026-12-10T00:00:00.000Z', 2)).toEqual([
      '2026-12-14T00:00:00.000Z',
      '2026-12-15T00:00:00.000Z',
    ]);
  });

  it('refuses bad fields with their name', () => {
    expect(() => parseSchedule('*/5 * * *')).toThrow('five-field cron');
    expect(() => parseSchedule('0 24 * * *')).toThrow('hour "24": 24 is outside 0-23');
    expect(() => parseSchedule('0 0 ? * *')).toThrow('? is allowed only');
    expect(() => parseSchedule('0 0 * * */0')).toThrow('at least 1');
  });

  it('rewrites into the EventBridge form, which parses to the same runs', () => {
    const cases: Array<[string, string]> = [
      ['*/5 * * * *', 'cron(*/5 * * * ? *)'],
      ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
      ['0 0 1 * *', 'cron(0 0 1 * ? *)'],
      ['0 0 * * 0,6', 'cron(0 0 ? * 1,7 *)'],
    ];
    for (const [cron5, eb] of cases) {
      const rewritten = toEventBridgeExpression(parseSchedule(cron5));
      expect(rewritten).toBe(eb);
      expect(runs(rewritten, '2026-12-07T20:03:00Z', 5)).toEqual(runs(cron5, '2026-12-07T20:03:00Z', 5));
    }
    expect(toEventBridgeExpression(parseSchedule('rate(5 minutes)'))).toBe('rate(5 minutes)');
    expect(() => toEventBridgeExpression(parseSchedule('0 0 15 * 1'))).toThrow('EventBridge cannot express');
  });
});

describe('nextRun properties', () => {
  it('is strictly later, on a whole minute, and matches the fields', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        (minute, step, from) => {
          const t = nextRun(parseSchedule(`${minute}/${step} * * * *`), from);
          expect(t).toBeDefined();
          const d = new Date(t as number);
          expect(t).toBeGreaterThan(from);
          expect((t as number) % 60_000).toBe(0);
          expect(d.getUTCMinutes() >= minute && (d.getUTCMinutes() - minute) % step === 0).toBe(true);
          expect((t as number) - from).toBeLessThanOrEqual(3_600_000 + 60_000);
        },
      ),
    );
  });

  it('never throws on arbitrary text: a schedule or a ScheduleError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          const s = parseSchedule(text);
          nextRun(s, Date.UTC(2026, 0, 1));
        } catch (err) {
          expect(err).toBeInstanceOf(ScheduleError);
        }
      }),
    );
  });
});
