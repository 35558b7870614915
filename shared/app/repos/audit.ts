import type { Logger } from 'pino';
import * as z from 'zod';
import { capStrings, capText, jsonBytes } from '../../domain/bounds.ts';
import { errorText } from '../../domain/errors.ts';
import type { Identity } from '../../domain/identity.ts';
import { capJson, maskSecretsInText, redactSecrets } from '../../domain/redact.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { ConditionFailedError, ItemTooLargeError } from '../../ports/store.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

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

/**
 * The codec of a stored record: the fields the listing filters and shows, checked for type only
 * (records are written bounded, and a listing parses hundreds), `args` taken as it is.
 */
export const AuditEventSchema: z.ZodType<AuditEvent> = z.object({
  time: z.string(),
  requestId: z.string(),
  caller: z.object({
    subject: z.string(),
    name: z.string(),
    method: z.enum(['oauth', 'apiKey', 'local', 'slack']),
  }),
  roles: z.array(z.string()),
  tool: z.string(),
  args: z.unknown(),
  outcome: z.enum(['ok', 'error', 'denied']),
  error: z.string().optional(),
  durationMs: z.number(),
});

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
  /** Records among the scanned ones that could not be read (left out; each is a CorruptRecordError by key). */
  corrupt?: number;
}

const DAY_MS = 86_400_000;
const MAX_ARGS_BYTES = 8 * 1024;
/**
 * Caps of the other caller-controlled fields (UTF-8 bytes, marker included). A tool name or an id
 * can be as long as the request body allows; none of that reaches the store or the logs.
 */
export const AUDIT_FIELD_BYTES = {
  tool: 256,
  requestId: 256,
  subject: 512,
  name: 256,
  role: 64,
  error: 1024,
} as const;
const MAX_ROLES = 16;
/**
 * The whole record, after the field caps: a twelfth of DynamoDB's 400 KB item limit (the key, the
 * attribute names and the TTL fit many times over in the rest).
 */
export const MAX_RECORD_BYTES = 32 * 1024;
const MAX_PENDING = 1000;
/** A record whose write keeps failing is given up (logged in full) after this many attempts. */
const MAX_ATTEMPTS = 10;
/** Records retried per call once the store answers again, so a backlog does not stall one request. */
const DRAIN_BATCH = 25;
/** Records that share a request id and start time (a caller reusing X-Request-Id) get numbered slots. */
const MAX_SLOTS = 16;
const WRITE_TIMEOUT_MS = 2000;
/** How long flush() lets store calls that timed out finish before the host closes the store. */
const SETTLE_ON_FLUSH_MS = 15_000;
/** Bounds the work of one list call; a caller continues with the cursor. */
const MAX_SCANNED_PER_CALL = 2000;

const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Pending {
  event: AuditEvent;
  attempts: number;
}

/**
 * The audit trail: one record per tools/call, partitioned by day (`audit#YYYY-MM-DD`) with
 * time-ordered sort keys (`<start time>#<request id>`), expiring after the retention period.
 *
 * Every caller-controlled field is capped with a visible marker and the whole record is held under
 * MAX_RECORD_BYTES, so no record can exceed the store's item limit. A write is a conditional create
 * on a key derived from the record itself: a retried write (after a timeout that in fact landed, or
 * from the retry queue) finds its own record and stops, so one call leaves one record.
 *
 * A failed write never fails the call and never holds up the records after it: each record is
 * written on its own, first; one the store refuses as too large is written again as a summary; one
 * that failed for a passing reason is logged in full at error level, counted, and retried in the
 * background after a later record is written, a bounded batch at a time (and by flush()).
 */
export class AuditTrail {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retentionDays: number;
  private readonly pending: Pending[] = [];
  /** The background retry of pending records, when one runs. */
  private drainRun: Promise<void> | undefined;
  /** Store calls still running, those given up on after WRITE_TIMEOUT_MS included. */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Writes that failed (each is retried); reported by server_info. */
  failures = 0;
  /** Records given up after MAX_ATTEMPTS or pushed out of a full retry queue (each logged in full). */
  dropped = 0;

