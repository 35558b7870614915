import type { NotifierFactory } from '../../shared/host/factories.ts';
import { secretSlackNotifier } from '../../shared/host/notifier.ts';

/*
 * Where alerts go from a function on AWS: Slack, with the webhook URL or bot token in Secrets Manager
 * (SLACK_ALERTS_SECRET, the CDK's slackAlertsSecretArn). Apart from deps.ts so only the functions that
 * send alerts (the drift and cost checks, the drift toolset) bundle the Slack client.
 */

export type { NotifierFactory };

/** SLACK_ALERTS_SECRET is a Secrets Manager secret ARN; without it, no notifier. */
export const lambdaNotifier: NotifierFactory = secretSlackNotifier({
  host: 'AWS',
  store: 'Secrets Manager',
  form: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
  what: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  setBy: 'the slackAlertsSecretArn context',
});
