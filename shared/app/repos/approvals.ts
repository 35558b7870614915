import * as z from 'zod';
import type { Identity } from '../../domain/identity.ts';
import { quoted } from '../../domain/text.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { ConditionFailedError } from '../../ports/store.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/** `closed`: its operation ended (cancelled, failed, ...) before anyone decided; nothing is left to decide. */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'closed';

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
  /** Why and when a pending approval was closed without a decision. */
  closed?: { at: string; operationStatus: string; reason: string };
}

const Who = z.looseObject({ subject: z.string(), name: z.string() });

/** The codec of a stored approval; loose, so a field a newer version wrote survives a decide here. */
export const ApprovalSchema: z.ZodType<Approval> = z.looseObject({
  operationId: z.string(),
  summary: z.string(),
  changeHash: z.string(),
  requester: Who,
  reason: z.string(),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'closed']),
  createdAt: z.string(),
  expiresAt: z.string(),
  decision: z.looseObject({ by: Who, at: z.string(), reason: z.string() }).optional(),
  closed: z.looseObject({ at: z.string(), operationStatus: z.string(), reason: z.string() }).optional(),
});

/** The listing entries (`approvals`): only the operation id is read back. */
const ApprovalIndexSchema = z.looseObject({ operationId: z.string() });

/** How the operation behind an approval ended, for closing it. */
export interface OperationEnding {
  /** The operation's terminal status (cancelled, failed, completed). */
  status: string;
  /** When it ended (ISO time). */
  at: string;
}

export class ApprovalError extends Error {
  override name = 'ApprovalError';
}

/** What a decide on a closed approval says: which operation ended, how and when. */
export function closedApprovalMessage(a: Pick<Approval, 'operationId' | 'closed'>): string {
  const how = a.closed ? `was ${a.closed.operationStatus} at ${a.closed.at}` : 'ended';
  return `the approval for ${a.operationId} was closed because operation ${a.operationId} ${how}; nothing to decide`;
}

