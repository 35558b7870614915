import * as z from 'zod';
import type { Alert, DeliveryReceipt, SendReason } from '../../ports/notifier.ts';
import type { PutCondition, Store, StoreItem } from '../../ports/store.ts';
import type { AlertSource, AlertState } from '../alerts/types.ts';
import { decodeRecord } from './codec.ts';

/**
 * The alerting records in the Store (issue 12). Three kinds, each with its zod codec:
 * - state, one per fingerprint (`alert#<source>` / `<groupKey>|<fingerprint>`): firing or resolved,
 *   the content last queued, the last delivery's receipt, and how its latest delivery went. The sort
 *   key starts with the group key (`<source>:<cluster>[/<namespace>]`), so a check run resolves its
 *   scope with a prefix query.
 * - outbox entries (`alertqueue` / `<groupKey>|<fingerprint>`): at most one per fingerprint, written
 *   before anything is sent, claimed with a lease by a conditional write, deleted once delivered. A
 *   change that arrives while an entry is being sent waits in its `followUp`.
 * - groups (`alertgroup` / `<groupKey>`): when the group's wait began and the thread its alerts reply in;
 *   it expires a repeat interval after its last activity, so a group that went quiet starts afresh.
 */

export interface AlertStateRecord {
  fingerprint: string;
  source: AlertSource;
  groupKey: string;
  status: Alert['status'];
  /** The alert as last queued (bounded and masked). */
  alert: Alert;
  /** Hash of the content that counts as a change (summary, severity, fields, restore, url). */
  contentHash: string;
  state: AlertState;
  attempts: number;
  lastError?: string;
  nextAttemptAt?: string;
  startsAt: string;
  endsAt?: string;
  lastSentAt?: string;
  /** When a delivery last failed for good; the alert is queued again a repeat interval later. */
  failedAt?: string;
  receipt?: DeliveryReceipt;
  updatedAt: string;
}

export interface OutboxPayload {
  /** This delivery's id: tags the Slack message, so an interrupted delivery can be found and adopted. */
  id: string;
  reason: SendReason;
  alert: Alert;
  contentHash: string;
}

export interface OutboxEntry extends OutboxPayload {
  fingerprint: string;
  source: AlertSource;
  groupKey: string;
  createdAt: string;
  /** Not sent before this time (group wait, backoff). */
  dueAt: string;
  attempts: number;
  lastError?: string;
  /** Held by one deliverer until `until`; an expired lease means that deliverer stopped mid-way. */
  lease?: { owner: string; until: string };
  /** When the entry was first claimed: where a search for an interrupted delivery's message starts. */
  firstClaimedAt?: string;
  /** What reconcile queued while this entry was being sent: it replaces the payload once that send ends. */
  followUp?: OutboxPayload;
}

export interface AlertGroupRecord {
  groupKey: string;
  /** When the group's first entry was queued: its entries are due a group wait later. */
  firstQueuedAt: string;
  /** The thread its alerts reply in, once its first alert was delivered. */
  threadId?: string;
}

const FieldSchema = z.looseObject({ label: z.string(), value: z.string() });
const ReceiptSchema = z.looseObject({
  channel: z.string(),
  messageId: z.string(),
  threadId: z.string().optional(),
  deliveredAt: z.string(),
});
const AlertSchema = z.looseObject({
  fingerprint: z.string(),
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  severity: z.enum(['critical', 'warning', 'info']),
  summary: z.string(),
  fields: z.array(FieldSchema),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  url: z.string().optional(),
  restore: z.looseObject({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) }).optional(),
}) as z.ZodType<Alert>;
const Source = z.enum(['drift', 'cost']);
const Reason = z.enum(['new', 'update', 'repeat', 'resolve']);

export const AlertStateSchema: z.ZodType<AlertStateRecord> = z.looseObject({
  fingerprint: z.string(),
  source: Source,
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  alert: AlertSchema,
  contentHash: z.string(),
  state: z.enum(['queued', 'sent', 'failed']),
  attempts: z.number().int().min(0),
  lastError: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  lastSentAt: z.string().optional(),
  failedAt: z.string().optional(),
  receipt: ReceiptSchema.optional(),
  updatedAt: z.string(),
});

const PayloadSchema = z.looseObject({ id: z.string(), reason: Reason, alert: AlertSchema, contentHash: z.string() });

export const OutboxEntrySchema: z.ZodType<OutboxEntry> = z.looseObject({
  id: z.string(),
  reason: Reason,
  alert: AlertSchema,
  contentHash: z.string(),
  fingerprint: z.string(),
  source: Source,
  groupKey: z.string(),
  createdAt: z.string(),
  dueAt: z.string(),
  attempts: z.number().int().min(0),
  lastError: z.string().optional(),
  lease: z.looseObject({ owner: z.string(), until: z.string() }).optional(),
  firstClaimedAt: z.string().optional(),
  followUp: PayloadSchema.optional(),
});

