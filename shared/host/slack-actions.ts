import { Approvals } from '../app/repos/approvals.ts';
import { AuditTrail } from '../app/repos/audit.ts';
import { Operations } from '../app/repos/operations.ts';
import { createSlackActionsEndpoint } from '../channels/slack/actions.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import { systemClock as clock } from '../ports/clock.ts';
import type { SecretReader } from '../ports/secrets.ts';
import type { Store } from '../ports/store.ts';
import type { Env } from './factories.ts';

/*
 * The Slack interactive endpoint of a cloud host (POST /slack/actions on Lambda, the slackActions
 * Cloud Function), built once per cold start the same way on both: the signing secret read from the
 * host's secret store (SLACK_SIGNING_SECRET names it), and only the repositories the channel uses (a
 * decision reads the operation: an ended one's approval is closed). The host translates its request
 * to a web Request and the Response back.
 */

/** What a host's Slack actions function is made with. */
export interface SlackActionsHandlerOptions {
  env: Env;
  /** Default: the host's secret store. */
  readSecret?: SecretReader;
  /** Which response_url hosts may receive the outcome. Default: https://hooks.slack.com only. */
  responseUrlAllowed?: (url: URL) => boolean;
}

export interface SlackActionsHostOptions {
  config: Config;
  store: Store;
  readSecret: SecretReader;
  log: Logger;
  /** Which response_url hosts may receive the outcome. Default: https://hooks.slack.com only. */
  responseUrlAllowed?: ((url: URL) => boolean) | undefined;
}

export async function hostSlackActionsEndpoint(
  opts: SlackActionsHostOptions,
): Promise<(req: Request) => Promise<Response>> {
  const { config, store, log } = opts;
  const secretName = config.slack?.signingSecret;
  // The hosts insist on SLACK_SIGNING_SECRET at their cold start; this is the programmer's guard.
  if (!secretName) throw new Error('the Slack actions endpoint needs SLACK_SIGNING_SECRET');
  const signingSecret = (await opts.readSecret.read(secretName)).trim();
  return createSlackActionsEndpoint({
    deps: {
      store,
      clock,
      approvals: new Approvals(store, clock),
      operations: new Operations(store, clock),
      audit: new AuditTrail({ store, clock, log, retentionDays: config.auditRetentionDays }),
    },
    signingSecret,
    approvers: config.slack?.approvers ?? {},
    log,
    ...(opts.responseUrlAllowed ? { responseUrlAllowed: opts.responseUrlAllowed } : {}),
  });
}
