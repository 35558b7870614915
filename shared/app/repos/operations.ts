import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { type Identity, type Role, RoleSchema } from '../../domain/identity.ts';
import { redactValue } from '../../domain/redact.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { ConditionFailedError } from '../../ports/store.ts';
import { Approvals } from './approvals.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/** MCP task statuses; an operation's status is its task's status. */
export type OperationStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL: readonly OperationStatus[] = ['completed', 'failed', 'cancelled'];

export interface OperationStep {
  name: string;
  status: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  startedAt?: string;
  endedAt?: string;
  detail?: string;
  /** Gate measurements and other numbers behind the step's verdict. */
  measurements?: Record<string, unknown>;
}

export interface Operation {
  id: string;
  kind: 'rollout';
  target: { cluster: string; namespace: string; kind: string; name: string };
  /**
   * Who started it. `roles` and `method` (recorded since K8S_IMPERSONATE reaches rollout steps) let
   * the steps act on the cluster as this caller when the server impersonates its callers.
   */
  requester: { subject: string; name: string; roles?: Role[]; method?: Identity['method'] };
  status: OperationStatus;
  statusMessage: string;
  /** The validated request that started it (tool input), never containing secrets. */
  input: Record<string, unknown>;
  /** SHA-256 of the exact change; approvals are bound to it. */
  changeHash: string;
  steps: OperationStep[];
  progress: {
    currentStep?: string;
    /** Index into plan.steps of the step being applied or gated. */
    stepIndex?: number;
    stepStartedAt?: string;
    /** Why the operation waits for a human: after a step (pause) or on an inconclusive gate. */
    pausedFor?: 'step' | 'gate';
    /** When the current pause began. */
    pausedAt?: string;
    weight?: number;
    gate?: Record<string, unknown>;
    nextActions: string[];
  };
  result?: Record<string, unknown>;
  /** Requests from tools to the running workflow (abort, promote), read by its polling steps. */
  requests: { abort?: { by: string; at: string; reason?: string }; promote?: { by: string; at: string; step: number } };
  approval?: { required: boolean; reason?: string };
  /**
   * Input the operation waits for from its requester's MCP client (a 2026-07-28 task `input_required`
   * with `inputRequests`, answered through tasks/update): the requests still open, by key, and the
   * answers received so far. Approvals are not this: they come from a human approver.
   */
  clientInput?: { requests: Record<string, Record<string, unknown>>; responses: Record<string, unknown> };
  /** What the workflow needs to roll back (previous template, replicas, Service selector). */
  snapshot?: Record<string, unknown>;
  /** The steps the workflow will take, fixed at start. */
  plan?: Record<string, unknown>;
  /** The lease this operation holds on its target, released when it ends (or, after an incomplete rollback, once restored). */
  lease?: string;
  /** A rollback that could not finish (the API server was unreachable longer than the step retries). */
  rollback?: RollbackState;
  execution?: { engine: string; id: string };
  /**
   * By when the workflow's waiting steps (approval, pauses, gates) end the operation themselves,
   * well before the execution timeout. Default: createdAt + ROLLOUT_LIMITS.deadlineSeconds.
   */
  deadline?: string;
  createdAt: string;
  updatedAt: string;
  /** How long the record (and its task) is kept after creation. */
  ttlSeconds: number;
  pollIntervalMs: number;
}

/**
 * Where an incomplete rollback stands. `incomplete`: the reconciler retries it with backoff until
 * the target matches its pre-rollout state; `completed`: it did; `superseded`: someone changed the
 * target since (another operation holds it, or its template no longer carries this change), so
 * restoring would undo their work and the reconciler stopped.
 */
export interface RollbackState {
  state: 'incomplete' | 'completed' | 'superseded';
  /** What still differs from the pre-rollout state, as last known. */
  left: string[];
  /** Reconciler attempts so far (the workflow's own rollback is not counted). */
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  endedAt?: string;
}

