/**
 * The Slack approvals channel (POST /slack/actions): the Approve / Reject buttons of an approval
 * message, as a cloud-neutral fetch handler (web Request in, web Response out) that any host serves.
 * Every request must carry a valid Slack signature made within the last five minutes, and each
 * signed request is accepted once; anything else gets 401 and changes nothing.
 */
import { createHash } from 'node:crypto';
import { type ChannelApprovers, type ChannelDecisionOutcome, decideFromChannel } from '../../app/approvals.ts';
import type { Deps } from '../../app/deps.ts';
import { firstSighting } from '../../app/replay.ts';
import { errorText } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import {
  type ApprovalAction,
  parseApprovalAction,
  SLACK_MAX_SKEW_SECONDS,
  SlackPayloadError,
  slackText,
  verifySlackSignature,
} from './protocol.ts';

export interface SlackActionsOptions {
  /** The parts of Deps the channel uses: the replay guard's Store, the decision's repositories. */
  deps: Pick<Deps, 'store' | 'clock' | 'approvals' | 'operations' | 'audit'>;
  /** The Slack app's signing secret (the value, not where it is kept). */
  signingSecret: string;
  /** Slack user id -> approver identity (config SLACK_APPROVERS). */
  approvers: ChannelApprovers;
  log: Logger;
  /** Which response_url hosts may receive the outcome. Default: https://hooks.slack.com only. */
  responseUrlAllowed?: (url: URL) => boolean;
  /** Posts to response_url. Default: the global fetch. */
  fetch?: typeof fetch;
}

/** Slack's interaction payloads are a few kilobytes; a body far beyond that is not Slack's. */
export const SLACK_BODY_MAX_BYTES = 256 * 1024;
/** Slack waits three seconds for the answer; posting the outcome must leave room for it. */
const RESPONSE_URL_TIMEOUT_MS = 2000;

const slackHooksOnly = (url: URL) => url.protocol === 'https:' && url.hostname === 'hooks.slack.com';

interface Reply {
  text: string;
  /** Everyone in the channel sees a decision; only the clicker sees why nothing happened. */
  visibility: 'in_channel' | 'ephemeral';
}

/** The wording of a decision's outcome, as Slack shows it. */
function replyTo(action: ApprovalAction, outcome: ChannelDecisionOutcome): Reply {
  switch (outcome.kind) {
    case 'not_an_approver':
      return {
        visibility: 'ephemeral',
        text: `You (${action.slackUserName}) are not an approver on cloudops-mcp; nothing was decided. An admin adds approvers to SLACK_APPROVERS.`,
      };
    case 'refused':
      return { visibility: 'ephemeral', text: `Nothing was decided: ${outcome.reason}.` };
    case 'decided': {
      const { approval, approver } = outcome;
      const verb = approval.status === 'approved' ? 'approved' : 'rejected';
      return {
        visibility: 'in_channel',
        text: `${approver.name} ${verb} ${approval.operationId}: ${approval.summary}`,
      };
    }
  }
}

const plain = (status: number, text: string, headers: Record<string, string> = {}) =>
  new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

const slackMessage = (reply: Reply) =>
  JSON.stringify({ response_type: reply.visibility, replace_original: false, text: reply.text });

export function createSlackActionsEndpoint(opts: SlackActionsOptions): (req: Request) => Promise<Response> {
  const { deps, log } = opts;
  const allowed = opts.responseUrlAllowed ?? slackHooksOnly;
  const post = opts.fetch ?? fetch;

  async function postToResponseUrl(url: string | undefined, reply: Reply): Promise<void> {
    if (!url) return;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    if (!allowed(parsed)) {
      log.warn({ host: parsed.host }, 'response_url not allowed; outcome not posted');
      return;
    }
    try {
      const res = await post(parsed, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: slackMessage(reply),
        signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
      });
      if (!res.ok) log.warn({ status: res.status }, 'response_url refused the outcome');
    } catch (err) {
      log.warn({ err: errorText(err) }, 'could not post the outcome to response_url');
    }
  }

  async function serve(req: Request): Promise<Response> {
    if (req.method !== 'POST') return plain(405, 'Method not allowed: POST only', { allow: 'POST' });
    const declared = Number(req.headers.get('content-length') ?? 0);
    if (declared > SLACK_BODY_MAX_BYTES) return plain(413, 'Payload too large');
    const rawBody = await req.text();
    if (Buffer.byteLength(rawBody) > SLACK_BODY_MAX_BYTES) return plain(413, 'Payload too large');
    const signature = req.headers.get('x-slack-signature');
    const verdict = verifySlackSignature({
      signingSecret: opts.signingSecret,
      timestamp: req.headers.get('x-slack-request-timestamp'),
      signature,
      rawBody,
      nowMs: deps.clock.now(),
    });
    if (!verdict.ok) {
      log.warn({ reason: verdict.reason }, 'refused an unverified Slack request');
      return plain(401, `Unauthorized: ${verdict.reason} Slack signature`);
    }
    // A signed request is valid for the whole skew window; remember each one so a replay within it is refused.
    const digest = createHash('sha256')
      .update(signature as string)
      .digest('hex');
    if (!(await firstSighting(deps, 'slack-request', digest, 2 * SLACK_MAX_SKEW_SECONDS))) {
      log.warn('refused a replayed Slack request');
      return plain(401, 'Unauthorized: replayed Slack request');
    }
    let action: ApprovalAction;
    try {
      action = parseApprovalAction(rawBody);
    } catch (err) {
      if (err instanceof SlackPayloadError) return plain(400, `Bad request: ${err.message}`);
      throw err;
    }
    const outcome = await decideFromChannel(deps, opts.approvers, {
      channel: 'slack',
      user: { id: action.slackUserId, name: action.slackUserName },
      operationId: action.operationId,
      decision: action.decision,
      changeHash: action.changeHash,
    });
    const worded = replyTo(action, outcome);
    const reply: Reply = { ...worded, text: slackText(worded.text) };
    log.info(
      {
        operationId: action.operationId,
        decision: action.decision,
        slackUser: action.slackUserId,
        outcome: reply.text,
      },
      'slack approval action',
    );
    await postToResponseUrl(action.responseUrl, reply);
    return new Response(slackMessage(reply), { status: 200, headers: { 'content-type': 'application/json' } });
  }

  return async (req) => {
    try {
      return await serve(req);
    } catch (err) {
      // A fault of ours (the Store unreachable): logged with its cause, answered without it.
      log.error({ err: errorText(err) }, 'slack action failed');
      return plain(500, 'Internal Server Error');
    }
  };
}
