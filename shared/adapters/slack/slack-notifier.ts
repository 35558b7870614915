import type { Logger as SlackLogger } from '@slack/logger';
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import type { SlackSettings } from '../../config/alerts.ts';
import { maskSecretsInText } from '../../domain/redact.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import {
  type Alert,
  type DeliveryReceipt,
  type Notifier,
  NotifierUnavailableError,
  type SendOptions,
  type SendReason,
} from '../../ports/notifier.ts';
import { alertMessage, threadReply } from './message.ts';

/** The metadata event type of every message this server posts with a bot token. */
export const ALERT_EVENT_TYPE = 'cloudops_alert';

/** Slack refused the message for a reason a retry will not fix (a bad token, a missing channel, an invalid block). */
export class SlackRefusedError extends Error {
  override name = 'SlackRefusedError';
  /** Slack's error code (`channel_not_found`, `invalid_auth`, ...) or `http_<status>`. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** Slack's own error codes that mean "try again later" (https://api.slack.com/methods/chat.postMessage#errors). */
const TRANSIENT_CODES = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Slack's client logs to the console by default; our callers log what matters, with redaction. */
const quietLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

const short = (s: string, secret?: string) => {
  const masked = maskSecretsInText(s.slice(0, 300));
  return secret ? masked.split(secret).join('[REDACTED]') : masked;
};

/** The network reason of a failed request (ECONNREFUSED, a timeout), never its URL. */
function networkReason(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  return err.name;
}

const retryAfterMs = (raw: string | null | undefined): number | undefined => {
  if (!raw) return undefined;
  const s = Number.parseInt(raw, 10);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 24 * 3600) * 1000 : undefined;
};

/** A Slack Web API failure as the port's two kinds: passing (NotifierUnavailableError) or not (SlackRefusedError). */
function webApiError(err: unknown, method: string, token: string): Error {
  if (err instanceof WebAPIRateLimitedError) {
    return new NotifierUnavailableError(`Slack ${method}: rate limited, retry after ${err.retryAfter}s`, {
      retryAfterMs: Math.min(err.retryAfter, 24 * 3600) * 1000,
    });
  }
  if (err instanceof WebAPIHTTPError) {
    if (err.statusCode >= 500 || err.statusCode === 429) {
      const after = retryAfterMs(err.headers['retry-after']);
      return new NotifierUnavailableError(`Slack ${method}: HTTP ${err.statusCode}`, {
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      });
    }
    return new SlackRefusedError(`Slack ${method} refused: HTTP ${err.statusCode}`, `http_${err.statusCode}`);
  }
  if (err instanceof WebAPIPlatformError) {
    const code = short(String(err.data.error), token).slice(0, 100);
    if (TRANSIENT_CODES.has(code)) return new NotifierUnavailableError(`Slack ${method}: ${code}`);
    return new SlackRefusedError(`Slack ${method} refused: ${code}`, code);
  }
  if (err instanceof WebAPIRequestError) {
    return new NotifierUnavailableError(`Slack ${method}: request failed (${networkReason(err.original)})`);
  }
  // A 429 without a usable Retry-After comes out as a plain Error: retry later with our own backoff.
  const msg = err instanceof Error ? short(err.message, token) : 'unknown failure';
  return new NotifierUnavailableError(`Slack ${method}: ${msg}`);
}

function reasonOf(alert: Alert, previous: DeliveryReceipt | undefined, options: SendOptions | undefined): SendReason {
  if (options?.reason) return options.reason;
  if (!previous) return 'new';
  return alert.status === 'resolved' ? 'resolve' : 'update';
}

/** A bot-token receipt's message id is `<channel>/<ts>`. */
const messageIdOf = (channel: string, ts: string) => `${channel}/${ts}`;
function parseMessageId(id: string): { channel: string; ts: string } | undefined {
  const m = /^([A-Z0-9]{1,30})\/(\d{1,12}\.\d{1,9})$/.exec(id);
  return m ? { channel: m[1] as string, ts: m[2] as string } : undefined;
}

