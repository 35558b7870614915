import type { Alert, DeliveryReceipt } from '../../ports/notifier.ts';

/*
 * The alerting use case's contract (issue 12), shared by the drift check, the cost check (issue 14),
 * the alert tools and the hosts. Alertmanager's model over the Notifier port, with an outbox in the
 * Store so no alert is lost and none is sent twice.
 */

/** Which check raised an alert: a check resolves only alerts of its own source and scope. */
export type AlertSource = 'drift' | 'cost';

export interface AlertSettings {
  /** How long the first alert of a new group waits for others of the same group before it is sent. */
  groupWaitMs: number;
  /** A still-firing alert is sent again after this long (default 4 h). */
  repeatIntervalMs: number;
  /** First retry delay after a passing failure; doubles per attempt up to maxBackoffMs (jittered). */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ReconcileInput {
  source: AlertSource;
  /**
   * What this run covered, e.g. `prod` (a whole cluster) or `prod/payments`: every alert of this
   * source whose scope is covered by it and whose fingerprint is not in `firing` resolves.
   */
  scope: string;
  /** The conditions firing now (each with its fingerprint and groupKey). */
  firing: Alert[];
}

export interface ReconcileResult {
  /** Fingerprints seen for the first time (queued as new messages). */
  opened: number;
  /** Firing alerts whose content changed (queued as updates of their message). */
  updated: number;
  /** Firing alerts past their repeat interval (queued as repeats). */
  repeated: number;
  /** Alerts that cleared (queued as resolve notices). */
  resolved: number;
  /** Firing alerts already delivered and not yet due again: nothing queued. */
  unchanged: number;
}

export interface DeliverResult {
  /** Outbox entries delivered in this pass. */
  sent: number;
  /** Entries that failed for a passing reason and stay queued with a later attempt time. */
  deferred: number;
  /** Entries that failed for good (the channel refused them); kept with their error. */
  failed: number;
  /** Entries still queued after this pass (deferred included). */
  pending: number;
  /** When the earliest queued entry is due, if any. */
  nextAttemptAt?: string;
}

/**
 * How an alert's latest delivery stands: `queued` (in the outbox, maybe deferred: see attempts,
 * lastError, nextAttemptAt), `sent` (delivered; also an alert that resolved before it was ever shown,
 * which has no receipt: nothing was or will be sent), `failed` (the channel refused it for good).
 */
export type AlertState = 'queued' | 'sent' | 'failed';

/** One alert as `alerts_list` shows it. */
export interface AlertView {
  fingerprint: string;
  source: AlertSource;
  groupKey: string;
  status: Alert['status'];
  severity: Alert['severity'];
  summary: string;
  state: AlertState;
  attempts: number;
  lastError?: string;
  nextAttemptAt?: string;
  startsAt: string;
  endsAt?: string;
  lastSentAt?: string;
  receipt?: DeliveryReceipt;
}

export interface Alerting {
  /** Whether a notifier is configured (SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN): without one alerts are recorded but not sent. */
  readonly channel: string | undefined;
  /** Records what is firing now for one source and scope, and queues in the outbox what must be sent. */
  reconcile(input: ReconcileInput): Promise<ReconcileResult>;
  /** Sends the queued entries that are due, within `budgetMs`; safe to run concurrently. */
  deliver(opts?: { budgetMs?: number }): Promise<DeliverResult>;
  /** Outbox and sent alerts, newest first, bounded. */
  list(q: { state?: AlertState; source?: AlertSource; limit: number; after?: string }): Promise<{
    items: AlertView[];
    next?: string;
  }>;
  /** Sends a test message now (not through the outbox), so an operator can check the channel. */
  sendTest(by: string): Promise<DeliveryReceipt>;
}
