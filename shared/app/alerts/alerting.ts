import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { capStrings, capText, jsonBytes } from '../../domain/bounds.ts';
import { errorText } from '../../domain/errors.ts';
import { canonicalJson } from '../../domain/k8s/index.ts';
import { maskSecretsInText, redactValue } from '../../domain/redact.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  ALERT_LIMITS,
  type Alert,
  type DeliveryReceipt,
  type Notifier,
  NotifierUnavailableError,
  type SendReason,
} from '../../ports/notifier.ts';
import { ConditionFailedError, type Store } from '../../ports/store.ts';
import {
  AlertRecords,
  type AlertStateRecord,
  type OutboxEntry,
  type OutboxPayload,
  RESOLVED_TTL_S,
  type Versioned,
} from '../repos/alerts.ts';
import type {
  Alerting,
  AlertSettings,
  AlertSource,
  AlertState,
  AlertView,
  DeliverResult,
  ReconcileInput,
  ReconcileResult,
} from './types.ts';

/**
 * Alertmanager's model over the Notifier port, with an outbox in the Store (issue 12).
 *
 * Keys. An alert's `groupKey` is `<source>:<scope-path>` (drift: `drift:<cluster>/<namespace>`, or
 * `drift:<cluster>` for cluster-scoped objects). A run's `scope` covers a group when the group key is
 * `<source>:<scope>` or starts with `<source>:<scope>/`: scope `prod` covers `drift:prod` and
 * `drift:prod/payments`, not `drift:production/x`; scope `prod/payments` covers `drift:prod/payments`
 * only (and deeper paths). A run resolves exactly the firing alerts of its source in the groups its
 * scope covers whose fingerprints it did not report; a firing alert outside the scope is refused.
 *
 * Rules. A fingerprint seen for the first time (or again after its resolve was delivered) is queued
 * as a new message, due a group wait after its group's first entry (a group with a live thread sends
 * at once); unchanged content is not queued again until the repeat interval has passed since its last
 * delivery; changed content is queued as an update of the same message; a cleared alert is queued as
 * a resolve. A failed-for-good alert is queued again when its content changes or a repeat interval
 * after the failure.
 *
 * Outbox. One entry per fingerprint, written before anything is sent. A deliverer claims an entry by
 * a conditional write (a lease with an expiry), so concurrent deliverers never both send it. After a
 * send it records the receipt in the alert's state, then deletes the entry. Every attempt after the
 * first (a lease that expired because a deliverer stopped, a timeout after which Slack may have posted)
 * first asks the notifier to `find` the message tagged with the entry's id and adopts it, so a retry
 * does not post a second copy; a notifier that cannot search (an incoming webhook) may post twice
 * after a crash between its post and the record (SlackWebhookNotifier says so). A change queued while
 * an entry has been claimed waits in its `followUp`, so the claimed delivery keeps its id until it
 * is settled. A passing failure keeps the entry with attempts + 1 and a later due time (the larger of
 * Retry-After and a jittered exponential backoff, capped); any other failure marks the alert failed
 * with its error. Nothing else removes an entry.
 */

export const ALERTING_LIMITS = {
  /** Firing alerts one reconcile takes (a check over 10,000 objects with all of them drifted is one message each). */
  firingPerRun: 10_000,
  /** States one run reads to resolve its scope. */
  scopeStates: 20_000,
  /** Entries one deliver pass sends at most, and how many queued entries it reads. */
  entriesPerPass: 200,
  queueRead: 2_000,
  defaultBudgetMs: 20_000,
  maxBudgetMs: 10 * 60_000,
  /** A claim lasts this long: longer than any send (two Slack calls and a search, each cut at 10 s). */
  leaseMs: 3 * 60_000,
  errorChars: 500,
  listLimit: 200,
  /** States alerts_list reads per source to order them newest first. */
  listRead: 5_000,
  keyChars: 256,
} as const;