export const AlertGroupSchema: z.ZodType<AlertGroupRecord> = z.looseObject({
  groupKey: z.string(),
  firstQueuedAt: z.string(),
  threadId: z.string().optional(),
});

export interface Versioned<T> {
  value: T;
  version: number;
}

const QUEUE_PK = 'alertqueue';
const GROUP_PK = 'alertgroup';
const statePk = (source: AlertSource) => `alert#${source}`;
/** Fingerprints and group keys never hold `|` (reconcile refuses them), so the key splits one way. */
export const alertSk = (groupKey: string, fingerprint: string) => `${groupKey}|${fingerprint}`;
/** Resolved alerts are kept this long for alerts_list, then expire. */
export const RESOLVED_TTL_S = 7 * 24 * 3600;
const PAGE = 500;

const plain = <T extends object>(v: T) => ({ ...v }) as Record<string, unknown>;

/** Typed access to the alerting records; the rules live in shared/app/alerts/alerting.ts. */
export class AlertRecords {
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  private decode<T>(schema: z.ZodType<T>, item: StoreItem): Versioned<T> {
    return { value: decodeRecord(schema, item.pk, item.sk, item.data), version: item.version };
  }

  async getState(
    source: AlertSource,
    groupKey: string,
    fingerprint: string,
  ): Promise<Versioned<AlertStateRecord> | undefined> {
    const item = await this.store.get(statePk(source), alertSk(groupKey, fingerprint));
    return item ? this.decode(AlertStateSchema, item) : undefined;
  }

  async putState(rec: AlertStateRecord, condition?: PutCondition, expiresAt?: number): Promise<number> {
    const item = await this.store.put(
      {
        pk: statePk(rec.source),
        sk: alertSk(rec.groupKey, rec.fingerprint),
        data: plain(rec),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
      condition,
    );
    return item.version;
  }

  /**
   * The states whose sort key starts with `prefix`, every page up to `max` records; `truncated` when
   * more were left. A corrupt record throws (CorruptRecordError): resolving around it would guess.
   */
  async statesWithPrefix(
    source: AlertSource,
    prefix: string,
    max: number,
  ): Promise<{ items: Versioned<AlertStateRecord>[]; truncated: boolean }> {
    const items: Versioned<AlertStateRecord>[] = [];
    let after: string | undefined;
    while (items.length < max) {
      const page = await this.store.query({
        pk: statePk(source),
        ...(prefix ? { prefix } : {}),
        limit: Math.min(PAGE, max - items.length),
        ...(after ? { after } : {}),
      });
      for (const i of page.items) items.push(this.decode(AlertStateSchema, i));
      if (!page.lastKey) return { items, truncated: false };
      after = page.lastKey;
    }
    return { items, truncated: true };
  }

  async getEntry(groupKey: string, fingerprint: string): Promise<Versioned<OutboxEntry> | undefined> {
    const item = await this.store.get(QUEUE_PK, alertSk(groupKey, fingerprint));
    return item ? this.decode(OutboxEntrySchema, item) : undefined;
  }

  /** Writes an entry under a condition (ifAbsent for a new one, ifVersion for every change): ConditionFailedError when another writer won. */
  async putEntry(entry: OutboxEntry, condition: PutCondition): Promise<number> {
    const item = await this.store.put(
      { pk: QUEUE_PK, sk: alertSk(entry.groupKey, entry.fingerprint), data: plain(entry) },
      condition,
    );
    return item.version;
  }

  /** Deletes the entry if it is still at `version`; false when it changed (a follow-up arrived) or is gone. */
  async deleteEntry(entry: OutboxEntry, version: number): Promise<boolean> {
    return this.store.delete(QUEUE_PK, alertSk(entry.groupKey, entry.fingerprint), { ifVersion: version });
  }

  /** Up to `max` queued entries in key order (entries of a group are adjacent); `truncated` when more exist. */
  async queue(max: number): Promise<{ items: Versioned<OutboxEntry>[]; truncated: boolean }> {
    const items: Versioned<OutboxEntry>[] = [];
    let after: string | undefined;
    while (items.length < max) {
      const page = await this.store.query({
        pk: QUEUE_PK,
        limit: Math.min(PAGE, max - items.length),
        ...(after ? { after } : {}),
      });
      for (const i of page.items) items.push(this.decode(OutboxEntrySchema, i));
      if (!page.lastKey) return { items, truncated: false };
      after = page.lastKey;
    }
    return { items, truncated: true };
  }

  async getGroup(groupKey: string): Promise<Versioned<AlertGroupRecord> | undefined> {
    const item = await this.store.get(GROUP_PK, groupKey);
    return item ? this.decode(AlertGroupSchema, item) : undefined;
  }

  async putGroup(rec: AlertGroupRecord, expiresAt: number, condition?: PutCondition): Promise<number> {
    const item = await this.store.put({ pk: GROUP_PK, sk: rec.groupKey, data: plain(rec), expiresAt }, condition);
    return item.version;
  }
}