  constructor(opts: { store: Store; clock: Clock; log: Logger; retentionDays: number }) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.log = opts.log;
    this.retentionDays = opts.retentionDays;
  }

  /** Builds a record: arguments redacted and capped, every other caller-controlled field capped. */
  event(input: Omit<AuditEvent, 'args' | 'time'> & { args: unknown; startedAt: number }): AuditEvent {
    const { startedAt, ...rest } = input;
    return boundEvent({
      ...rest,
      time: new Date(startedAt).toISOString(),
      args: capJson(redactSecrets(input.args), MAX_ARGS_BYTES),
    });
  }

  /**
   * Records one call by `identity`: arguments redacted and capped, the error masked and capped, the
   * duration measured from `startedAt` to now. Every channel (MCP tools, tasks/cancel, Slack buttons)
   * writes its records through here, so they all look alike. Never throws.
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
    let event: AuditEvent;
    try {
      const { identity, startedAt } = input;
      event = this.event({
        requestId: input.requestId,
        caller: { subject: identity.subject, name: identity.name, method: identity.method },
        roles: identity.roles,
        tool: input.tool,
        args: input.args,
        outcome: input.outcome,
        ...(input.error ? { error: maskSecretsInText(capText(input.error, 4 * AUDIT_FIELD_BYTES.error)) } : {}),
        durationMs: this.clock.now() - startedAt,
        startedAt,
      });
    } catch (err) {
      // A record that cannot even be built (an argument JSON cannot hold) is still a call: keep its frame.
      event = boundEvent({
        time: new Date(input.startedAt).toISOString(),
        requestId: input.requestId,
        caller: { subject: input.identity.subject, name: input.identity.name, method: input.identity.method },
        roles: input.identity.roles,
        tool: input.tool,
        args: { omitted: `arguments could not be recorded: ${errorText(err)}` },
        outcome: input.outcome,
        ...(input.error ? { error: maskSecretsInText(capText(input.error, AUDIT_FIELD_BYTES.error)) } : {}),
        durationMs: this.clock.now() - input.startedAt,
      });
    }
    await this.record(event);
  }

  /** Writes one record (bounded again here: callers may build their own); never throws. */
  async record(event: AuditEvent): Promise<void> {
    const e = boundEvent(event);
    const written = await this.attempt({ event: e, attempts: 0 });
    // The store answers again: retry what earlier failures left, a batch at a time, in the background
    // (one run at a time), so a backlog never delays the call that found the store answering.
    if (written && this.pending.length > 0 && !this.drainRun) {
      this.drainRun = this.drain(DRAIN_BATCH).finally(() => {
        this.drainRun = undefined;
      });
    }
  }

  /**
   * Writes the records kept after failed writes (a host calls this before it stops). Resolves to how
   * many are still unwritten; those were logged in full at error level when their write failed.
   */
  async flush(): Promise<number> {
    await this.drainRun;
    await this.drain(MAX_PENDING);
    // Writes that timed out may still be running: let them end (within a bound) before the host
    // closes the store under them.
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SETTLE_ON_FLUSH_MS);
          timer.unref?.();
        }),
      ]);
      clearTimeout(timer);
    }
    return this.pending.length;
  }

  /** Retries up to `max` pending records, oldest first, each on its own. Never throws. */
  private async drain(max: number): Promise<void> {
    const batch = this.pending.splice(0, max);
    for (const p of batch) await this.attempt(p);
  }

  /** One write of one record; on failure the record is kept for retry, summarised, or given up. */
  private async attempt(p: Pending): Promise<boolean> {
    try {
      await this.write(p.event);
      return true;
    } catch (err) {
      this.failures++;
      if (err instanceof ItemTooLargeError && !isSummary(p.event)) {
        // Cannot happen with the caps above unless the store's limit is smaller: write the frame.
        this.log.error(
          { err: errorText(err), audit: summarise(p.event, 2048) },
          'audit record too large; writing a summary',
        );
        return this.attempt({ event: summarise(p.event, 2048), attempts: p.attempts });
      }
      const attempts = p.attempts + 1;
      const giveUp = attempts >= MAX_ATTEMPTS || err instanceof ItemTooLargeError;
      if (giveUp) this.dropped++;
      else this.keep({ event: p.event, attempts });
      this.log.error(
        { err: errorText(err), audit: p.event, attempts, pending: this.pending.length },
        giveUp
          ? 'audit write failed; record given up (logged here in full)'
          : 'audit write failed; record kept for retry',
      );
      return false;
    }
  }

  private keep(p: Pending): void {
    this.pending.push(p);
    if (this.pending.length > MAX_PENDING) {
      const lost = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.dropped += lost.length;
      this.log.error(
        { lost: lost.length },
        'audit retry queue full: oldest records given up (each logged in full when it failed)',
      );
    }
  }

  /**
   * A conditional create on `<start time>#<request id>`: a retry of a write that landed finds the same
   * record there and is done. A different record under that key (another call that reused the request
   * id in the same millisecond) moves this one to the next numbered slot.
   */
  private async write(e: AuditEvent): Promise<void> {
    const t = Date.parse(e.time);
    const pk = `audit#${dayKey(t)}`;
    const base = `${e.time}#${e.requestId}`;
    const data = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    const expiresAt = Math.floor(t / 1000) + this.retentionDays * 86_400;
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const sk = slot === 0 ? base : `${base}#${slot}`;
      try {
        await this.timed(this.store.put({ pk, sk, data, expiresAt }, { ifAbsent: true }));
        return;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        const there = await this.timed(this.store.get(pk, sk));
        if (there && canonical(there.data) === canonical(data)) return;
      }
    }
    throw new Error(`audit: ${MAX_SLOTS} records already share request id ${e.requestId} at ${e.time}`);
  }

  private async timed<T>(op: Promise<T>): Promise<T> {
    const tracked = op.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(tracked);
    void tracked.then(() => this.inflight.delete(tracked));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`audit write timed out after ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([op, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Newest first, filtered, bounded; walks day partitions back to `since` (or the retention limit).
   * A corrupt record is left out, counted in `corrupt` and logged by key: the trail stays readable.
   */
  async list(q: AuditQuery): Promise<AuditPage> {
    const now = this.clock.now();
    const oldest = Math.max(q.since ? Date.parse(q.since) : 0, now - this.retentionDays * DAY_MS);
    let cur = q.cursor ? decodeCursor(q.cursor) : { day: dayKey(now) };
    const events: AuditEvent[] = [];
    let scanned = 0;
    let corrupt = 0;
    let firstCorrupt = '';
    const done = (p: Omit<AuditPage, 'events' | 'scanned'> = {}): AuditPage => {
      // One line per listing, not per record: a damaged day could hold thousands.
      if (corrupt) this.log.error({ corrupt, first: firstCorrupt }, 'audit list: unreadable records left out');
      return { events, ...p, scanned, ...(corrupt ? { corrupt } : {}) };
    };
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
        let e: AuditEvent;
        try {
          e = decodeRecord(AuditEventSchema, item.pk, item.sk, item.data);
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          if (corrupt++ === 0) firstCorrupt = err.message;
          continue;
        }
        if (Date.parse(e.time) < oldest) {
          return done();
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
      if (stoppedAt) return done({ cursor: encodeCursor({ day: cur.day, after: stoppedAt }) });
      cur = page.lastKey
        ? { day: cur.day, after: page.lastKey }
        : { day: dayKey(Date.parse(`${cur.day}T00:00:00Z`) - DAY_MS) };
      if (scanned >= MAX_SCANNED_PER_CALL) {
        return cur.day >= dayKey(oldest) ? done({ cursor: encodeCursor(cur) }) : done();
      }
    }
    return done();
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

/**
 * Every caller-controlled field capped, then the whole record held under MAX_RECORD_BYTES: when the
 * caps still leave it too large (a channel passing something unexpected), the largest parts are
 * summarised, arguments first.
 */
function boundEvent(e: AuditEvent): AuditEvent {
  const roles = Array.isArray(e.roles) ? e.roles : [];
  const bounded: AuditEvent = {
    time: capText(String(e.time), 64),
    requestId: capText(String(e.requestId), AUDIT_FIELD_BYTES.requestId),
    caller: {
      subject: capText(String(e.caller?.subject ?? ''), AUDIT_FIELD_BYTES.subject),
      name: capText(String(e.caller?.name ?? ''), AUDIT_FIELD_BYTES.name),
      method: e.caller?.method,
    },
    roles: [
      ...roles.slice(0, MAX_ROLES).map((r) => capText(String(r), AUDIT_FIELD_BYTES.role)),
      ...(roles.length > MAX_ROLES ? [`…[${roles.length - MAX_ROLES} more roles omitted]`] : []),
    ] as AuditEvent['roles'],
    tool: capText(String(e.tool), AUDIT_FIELD_BYTES.tool),
    args: e.args,
    outcome: e.outcome,
    ...(e.error !== undefined ? { error: capText(String(e.error), AUDIT_FIELD_BYTES.error) } : {}),
    durationMs: e.durationMs,
  };
  if (jsonBytes(bounded) <= MAX_RECORD_BYTES) return bounded;
  const withoutArgs = { ...bounded, args: capJson(bounded.args, 1024) };
  if (jsonBytes(withoutArgs) <= MAX_RECORD_BYTES) return withoutArgs;
  return summarise(bounded, 1024);
}

/** The record's frame only: every string cut to `maxBytes`, the arguments replaced by their size. */
function summarise(e: AuditEvent, maxBytes: number): AuditEvent {
  const frame = capStrings({ ...e, args: undefined }, { maxBytes, maxItems: MAX_ROLES, maxDepth: 4 }) as AuditEvent;
  return { ...frame, args: { omitted: `arguments of ${jsonBytes(e.args)} bytes omitted: the record was too large` } };
}

const isSummary = (e: AuditEvent): boolean =>
  typeof (e.args as { omitted?: unknown } | null)?.omitted === 'string' &&
  String((e.args as { omitted: string }).omitted).endsWith('the record was too large');

/** JSON with object keys sorted: equal for equal records whatever order a store returns keys in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
