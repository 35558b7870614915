import { createHmac } from 'node:crypto';

/*
 * Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack),
 * computed here independently of the code under test: the headers Slack adds to a request whose raw
 * body is `body`, sent at `timestamp` (epoch seconds), with the app's signing secret.
 */
export function slackSignatureHeaders(body: string, timestamp: number, secret: string): Record<string, string> {
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${digest}` };
}

/** Now, in the epoch seconds of X-Slack-Request-Timestamp. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);