const HASH_SHOWN = 64;
const shortHash = (h: string) => `${h.slice(0, 12)}…`;

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
    const a = decodeRecord(ApprovalSchema, item.pk, item.sk, item.data);
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
    /** The hash of the operation's change as it is now; differing from the approval's means it was modified. */
    operationChangeHash?: string;
  }): Promise<Approval> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const item = await this.store.get(key(input.operationId).pk, 'approval');
      if (!item) throw new ApprovalError(`no approval is pending for ${quoted(input.operationId)}`);
      // A corrupt approval is never decided: the CorruptRecordError goes to the caller.
      const a = decodeRecord(ApprovalSchema, item.pk, item.sk, item.data);
      if (a.status === 'closed') throw new ApprovalError(closedApprovalMessage(a));
      if (a.status !== 'pending')
        throw new ApprovalError(`the approval for ${quoted(input.operationId)} is already ${a.status}`);
      if (Date.parse(a.expiresAt) <= this.clock.now())
        throw new ApprovalError(
          `the approval for ${input.operationId} expired at ${a.expiresAt}; start the operation again`,
        );
      if (input.approver.subject === a.requester.subject) {
        throw new ApprovalError('you requested this change: someone else must approve or reject it');
      }
      // The change behind the approval is the operation's: if that differs from what the approval
      // was requested for, the change itself was modified, whatever hash the approver sends.
      if (input.operationChangeHash !== undefined && input.operationChangeHash !== a.changeHash) {
        throw new ApprovalError(
          `the change was modified after approval was requested (approval for ${shortHash(a.changeHash)}, change now ${shortHash(input.operationChangeHash)}); review the new change`,
        );
      }
      // Otherwise a different hash is the approver's mistake (a stale or mistyped value), not a new change.
      if (input.changeHash !== undefined && input.changeHash !== a.changeHash) {
        throw new ApprovalError(
          `changeHash ${input.changeHash.slice(0, HASH_SHOWN)}${input.changeHash.length > HASH_SHOWN ? '…' : ''} does not match this approval's change (${shortHash(a.changeHash)}); fetch the approval again with ops_approvals_list`,
        );
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
    throw new ApprovalError(`the approval for ${quoted(input.operationId)} kept changing; try again`);
  }

  /**
   * Closes the approval if it is still pending, because its operation ended (or is ending without
   * any change). Compare-and-set against the decision: exactly one of a close and an approve wins,
   * so an operation never ends with its approval still open, and a decision that lost is told why.
   * Returns the closed approval, or undefined when there was nothing pending to close (none, or
   * already decided or closed, or corrupt: nobody can decide a corrupt approval, and refusing here
   * would leave its operation unable to end).
   */
  async close(operationId: string, ending: OperationEnding): Promise<Approval | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const item = await this.store.get(key(operationId).pk, 'approval');
      if (!item) return undefined;
      const parsed = ApprovalSchema.safeParse(item.data);
      if (!parsed.success) return undefined;
      const a = parsed.data;
      if (a.status !== 'pending') return undefined;
      const closed: Approval = {
        ...a,
        status: 'closed',
        closed: {
          at: ending.at,
          operationStatus: ending.status,
          reason: `operation ${operationId} ended: ${ending.status}`,
        },
      };
      try {
        await this.store.put(
          {
            ...key(operationId),
            data: { ...closed },
            ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
          },
          { ifVersion: item.version },
        );
        return closed;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new ApprovalError(`the approval for ${quoted(operationId)} kept changing; try again`);
  }

  /**
   * Uses up an approved approval for the change it approved, exactly once: a compare-and-set from
   * approved to closed (operationStatus `completed`, reason `used by <usedBy>`), so of two calls
   * holding the same approval only one goes on to act. Refused (ApprovalError, nothing written) when
   * it does not exist, is not approved, has expired, or approved another change.
   */
  async consume(operationId: string, expectedHash: string, usedBy: string): Promise<Approval> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const item = await this.store.get(key(operationId).pk, 'approval');
      if (!item) throw new ApprovalError(`no approval ${quoted(operationId)} (it may have expired)`);
      const a = decodeRecord(ApprovalSchema, item.pk, item.sk, item.data);
      if (a.status === 'closed')
        throw new ApprovalError(
          `the approval ${operationId} was already used or closed (${a.closed?.reason ?? 'closed'})`,
        );
      if (a.status !== 'approved') throw new ApprovalError(`the approval ${operationId} is ${a.status}, not approved`);
      const now = this.clock.now();
      if (Date.parse(a.expiresAt) <= now)
        throw new ApprovalError(`the approval ${operationId} expired at ${a.expiresAt}`);
      if (a.changeHash !== expectedHash)
        throw new ApprovalError(
          `the approval ${operationId} is for another change (${shortHash(a.changeHash)}, this one is ${shortHash(expectedHash)})`,
        );
      const used: Approval = {
        ...a,
        status: 'closed',
        closed: { at: new Date(now).toISOString(), operationStatus: 'completed', reason: `used by ${usedBy}` },
      };
      try {
        await this.store.put(
          {
            ...key(operationId),
            data: { ...used },
            ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
          },
          { ifVersion: item.version },
        );
        return used;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
      }
    }
    throw new ApprovalError(`the approval for ${quoted(operationId)} kept changing; try again`);
  }

  /**
   * Newest first; `status` filters (pending includes only not-yet-expired ones). A corrupt approval
   * (or listing entry) is left out and counted in `corrupt`: one bad record must not hide the
   * approvals people are waiting on.
   */
  async list(opts: {
    status?: ApprovalStatus;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Approval[]; cursor?: string; corrupt?: number }> {
    const items: Approval[] = [];
    let after = opts.cursor;
    let scanned = 0;
    let corrupt = 0;
    const withCorrupt = <T extends object>(page: T) => (corrupt ? { ...page, corrupt } : page);
    while (items.length < opts.limit && scanned < 1000) {
      const page = await this.store.query({
        pk: 'approvals',
        descending: true,
        limit: 100,
        ...(after ? { after } : {}),
      });
      scanned += page.items.length;
      for (const i of page.items) {
        let a: Approval | undefined;
        try {
          a = await this.get(decodeRecord(ApprovalIndexSchema, i.pk, i.sk, i.data).operationId);
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          corrupt++;
        }
        if (a && (!opts.status || a.status === opts.status)) items.push(a);
        if (items.length >= opts.limit) {
          return withCorrupt({ items, cursor: i.sk });
        }
      }
      if (!page.lastKey) return withCorrupt({ items });
      after = page.lastKey;
    }
    return withCorrupt({ items, ...(after ? { cursor: after } : {}) });
  }
}
