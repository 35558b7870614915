import { capText } from '../../domain/bounds.ts';
import { maskSecretsInText } from '../../domain/redact.ts';
import { ALERT_LIMITS, type Alert, type SendReason } from '../../ports/notifier.ts';

/**
 * An Alert as a Slack message: Block Kit within Slack's limits, every text masked with the one
 * redaction (maskSecretsInText) before it is cut, every cut visible (`…[truncated N bytes]`).
 * Limits (https://api.slack.com/reference/block-kit/blocks): a section's text ≤ 3,000 characters,
 * a header's ≤ 150, at most 50 blocks per message; the top-level `text` (the notification and
 * screen-reader fallback) is cut at 4,000 as Slack advises (it truncates past 40,000). Caps are in
 * UTF-8 bytes, which are never fewer than characters, so a cut message is always within them.
 */
export const SLACK_LIMITS = {
  sectionChars: 3000,
  headerChars: 150,
  blocks: 50,
  textChars: 4000,
  contextChars: 2000,
} as const;

export type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

const EMOJI: Record<'resolved' | Alert['severity'], string> = {
  resolved: ':large_green_circle:',
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':large_blue_circle:',
};

/** Slack's mrkdwn escapes (https://api.slack.com/reference/surfaces/formatting#escaping): &, <, >. */
const escapeMrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Masked, escaped and cut to `max`. */
const safe = (s: string, max: number) => capText(escapeMrkdwn(maskSecretsInText(s)), max);
/** A code span cannot hold a backtick; code blocks cannot hold ``` (a value would end them). */
const codeSafe = (s: string) => s.replace(/```/g, "'''");

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** What the first line says before the summary, by why the message is sent. */
function label(alert: Alert, reason: SendReason): string {
  if (alert.status === 'resolved' || reason === 'resolve') return 'RESOLVED';
  if (reason === 'repeat') return 'STILL FIRING';
  if (reason === 'update') return 'FIRING (changed)';
  return 'FIRING';
}

export function restoreCall(alert: Alert): string | undefined {
  if (!alert.restore) return undefined;
  return `${alert.restore.tool} ${JSON.stringify(alert.restore.arguments)}`;
}

/** The alert's message: summary line first, then each field, the restore call, and a context line. */
export function alertMessage(alert: Alert, reason: SendReason): SlackMessage {
  const status = alert.status === 'resolved' ? EMOJI.resolved : EMOJI[alert.severity];
  const head = `${label(alert, reason)} · ${alert.severity}`;
  const summary = safe(alert.summary, ALERT_LIMITS.summaryChars + 50);
  // The summary line first: status, severity and what happened, as the notification shows it.
  const blocks: Block[] = [section(`${status} *${head}* · ${summary}`)];
  const fieldBlocks: Block[] = [];
  for (const f of alert.fields.slice(0, ALERT_LIMITS.fields)) {
    const labelText = safe(f.label, ALERT_LIMITS.labelChars);
    const value = capText(maskSecretsInText(f.value), ALERT_LIMITS.valueChars);
    const multiline = value.includes('\n') || value.includes(' → ');
    const body = multiline ? `\`\`\`${codeSafe(value)}\`\`\`` : escapeMrkdwn(value);
    fieldBlocks.push(section(capText(`*${labelText}*\n${body}`, SLACK_LIMITS.sectionChars)));
  }
  const restore = restoreCall(alert);
  const tail: Block[] = [];
  if (restore && alert.status === 'firing') {
    tail.push(
      section(
        capText(
          `*Restore with*\n\`\`\`${codeSafe(capText(maskSecretsInText(restore), SLACK_LIMITS.sectionChars - 40))}\`\`\``,
          SLACK_LIMITS.sectionChars,
        ),
      ),
    );
  }
  const context = [
    `started ${alert.startsAt}`,
    ...(alert.endsAt ? [`resolved ${alert.endsAt}`] : []),
    `group \`${alert.groupKey}\``,
    `fingerprint \`${alert.fingerprint.slice(0, 16)}\``,
    ...(alert.url ? [`<${alert.url.replace(/[<>|]/g, '')}|details>`] : []),
  ].join(' · ');
  tail.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: capText(maskSecretsInText(context), SLACK_LIMITS.contextChars) }],
  });
  // Room for the tail and one "more fields" note within Slack's 50 blocks.
  const room = SLACK_LIMITS.blocks - blocks.length - tail.length - 1;
  const omitted = alert.fields.length - Math.min(fieldBlocks.length, room);
  blocks.push(...fieldBlocks.slice(0, room));
  if (omitted > 0) blocks.push(section(`…[${omitted} more field${omitted === 1 ? '' : 's'} omitted]`));
  blocks.push(...tail);
  const text = capText(
    `${head}: ${maskSecretsInText(alert.summary)}\n${alert.fields
      .slice(0, ALERT_LIMITS.fields)
      .map((f) => `${maskSecretsInText(f.label)}: ${maskSecretsInText(f.value)}`)
      .join('\n')}`,
    SLACK_LIMITS.textChars,
  );
  return { text, blocks };
}

/** The short reply posted in an alert's thread when it repeats or resolves. */
export function threadReply(alert: Alert, reason: SendReason): SlackMessage {
  const text = capText(
    reason === 'resolve' || alert.status === 'resolved'
      ? `:large_green_circle: Resolved${alert.endsAt ? ` at ${alert.endsAt}` : ''}: ${maskSecretsInText(alert.summary)}`
      : `${EMOJI[alert.severity]} Still firing since ${alert.startsAt}: ${maskSecretsInText(alert.summary)}`,
    SLACK_LIMITS.sectionChars,
  );
  return { text, blocks: [section(capText(escapeMrkdwn(text), SLACK_LIMITS.sectionChars))] };
}
