import { describe, expect, it } from 'vitest';
import { alertSettingsFromEnv, slackSettingsFromEnv } from '../../shared/config/alerts.ts';
import { ConfigError } from '../../shared/config/config.ts';

const TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';

describe('alert settings from the environment', () => {
  it('defaults to a 30 s group wait and a 4 h repeat interval', () => {
    expect(alertSettingsFromEnv({})).toMatchObject({ groupWaitMs: 30_000, repeatIntervalMs: 4 * 3600_000 });
  });

  it("reads Alertmanager's duration forms", () => {
    expect(alertSettingsFromEnv({ ALERT_GROUP_WAIT: '0s', ALERT_REPEAT_INTERVAL: '90m' })).toMatchObject({
      groupWaitMs: 0,
      repeatIntervalMs: 90 * 60_000,
    });
    expect(alertSettingsFromEnv({ ALERT_GROUP_WAIT: '1500ms', ALERT_REPEAT_INTERVAL: '1d' })).toMatchObject({
      groupWaitMs: 1500,
      repeatIntervalMs: 24 * 3600_000,
    });
  });

  it('refuses a bad or out-of-bounds duration, naming the variable', () => {
    expect(() => alertSettingsFromEnv({ ALERT_GROUP_WAIT: 'soon' })).toThrow(
      /ALERT_GROUP_WAIT: expected a duration such as 30s/,
    );
    expect(() => alertSettingsFromEnv({ ALERT_GROUP_WAIT: '2h' })).toThrow(
      /ALERT_GROUP_WAIT: must be between 0s and 1h/,
    );
    expect(() => alertSettingsFromEnv({ ALERT_REPEAT_INTERVAL: '10s' })).toThrow(
      /ALERT_REPEAT_INTERVAL: must be between 1m and 168h, got 10s/,
    );
    expect(() => alertSettingsFromEnv({ ALERT_REPEAT_INTERVAL: '-5m' })).toThrow(ConfigError);
  });
});

describe('Slack settings from the environment', () => {
  it('none set: no channel', () => {
    expect(slackSettingsFromEnv({})).toBeUndefined();
  });

  it('a webhook', () => {
    expect(slackSettingsFromEnv({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/abc' })).toMatchObject({
      mode: 'webhook',
      webhookUrl: 'https://hooks.slack.com/services/T0/B0/abc',
    });
  });

  it('a bot token with a channel ID and an API base (a trailing slash added)', () => {
    expect(
      slackSettingsFromEnv({
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_CHANNEL: 'C0123ABCD',
        SLACK_API_URL: 'http://127.0.0.1:9999/api',
      }),
    ).toEqual({
      mode: 'bot',
      token: TOKEN,
      channel: 'C0123ABCD',
      apiUrl: 'http://127.0.0.1:9999/api/',
      timeoutMs: 10_000,
    });
  });

  it('refuses mixed, incomplete and wrong settings with the variable name and never the secret', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x', SLACK_BOT_TOKEN: TOKEN }, /both set: set one/],
      [{ SLACK_BOT_TOKEN: TOKEN }, /SLACK_CHANNEL: required with SLACK_BOT_TOKEN/],
      [{ SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: '#alerts' }, /SLACK_CHANNEL: expected a channel ID/],
      [
        { SLACK_BOT_TOKEN: 'xoxp-1234567890-user-token', SLACK_CHANNEL: 'C0123ABCD' },
        /SLACK_BOT_TOKEN: expected a bot token/,
      ],
      [{ SLACK_CHANNEL: 'C0123ABCD' }, /SLACK_CHANNEL: set SLACK_BOT_TOKEN too/],
      [{ SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/secretpart' }, /SLACK_WEBHOOK_URL: must be an https URL/],
      [{ SLACK_WEBHOOK_URL: 'not a url secretpart' }, /SLACK_WEBHOOK_URL: not a URL$/],
      [
        { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/secretpart', SLACK_CHANNEL: 'C0123ABCD' },
        /SLACK_CHANNEL: only used with SLACK_BOT_TOKEN/,
      ],
      [
        { SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: 'C0123ABCD', SLACK_API_URL: 'ftp://x' },
        /SLACK_API_URL: must be an https URL/,
      ],
    ];
    for (const [env, re] of cases) {
      let err: unknown;
      try {
        slackSettingsFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(Object.keys(env))).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('secretpart');
      expect((err as Error).message).not.toContain(TOKEN);
      expect((err as Error).message).not.toContain('user-token');
    }
  });
});
