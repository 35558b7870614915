/**
 * Slack interactive callbacks (POST /slack/actions): the Approve / Reject buttons of an approval
 * message. Every request must carry a valid Slack signature made within the last five minutes, and
 * each signed request is accepted once; anything else gets 401 and changes nothing.
 */
import { createHash } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { createError } from '@middy/util';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { decideApproval } from '../shared/app/approvals.ts';
import { firstSighting } from '../shared/app/replay.ts';
import { ApprovalError, Approvals } from '../shared/app/repos/approvals.ts';
import { AuditTrail } from '../shared/app/repos/audit.ts';
import { Operations } from '../shared/app/repos/operations.ts';
import type { Identity } from '../shared/domain/identity.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { systemClock } from '../shared/ports/clock.ts';
import {
  cloudStore,
  type Env,
  hostLogger,
  loadCloudConfig,
  logFailure,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
  secretsManagerReader,
} from './lib/host.ts';
import { requestFromEvent } from './lib/http.ts';
import {
  type ApprovalAction,
  parseApprovalAction,
  SLACK_MAX_SKEW_SECONDS,
  SlackPayloadError,
  slackText,
  verifySlackSignature,
} from './lib/slack.ts';

export interface SlackActionsHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /** Which response_url hosts may receive the outcome. Default: https://hooks.slack.com only. */
  responseUrlAllowed?: (url: URL) => boolean;
}

const slackHooksOnly = (url: URL) => url.protocol === 'https:' && url.hostname === 'hooks.slack.com';

interface Reply {
  text: string;
  /** Everyone in the channel sees a decision; only the clicker sees why nothing happened. */
  visibility: 'in_channel' | 'ephemeral';
}

export function createSlackActionsHandler(opts: SlackActionsHandlerOptions) {
  const logger = hostLogger(opts.env, 'slack-actions');
  const allowed = opts.responseUrlAllowed ?? slackHooksOnly;
  const app = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.slackActions);
    const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
    const readSecret = opts.readSecret ?? secretsManagerReader(new SecretsManagerClient({ region }));
    const signingSecret = (await readSecret.read(config.slack?.signingSecret as string)).trim();
    const store = cloudStore(config);
    return {
      store,
      signingSecret,
      approvers: config.slack?.approvers ?? {},
      clock: systemClock,
      approvals: new Approvals(store, systemClock),
      // The decision reads the operation: an ended one's approval is closed, a changed one's refused.
      operations: new Operations(store, systemClock),
      audit: new AuditTrail({
        store,
        clock: systemClock,
        log: createLogger(config.logLevel),
        retentionDays: config.auditRetentionDays,
      }),
    };
  });

  async function decide(a: Awaited<ReturnType<typeof app>>, action: ApprovalAction): Promise<Reply> {
    const approver = a.approvers[action.slackUserId];
    if (!approver) {
      return {
        visibility: 'ephemeral',
        text: `You (${action.slackUserName}) are not an approver on cloudops-mcp; nothing was decided. An admin adds approvers to SLACK_APPROVERS.`,
      };
    }
    // The Slack user acts as their own identity on the server, so "never your own change" holds across channels.
    const identity: Identity = { subject: approver.subject, name: approver.name, roles: ['approver'], method: 'slack' };
    const startedAt = Date.now();
    try {
      const decided = await decideApproval(
        a,
        {
          operationId: action.operationId,
          approver: identity,
          decision: action.decision,
          reason: `via Slack by ${action.slackUserName} (${action.slackUserId})`,
          changeHash: action.changeHash,
        },
        // Decisions made in Slack land in the same audit trail as those made through MCP tools.
        {
          trail: a.audit,
          requestId: `slack:${action.slackUserId}:${startedAt}`,
          startedAt,
          args: {
            operationId: action.operationId,
            decision: action.decision,
            changeHash: action.changeHash,
            slackUser: action.slackUserId,
          },
        },
      );
      const verb = decided.status === 'approved' ? 'approved' : 'rejected';
      return { visibility: 'in_channel', text: `${approver.name} ${verb} ${decided.operationId}: ${decided.summary}` };
    } catch (err) {
      if (err instanceof ApprovalError)
        return { visibility: 'ephemeral', text: `Nothing was decided: ${err.message}.` };
      throw err;
    }
  }

  async function postToResponseUrl(url: string | undefined, reply: Reply): Promise<void> {
    if (!url) return;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    if (!allowed(parsed)) {
      logger.warn('response_url not allowed; outcome not posted', { host: parsed.host });
      return;
    }
    try {
      const res = await fetch(parsed, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: reply.visibility, replace_original: false, text: reply.text }),
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) logger.warn('response_url refused the outcome', { status: res.status });
    } catch (err) {
      logger.warn('could not post the outcome to response_url', { err: (err as Error).message });
    }
  }

  return middy(async (event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const a = await app();
    const req = requestFromEvent(event);
    const rawBody = await req.text();
    const signature = req.headers.get('x-slack-signature');
    const verdict = verifySlackSignature({
      signingSecret: a.signingSecret,
      timestamp: req.headers.get('x-slack-request-timestamp'),
      signature,
      rawBody,
      nowMs: Date.now(),
    });
    if (!verdict.ok) {
      logger.warn('refused an unverified Slack request', { reason: verdict.reason });
      throw createError(401, `Unauthorized: ${verdict.reason} Slack signature`);
    }
    // A signed request is valid for the whole skew window; remember each one so a replay within it is refused.
    const digest = createHash('sha256')
      .update(signature as string)
      .digest('hex');
    if (!(await firstSighting(a, 'slack-request', digest, 2 * SLACK_MAX_SKEW_SECONDS))) {
      logger.warn('refused a replayed Slack request');
      throw createError(401, 'Unauthorized: replayed Slack request');
    }
    let action: ApprovalAction;
    try {
      action = parseApprovalAction(rawBody);
    } catch (err) {
      if (err instanceof SlackPayloadError) throw createError(400, `Bad request: ${err.message}`);
      throw err;
    }
    const decided = await decide(a, action);
    const reply: Reply = { ...decided, text: slackText(decided.text) };
    logger.info('slack approval action', {
      operationId: action.operationId,
      decision: action.decision,
      slackUser: action.slackUserId,
      outcome: reply.text,
    });
    await postToResponseUrl(action.responseUrl, reply);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: reply.visibility, replace_original: false, text: reply.text }),
    };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrorHandler({ logger: (err: unknown) => logFailure(logger, err) }));
}

export const handler = createSlackActionsHandler({ env: process.env });
