import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { ConditionFailedError } from '../ports/store.ts';
import type { Identity } from './identity.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Approval {
  operationId: string;
  /** What is being approved, in one line, for the approver. */
  summary: string;
  /** SHA-256 of the exact change: a different change needs a new approval. */
  changeHash: string;
  requester: { subject: string; name: string };
  reason: string;
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decision?: { by: { subject: string; name: string }; at: string; reason: string };
}

export class ApprovalError extends Error {
  override name = 'ApprovalError';
}

const key = (operationId: string) => ({ pk: `approval#${operationId}`, sk: 'approval' });

/**
 * Human approvals bound to the hash of the exact change, with an expiry. The approver must not be
 * the requester; decisions are compare-and-set so two approvers cannot both decide.
 */
export class Approvals {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  async request(
    input: Omit<Approval, 'status' | 'createdAt' | 'expiresAt'> & { ttlSeconds: number },
  ): Promise<Approval> {
    const now = this.clock.now();
    const { ttlSeconds, ...rest } = input;
    const approval: Approval = {
      ...rest,
      status: 'pending',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlSeconds * 1000).toISOString(),
    };
    // Kept a day past expiry so the decision (or its absence) can still be read.
    const keepUntil = Math.floor(now / 1000) + ttlSeconds + 86_400;
    await this.store.put(
      { ...key(input.operationId), data: { ...approval }, expiresAt: keepUntil },
      { ifAbsent: true },
    );
    await this.store.put({
      pk: 'approvals',
      sk: `${approval.createdAt}#${input.operationId}`,
      data: { operationId: input.operationId },
      expiresAt: keepUntil,
    });
    return approval;
  }

  /** The approval with its status as of now (a pending approval past its expiry reads as expired). */
  async get(operationId: string): Promise<Approval | undefined> {
    const item = await this.store.get(key(operationId).pk, 'approval');
    if (!item) return undefined;
    const a = item.data as unknown as Approval;
    if (a.status === 'pending' && Date.parse(a.expiresAt) <= this.clock.now()) return { ...a, status: 'expired' };
    return a;
  }

  async decide(input: {
    operationId: string;
    approver: Identity;
    decision: 'approve' | 'reject';
    reason: string;
    /** When given, must match: the approver saw this exact change. */
    changeHash?: string;
  }): Promise<Approval> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const item = await this.store.get(key(input.operationId).pk, 'approval');
      if (!item) throw new ApprovalError(`no approval is pending for ${input.operationId}`);
      const a = item.data as unknown as Approval;
      if (a.status !== 'pending')
        throw new ApprovalError(`the approval for ${input.operationId} is already ${a.status}`);
      if (Date.parse(a.expiresAt) <= this.clock.now())
        throw new ApprovalError(
          `the approval for ${input.operationId} expired at ${a.expiresAt}; start the operation again`,
        );
      if (input.approver.subject === a.requester.subject) {
        throw new ApprovalError('you requested this change: someone else must approve or reject it');
      }
      if (input.changeHash && input.changeHash !== a.changeHash) {
        throw new ApprovalError('the change was modified after approval was requested; review the new change');
      }
      const decided: Approval = {
        ...a,
        status: input.decision === 'approve' ? 'approved' : 'rejected',
        decision: {
          by: { subject: input.approver.subject, name: input.approver.name },
          at: new Date(this.clock.now()).toISOString(),
          reason: input.reason,
        },
      };
      try {
        await this.store.put(
          {
            ...key(input.operationId),
            data: { ...decided },
            ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
          },
          { ifVersion: item.version },
        );
        return decided;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new ApprovalError(`the approval for ${input.operationId} kept changing; try again`);
  }

  /** Newest first; `status` filters (pending includes only not-yet-expired ones). */
  async list(opts: {
    status?: ApprovalStatus;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Approval[]; cursor?: string }> {
    const items: Approval[] = [];
    let after = opts.cursor;
    let scanned = 0;
    while (items.length < opts.limit && scanned < 1000) {
      const page = await this.store.query({
        pk: 'approvals',
        descending: true,
        limit: 100,
        ...(after ? { after } : {}),
      });
      scanned += page.items.length;
      for (const i of page.items) {
        const a = await this.get(String(i.data.operationId));
        if (a && (!opts.status || a.status === opts.status)) items.push(a);
        if (items.length >= opts.limit) {
          return { items, cursor: i.sk };
        }
      }
      if (!page.lastKey) return { items };
      after = page.lastKey;
    }
    return { items, ...(after ? { cursor: after } : {}) };
  }
}