interface HistoryMessage {
  ts?: string;
  thread_ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** Pages of conversations.history/replies searched for an interrupted delivery's message. */
const FIND_PAGES = 5;
const FIND_PAGE_SIZE = 200;
/** How far before the first attempt the search starts, for clocks that disagree with Slack's. */
const FIND_SKEW_MS = 5 * 60 * 1000;

/**
 * Slack through a bot token (chat.postMessage, chat.update, conversations.history/replies). A new
 * alert is posted in its group's thread when the group has one; an update edits the alert's message;
 * a repeat or a resolve edits it and replies in its thread. Every post carries metadata
 * (`cloudops_alert`: fingerprint, delivery id), so `find` can adopt a message an interrupted attempt
 * posted. The client neither retries nor queues (the outbox does): a 429 is rejected at once with
 * its Retry-After. The token is sent only as the Authorization header and never appears in an error.
 */
export class SlackBotNotifier implements Notifier {
  readonly kind = 'slack';
  private readonly client: WebClient;
  private readonly channel: string;
  private readonly token: string;
  private readonly clock: Clock;

  constructor(settings: Extract<SlackSettings, { mode: 'bot' }>, clock: Clock = systemClock) {
    this.channel = settings.channel;
    this.token = settings.token;
    this.clock = clock;
    this.client = new WebClient(settings.token, {
      ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: settings.timeoutMs,
      logger: quietLogger,
      allowAbsoluteUrls: false,
    });
  }

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw webApiError(err, method, this.token);
    }
  }

  private metadata(alert: Alert, deliveryId: string | undefined) {
    return {
      event_type: ALERT_EVENT_TYPE,
      event_payload: {
        fingerprint: alert.fingerprint,
        group_key: alert.groupKey.slice(0, 300),
        status: alert.status,
        ...(deliveryId ? { delivery_id: deliveryId } : {}),
      },
    };
  }

  private async post(
    alert: Alert,
    message: { text: string; blocks: unknown[] },
    threadTs: string | undefined,
    deliveryId: string | undefined,
  ) {
    const res = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: this.channel,
        text: message.text,
        blocks: message.blocks as never,
        metadata: this.metadata(alert, deliveryId),
        unfurl_links: false,
        unfurl_media: false,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      }),
    );
    if (!res.ts || !res.channel) throw new SlackRefusedError('Slack chat.postMessage answered without a ts', 'no_ts');
    return { channel: res.channel, ts: res.ts };
  }

  async send(alert: Alert, previous?: DeliveryReceipt, options?: SendOptions): Promise<DeliveryReceipt> {
    const reason = reasonOf(alert, previous, options);
    const deliveredAt = new Date(this.clock.now()).toISOString();
    const prev = previous && previous.channel === this.kind ? parseMessageId(previous.messageId) : undefined;
    if (!prev || reason === 'new') {
      const thread = options?.threadId;
      const posted = await this.post(alert, alertMessage(alert, 'new'), thread, options?.deliveryId);
      // The thread its repeats and resolve reply in: its group's, or its own when it starts one.
      return {
        channel: this.kind,
        messageId: messageIdOf(posted.channel, posted.ts),
        threadId: thread ?? posted.ts,
        deliveredAt,
      };
    }
    const message = alertMessage(alert, reason);
    try {
      await this.call('chat.update', () =>
        this.client.chat.update({
          channel: prev.channel,
          ts: prev.ts,
          text: message.text,
          blocks: message.blocks as never,
          // No metadata: the message keeps its post's tag, so a search for a later delivery's id
          // finds only that delivery's own reply, never this edited message.
        }),
      );
    } catch (err) {
      // The message was deleted in Slack: post the alert again rather than lose it.
      if (!(err instanceof SlackRefusedError && err.code === 'message_not_found')) throw err;
      const thread = previous?.threadId;
      const posted = await this.post(alert, alertMessage(alert, reason), thread, options?.deliveryId);
      return {
        channel: this.kind,
        messageId: messageIdOf(posted.channel, posted.ts),
        threadId: thread ?? posted.ts,
        deliveredAt,
      };
    }
    if (reason === 'repeat' || reason === 'resolve') {
      await this.post(alert, threadReply(alert, reason), previous?.threadId ?? prev.ts, options?.deliveryId);
    }
    return { ...(previous as DeliveryReceipt), deliveredAt };
  }

  async find(
    alert: Alert,
    deliveryId: string,
    where: { previous?: DeliveryReceipt; threadId?: string; sinceMs: number },
  ): Promise<DeliveryReceipt | undefined> {
    const prev =
      where.previous && where.previous.channel === this.kind ? parseMessageId(where.previous.messageId) : undefined;
    const channel = prev?.channel ?? this.channel;
    if (prev && where.previous) {
      // A repeat or resolve posts its reply after its update: a reply found means the delivery is done.
      const hit = await this.search(channel, where.previous.threadId ?? prev.ts, alert, deliveryId, where.sinceMs);
      return hit ? { ...where.previous, deliveredAt: new Date(this.clock.now()).toISOString() } : undefined;
    }
    // A new alert went to its group's thread, or to the channel when the group had none at the time.
    const hit =
      (where.threadId ? await this.search(channel, where.threadId, alert, deliveryId, where.sinceMs) : undefined) ??
      (await this.search(channel, undefined, alert, deliveryId, where.sinceMs));
    if (!hit) return undefined;
    return {
      channel: this.kind,
      messageId: messageIdOf(channel, hit.ts),
      threadId: hit.thread_ts ?? hit.ts,
      deliveredAt: new Date(this.clock.now()).toISOString(),
    };
  }

  /** The message tagged with this delivery in a thread (`root`) or among the channel's top-level messages, bounded in pages. */
  private async search(
    channel: string,
    root: string | undefined,
    alert: Alert,
    deliveryId: string,
    sinceMs: number,
  ): Promise<{ ts: string; thread_ts?: string } | undefined> {
    const oldest = ((sinceMs - FIND_SKEW_MS) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < FIND_PAGES; page++) {
      const args = {
        channel,
        oldest,
        limit: FIND_PAGE_SIZE,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      };
      const res = root
        ? await this.call('conversations.replies', () => this.client.conversations.replies({ ...args, ts: root }))
        : await this.call('conversations.history', () => this.client.conversations.history(args));
      const hit = ((res.messages ?? []) as HistoryMessage[]).find(
        (m) =>
          m.metadata?.event_type === ALERT_EVENT_TYPE &&
          m.metadata.event_payload?.delivery_id === deliveryId &&
          m.metadata.event_payload?.fingerprint === alert.fingerprint,
      );
      if (hit?.ts) return { ts: hit.ts, ...(hit.thread_ts ? { thread_ts: hit.thread_ts } : {}) };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }
}