/*
 * The codecs of what this module stores. Objects are loose: a field this version does not know (a
 * newer writer's) is kept, so a read-modify-write here never drops it. The declared types pin each
 * schema to its interface.
 */
const Json = z.record(z.string(), z.unknown());

const OperationStepSchema = z.looseObject({
  name: z.string(),
  status: z.enum(['pending', 'running', 'done', 'failed', 'skipped']),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  detail: z.string().optional(),
  measurements: Json.optional(),
});

const RollbackStateSchema: z.ZodType<RollbackState> = z.looseObject({
  state: z.enum(['incomplete', 'completed', 'superseded']),
  left: z.array(z.string()),
  attempts: z.number(),
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  endedAt: z.string().optional(),
});

export const OperationSchema: z.ZodType<Operation> = z.looseObject({
  id: z.string(),
  kind: z.literal('rollout'),
  target: z.looseObject({ cluster: z.string(), namespace: z.string(), kind: z.string(), name: z.string() }),
  requester: z.looseObject({
    subject: z.string(),
    name: z.string(),
    roles: z.array(RoleSchema).max(8).optional(),
    method: z.enum(['oauth', 'apiKey', 'local', 'slack']).optional(),
  }),
  status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']),
  statusMessage: z.string(),
  input: Json,
  changeHash: z.string(),
  steps: z.array(OperationStepSchema),
  progress: z.looseObject({
    currentStep: z.string().optional(),
    stepIndex: z.number().optional(),
    stepStartedAt: z.string().optional(),
    pausedFor: z.enum(['step', 'gate']).optional(),
    pausedAt: z.string().optional(),
    weight: z.number().optional(),
    gate: Json.optional(),
    nextActions: z.array(z.string()),
  }),
  result: Json.optional(),
  requests: z.looseObject({
    abort: z.looseObject({ by: z.string(), at: z.string(), reason: z.string().optional() }).optional(),
    promote: z.looseObject({ by: z.string(), at: z.string(), step: z.number() }).optional(),
  }),
  approval: z.looseObject({ required: z.boolean(), reason: z.string().optional() }).optional(),
  clientInput: z.looseObject({ requests: z.record(z.string(), Json), responses: Json }).optional(),
  snapshot: Json.optional(),
  plan: Json.optional(),
  lease: z.string().optional(),
  rollback: RollbackStateSchema.optional(),
  execution: z.looseObject({ engine: z.string(), id: z.string() }).optional(),
  deadline: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  ttlSeconds: z.number(),
  pollIntervalMs: z.number(),
});

/** The listing entries (`ops`, `opsby#<subject>`): only the id is read back. */
const OperationIndexSchema = z.looseObject({ id: z.string() });
const LeaseSchema = z.looseObject({ holder: z.string() });

/** Every compare-and-set attempt lost to a concurrent writer; retrying later is safe. */
export class OperationContentionError extends Error {
  override name = 'OperationContentionError';
}

export class OperationNotFoundError extends Error {
  override name = 'OperationNotFoundError';
}

const opKey = (id: string) => ({ pk: `op#${id}`, sk: 'op' });

/**
 * An operation as it is written to the Store, through the one redaction: everything people and
 * tools read (input, messages, steps, progress, result, requests) is redacted at the write, so no
 * reader can show a secret. plan and snapshot are the templates the workflow applies and restores:
 * they stay exact (redacting them would roll out masked values) and no tool shows them.
 */
function storedRecord(op: Operation): Operation {
  const { plan, snapshot, ...shown } = op;
  return {
    ...(redactValue(shown) as Omit<Operation, 'plan' | 'snapshot'>),
    ...(plan ? { plan } : {}),
    ...(snapshot ? { snapshot } : {}),
  };
}

/**
 * Operations in the Store: created durably (conditional put) before any tool answers, updated by
 * compare-and-set so concurrent steps and tools never lose each other's writes, and indexed by
 * requester and globally for listing. Records expire after their TTL.
 */
