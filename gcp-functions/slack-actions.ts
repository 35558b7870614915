/**
 * Slack interactive callbacks on GCP: the public slackActions function (Slack POSTs
 * application/x-www-form-urlencoded `payload=…`, signed with X-Slack-Signature over
 * X-Slack-Request-Timestamp and the raw body). The request is translated as it came, bytes unchanged
 * (gcp-functions/lib/http.ts), to the shared Slack approvals channel (shared/channels/slack/actions.ts),
 * which checks the signature and the approver; its Response is sent back as it is. The twin of
 * functions/slack-actions.ts.
 */
import { http } from '@google-cloud/functions-framework';
import { hostSlackActionsEndpoint, type SlackActionsHandlerOptions } from '../shared/host/slack-actions.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { GCP_REQUIRED_SETTINGS, gcpSecrets, gcpStore, hostLogger, loadGcpConfig, perColdStart } from './lib/host.ts';
import { requestFromHttp, sendResponse } from './lib/http.ts';

export type { SlackActionsHandlerOptions };

export function createSlackActionsHandler(opts: SlackActionsHandlerOptions) {
  const logger = hostLogger(opts.env, 'slack-actions');
  const endpoint = perColdStart(async () => {
    const config = loadGcpConfig(opts.env, GCP_REQUIRED_SETTINGS.slackActions);
    return hostSlackActionsEndpoint({
      config,
      store: gcpStore(config),
      readSecret: opts.readSecret ?? gcpSecrets(opts.env),
      log: createLogger(config.logLevel, undefined, { severity: true }),
      responseUrlAllowed: opts.responseUrlAllowed,
    });
  });

  return async (req: Parameters<typeof requestFromHttp>[0], res: Parameters<typeof sendResponse>[0]) => {
    let response: Response;
    try {
      response = await (await endpoint())(requestFromHttp(req));
    } catch (err) {
      // The endpoint answers every request itself; this is a cold start that failed (config, the secret).
      const e = err instanceof Error ? err : new Error(String(err));
      logger.error({ errorName: e.name, errorMessage: e.message }, 'invocation failed');
      response = Response.json({ error: 'the Slack actions endpoint is unavailable; see its log' }, { status: 500 });
    }
    await sendResponse(res, response);
  };
}

export const handler = createSlackActionsHandler({ env: process.env });

http(GCP_FUNCTIONS['slack-actions'].entryPoint, handler);