/**
 * Slack through an incoming webhook: each delivery posts one new message (a webhook cannot edit,
 * thread or read back), worded by why it is sent (new, changed, still firing, resolved).
 * What it cannot guarantee: if the process stops after Slack accepted a post and before the outbox
 * recorded it, the retry posts it again (a webhook answers no message id and the channel cannot be
 * searched); use a bot token where one copy must hold across crashes.
 */
export class SlackWebhookNotifier implements Notifier {
  readonly kind = 'slack-webhook';
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(settings: Extract<SlackSettings, { mode: 'webhook' }>, clock: Clock = systemClock) {
    this.url = settings.webhookUrl;
    this.timeoutMs = settings.timeoutMs;
    this.clock = clock;
  }

  async send(alert: Alert, previous?: DeliveryReceipt, options?: SendOptions): Promise<DeliveryReceipt> {
    const reason = reasonOf(alert, previous, options);
    const message = alertMessage(alert, reason);
    let retryAfter: string | null = null;
    // One client per send, so the Retry-After this send saw is its own (the client drops response headers).
    const hook = new IncomingWebhook(this.url, {
      timeout: this.timeoutMs,
      retryConfig: { retries: 0 },
      fetch: async (url, init) => {
        const res = await fetch(url, init as RequestInit);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
        return res;
      },
    });
    try {
      await hook.send({
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
        unfurl_media: false,
      });
    } catch (err) {
      if (err instanceof IncomingWebhookHTTPError) {
        if (err.statusCode >= 500 || err.statusCode === 429) {
          const after = retryAfterMs(retryAfter);
          throw new NotifierUnavailableError(`Slack webhook: HTTP ${err.statusCode}`, {
            ...(after !== undefined ? { retryAfterMs: after } : {}),
          });
        }
        const code =
          short(err.body, this.url)
            .replace(/[^\w.-]/g, '')
            .slice(0, 60) || `http_${err.statusCode}`;
        throw new SlackRefusedError(`Slack webhook refused: HTTP ${err.statusCode} ${code}`, code);
      }
      if (err instanceof IncomingWebhookRequestError) {
        throw new NotifierUnavailableError(`Slack webhook: request failed (${networkReason(err.original)})`);
      }
      throw new NotifierUnavailableError('Slack webhook: request failed');
    }
    const id = options?.deliveryId ?? `${alert.fingerprint}@${this.clock.now()}`;
    return { channel: this.kind, messageId: `webhook:${id}`, deliveredAt: new Date(this.clock.now()).toISOString() };
  }
}

/** The notifier the settings describe. */
export function createSlackNotifier(settings: SlackSettings, clock: Clock = systemClock): Notifier {
  return settings.mode === 'bot' ? new SlackBotNotifier(settings, clock) : new SlackWebhookNotifier(settings, clock);
}
