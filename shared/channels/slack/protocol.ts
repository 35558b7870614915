// Slack's wire protocol for the approvals channel: request signing (v0), the interactive payload of an
// approval button, and text fit for a Slack message.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { redactUnparsedText } from '../../domain/k8s/index.ts';

/** Slack's own recommendation: refuse requests whose timestamp is more than five minutes off. */
export const SLACK_MAX_SKEW_SECONDS = 300;

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'unsigned' | 'stale' | 'malformed' | 'mismatch' };

/**
 * Slack request signing, version 0: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
 * app's signing secret, sent as X-Slack-Signature with X-Slack-Request-Timestamp. Compared in
 * constant time; a timestamp outside the window is refused before any HMAC is computed.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | null;
  signature: string | null;
  rawBody: string;
  nowMs: number;
}): SignatureVerdict {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'unsigned' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  if (Math.abs(input.nowMs / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
  const expected = `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest('hex')}`;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(signature, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

export interface ApprovalAction {
  decision: 'approve' | 'reject';
  operationId: string;
  changeHash: string;
  slackUserId: string;
  slackUserName: string;
  responseUrl?: string;
}

export class SlackPayloadError extends Error {
  override name = 'SlackPayloadError';
}

/** `approve:<operationId>:<changeHash>` or `reject:...`, as the approval message's buttons carry. */
const ACTION_VALUE = /^(approve|reject):([A-Za-z0-9._-]{1,128}):([0-9a-f]{64})$/;

/**
 * The approval button a user pressed, from an interactive callback: a form body whose `payload`
 * field is the JSON of a `block_actions` interaction.
 */
export function parseApprovalAction(rawBody: string): ApprovalAction {
  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (!payloadText) throw new SlackPayloadError('expected a form body with a "payload" field');
  let payload: {
    type?: unknown;
    user?: { id?: unknown; username?: unknown; name?: unknown };
    actions?: Array<{ value?: unknown }>;
    response_url?: unknown;
  };
  try {
    payload = JSON.parse(payloadText) as typeof payload;
  } catch {
    throw new SlackPayloadError('the "payload" field is not JSON');
  }
  if (payload.type !== 'block_actions')
    throw new SlackPayloadError(`unsupported interaction type ${String(payload.type)}`);
  const userId = payload.user?.id;
  if (typeof userId !== 'string' || !userId) throw new SlackPayloadError('the interaction names no user');
  const value = payload.actions?.[0]?.value;
  const m = typeof value === 'string' ? ACTION_VALUE.exec(value) : null;
  if (!m)
    throw new SlackPayloadError('the action is not an approval button (approve|reject:<operationId>:<changeHash>)');
  const name = payload.user?.username ?? payload.user?.name;
  return {
    decision: m[1] as 'approve' | 'reject',
    operationId: m[2] as string,
    changeHash: m[3] as string,
    slackUserId: userId,
    slackUserName: typeof name === 'string' && name ? name : userId,
    ...(typeof payload.response_url === 'string' ? { responseUrl: payload.response_url } : {}),
  };
}

/** Slack shows at most 40,000 characters of a message's text; ours stay well below. */
export const SLACK_TEXT_MAX_CHARS = 3000;

/**
 * Text for a Slack message (a reply, an alert): through the one redaction (the summaries and
 * error messages it carries come from manifests, diffs and API errors), read as text that may hold
 * a manifest, so values under data/stringData go too, then cut to SLACK_TEXT_MAX_CHARS. Masking
 * first, so a cut never leaves part of a credential.
 */
export function slackText(text: string): string {
  const masked = redactUnparsedText(text);
  const chars = Array.from(masked);
  return chars.length <= SLACK_TEXT_MAX_CHARS ? masked : `${chars.slice(0, SLACK_TEXT_MAX_CHARS - 1).join('')}…`;
}