export class Operations {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly approvals: Approvals;
  private readonly leases: Leases;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
    this.approvals = new Approvals(store, clock);
    this.leases = new Leases(store, clock);
  }

  newId(): string {
    return `op-${randomUUID()}`;
  }

  async create(op: Omit<Operation, 'createdAt' | 'updatedAt'>): Promise<Operation> {
    const now = new Date(this.clock.now()).toISOString();
    const full = storedRecord({ ...op, createdAt: now, updatedAt: now });
    const expiresAt = Math.floor(this.clock.now() / 1000) + op.ttlSeconds;
    await this.store.put({ ...opKey(op.id), data: { ...full }, expiresAt }, { ifAbsent: true });
    const index = { id: op.id, kind: op.kind, requester: op.requester.subject };
    await this.store.put({ pk: `opsby#${op.requester.subject}`, sk: `${now}#${op.id}`, data: index, expiresAt });
    await this.store.put({ pk: 'ops', sk: `${now}#${op.id}`, data: index, expiresAt });
    return full;
  }

  /** The operation, or undefined when there is none; CorruptRecordError when its record is unreadable. */
  async get(id: string): Promise<Operation | undefined> {
    const { pk, sk } = opKey(id);
    const item = await this.store.get(pk, sk);
    return item ? decodeRecord(OperationSchema, pk, sk, item.data) : undefined;
  }

  async require(id: string): Promise<Operation> {
    const op = await this.get(id);
    if (!op) throw new OperationNotFoundError(`no operation ${id} (it may have expired)`);
    return op;
  }

  /**
   * Read-modify-write with compare-and-set; `mutate` may run more than once under contention.
   *
   * This is the one way an operation's record changes, so it is also where an operation ends: a
   * write that moves it into a terminal status first closes its pending approval (see `end`), and
   * once written releases its target's lease. No path that ends an operation (a workflow step, a
   * cancel, recovery, a start that failed) can forget either. A mutate that tries to move an ended
   * operation back to a running status is ignored for the status: an ended task never resumes.
   */
  async update(id: string, mutate: (op: Operation) => undefined | 'skip'): Promise<Operation> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const item = await this.store.get(opKey(id).pk, 'op');
      if (!item) throw new OperationNotFoundError(`no operation ${id} (it may have expired)`);
      // A deep copy: the parse shares the values of free-form fields (plan, input), which mutate may change.
      const op = decodeRecord(OperationSchema, item.pk, item.sk, structuredClone(item.data));
      const before = op.status;
      if (mutate(op) === 'skip') return op;
      if (isTerminal(before)) op.status = before;
      op.updatedAt = new Date(this.clock.now()).toISOString();
      const ending = !isTerminal(before) && isTerminal(op.status);
      if (ending) await this.end(op);
      const stored = storedRecord(op);
      try {
        await this.store.put(
          { ...opKey(id), data: { ...stored }, ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}) },
          { ifVersion: item.version },
        );
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        continue;
      }
      // A target whose rollback is incomplete stays held: a new rollout would start from a half-restored
      // state. The reconciler releases it once the target is restored.
      if (ending && op.lease && op.rollback?.state !== 'incomplete') await this.leases.release(op.lease, op.id);
      return stored;
    }
    throw new OperationContentionError(`operation ${id} kept changing; update abandoned`);
  }

  /**
   * What ending an operation does before its terminal status is written: its approval, if still
   * pending, is closed with the reason ("operation op-x ended: cancelled"), so it leaves the pending
   * lists and every way of deciding it (MCP tool, Slack button) answers why there is nothing to
   * decide. Closing comes first: a crash between the two leaves a closed approval on a running
   * operation, which the workflow's approval check ends at its next poll, never an ended operation
   * with an approval someone could still approve. Closing is a compare-and-set against the
   * decision, so of an approve and an ending that race, exactly one takes the approval.
   */
  private async end(op: Operation): Promise<void> {
    if (!op.approval?.required) return;
    await this.approvals.close(op.id, { status: op.status, at: op.updatedAt });
  }

  /** Records that `id` has a rollback to finish, before its record says so (a crash leaves a harmless extra entry). */
  async trackRollback(id: string): Promise<void> {
    await this.store.put({ pk: 'rollbacks', sk: id, data: { id } });
  }

  async untrackRollback(id: string): Promise<void> {
    await this.store.delete('rollbacks', id);
  }

  /** Operations with a rollback left to finish, oldest id first, at most `limit`. */
  async trackedRollbacks(limit: number): Promise<string[]> {
    const page = await this.store.query({ pk: 'rollbacks', limit });
    return page.items.map((i) => i.sk);
  }

  /**
   * Newest first; `subject` limits to one requester. A corrupt record (or listing entry) is left out
   * and counted in `corrupt`, so one bad record does not hide every other operation; reading it by
   * id (get) still fails with its key.
   */
  async list(opts: {
    subject?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Operation[]; cursor?: string; corrupt?: number }> {
    const page = await this.store.query({
      pk: opts.subject ? `opsby#${opts.subject}` : 'ops',
      descending: true,
      limit: opts.limit,
      ...(opts.cursor ? { after: opts.cursor } : {}),
    });
    let corrupt = 0;
    const ops = await Promise.all(
      page.items.map(async (i) => {
        try {
          return await this.get(decodeRecord(OperationIndexSchema, i.pk, i.sk, i.data).id);
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          corrupt++;
          return undefined;
        }
      }),
    );
    return {
      items: ops.filter((o): o is Operation => o !== undefined),
      ...(page.lastKey ? { cursor: page.lastKey } : {}),
      ...(corrupt ? { corrupt } : {}),
    };
  }
}

