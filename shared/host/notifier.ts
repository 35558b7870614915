import { createSlackNotifier } from '../adapters/slack/slack-notifier.ts';
import { slackSettingsFromEnv } from '../config/alerts.ts';
import { ConfigError } from '../config/config.ts';
import { SecretReadError } from '../ports/secrets.ts';
import type { NotifierFactory } from './factories.ts';

/*
 * Where alerts go from a cloud function: Slack, with the webhook URL or bot token kept in the host's
 * secret store (SLACK_ALERTS_SECRET) and read once per cold start, never in the function's
 * environment. Each host says only what a secret's name looks like there (an ARN on AWS, a Secret
 * Manager version name on GCP); the rest is the same on both.
 */

/** What SLACK_ALERTS_SECRET names on one host. */
export interface AlertsSecretForm {
  /** The host, as messages name it: `AWS`, `GCP`. */
  host: string;
  /** The host's secret store, as messages name it: `Secrets Manager`, `Secret Manager`. */
  store: string;
  /** A secret's name there. */
  form: RegExp;
  /** That form in words, for the error: `a Secrets Manager secret ARN (arn:aws:…)`. */
  what: string;
  /** Where the deployment sets it, for the error (the CDK context, the terraform variable). */
  setBy: string;
}

const invalid = (why: string, cause?: unknown) =>
  new ConfigError(`Invalid configuration:\n  SLACK_ALERTS_SECRET: ${why}`, cause ? { cause } : undefined);

/**
 * The Slack notifier of a function: SLACK_ALERTS_SECRET names a secret (of `secret.form`) whose value
 * is an incoming webhook URL or a bot token (xoxb-…, posting to SLACK_CHANNEL). Without it, none.
 * Errors name the setting and never the secret's value.
 */
export function secretSlackNotifier(secret: AlertsSecretForm): NotifierFactory {
  return async (env, secrets, clock) => {
    const name = env.SLACK_ALERTS_SECRET?.trim();
    if (!name) {
      if (env.SLACK_WEBHOOK_URL?.trim() || env.SLACK_BOT_TOKEN?.trim()) {
        throw new ConfigError(
          `Invalid configuration:\n  SLACK_WEBHOOK_URL/SLACK_BOT_TOKEN: on ${secret.host} keep them in ${secret.store} and set SLACK_ALERTS_SECRET (${secret.setBy}) instead`,
        );
      }
      return undefined;
    }
    if (!secret.form.test(name)) throw invalid(`must be ${secret.what}`);
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
}
