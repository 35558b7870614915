import { ConfigError } from './config.ts';

/**
 * The alert settings (issue 12), read from the environment once at the host edge. Kept apart from
 * config.ts so the drift and cost checks can be wired without touching the main schema; both throw
 * ConfigError naming the variable and never echo a secret value.
 */

type Env = Record<string, string | undefined>;

/** Structurally the app's AlertSettings (shared/app/alerts/types.ts); config cannot import the app layer. */
export interface AlertTimings {
  groupWaitMs: number;
  repeatIntervalMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type SlackSettings =
  | { mode: 'webhook'; webhookUrl: string; timeoutMs: number }
  | { mode: 'bot'; token: string; channel: string; apiUrl?: string; timeoutMs: number };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const ALERT_DEFAULTS: AlertTimings = {
  groupWaitMs: 30 * SECOND,
  repeatIntervalMs: 4 * HOUR,
  initialBackoffMs: 5 * SECOND,
  maxBackoffMs: 15 * MINUTE,
};
/** Bounds of the settings: a group wait past an hour hides alerts; a repeat under a minute floods the channel. */
export const ALERT_BOUNDS = {
  groupWaitMs: { min: 0, max: HOUR },
  repeatIntervalMs: { min: MINUTE, max: 7 * 24 * HOUR },
} as const;
/** Each Slack call gives up after this long, so a hung Slack cannot hold a delivery lease. */
export const SLACK_TIMEOUT_MS = 10 * SECOND;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: 24 * HOUR };

/** `30s`, `5m`, `4h`, `1d`, `250ms` (Alertmanager's forms) as milliseconds; ConfigError naming `name` otherwise. */
export function parseDuration(name: string, raw: string, bounds: { min: number; max: number }): number {
  const m = /^\s*(\d{1,9})(ms|s|m|h|d)\s*$/.exec(raw);
  if (!m) {
    throw new ConfigError(
      `Invalid configuration:\n  ${name}: expected a duration such as 30s, 5m or 4h (units ms, s, m, h, d), got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  if (ms < bounds.min || ms > bounds.max) {
    throw new ConfigError(
      `Invalid configuration:\n  ${name}: must be between ${fmt(bounds.min)} and ${fmt(bounds.max)}, got ${raw.trim()}`,
    );
  }
  return ms;
}

const fmt = (ms: number) =>
  ms % HOUR === 0 && ms > 0 ? `${ms / HOUR}h` : ms % MINUTE === 0 && ms > 0 ? `${ms / MINUTE}m` : `${ms / SECOND}s`;

/** ALERT_GROUP_WAIT and ALERT_REPEAT_INTERVAL over the defaults (30s and 4h). */
export function alertSettingsFromEnv(env: Env): AlertTimings {
  const groupWait = env.ALERT_GROUP_WAIT?.trim();
  const repeat = env.ALERT_REPEAT_INTERVAL?.trim();
  return {
    ...ALERT_DEFAULTS,
    ...(groupWait ? { groupWaitMs: parseDuration('ALERT_GROUP_WAIT', groupWait, ALERT_BOUNDS.groupWaitMs) } : {}),
    ...(repeat
      ? { repeatIntervalMs: parseDuration('ALERT_REPEAT_INTERVAL', repeat, ALERT_BOUNDS.repeatIntervalMs) }
      : {}),
  };
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '[::1]';

/** An https URL (http only to a loopback address, for tests); the message never shows the URL (a webhook URL is a secret). */
function slackUrl(name: string, raw: string, secret: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`Invalid configuration:\n  ${name}: not a URL${secret ? '' : `: ${raw.slice(0, 200)}`}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new ConfigError(`Invalid configuration:\n  ${name}: must be an https URL (http only to 127.0.0.1)`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`Invalid configuration:\n  ${name}: must not carry a user or password`);
  }
  return url;
}

/**
 * Slack through an incoming webhook (SLACK_WEBHOOK_URL) or a bot token (SLACK_BOT_TOKEN with
 * SLACK_CHANNEL, the channel's ID, and optionally SLACK_API_URL); undefined when neither is set
 * (alerts are then recorded but not sent). Setting both is refused: which one is meant is unclear.
 */
export function slackSettingsFromEnv(env: Env): SlackSettings | undefined {
  const webhook = env.SLACK_WEBHOOK_URL?.trim();
  const token = env.SLACK_BOT_TOKEN?.trim();
  const channel = env.SLACK_CHANNEL?.trim();
  const apiUrl = env.SLACK_API_URL?.trim();
  if (webhook && token) {
    throw new ConfigError(
      'Invalid configuration:\n  SLACK_WEBHOOK_URL and SLACK_BOT_TOKEN are both set: set one (the bot token threads, updates and resolves messages; a webhook only posts)',
    );
  }
  if (webhook) {
    if (channel || apiUrl) {
      throw new ConfigError(
        `Invalid configuration:\n  ${channel ? 'SLACK_CHANNEL' : 'SLACK_API_URL'}: only used with SLACK_BOT_TOKEN (an incoming webhook posts to the channel it was created for)`,
      );
    }
    return {
      mode: 'webhook',
      webhookUrl: String(slackUrl('SLACK_WEBHOOK_URL', webhook, true)),
      timeoutMs: SLACK_TIMEOUT_MS,
    };
  }
  if (!token) {
    if (channel)
      throw new ConfigError(
        'Invalid configuration:\n  SLACK_CHANNEL: set SLACK_BOT_TOKEN too (or use SLACK_WEBHOOK_URL)',
      );
    if (apiUrl) throw new ConfigError('Invalid configuration:\n  SLACK_API_URL: only used with SLACK_BOT_TOKEN');
    return undefined;
  }
  if (!/^xoxb-[A-Za-z0-9-]{10,250}$/.test(token)) {
    throw new ConfigError(
      'Invalid configuration:\n  SLACK_BOT_TOKEN: expected a bot token (xoxb-…); user (xoxp-) and app-level (xapp-) tokens are not accepted',
    );
  }
  if (!channel) {
    throw new ConfigError(
      "Invalid configuration:\n  SLACK_CHANNEL: required with SLACK_BOT_TOKEN (the channel's ID, e.g. C0123ABCD)",
    );
  }
  if (!/^[CG][A-Z0-9]{8,20}$/.test(channel)) {
    throw new ConfigError(
      `Invalid configuration:\n  SLACK_CHANNEL: expected a channel ID such as C0123ABCD (channel details → bottom), got ${JSON.stringify(channel.slice(0, 40))}; a #name cannot be searched to recover an interrupted delivery`,
    );
  }
  let api: string | undefined;
  if (apiUrl) {
    const u = slackUrl('SLACK_API_URL', apiUrl, false);
    api = u.href.endsWith('/') ? u.href : `${u.href}/`;
  }
  return { mode: 'bot', token, channel, ...(api ? { apiUrl: api } : {}), timeoutMs: SLACK_TIMEOUT_MS };
}
