import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Alert } from '../../shared/ports/notifier.ts';

/**
 * A loopback Slack: the Web API methods the alert notifier uses (chat.postMessage, chat.update,
 * conversations.history, conversations.replies, auth.test) and an incoming-webhook path, answering
 * and refusing as Slack does, recording what it accepted, and failing on demand.
 *
 * Faithful to (https://api.slack.com/methods/<method>, https://api.slack.com/reference/block-kit):
 * - auth: the bearer token (or a `token` form field) must be the bot's: none → `not_authed`, another → `invalid_auth`;
 * - Web API errors are HTTP 200 with `{ ok: false, error }`; rate limits are HTTP 429 with Retry-After;
 * - bodies as the official client sends them (form-encoded, JSON-valued fields) or JSON;
 * - chat.postMessage: unknown channel → `channel_not_found`; no text and no blocks → `no_text`;
 *   text over 40,000 characters → `msg_too_long`; blocks that are not a JSON array → `invalid_blocks_format`;
 *   more than 50 blocks, a section text over 3,000 characters, a header over 150, a context with more
 *   than 10 elements, an unknown block type or an empty text → `invalid_blocks`; metadata without
 *   event_type/event_payload → `invalid_metadata_format`; a thread_ts that names no message → `thread_not_found`;
 * - chat.update: the message must exist (`message_not_found`), same checks as a post;
 * - conversations.history: top-level messages newest first (replies are not in it), `oldest`/`latest`
 *   exclusive bounds, `limit` ≤ 999, cursor paging; conversations.replies: the parent then its replies,
 *   oldest first (`thread_not_found` for an unknown ts); metadata only with include_all_metadata;
 * - incoming webhook (`/services/...`): 200 `ok`; `invalid_payload` (400) for bad JSON, `no_text`,
 *   `invalid_blocks`, `msg_too_long` (400); an unknown path `no_service` (404).
 * More lenient than Slack: no per-method rate tiers (429 only on demand), no mrkdwn/link validation,
 * no edit window for chat.update, any channel ID listed at start exists and the bot is in it.
 */

export interface SlackRecordedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** chat.update calls applied to it. */
  edits: number;
}

export type SlackFailure =
  | { kind: 'status'; status: number; times?: number }
  | { kind: 'ratelimit'; retryAfterS: number; times?: number }
  /** Accepts and records the request, then drops the connection: Slack posted, the caller never heard. */
  | { kind: 'drop-after-accept'; times?: number }
  /** Holds the request without answering (until heal or close). */
  | { kind: 'hang' };

export interface SlackReceiver {
  /** The Web API base for SLACK_API_URL (ends with `/`). */
  apiUrl: string;
  /** The incoming webhook URL. */
  webhookUrl: string;
  token: string;
  channel: string;
  /** Messages per channel in post order (replies included). */
  messages(channel?: string): SlackRecordedMessage[];
  /** Accepted webhook posts (parsed JSON). */
  webhookPosts: Array<{ text?: string; blocks?: unknown[] }>;
  /** HTTP requests received, failed ones included (a client that retried would show here). */
  requests(): number;
  /** Every Web API call that reached the handler: method and whether it was answered ok. */
  calls: Array<{ method: string; ok: boolean; error?: string }>;
  /** Requests received while failing or closed excluded; requests answered with a failure included. */
  failWith(failure: SlackFailure): void;
  heal(): void;
  /** Stops listening (connections refused) until `reopen`. */
  stopListening(): Promise<void>;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

const WEBHOOK_PATH = '/services/T0LOCAL/B0ALERTS/xyzWebhookSecret';
const LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, contextElements: 10, text: 40_000 };
const BLOCK_TYPES = new Set(['section', 'header', 'context', 'divider', 'actions', 'image', 'rich_text']);

