/**
 * The notification port: drift, cost and approval alerts leave the server through it (Slack first,
 * issue 12). It follows Alertmanager's model, so the alerting use case can keep its rules simple:
 * - an alert is identified by its `fingerprint` (the condition, not one occurrence): sending the
 *   same fingerprint again updates the same notification instead of posting a new one (dedup);
 * - alerts sharing a `groupKey` (one check run, one cluster) are shown together, in one thread;
 * - a condition that cleared is sent once more with `status: 'resolved'`;
 * - repeating a still-firing alert after its repeat interval is the caller's decision: it sends the
 *   alert again with the receipt of the earlier delivery.
 * The caller keeps the receipts (in the Store) with its dedup state; the notifier keeps nothing.
 */
export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface AlertField {
  label: string;
  value: string;
}

export interface Alert {
  /** Stable identity of the condition (e.g. a hash of check, cluster and object): the dedup key. */
  fingerprint: string;
  /** Alerts with the same key are delivered together (one message thread). */
  groupKey: string;
  status: 'firing' | 'resolved';
  severity: AlertSeverity;
  /** One line, what happened and where. */
  summary: string;
  /** Details in display order (object, field manager, amount, ...); secret values never go here. */
  fields: AlertField[];
  /** When the condition was first seen (ISO time). */
  startsAt: string;
  /** When it cleared (ISO time); set when `status` is `resolved`. */
  endsAt?: string;
  /** Where to read more or act (an operation, a dashboard). */
  url?: string;
  /**
   * The MCP tool call that would restore the expected state (drift: re-apply the baseline), shown
   * as code so an operator can paste it. Arguments must hold no secret value (they are masked anyway).
   */
  restore?: { tool: string; arguments: Record<string, unknown> };
}

/** Bounds every adapter enforces (cutting with a visible marker), so no alert can exceed a channel's limits. */
export const ALERT_LIMITS = { summaryChars: 300, fields: 20, labelChars: 100, valueChars: 1000 } as const;

/** Where a delivered alert landed, so a repeat or a resolve can update it or reply in its thread. */
export interface DeliveryReceipt {
  /** The adapter that delivered it (`slack`, ...). */
  channel: string;
  /** The message that shows this alert (Slack: channel id and ts). */
  messageId: string;
  /** The thread of the alert's group, when the channel has threads. */
  threadId?: string;
  /** When it was delivered (ISO time). */
  deliveredAt: string;
}

/** Why a fingerprint is sent (the caller decides; the adapter words and places the message by it). */
export type SendReason = 'new' | 'update' | 'repeat' | 'resolve';

export interface SendOptions {
  /**
   * The caller's id of this one delivery (its outbox entry). Adapters that can tag a message with
   * it do, so `find` can adopt a message an interrupted earlier attempt posted instead of posting twice.
   */
  deliveryId?: string;
  /** The thread of the alert's group (a receipt's threadId or messageId): a new alert replies in it. */
  threadId?: string;
  /** Defaults to `new` without `previous`, `resolve` for a resolved alert, else `update`. */
  reason?: SendReason;
}

export interface Notifier {
  readonly kind: string;
  /**
   * Delivers one alert. With `previous` (the receipt of this fingerprint's last delivery) the adapter
   * updates that message or replies in its thread instead of starting a new one. Throws
   * NotifierUnavailableError when delivery may succeed later; any other error will not.
   */
  send(alert: Alert, previous?: DeliveryReceipt, options?: SendOptions): Promise<DeliveryReceipt>;
  /**
   * Looks for the message that a delivery (`deliveryId`) of this alert left in the channel, when an
   * attempt may have posted it and then stopped before its receipt was recorded. Absent when the
   * channel cannot be searched (an incoming webhook): the caller then sends again.
   */
  find?(
    alert: Alert,
    deliveryId: string,
    where: { previous?: DeliveryReceipt; threadId?: string; sinceMs: number },
  ): Promise<DeliveryReceipt | undefined>;
}

/** Delivery failed for a passing reason (a 5xx, a 429, the network): keep the alert and retry. */
export class NotifierUnavailableError extends Error {
  override name = 'NotifierUnavailableError';
  /** How long the channel asked the caller to wait (a 429's Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}
