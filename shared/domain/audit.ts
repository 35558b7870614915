import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import type { Identity } from './identity.ts';
import { capJson, maskSecretsInText, redactSecrets } from './redact.ts';

/** One tools/call, as the audit trail keeps it. */
export interface AuditEvent {
  time: string;
  requestId: string;
  caller: { subject: string; name: string; method: Identity['method'] };
  roles: string[];
  tool: string;
  /** Arguments with secret-looking values redacted, capped in size. */
  args: unknown;
  outcome: 'ok' | 'error' | 'denied';
  /** Short reason for error and denied outcomes. */
  error?: string;
  durationMs: number;
}

export interface AuditQuery {
  tool?: string;
  /** Matches the caller's subject or name. */
  caller?: string;
  /** ISO time; only events at or after it. */
  since?: string;
  limit: number;
  cursor?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass back as `cursor` for the next page; absent when nothing older matches. */
  cursor?: string;
  scanned: number;
}

const DAY_MS = 86_400_000;
const MAX_ARGS_BYTES = 8 * 1024;
const MAX_PENDING = 1000;
const WRITE_TIMEOUT_MS = 2000;
/** Bounds the work of one list call; a caller continues with the cursor. */
const MAX_SCANNED_PER_CALL = 2000;

const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The audit trail: one record per tools/call, partitioned by day (`audit#YYYY-MM-DD`) with
 * time-ordered sort keys, expiring after the retention period.
 *
 * A failed write never fails the call: the record is logged in full at error level, counted,
 * and kept to be written again with the next record, so a passing store outage loses nothing.
 */
export class AuditTrail {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retentionDays: number;
  private readonly pending: AuditEvent[] = [];
  private seq = 0;
  /** Writes that failed (each is retried); reported by server_info. */
  failures = 0;

  constructor(opts: { store: Store; clock: Clock; log: Logger; retentionDays: number }) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.log = opts.log;
    this.retentionDays = opts.retentionDays;
  }

  /** Builds a record: arguments redacted and capped. */
  event(input: Omit<AuditEvent, 'args' | 'time'> & { args: unknown; startedAt: number }): AuditEvent {
    const { startedAt, ...rest } = input;
    return {
      ...rest,
      time: new Date(startedAt).toISOString(),
      args: capJson(redactSecrets(input.args), MAX_ARGS_BYTES),
    };
  }

  /**
   * Records one call by `identity`: arguments redacted and capped, the error masked and cut to 500
   * characters, the duration measured from `startedAt` to now. Every channel (MCP tools, tasks/cancel,
   * Slack buttons) writes its records through here, so they all look alike.
   */
  async recordCall(input: {
    requestId: string;
    identity: Identity;
    tool: string;
    args: unknown;
    outcome: AuditEvent['outcome'];
    error?: string;
    startedAt: number;
  }): Promise<void> {
    const { identity, startedAt } = input;
    await this.record(
      this.event({
        requestId: input.requestId,
        caller: { subject: identity.subject, name: identity.name, method: identity.method },
        roles: identity.roles,
        tool: input.tool,
        args: input.args,
        outcome: input.outcome,
        ...(input.error ? { error: maskSecretsInText(input.error).slice(0, 500) } : {}),
        durationMs: this.clock.now() - startedAt,
        startedAt,
      }),
    );
  }

  async record(event: AuditEvent): Promise<void> {
    await this.writeBatch([...this.pending.splice(0), event]);
  }

  /**
   * Writes the records kept after failed writes (a host calls this before it stops). Resolves to how
   * many are still unwritten; those were logged in full at error level when their write failed.
   */
  async flush(): Promise<number> {
    if (this.pending.length > 0) await this.writeBatch(this.pending.splice(0));
    return this.pending.length;
  }

  private async writeBatch(batch: AuditEvent[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as AuditEvent;
      try {
        await this.write(e);
      } catch (err) {
        this.failures++;
        const unwritten = batch.slice(i);
        this.pending.push(...unwritten.slice(-MAX_PENDING));
        this.log.error(
          { err: errorText(err), audit: e, pending: this.pending.length },
          'audit write failed; record kept for retry',
        );
        return;
      }
    }
  }

  private async write(e: AuditEvent): Promise<void> {
    const t = Date.parse(e.time);
    const sk = `${e.time}#${e.requestId}#${(this.seq++ % 1_000_000).toString().padStart(6, '0')}`;
    const put = this.store.put({
      pk: `audit#${dayKey(t)}`,
      sk,
      data: e as unknown as Record<string, unknown>,
      expiresAt: Math.floor(t / 1000) + this.retentionDays * 86_400,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`audit write timed out after ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
    });
    try {
      await Promise.race([put, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Newest first, filtered, bounded; walks day partitions back to `since` (or the retention limit). */
  async list(q: AuditQuery): Promise<AuditPage> {
    const now = this.clock.now();
    const oldest = Math.max(q.since ? Date.parse(q.since) : 0, now - this.retentionDays * DAY_MS);
    let cur = q.cursor ? decodeCursor(q.cursor) : { day: dayKey(now) };
    const events: AuditEvent[] = [];
    let scanned = 0;
    const callerNeedle = q.caller?.toLowerCase();
    while (cur.day >= dayKey(oldest)) {
      const page = await this.store.query({
        pk: `audit#${cur.day}`,
        descending: true,
        limit: Math.min(200, MAX_SCANNED_PER_CALL - scanned),
        ...(cur.after ? { after: cur.after } : {}),
      });
      scanned += page.items.length;
      let stoppedAt: string | undefined;
      for (const item of page.items) {
        const e = item.data as unknown as AuditEvent;
        if (Date.parse(e.time) < oldest) {
          return { events, scanned };
        }
        if (q.tool && e.tool !== q.tool) continue;
        if (
          callerNeedle &&
          e.caller.subject.toLowerCase() !== callerNeedle &&
          e.caller.name.toLowerCase() !== callerNeedle
        ) {
          continue;
        }
        events.push(e);
        if (events.length >= q.limit) {
          stoppedAt = item.sk;
          break;
        }
      }
      if (stoppedAt) return { events, cursor: encodeCursor({ day: cur.day, after: stoppedAt }), scanned };
      cur = page.lastKey
        ? { day: cur.day, after: page.lastKey }
        : { day: dayKey(Date.parse(`${cur.day}T00:00:00Z`) - DAY_MS) };
      if (scanned >= MAX_SCANNED_PER_CALL) {
        return cur.day >= dayKey(oldest) ? { events, cursor: encodeCursor(cur), scanned } : { events, scanned };
      }
    }
    return { events, scanned };
  }
}

interface Cursor {
  day: string;
  after?: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(c.day)) throw new Error('bad day');
    if (c.after !== undefined && typeof c.after !== 'string') throw new Error('bad key');
    return c;
  } catch {
    throw new InvalidCursorError('cursor is not one this server issued; start again without it');
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