function blocksError(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > LIMITS.blocks) return 'invalid_blocks';
  for (const b of blocks as Array<Record<string, unknown>>) {
    if (!b || typeof b !== 'object' || !BLOCK_TYPES.has(String(b.type))) return 'invalid_blocks';
    const text = (b.text as { text?: unknown } | undefined)?.text;
    if (b.type === 'section') {
      if (typeof text !== 'string' || text.length === 0 || text.length > LIMITS.sectionText) return 'invalid_blocks';
    }
    if (b.type === 'header') {
      if (typeof text !== 'string' || text.length === 0 || text.length > LIMITS.headerText) return 'invalid_blocks';
      if ((b.text as { type?: unknown }).type !== 'plain_text') return 'invalid_blocks';
    }
    if (b.type === 'context') {
      const els = b.elements;
      if (!Array.isArray(els) || els.length === 0 || els.length > LIMITS.contextElements) return 'invalid_blocks';
      for (const e of els as Array<{ text?: unknown }>) {
        if (typeof e.text !== 'string' || e.text.length === 0 || e.text.length > LIMITS.sectionText)
          return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The body as Slack reads it: JSON, or form fields whose JSON-valued ones (blocks, metadata) are strings. */
function parseArgs(contentType: string | undefined, raw: string): Record<string, unknown> | undefined {
  if (contentType?.startsWith('application/json')) {
    try {
      const v = JSON.parse(raw) as unknown;
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

const jsonField = (v: unknown): { ok: true; value: unknown } | { ok: false } => {
  if (typeof v !== 'string') return { ok: true, value: v };
  try {
    return { ok: true, value: JSON.parse(v) };
  } catch {
    return { ok: false };
  }
};

const truthy = (v: unknown) => v === true || v === 'true' || v === '1';

/**
 * `clock` stamps message ts (Slack's ts is the post time in epoch seconds, with a per-channel
 * sequence after the dot), so a test clock and the history's `oldest` agree.
 */
export async function startSlackReceiver(opts?: {
  token?: string;
  channel?: string;
  clock?: { now(): number };
}): Promise<SlackReceiver> {
  const token = opts?.token ?? 'xoxb-0000000000-local-receiver-token';
  const channel = opts?.channel ?? 'C0ALERTS01';
  const channels = new Map<string, SlackRecordedMessage[]>([[channel, []]]);
  const webhookPosts: SlackReceiver['webhookPosts'] = [];
  const calls: SlackReceiver['calls'] = [];
  let failure: SlackFailure | undefined;
  let tsCounter = 0;
  const clock = opts?.clock ?? { now: () => Date.now() };
  const nextTs = () => `${Math.floor(clock.now() / 1000)}.${String(++tsCounter).padStart(6, '0')}`;
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  /** The failure for this request, counting down `times`. */
  function takeFailure(): SlackFailure | undefined {
    const f = failure;
    if (!f) return undefined;
    if ('times' in f && f.times !== undefined) {
      if (f.times <= 1) failure = undefined;
      else failure = { ...f, times: f.times - 1 };
    }
    return f;
  }

  function apiCall(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const err = (error: string) => ({ ok: false, error });
    if (method === 'auth.test') {
      return {
        ok: true,
        url: 'https://local.slack.test/',
        team: 'Local',
        user: 'cloudops',
        team_id: 'T0LOCAL',
        user_id: 'U0BOT',
        bot_id: 'B0BOT',
      };
    }
    if (method === 'chat.postMessage' || method === 'chat.update') {
      const ch = String(args.channel ?? '');
      const list = channels.get(ch);
      if (!list) return err('channel_not_found');
      const blocks = args.blocks === undefined ? { ok: true as const, value: undefined } : jsonField(args.blocks);
      if (!blocks.ok) return err('invalid_blocks_format');
      const text = typeof args.text === 'string' ? args.text : undefined;
      if (!text && blocks.value === undefined) return err('no_text');
      if (text && text.length > LIMITS.text) return err('msg_too_long');
      if (blocks.value !== undefined) {
        const e = blocksError(blocks.value);
        if (e) return err(e);
      }
      let metadata: SlackRecordedMessage['metadata'];
      if (args.metadata !== undefined) {
        const m = jsonField(args.metadata);
        const mv = m.ok ? (m.value as Record<string, unknown> | null) : null;
        if (!mv || typeof mv.event_type !== 'string' || !mv.event_payload || typeof mv.event_payload !== 'object') {
          return err('invalid_metadata_format');
        }
        metadata = { event_type: mv.event_type, event_payload: mv.event_payload as Record<string, unknown> };
      }
      if (method === 'chat.update') {
        const msg = list.find((m) => m.ts === args.ts);
        if (!msg) return err('message_not_found');
        if (text !== undefined) msg.text = text;
        if (blocks.value !== undefined) msg.blocks = blocks.value as unknown[];
        if (metadata) msg.metadata = metadata;
        msg.edits++;
        return { ok: true, channel: ch, ts: msg.ts, text: msg.text };
      }
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
      if (threadTs && !list.some((m) => m.ts === threadTs)) return err('thread_not_found');
      const msg: SlackRecordedMessage = {
        channel: ch,
        ts: nextTs(),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(text !== undefined ? { text } : {}),
        ...(blocks.value !== undefined ? { blocks: blocks.value as unknown[] } : {}),
        ...(metadata ? { metadata } : {}),
        edits: 0,
      };
      list.push(msg);
      return { ok: true, channel: ch, ts: msg.ts, message: { type: 'message', text: msg.text, ts: msg.ts } };
    }
    if (method === 'conversations.history' || method === 'conversations.replies') {
      const list = channels.get(String(args.channel ?? ''));
      if (!list) return err('channel_not_found');
      const limit = Math.min(999, Math.max(1, Number(args.limit ?? 100) || 100));
      const oldest = Number(args.oldest ?? 0);
      const latest = args.latest !== undefined ? Number(args.latest) : Number.POSITIVE_INFINITY;
      let msgs: SlackRecordedMessage[];
      if (method === 'conversations.history') {
        msgs = list.filter((m) => !m.thread_ts || m.thread_ts === m.ts).reverse();
      } else {
        const parent = list.find((m) => m.ts === args.ts);
        if (!parent) return err('thread_not_found');
        msgs = [parent, ...list.filter((m) => m.thread_ts === parent.ts)];
      }
      msgs = msgs.filter((m) => Number(m.ts) > oldest && Number(m.ts) < latest);
      const start =
        typeof args.cursor === 'string' && args.cursor ? Number(Buffer.from(args.cursor, 'base64').toString()) : 0;
      const page = msgs.slice(start, start + limit);
      const more = msgs.length > start + limit;
      const withMeta = truthy(args.include_all_metadata);
      return {
        ok: true,
        messages: page.map((m) => ({
          type: 'message',
          ts: m.ts,
          ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
          text: m.text,
          blocks: m.blocks,
          ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
        })),
        has_more: more,
        response_metadata: { next_cursor: more ? Buffer.from(String(start + limit)).toString('base64') : '' },
      };
    }
    return err('unknown_method');
  }

  let requestCount = 0;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestCount++;
    const raw = await readBody(req);
    const f = takeFailure();
    if (f?.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (f?.kind === 'status') {
      res.writeHead(f.status, { 'content-type': 'text/plain' }).end('upstream failure');
      return;
    }
    if (f?.kind === 'ratelimit') {
      res
        .writeHead(429, { 'retry-after': String(f.retryAfterS), 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: string, type: string) => {
      if (f?.kind === 'drop-after-accept') {
        req.socket.destroy();
        return;
      }
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (url.pathname.startsWith('/services/')) {
      if (req.method !== 'POST' || url.pathname !== WEBHOOK_PATH) return send(404, 'no_service', 'text/html');
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(raw) as Record<string, unknown>;
        if (!payload || typeof payload !== 'object') throw new Error('not an object');
      } catch {
        return send(400, 'invalid_payload', 'text/html');
      }
      const text = typeof payload.text === 'string' ? payload.text : undefined;
      if (!text && payload.blocks === undefined) return send(400, 'no_text', 'text/html');
      if (text && text.length > LIMITS.text) return send(400, 'msg_too_long', 'text/html');
      if (payload.blocks !== undefined && blocksError(payload.blocks)) return send(400, 'invalid_blocks', 'text/html');
      webhookPosts.push({
        ...(text !== undefined ? { text } : {}),
        ...(payload.blocks ? { blocks: payload.blocks as unknown[] } : {}),
      });
      return send(200, 'ok', 'text/html');
    }
    const m = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    if (!m || req.method !== 'POST')
      return send(404, JSON.stringify({ ok: false, error: 'unknown_method' }), 'application/json');
    const method = m[1] as string;
    const args = parseArgs(req.headers['content-type'], raw);
    if (!args) return send(200, JSON.stringify({ ok: false, error: 'invalid_json' }), 'application/json');
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    let answer: Record<string, unknown>;
    if (!given) answer = { ok: false, error: 'not_authed' };
    else if (given !== token) answer = { ok: false, error: 'invalid_auth' };
    else answer = apiCall(method, args);
    calls.push({
      method,
      ok: answer.ok === true,
      ...(typeof answer.error === 'string' ? { error: answer.error } : {}),
    });
    send(200, JSON.stringify(answer), 'application/json; charset=utf-8');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => {
    for (const r of hung) r.destroy();
    hung.clear();
    for (const s of sockets) s.destroy();
  };

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    webhookUrl: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    token,
    channel,
    messages: (ch = channel) => channels.get(ch) ?? [],
    webhookPosts,
    calls,
    requests: () => requestCount,
    failWith: (f) => {
      failure = f;
    },
    heal: () => {
      failure = undefined;
      for (const r of hung) r.destroy();
      hung.clear();
    },
    stopListening: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        dropAll();
      });
    },
    reopen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    close: async () => {
      if (!server.listening) return;
      await new Promise<void>((r) => {
        server.close(() => r());
        dropAll();
      });
    },
  };
}

/** A drift-like alert, as the drift check raises them, for tests of the alert path. */
export function sampleDriftAlert(over: Partial<Alert> = {}): Alert {
  // The shape of the drift check's object alerts (shared/app/drift/check.ts), with the restore call structured.
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'payments' },
    spec: {
      replicas: 3,
      template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1.4.2' }] } },
    },
  };
  return {
    fingerprint: '3f9a0c1e5b7d42a8c6e1f0b9d8a7c6e5',
    groupKey: 'drift:prod/payments',
    status: 'firing',
    severity: 'warning',
    summary: 'Deployment payments/web drifted: 2 fields changed by kubectl-edit',
    fields: [
      { label: 'Object', value: 'Deployment payments/web (apps/v1) on cluster prod' },
      {
        label: 'spec.template.spec.containers[web].image',
        value: 'registry.example.com/web:1.4.2 → registry.example.com/web:1.4.3-hotfix (by kubectl-edit)',
      },
      { label: 'spec.replicas', value: '3 → 5 (by kubectl-edit)' },
    ],
    startsAt: '2026-12-07T20:45:00.000Z',
    restore: {
      tool: 'k8s_resources_apply',
      arguments: { cluster: 'prod', manifest: JSON.stringify(manifest), force: true },
    },
    ...over,
  };
}