const FINGERPRINT = /^[A-Za-z0-9._:@=+-]{1,128}$/;
const RESTORE_BYTES = 8 * 1024;
const CONFLICT_TRIES = 8;

export class AlertInputError extends Error {
  override name = 'AlertInputError';
}

export class AlertingNotConfiguredError extends Error {
  override name = 'AlertingNotConfiguredError';
  constructor() {
    super('No alert channel is configured: set SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL');
  }
}

/** Two reconcile passes' counts together (a check reconciles once per cluster or budget scope). */
export function sumReconcile(a: ReconcileResult, b: ReconcileResult): ReconcileResult {
  return {
    opened: a.opened + b.opened,
    updated: a.updated + b.updated,
    repeated: a.repeated + b.repeated,
    resolved: a.resolved + b.resolved,
    unchanged: a.unchanged + b.unchanged,
  };
}

/** Whether a run over `scope` of `source` covers the group `groupKey` (see the module comment). */
export function scopeCovers(source: AlertSource, scope: string, groupKey: string): boolean {
  const base = `${source}:${scope}`;
  return groupKey === base || groupKey.startsWith(`${base}/`);
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (isoTime: string | undefined) => (isoTime ? Date.parse(isoTime) : Number.NaN);
const mask = (s: string, max: number) => capText(maskSecretsInText(s), max);

/** The alert bounded to ALERT_LIMITS and masked, as it is stored and sent. */
export function boundAlert(a: Alert): Alert {
  const restore = a.restore
    ? {
        tool: mask(a.restore.tool, 100),
        arguments: capStrings(redactValue(a.restore.arguments), {
          maxBytes: 1000,
          maxItems: 50,
          maxDepth: 8,
        }) as Record<string, unknown>,
      }
    : undefined;
  const fields = a.fields.slice(0, ALERT_LIMITS.fields).map((f) => ({
    label: mask(f.label, ALERT_LIMITS.labelChars),
    value: mask(f.value, ALERT_LIMITS.valueChars),
  }));
  if (a.fields.length > ALERT_LIMITS.fields) {
    fields.push({ label: 'more', value: `…[${a.fields.length - ALERT_LIMITS.fields} more fields omitted]` });
  }
  return {
    fingerprint: a.fingerprint,
    groupKey: a.groupKey,
    status: a.status,
    severity: a.severity,
    summary: mask(a.summary, ALERT_LIMITS.summaryChars),
    fields,
    startsAt: a.startsAt,
    ...(a.endsAt ? { endsAt: a.endsAt } : {}),
    ...(a.url ? { url: mask(a.url, 1000) } : {}),
    ...(restore && jsonBytes(restore) <= RESTORE_BYTES ? { restore } : {}),
  };
}

/** What counts as a change of a firing alert: not its times, not its status. */
export function contentHashOf(a: Alert): string {
  const { severity, summary, fields, url, restore } = a;
  return createHash('sha256').update(canonicalJson({ severity, summary, fields, url, restore })).digest('hex');
}

/**
 * The reason an entry is sent with, when `next` is queued over a pending `prev` of the same
 * fingerprint; `sent`: the fingerprint has a message in the channel. `null`: nothing to send (a
 * resolve of an alert that was never shown).
 */
export function mergeReason(prev: SendReason | undefined, next: SendReason, sent: boolean): SendReason | null {
  if (next === 'resolve') return sent ? 'resolve' : null;
  if (!sent) return 'new';
  if (next === 'new' || prev === 'update' || prev === 'resolve') return 'update';
  return next;
}

function validate(input: ReconcileInput): Alert[] {
  if (input.source !== 'drift' && input.source !== 'cost')
    throw new AlertInputError(`unknown alert source ${String(input.source).slice(0, 40)}`);
  if (!input.scope || input.scope.length > ALERTING_LIMITS.keyChars || /[|\s]/.test(input.scope)) {
    throw new AlertInputError(`scope must be 1-${ALERTING_LIMITS.keyChars} characters without spaces or |`);
  }
  if (input.firing.length > ALERTING_LIMITS.firingPerRun) {
    throw new AlertInputError(
      `${input.firing.length} firing alerts in one run; at most ${ALERTING_LIMITS.firingPerRun}`,
    );
  }
  const byFingerprint = new Map<string, Alert>();
  for (const a of input.firing) {
    if (!FINGERPRINT.test(a.fingerprint)) throw new AlertInputError(`fingerprint must match ${FINGERPRINT.source}`);
    if (a.groupKey.length > ALERTING_LIMITS.keyChars || /[|\s]/.test(a.groupKey)) {
      throw new AlertInputError(`groupKey must be at most ${ALERTING_LIMITS.keyChars} characters without spaces or |`);
    }
    if (!scopeCovers(input.source, input.scope, a.groupKey)) {
      throw new AlertInputError(
        `alert ${a.fingerprint} is in group ${a.groupKey.slice(0, 80)}, outside the run's scope ${input.source}:${input.scope}`,
      );
    }
    if (a.status !== 'firing')
      throw new AlertInputError(`alert ${a.fingerprint} is reported firing with status ${a.status}`);
    if (!byFingerprint.has(a.fingerprint)) byFingerprint.set(a.fingerprint, a);
  }
  return [...byFingerprint.values()];
}

export interface AlertingDeps {
  store: Store;
  /** Absent when no channel is configured: alerts are recorded and queued, and sent once one is. */
  notifier?: Notifier;
  clock: Clock;
  log: Logger;
  settings: AlertSettings;
  /** Jitter source in [0, 1); tests fix it. */
  random?: () => number;
}

type Claimed = Versioned<OutboxEntry> & { retry: boolean };

export class AlertingService implements Alerting {
  private readonly records: AlertRecords;
  private readonly notifier: Notifier | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settings: AlertSettings;
  private readonly random: () => number;
  /** This deliverer's lease owner id. */
  private readonly owner = randomUUID();

  constructor(deps: AlertingDeps) {
    this.records = new AlertRecords(deps.store);
    this.notifier = deps.notifier;
    this.clock = deps.clock;
    this.log = deps.log;
    this.settings = deps.settings;
    this.random = deps.random ?? Math.random;
  }

  get channel(): string | undefined {
    return this.notifier?.kind;
  }

  // -------------------------------------------------------------------------------------------
  // reconcile
  // -------------------------------------------------------------------------------------------

  async reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    const firing = validate(input);
    const result: ReconcileResult = { opened: 0, updated: 0, repeated: 0, resolved: 0, unchanged: 0 };
    const groupDue = new Map<string, string>();
    const seen = new Set<string>();
    for (const raw of firing) {
      seen.add(raw.fingerprint);
      const outcome = await this.reconcileFiring(input.source, boundAlert(raw), groupDue);
      result[outcome]++;
    }
    for (const prefix of [`${input.source}:${input.scope}|`, `${input.source}:${input.scope}/`]) {
      const { items, truncated } = await this.records.statesWithPrefix(
        input.source,
        prefix,
        ALERTING_LIMITS.scopeStates,
      );
      if (truncated) {
        this.log.warn(
          { source: input.source, scope: input.scope },
          'alert scope holds more states than one run resolves; the rest resolve next run',
        );
      }
      for (const st of items) {
        if (st.value.status !== 'firing' || seen.has(st.value.fingerprint)) continue;
        await this.resolve(st.value);
        result.resolved++;
      }
    }
    await this.touchGroups(firing);
    return result;
  }

  private async reconcileFiring(
    source: AlertSource,
    alert: Alert,
    groupDue: Map<string, string>,
  ): Promise<'opened' | 'updated' | 'repeated' | 'unchanged'> {
    const now = this.clock.now();
    const hash = contentHashOf(alert);
    const st = await this.records.getState(source, alert.groupKey, alert.fingerprint);
    const pending = await this.records.getEntry(alert.groupKey, alert.fingerprint);
    const s = st?.value;
    // A resolve still queued means the channel still shows the alert firing: it is the same message.
    const reopened =
      s?.status === 'resolved' && !(pending && (pending.value.reason === 'resolve' || pending.value.followUp));
    if (!s || reopened) {
      const due = await this.dueFor(alert.groupKey, groupDue);
      await this.enqueue(source, { id: randomUUID(), reason: 'new', alert, contentHash: hash }, due, false);
      await this.updateState(source, alert, (cur) => ({
        fingerprint: alert.fingerprint,
        source,
        groupKey: alert.groupKey,
        status: 'firing',
        alert,
        contentHash: hash,
        state: 'queued',
        attempts: 0,
        startsAt: alert.startsAt,
        updatedAt: iso(now),
        ...(cur?.status === 'firing' && cur.receipt ? { receipt: cur.receipt } : {}),
      }));
      return 'opened';
    }
    const shown = { ...alert, startsAt: s.startsAt };
    const changed = hash !== s.contentHash || s.status === 'resolved';
    const lastOut = Math.max(ms(s.lastSentAt) || 0, ms(s.failedAt) || 0);
    const repeatDue = s.state !== 'queued' && !(now - lastOut < this.settings.repeatIntervalMs);
    if (!changed && !repeatDue) return 'unchanged';
    const reason: SendReason = changed ? 'update' : 'repeat';
    await this.enqueue(
      source,
      { id: randomUUID(), reason, alert: shown, contentHash: hash },
      iso(now),
      s.receipt !== undefined,
    );
    await this.updateState(source, shown, (cur) =>
      cur
        ? (() => {
            const { endsAt: _e, ...rest } = cur;
            return { ...rest, status: 'firing', alert: shown, contentHash: hash, state: 'queued', updatedAt: iso(now) };
          })()
        : undefined,
    );
    return changed ? 'updated' : 'repeated';
  }

  private async resolve(s: AlertStateRecord): Promise<void> {
    const now = this.clock.now();
    const alert: Alert = { ...s.alert, status: 'resolved', endsAt: iso(now) };
    const payload: OutboxPayload = { id: randomUUID(), reason: 'resolve', alert, contentHash: s.contentHash };
    const queued = await this.enqueue(s.source, payload, iso(now), s.receipt !== undefined);
    // Nothing queued: the alert was never shown, so nothing is left to send ('sent' without a receipt).
    await this.updateState(
      s.source,
      alert,
      (cur) => {
        if (!cur) return undefined;
        const { nextAttemptAt: _n, ...rest } = cur;
        const state = queued ? 'queued' : cur.state === 'failed' ? 'failed' : 'sent';
        return { ...rest, status: 'resolved', alert, endsAt: alert.endsAt as string, state, updatedAt: iso(now) };
      },
      // A resolved alert stays listed for a week, then expires (a queued resolve re-writes it when sent).
      Math.floor(now / 1000) + RESOLVED_TTL_S,
    );
  }

  /** When a new alert of `groupKey` is due: at once in a group with a live thread, else after the group wait. */
  private async dueFor(groupKey: string, cache: Map<string, string>): Promise<string> {
    const cached = cache.get(groupKey);
    if (cached) return cached;
    const now = this.clock.now();
    const exp = Math.floor((now + this.settings.repeatIntervalMs) / 1000);
    let due: number;
    const g = await this.records.getGroup(groupKey);
    if (g?.value.threadId) due = now;
    else if (g) due = Math.max(now, ms(g.value.firstQueuedAt) + this.settings.groupWaitMs);
    else {
      try {
        await this.records.putGroup({ groupKey, firstQueuedAt: iso(now) }, exp, { ifAbsent: true });
        due = now + this.settings.groupWaitMs;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        const again = await this.records.getGroup(groupKey);
        due = again?.value.threadId
          ? now
          : Math.max(now, ms(again?.value.firstQueuedAt) + this.settings.groupWaitMs || now);
      }
    }
    cache.set(groupKey, iso(due));
    return iso(due);
  }

  /** Keeps the groups that still fire alive for another repeat interval (their thread stays in use). */
  private async touchGroups(firing: Alert[]): Promise<void> {
    const now = this.clock.now();
    const exp = Math.floor((now + this.settings.repeatIntervalMs) / 1000);
    for (const key of new Set(firing.map((a) => a.groupKey))) {
      const g = await this.records.getGroup(key);
      if (!g) continue;
      try {
        await this.records.putGroup(g.value, exp, { ifVersion: g.version });
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
  }

  /**
   * Queues `payload` for its fingerprint: a new entry, a replacement of a pending one that was never
   * claimed, or the follow-up of one that was (its id must stay until it is settled).
   */
  private async enqueue(source: AlertSource, payload: OutboxPayload, dueAt: string, sent: boolean): Promise<boolean> {
    const { groupKey, fingerprint } = payload.alert;
    for (let i = 0; i < CONFLICT_TRIES; i++) {
      const cur = await this.records.getEntry(groupKey, fingerprint);
      try {
        if (!cur) {
          const reason = mergeReason(undefined, payload.reason, sent);
          if (!reason) return false;
          await this.records.putEntry(
            { ...payload, reason, fingerprint, source, groupKey, createdAt: iso(this.clock.now()), dueAt, attempts: 0 },
            { ifAbsent: true },
          );
          return true;
        }
        const e = cur.value;
        if (e.firstClaimedAt) {
          const base = e.followUp?.reason ?? e.reason;
          // The claimed delivery settles first; what comes after it assumes it was shown.
          const reason = mergeReason(base, payload.reason, true) ?? payload.reason;
          await this.records.putEntry({ ...e, followUp: { ...payload, reason } }, { ifVersion: cur.version });
          return true;
        }
        const reason = mergeReason(e.reason, payload.reason, sent);
        if (!reason) {
          if (await this.records.deleteEntry(e, cur.version)) return false;
          continue;
        }
        const earlier = ms(e.dueAt) <= ms(dueAt) ? e.dueAt : dueAt;
        await this.records.putEntry(
          { ...e, ...payload, id: e.id, reason, dueAt: earlier, attempts: e.attempts },
          { ifVersion: cur.version },
        );
        return true;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new Error(`alert outbox entry ${fingerprint} kept changing under ${CONFLICT_TRIES} attempts to queue it`);
  }

  /** Read-modify-write of one state record under its version; `fn` answering undefined leaves it. */
  private async updateState(
    source: AlertSource,
    alert: Pick<Alert, 'groupKey' | 'fingerprint'>,
    fn: (cur: AlertStateRecord | undefined) => AlertStateRecord | undefined,
    expiresAt?: number,
  ): Promise<void> {
    for (let i = 0; i < CONFLICT_TRIES; i++) {
      const cur = await this.records.getState(source, alert.groupKey, alert.fingerprint);
      const next = fn(cur?.value);
      if (!next) return;
      const ttl =
        next.status === 'resolved' ? (expiresAt ?? Math.floor(this.clock.now() / 1000) + RESOLVED_TTL_S) : undefined;
      try {
        await this.records.putState(next, cur ? { ifVersion: cur.version } : { ifAbsent: true }, ttl);
        return;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new Error(`alert state ${alert.fingerprint} kept changing under ${CONFLICT_TRIES} attempts to write it`);
  }

  // -------------------------------------------------------------------------------------------
  // deliver
  // -------------------------------------------------------------------------------------------

  async deliver(opts?: { budgetMs?: number }): Promise<DeliverResult> {
    const start = this.clock.now();
    const budget = Math.min(
      Math.max(0, opts?.budgetMs ?? ALERTING_LIMITS.defaultBudgetMs),
      ALERTING_LIMITS.maxBudgetMs,
    );
    const deadline = start + budget;
    const result: DeliverResult = { sent: 0, deferred: 0, failed: 0, pending: 0 };
    if (this.notifier) {
      const { items } = await this.records.queue(ALERTING_LIMITS.queueRead);
      const due = items
        .filter((e) => ms(e.value.dueAt) <= start && !(e.value.lease && ms(e.value.lease.until) > start))
        .sort((a, b) => ms(a.value.dueAt) - ms(b.value.dueAt));
      // Entries of one group go together, the group of the oldest due entry first.
      const groups = new Map<string, Versioned<OutboxEntry>[]>();
      for (const e of due) groups.set(e.value.groupKey, [...(groups.get(e.value.groupKey) ?? []), e]);
      // Within a group, an entry tried before goes first: its message may already be the group's thread.
      for (const entries of groups.values())
        entries.sort((a, b) => Number(!a.value.firstClaimedAt) - Number(!b.value.firstClaimedAt));
      let attempted = 0;
      outer: for (const entries of groups.values()) {
        for (const e of entries) {
          if (attempted >= ALERTING_LIMITS.entriesPerPass || this.clock.now() >= deadline) break outer;
          attempted++;
          const outcome = await this.deliverOne(e, this.notifier);
          if (outcome === 'skipped') continue;
          result[outcome]++;
          // The group's first message failed: the rest of it would start threads of their own.
          if (outcome === 'deferred' && e.value.reason === 'new') {
            const g = await this.records.getGroup(e.value.groupKey);
            if (!g?.value.threadId) continue outer;
          }
        }
      }
    }
    const after = await this.records.queue(ALERTING_LIMITS.queueRead);
    result.pending = after.items.length;
    const next = after.items.map((e) => e.value.dueAt).sort()[0];
    if (next) result.nextAttemptAt = next;
    return result;
  }

  private async claim(v: Versioned<OutboxEntry>): Promise<Claimed | undefined> {
    const now = this.clock.now();
    const e = v.value;
    if (ms(e.dueAt) > now || (e.lease && ms(e.lease.until) > now)) return undefined;
    const claimed: OutboxEntry = {
      ...e,
      lease: { owner: this.owner, until: iso(now + ALERTING_LIMITS.leaseMs) },
      firstClaimedAt: e.firstClaimedAt ?? iso(now),
    };
    try {
      const version = await this.records.putEntry(claimed, { ifVersion: v.version });
      return { value: claimed, version, retry: e.firstClaimedAt !== undefined };
    } catch (err) {
      if (err instanceof ConditionFailedError) return undefined;
      throw err;
    }
  }

  private async deliverOne(
    v: Versioned<OutboxEntry>,
    notifier: Notifier,
  ): Promise<'sent' | 'deferred' | 'failed' | 'skipped'> {
    const claimed = await this.claim(v);
    if (!claimed) return 'skipped';
    const e = claimed.value;
    const state = await this.records.getState(e.source, e.groupKey, e.fingerprint);
    const previous = e.reason === 'new' ? undefined : state?.value.receipt;
    const group = e.reason === 'new' ? await this.records.getGroup(e.groupKey) : undefined;
    const threadId = group?.value.threadId;
    let receipt: DeliveryReceipt | undefined;
    try {
      if (claimed.retry && notifier.find) {
        receipt = await notifier.find(e.alert, e.id, {
          ...(previous ? { previous } : {}),
          ...(threadId ? { threadId } : {}),
          sinceMs: ms(e.firstClaimedAt),
        });
        if (receipt)
          this.log.info(
            { fingerprint: e.fingerprint, deliveryId: e.id },
            'alert: adopted the message an interrupted delivery posted',
          );
      }
      receipt ??= await notifier.send(e.alert, previous, {
        deliveryId: e.id,
        reason: e.reason,
        ...(threadId ? { threadId } : {}),
      });
    } catch (err) {
      const message = capText(
        maskSecretsInText(err instanceof Error ? err.message : errorText(err)),
        ALERTING_LIMITS.errorChars,
      );
      if (err instanceof NotifierUnavailableError) {
        await this.defer(claimed, message, err.retryAfterMs);
        return 'deferred';
      }
      this.log.error(
        { fingerprint: e.fingerprint, reason: e.reason, error: message },
        'alert: the channel refused it; not retried',
      );
      await this.updateState(e.source, e.alert, (cur) =>
        cur
          ? {
              ...cur,
              state: 'failed',
              lastError: message,
              failedAt: iso(this.clock.now()),
              attempts: e.attempts + 1,
              updatedAt: iso(this.clock.now()),
            }
          : undefined,
      );
      await this.settle(claimed, false);
      return 'failed';
    }
    const now = iso(this.clock.now());
    await this.updateState(e.source, e.alert, (cur) => {
      if (!cur) return undefined;
      const { lastError: _l, nextAttemptAt: _n, failedAt: _f, ...rest } = cur;
      return { ...rest, receipt, lastSentAt: now, state: 'sent', attempts: 0, updatedAt: now };
    });
    if (e.reason === 'new' && receipt.threadId && !threadId) await this.recordThread(e.groupKey, receipt.threadId);
    this.log.info({ fingerprint: e.fingerprint, reason: e.reason, channel: receipt.channel }, 'alert: delivered');
    await this.settle(claimed, true);
    return 'sent';
  }

  private async recordThread(groupKey: string, threadId: string): Promise<void> {
    const exp = Math.floor((this.clock.now() + this.settings.repeatIntervalMs) / 1000);
    const g = await this.records.getGroup(groupKey);
    try {
      if (!g)
        await this.records.putGroup({ groupKey, firstQueuedAt: iso(this.clock.now()), threadId }, exp, {
          ifAbsent: true,
        });
      else if (!g.value.threadId) await this.records.putGroup({ ...g.value, threadId }, exp, { ifVersion: g.version });
    } catch (err) {
      // Another deliverer started the group's thread first: this message stays on its own.
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }

  /** The next attempt's delay: the larger of Retry-After and a jittered exponential backoff, capped. */
  backoffMs(attempts: number, retryAfterMs: number | undefined): number {
    const { initialBackoffMs, maxBackoffMs } = this.settings;
    const exp = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
    const jittered = exp / 2 + (exp / 2) * this.random();
    return Math.max(retryAfterMs ?? 0, Math.round(jittered));
  }

  /** A passing failure: the entry stays, attempts + 1, due after the backoff; the lease is given back. */
  private async defer(claimed: Claimed, message: string, retryAfterMs: number | undefined): Promise<void> {
    let cur: Versioned<OutboxEntry> | undefined = claimed;
    const attempts = claimed.value.attempts + 1;
    const nextAt = iso(this.clock.now() + this.backoffMs(attempts, retryAfterMs));
    for (let i = 0; i < CONFLICT_TRIES && cur && cur.value.lease?.owner === this.owner; i++) {
      const { lease: _lease, ...rest } = cur.value;
      try {
        await this.records.putEntry(
          { ...rest, attempts, lastError: message, dueAt: nextAt },
          { ifVersion: cur.version },
        );
        break;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        cur = await this.records.getEntry(claimed.value.groupKey, claimed.value.fingerprint);
      }
    }
    this.log.warn(
      { fingerprint: claimed.value.fingerprint, attempts, nextAttemptAt: nextAt, error: message },
      'alert: delivery deferred',
    );
    await this.updateState(claimed.value.source, claimed.value.alert, (s) =>
      s ? { ...s, attempts, lastError: message, nextAttemptAt: nextAt, updatedAt: iso(this.clock.now()) } : undefined,
    );
  }

  /** The claimed delivery is over (`shown`: its message is in the channel): its follow-up takes its place, or the entry goes. */
  private async settle(claimed: Claimed, shown: boolean): Promise<void> {
    let cur: Versioned<OutboxEntry> | undefined = claimed;
    for (let i = 0; i < CONFLICT_TRIES && cur && cur.value.lease?.owner === this.owner; i++) {
      const e: OutboxEntry = cur.value;
      try {
        if (!e.followUp) {
          if (await this.records.deleteEntry(e, cur.version)) return;
        } else {
          const state = await this.records.getState(e.source, e.groupKey, e.fingerprint);
          const sent = shown || state?.value.receipt !== undefined;
          const reason = mergeReason(undefined, e.followUp.reason, sent);
          if (!reason) {
            if (await this.records.deleteEntry(e, cur.version)) return;
          } else {
            const { lease: _l, firstClaimedAt: _f, followUp, lastError: _e, ...rest } = e;
            await this.records.putEntry(
              { ...rest, ...followUp, reason, attempts: 0, dueAt: iso(this.clock.now()) },
              { ifVersion: cur.version },
            );
            await this.updateState(e.source, e.alert, (s) =>
              s ? { ...s, state: 'queued', updatedAt: iso(this.clock.now()) } : undefined,
            );
            return;
          }
        }
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
      cur = await this.records.getEntry(claimed.value.groupKey, claimed.value.fingerprint);
    }
  }

  // -------------------------------------------------------------------------------------------
  // list, test
  // -------------------------------------------------------------------------------------------

  async list(q: { state?: AlertState; source?: AlertSource; limit: number; after?: string }): Promise<{
    items: AlertView[];
    next?: string;
  }> {
    if (q.after !== undefined && (q.after.length === 0 || q.after.length > 1200)) {
      throw new AlertInputError('after must be a continue token from an earlier page');
    }
    const limit = Math.min(Math.max(1, Math.floor(q.limit)), ALERTING_LIMITS.listLimit);
    const sources: AlertSource[] = q.source ? [q.source] : ['drift', 'cost'];
    const rows: { key: string; view: AlertView }[] = [];
    for (const source of sources) {
      const { items } = await this.records.statesWithPrefix(source, '', ALERTING_LIMITS.listRead);
      for (const { value: s } of items) {
        if (q.state && s.state !== q.state) continue;
        // Newest first: the key sorts descending by update time, then by source and fingerprint.
        rows.push({ key: `${s.updatedAt}|${source}|${s.groupKey}|${s.fingerprint}`, view: toView(s) });
      }
    }
    rows.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    const from = q.after ? rows.findIndex((r) => r.key < (q.after as string)) : 0;
    const page = from < 0 ? [] : rows.slice(from, from + limit);
    const more = from >= 0 && rows.length > from + limit;
    return { items: page.map((r) => r.view), ...(more ? { next: (page.at(-1) as { key: string }).key } : {}) };
  }

  async sendTest(by: string): Promise<DeliveryReceipt> {
    if (!this.notifier) throw new AlertingNotConfiguredError();
    const now = this.clock.now();
    const alert: Alert = {
      fingerprint: `test-${now}`,
      groupKey: 'test:alerts_test',
      status: 'firing',
      severity: 'info',
      summary: 'Test message from cloudops-mcp: alerts reach this channel',
      fields: [{ label: 'Sent by', value: mask(by, 200) }],
      startsAt: iso(now),
    };
    return this.notifier.send(alert, undefined, { deliveryId: randomUUID(), reason: 'new' });
  }
}

function toView(s: AlertStateRecord): AlertView {
  return {
    fingerprint: s.fingerprint,
    source: s.source,
    groupKey: s.groupKey,
    status: s.status,
    severity: s.alert.severity,
    summary: s.alert.summary,
    state: s.state,
    attempts: s.attempts,
    ...(s.lastError ? { lastError: s.lastError } : {}),
    ...(s.nextAttemptAt && s.state === 'queued' ? { nextAttemptAt: s.nextAttemptAt } : {}),
    startsAt: s.startsAt,
    ...(s.endsAt ? { endsAt: s.endsAt } : {}),
    ...(s.lastSentAt ? { lastSentAt: s.lastSentAt } : {}),
    ...(s.receipt ? { receipt: s.receipt } : {}),
  };
}

export function createAlerting(deps: AlertingDeps): Alerting {
  return new AlertingService(deps);
}
