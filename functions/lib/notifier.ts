import { createSlackNotifier } from '../../shared/adapters/slack/slack-notifier.ts';
import { slackSettingsFromEnv } from '../../shared/config/alerts.ts';
import { ConfigError } from '../../shared/config/config.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Notifier } from '../../shared/ports/notifier.ts';
import { SecretReadError } from '../../shared/ports/secrets.ts';
import type { Env, SecretReader } from './host.ts';

/*
 * Where alerts go from a function: Slack, with the webhook URL or bot token kept in Secrets Manager
 * (SLACK_ALERTS_SECRET, the CDK's slackAlertsSecretArn) and read once per cold start, never in the
 * function's environment. Apart from deps.ts so only the functions that send alerts (the drift check,
 * the drift toolset) bundle the Slack client.
 */

/** Builds a function's notifier; undefined: alerts are recorded in the outbox but not sent. */
export type NotifierFactory = (env: Env, secrets: SecretReader, clock?: Clock) => Promise<Notifier | undefined>;

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

const invalid = (why: string, cause?: unknown) =>
  new ConfigError(`Invalid configuration:\n  SLACK_ALERTS_SECRET: ${why}`, cause ? { cause } : undefined);

/**
 * The Slack notifier of a function: SLACK_ALERTS_SECRET names a secret whose value is an incoming
 * webhook URL or a bot token (xoxb-…, posting to SLACK_CHANNEL). Without it, none. Errors name the
 * setting and never the secret's value.
 */
export const lambdaNotifier: NotifierFactory = async (env, secrets, clock) => {
  const name = env.SLACK_ALERTS_SECRET?.trim();
  if (!name) {
    if (env.SLACK_WEBHOOK_URL?.trim() || env.SLACK_BOT_TOKEN?.trim()) {
      throw new ConfigError(
        'Invalid configuration:\n  SLACK_WEBHOOK_URL/SLACK_BOT_TOKEN: on AWS keep them in Secrets Manager and set SLACK_ALERTS_SECRET (the slackAlertsSecretArn context) instead',
      );
    }
    return undefined;
  }
  if (!SECRET_ARN.test(name)) {
    throw invalid('must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)');
  }
  let value: string;
  try {
    value = (await secrets.read(name)).trim();
  } catch (err) {
    // A missing or forbidden secret stays so on retry; anything else (throttling, the network) may pass.
    if (err instanceof SecretReadError) throw invalid(err.message, err);
    throw err;
  }
  const key = value.startsWith('xoxb-') ? 'SLACK_BOT_TOKEN' : value.startsWith('https://') ? 'SLACK_WEBHOOK_URL' : '';
  if (!key) throw invalid("the secret's value must be an incoming webhook URL (https://…) or a bot token (xoxb-…)");
  let settings: ReturnType<typeof slackSettingsFromEnv>;
  try {
    settings = slackSettingsFromEnv({
      SLACK_CHANNEL: env.SLACK_CHANNEL,
      SLACK_API_URL: env.SLACK_API_URL,
      [key]: value,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Say which setting holds the value; the loader's messages never quote a token or webhook URL.
    throw new ConfigError(err.message.replaceAll(`${key}:`, `SLACK_ALERTS_SECRET (${key.toLowerCase()}):`), {
      cause: err,
    });
  }
  return settings ? createSlackNotifier(settings, clock) : undefined;
};
