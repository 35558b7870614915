import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config/config.ts';

describe('DRIFT_CHECK_SCHEDULE', () => {
  it('is off by default', () => {
    expect(loadConfig({}).driftCheckSchedule).toBeUndefined();
    expect(loadConfig({ DRIFT_CHECK_SCHEDULE: '  ' }).driftCheckSchedule).toBeUndefined();
  });

  it('takes rate(...), cron(...) and five-field cron', () => {
    expect(loadConfig({ DRIFT_CHECK_SCHEDULE: 'rate(5 minutes)' }).driftCheckSchedule).toMatchObject({
      kind: 'rate',
      everyMs: 300_000,
    });
    expect(loadConfig({ DRIFT_CHECK_SCHEDULE: 'cron(0/5 * * * ? *)' }).driftCheckSchedule).toMatchObject({
      kind: 'cron',
      syntax: 'eventbridge',
    });
    expect(loadConfig({ DRIFT_CHECK_SCHEDULE: '*/10 * * * *' }).driftCheckSchedule).toMatchObject({
      kind: 'cron',
      syntax: 'cron5',
    });
  });

  it('fails at start naming the setting and what is wrong', () => {
    for (const [value, why] of [
      ['every 5 minutes', 'not a schedule'],
      ['rate(1 minutes)', 'singular'],
      ['cron(0 0 30 2 ? *)', 'never runs'],
      ['cron(0 0 1 1 ? 2020)', 'never runs'],
    ]) {
      const run = () => loadConfig({ DRIFT_CHECK_SCHEDULE: value });
      expect(run, value).toThrow(ConfigError);
      expect(run, value).toThrow(/DRIFT_CHECK_SCHEDULE: .*/);
      expect(run, value).toThrow(why);
    }
  });
});