/**
 * One running operation per target (cluster/namespace/kind/name): a lease taken with a
 * conditional write. An expired lease (a crashed host) counts as free.
 */
export class Leases {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  static key(t: { cluster: string; namespace: string; kind: string; name: string }): string {
    return `${t.cluster}/${t.namespace}/${t.kind}/${t.name}`;
  }

  /** Takes the lease for `holder`, or returns the current holder's id. */
  async acquire(
    target: string,
    holder: string,
    ttlSeconds: number,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    const expiresAt = Math.floor(this.clock.now() / 1000) + ttlSeconds;
    try {
      await this.store.put({ pk: `lease#${target}`, sk: 'lease', data: { holder }, expiresAt }, { ifAbsent: true });
      return { ok: true };
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      const current = await this.holderOf(target);
      if (current?.holder === holder) return { ok: true };
      return { ok: false, holder: current?.holder ?? 'unknown' };
    }
  }

  /** The lease's holder and version, or undefined when nobody holds it. */
  private async holderOf(target: string): Promise<{ holder: string; version: number } | undefined> {
    const item = await this.store.get(`lease#${target}`, 'lease');
    if (!item) return undefined;
    return { holder: decodeRecord(LeaseSchema, item.pk, item.sk, item.data).holder, version: item.version };
  }

  async renew(target: string, holder: string, ttlSeconds: number): Promise<boolean> {
    const current = await this.holderOf(target);
    if (current?.holder !== holder) return false;
    const expiresAt = Math.floor(this.clock.now() / 1000) + ttlSeconds;
    try {
      await this.store.put(
        { pk: `lease#${target}`, sk: 'lease', data: { holder }, expiresAt },
        { ifVersion: current.version },
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionFailedError) return false;
      throw err;
    }
  }

  /**
   * Deletes the lease if `holder` still holds it. The delete is conditional on the version read with
   * the holder, and versions only grow, also when an expired lease is taken again (Store contract),
   * so a late release never removes the next holder's lease.
   */
  async release(target: string, holder: string): Promise<void> {
    const current = await this.holderOf(target);
    if (current?.holder !== holder) return;
    await this.store.delete(`lease#${target}`, 'lease', { ifVersion: current.version }).catch((err) => {
      if (!(err instanceof ConditionFailedError)) throw err;
    });
  }
}

export function isTerminal(status: OperationStatus): boolean {
  return TERMINAL.includes(status);
}
