import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { decideApproval } from '../../shared/app/approvals.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { cancelOperation } from '../../shared/app/operation-access.ts';
import { type Approval, Approvals } from '../../shared/app/repos/approvals.ts';
import { Leases, type Operation, Operations } from '../../shared/app/repos/operations.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { ParseCache } from '../../shared/domain/input/index.ts';
import type { Store } from '../../shared/ports/store.ts';
import { opsApprovalsListTool } from '../../shared/tools/ops/approvals-list.tool.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';

/*
 * Operations and their approvals end together, whatever ends the operation, and an approve that
 * races the end leaves a consistent pair: these run many concurrent decide/end pairs against the
 * in-memory store and against DynamoDB's HTTP API (dynalite), then let the workflow take its next
 * step exactly as the state machine would, and check the pair.
 */

const HASH = 'ab'.repeat(32);
const bob: Identity = { subject: 'auth0|bob', name: 'bob', roles: ['operator'], method: 'oauth' };
const alice: Identity = { subject: 'auth0|alice', name: 'alice', roles: ['approver'], method: 'oauth' };

/** A small deterministic generator, so a failing interleaving can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Lets the other side of a race run first some of the time: 0-3 turns of the event loop. */
async function jitter(r: () => number): Promise<void> {
  const turns = Math.floor(r() * 4);
  for (let i = 0; i < turns; i++) await new Promise((res) => setImmediate(res));
}

function depsFor(store: Store): Deps {
  const clock = { now: () => Date.now() };
  const log = { error() {}, warn() {}, info() {}, debug() {}, child: () => log };
  return {
    store,
    clock,
    operations: new Operations(store, clock),
    approvals: new Approvals(store, clock),
    leases: new Leases(store, clock),
    log,
  } as unknown as Deps;
}

let serial = 0;

/** What delivery_rollouts_start leaves for an approval-gated rollout: the operation, its approval, its lease. */
async function waitingRollout(deps: Deps, name: string): Promise<Operation> {
  const id = `op-race-${name}-${++serial}`;
  const lease = `fake/prod/Deployment/${id}`;
  expect((await deps.leases.acquire(lease, id, 3600)).ok).toBe(true);
  const op = await deps.operations.create({
    id,
    kind: 'rollout',
    target: { cluster: 'fake', namespace: 'prod', kind: 'Deployment', name: id },
    requester: { subject: bob.subject, name: bob.name },
    status: 'input_required',
    statusMessage: 'waiting for approval: production namespace',
    input: { image: 'nginx:1.27.0' },
    changeHash: HASH,
    steps: [{ name: 'rolling update', status: 'pending' }],
    progress: { nextActions: [] },
    requests: {},
    approval: { required: true, reason: 'production namespace' },
    lease,
    ttlSeconds: 3600,
    pollIntervalMs: 1000,
  });
  await deps.approvals.request({
    operationId: id,
    summary: `rollout of ${id}`,
    changeHash: HASH,
    requester: { subject: bob.subject, name: bob.name },
    reason: 'release',
    ttlSeconds: 3600,
  });
  return op;
}

/** The workflow's next poll, routed as rollout.asl.json routes it (ApprovalDecision's Default is EndUnchanged). */
async function nextPoll(deps: Deps, id: string): Promise<string> {
  const { decision } = (await dispatchStep({ step: 'rollout.checkApproval', input: { operationId: id } }, deps)) as {
    decision: string;
  };
  if (decision !== 'approved' && decision !== 'pending') {
    await dispatchStep({ step: 'rollout.endUnchanged', input: { operationId: id } }, deps);
  }
  return decision;
}

type Ender = 'cancel' | 'tasks-cancel' | 'workflow-fail';

async function end(deps: Deps, how: Ender, id: string): Promise<void> {
  if (how === 'workflow-fail') {
    await dispatchStep(
      { step: 'rollout.fail', input: { operationId: id, state: { error: { Error: 'Lambda.Unknown', Cause: 'x' } } } },
      deps,
    );
  } else {
    await cancelOperation(deps, id, bob, how === 'cancel' ? 'cancelled' : `tasks/cancel by ${bob.name}`);
  }
}

async function race(deps: Deps, seed: number): Promise<void> {
  const r = rng(seed);
  const how: Ender = (['cancel', 'tasks-cancel', 'workflow-fail'] as const)[Math.floor(r() * 3)] as Ender;
  const decision = r() < 0.7 ? 'approve' : 'reject';
  const op = await waitingRollout(deps, how);
  // The order in which the two sides started and finished, to tell an overlap from a sequence.
  let tick = 0;
  let decideStarted = 0;
  let endFinished = 0;
  const [decided, ended] = await Promise.allSettled([
    (async () => {
      await jitter(r);
      decideStarted = ++tick;
      return decideApproval(deps, { operationId: op.id, approver: alice, decision, reason: 'reviewed' });
    })(),
    (async () => {
      await jitter(r);
      await end(deps, how, op.id);
      endFinished = ++tick;
    })(),
  ]);
  const where = `seed ${seed} (${decision} vs ${how})`;
  expect(ended.status, where).toBe('fulfilled');
  // The workflow polls once more; an ended or cancelled operation never goes on.
  const next = await nextPoll(deps, op.id);
  expect(['approved', 'pending'], where).not.toContain(next);

  const finalOp = await deps.operations.require(op.id);
  const finalApproval = (await deps.approvals.get(op.id)) as Approval;
  const want = how === 'workflow-fail' ? 'failed' : 'cancelled';
  expect(finalOp.status, where).toBe(want);
  // Never an ended operation with an approval anyone could still decide.
  expect(finalApproval.status, where).not.toBe('pending');
  expect(await deps.store.get(`lease#${op.lease}`, 'lease'), where).toBeUndefined();
  if (decided.status === 'fulfilled') {
    // The decision won the approval: it is recorded as made, and the end came after it, so the
    // decision cannot have started after the end was complete.
    expect(decideStarted, where).toBeLessThan(endFinished);
    expect(finalApproval.status, where).toBe(decision === 'approve' ? 'approved' : 'rejected');
    expect(decided.value.status, where).toBe(finalApproval.status);
    expect(finalApproval.decision?.by.name, where).toBe('alice');
  } else {
    // The end won: the approval is closed with how and when it ended, and the approver was told so.
    expect(finalApproval.status, where).toBe('closed');
    expect(finalApproval.closed, where).toMatchObject({
      operationStatus: want,
      reason: `operation ${op.id} ended: ${want}`,
    });
    expect(String((decided.reason as Error).message), where).toBe(
      `the approval for ${op.id} was closed because operation ${op.id} was ${want} at ${finalApproval.closed?.at}; nothing to decide`,
    );
  }
  if (want === 'cancelled') {
    // Cancelled before any change, whichever side won.
    expect(finalOp.statusMessage, where).toContain('before any change; nothing was changed');
    expect(finalOp.result, where).toMatchObject({ changed: false });
  }
}

function raceSuite(name: string, make: () => Promise<{ store: Store; close(): Promise<void> }>, pairs: number) {
  describe(`approve racing the end of its operation (${name})`, () => {
    let deps: Deps;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const made = await make();
      deps = depsFor(made.store);
      close = made.close;
    });
    afterAll(async () => {
      await close?.();
    });

    it(`${pairs} concurrent decide/end pairs always leave a consistent pair`, async () => {
      const outcomes = new Set<string>();
      // Eight races at a time, so the store sees real concurrency across operations as well.
      for (let batch = 0; batch < pairs; batch += 8) {
        const seeds = Array.from({ length: Math.min(8, pairs - batch) }, (_, i) => 1000 + batch + i);
        await Promise.all(seeds.map((seed) => race(deps, seed)));
      }
      // Both sides must have won some races, or the test proved nothing about the race.
      for (const op of (await deps.operations.list({ limit: 1000 })).items) {
        outcomes.add((await deps.approvals.get(op.id))?.status ?? 'none');
      }
      expect(outcomes.has('closed')).toBe(true);
      expect(outcomes.has('approved') || outcomes.has('rejected')).toBe(true);
    });

    it('no pending approval is left in the pending list once every operation ended', async () => {
      const pending = await deps.approvals.list({ status: 'pending', limit: 1000 });
      expect(pending.items).toEqual([]);
    });
  });
}

raceSuite(
  'memory store',
  async () => {
    const store = new MemoryStore();
    return { store, close: () => store.close() };
  },
  160,
);

raceSuite(
  'DynamoDB on dynalite',
  async () => {
    const embedded: EmbeddedDynamo = await startEmbeddedDynamo({ table: `races-${process.pid}` });
    return { store: embedded.store, close: () => embedded.store.close() };
  },
  24,
);

describe('every way an operation ends closes its pending approval (memory store)', () => {
  const endings: Array<[string, 'cancelled' | 'failed', (deps: Deps, op: Operation) => Promise<unknown>]> = [
    ['ops_operations_cancel / delivery_rollouts_abort', 'cancelled', (d, op) => cancelOperation(d, op.id, bob, 'x')],
    ['tasks/cancel', 'cancelled', (d, op) => cancelOperation(d, op.id, bob, 'tasks/cancel by bob')],
    [
      'the deadline passing while it waits',
      'cancelled',
      async (d, op) => {
        await d.operations.update(op.id, (o) => {
          o.deadline = new Date(Date.now() - 1000).toISOString();
          return undefined;
        });
        expect(await nextPoll(d, op.id)).toBe('expired');
      },
    ],
    [
      'the workflow failing (its Fail step)',
      'failed',
      (d, op) =>
        dispatchStep(
          { step: 'rollout.fail', input: { operationId: op.id, state: { error: { Error: 'States.Timeout' } } } },
          d,
        ),
    ],
    [
      'the workflow engine refusing to start it',
      'failed',
      (d, op) =>
        d.operations.update(op.id, (o) => {
          o.status = 'failed';
          o.statusMessage = 'could not start the workflow: engine down';
          return undefined;
        }),
    ],
    [
      'its workflow execution failing without running its Fail step',
      'failed',
      async (d, op) => {
        await d.operations.update(op.id, (o) => {
          o.execution = { engine: 'stepfunctions', id: `exec-${op.id}` };
          return undefined;
        });
        (d as { workflows: unknown }).workflows = {
          describe: async (id: string) =>
            id === `exec-${op.id}` ? { status: 'TIMED_OUT', error: 'States.Timeout: ' } : { status: 'RUNNING' },
        };
        const { endOrphanedOperations } = await import('../../shared/workflows/recovery.ts');
        expect(await endOrphanedOperations(d)).toEqual([op.id]);
        expect((await d.operations.require(op.id)).statusMessage).toContain('its workflow execution ended TIMED_OUT');
      },
    ],
    [
      'restart recovery whose rollback cannot reach the cluster',
      'failed',
      async (d) => {
        const { recoverInterruptedOperations } = await import('../../shared/workflows/recovery.ts');
        await recoverInterruptedOperations(d);
      },
    ],
  ];

  for (const [how, status, endIt] of endings) {
    it(`${how}: the approval is closed, leaves the pending list, and deciding it says why`, async () => {
      const deps = depsFor(new MemoryStore());
      (deps as { clusters: unknown }).clusters = {
        client() {
          throw new Error('cluster unreachable');
        },
      };
      const op = await waitingRollout(deps, 'end');
      await endIt(deps, op);
      const ended = await deps.operations.require(op.id);
      expect(ended.status).toBe(status);
      const a = await deps.approvals.get(op.id);
      expect(a).toMatchObject({
        status: 'closed',
        closed: { operationStatus: status, reason: `operation ${op.id} ended: ${status}` },
      });
      // Closed as the operation ended: not before it started, not after its end was written.
      const at = String(a?.closed?.at);
      expect(Date.parse(at)).toBeGreaterThanOrEqual(Date.parse(op.createdAt));
      expect(Date.parse(at)).toBeLessThanOrEqual(Date.parse(ended.updatedAt));
      expect((await deps.approvals.list({ status: 'pending', limit: 50 })).items).toEqual([]);
      for (const decision of ['approve', 'reject'] as const) {
        await expect(
          decideApproval(deps, { operationId: op.id, approver: alice, decision, reason: 'late' }),
        ).rejects.toThrow(
          `the approval for ${op.id} was closed because operation ${op.id} was ${status} at ${at}; nothing to decide`,
        );
      }
      // The workflow, should it poll again, ends nothing twice and never goes on.
      expect(await nextPoll(deps, op.id)).toBe('aborted');
      expect((await deps.operations.require(op.id)).status).toBe(status);
      expect(await deps.store.get(`lease#${op.lease}`, 'lease')).toBeUndefined();
    });
  }

  it('an operation whose execution still runs (or is unknown to this engine, or succeeded) is left alone by the orphan sweep', async () => {
    const deps = depsFor(new MemoryStore());
    const running = await waitingRollout(deps, 'running');
    const elsewhere = await waitingRollout(deps, 'elsewhere');
    const succeeded = await waitingRollout(deps, 'succeeded');
    for (const op of [running, elsewhere, succeeded]) {
      await deps.operations.update(op.id, (o) => {
        o.execution = { engine: 'stepfunctions', id: `exec-${op.id}` };
        return undefined;
      });
    }
    (deps as { workflows: unknown }).workflows = {
      describe: async (id: string) =>
        id === `exec-${running.id}`
          ? { status: 'RUNNING' }
          : id === `exec-${succeeded.id}`
            ? { status: 'SUCCEEDED' }
            : undefined,
    };
    const { endOrphanedOperations } = await import('../../shared/workflows/recovery.ts');
    expect(await endOrphanedOperations(deps)).toEqual([]);
    for (const op of [running, elsewhere, succeeded]) {
      expect((await deps.operations.require(op.id)).status).toBe('input_required');
      expect((await deps.approvals.get(op.id))?.status).toBe('pending');
    }
  });

  it('ops_approvals_list shows closed approvals, with how their operation ended and when', async () => {
    const deps = depsFor(new MemoryStore());
    (deps as { config: unknown }).config = { outputBudgetBytes: 64 * 1024 };
    const op = await waitingRollout(deps, 'listed');
    const other = await waitingRollout(deps, 'still-pending');
    await cancelOperation(deps, op.id, bob, 'not today');
    const list = (status?: string) =>
      opsApprovalsListTool.handler(opsApprovalsListTool.input.parse(status ? { status } : {}) as never, {
        deps,
        identity: alice,
        requestId: 'r-list',
        log: deps.log,
        parsed: new ParseCache(),
      });
    const closed = await list('closed');
    expect(closed.isError).not.toBe(true);
    const data = closed.structuredContent as { items: Array<Record<string, unknown>> };
    const at = (await deps.approvals.get(op.id))?.closed?.at;
    expect(data.items).toEqual([
      expect.objectContaining({
        operationId: op.id,
        status: 'closed',
        operationStatus: 'cancelled',
        closedAt: at,
        closedBecause: `operation ${op.id} ended: cancelled`,
      }),
    ]);
    const text = (closed.content[0] as { text: string }).text;
    expect(text).toMatch(/^1 closed approvals/);
    expect(text).toContain('CLOSEDBECAUSE');
    expect(text).toContain(`operation ${op.id} ended: cancelled`);
    // The pending list no longer has it; the other one stays.
    const pending = (await list()).structuredContent as { items: Array<{ operationId: string }> };
    expect(pending.items.map((i) => i.operationId)).toEqual([other.id]);
  });

  it('a cancel of an operation waiting for approval ends it at once, without waiting for the workflow', async () => {
    const deps = depsFor(new MemoryStore());
    const op = await waitingRollout(deps, 'now');
    const after = await cancelOperation(deps, op.id, bob, 'not today');
    expect(after).toMatchObject({
      status: 'cancelled',
      statusMessage: 'cancelled by bob before any change; nothing was changed',
      requests: { abort: { by: 'bob', reason: 'not today' } },
    });
    expect(after.steps.map((s) => s.status)).toEqual(['skipped']);
  });

  it('an ended operation is never moved back to running by a late write', async () => {
    const deps = depsFor(new MemoryStore());
    const op = await waitingRollout(deps, 'late');
    await cancelOperation(deps, op.id, bob, 'x');
    const late = await deps.operations.update(op.id, (o) => {
      o.status = 'working';
      o.statusMessage = 'approved by alice';
      return undefined;
    });
    expect(late.status).toBe('cancelled');
  });

  it('a closed approval whose operation did not get to end (a crash in between) ends it at the next poll', async () => {
    const deps = depsFor(new MemoryStore());
    const op = await waitingRollout(deps, 'crash');
    await deps.approvals.close(op.id, { status: 'failed', at: new Date().toISOString() });
    expect(await nextPoll(deps, op.id)).toBe('closed');
    const ended = await deps.operations.require(op.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.statusMessage).toContain(
      `the approval was closed without a decision (operation ${op.id} ended: failed)`,
    );
  });
});

describe('a wrong changeHash is a wrong hash; a modified change is a modified change', () => {
  const hashes = ['cd'.repeat(32), `${'ab'.repeat(31)}ac`, '0'.repeat(64), HASH.toUpperCase()];
  for (const wrong of hashes) {
    it(`changeHash ${wrong.slice(0, 8)}… against an unchanged change`, async () => {
      const deps = depsFor(new MemoryStore());
      const op = await waitingRollout(deps, 'hash');
      const err = (await decideApproval(deps, {
        operationId: op.id,
        approver: alice,
        decision: 'approve',
        reason: 'ok',
        changeHash: wrong,
      }).catch((e: unknown) => e)) as Error;
      expect(err.message).toBe(
        `changeHash ${wrong} does not match this approval's change (${HASH.slice(0, 12)}…); fetch the approval again with ops_approvals_list`,
      );
      expect((await deps.approvals.get(op.id))?.status).toBe('pending');
      // The right hash still approves.
      await decideApproval(deps, {
        operationId: op.id,
        approver: alice,
        decision: 'approve',
        reason: 'ok',
        changeHash: HASH,
      });
      expect((await deps.approvals.get(op.id))?.status).toBe('approved');
    });
  }

  for (const sent of [undefined, HASH, 'ef'.repeat(32), 'cd'.repeat(32)]) {
    it(`a change modified behind its approval is "modified" (approver sent ${sent ? `${sent.slice(0, 8)}…` : 'no hash'})`, async () => {
      const deps = depsFor(new MemoryStore());
      const op = await waitingRollout(deps, 'mod');
      // The operation's change is no longer the one the approval was requested for.
      const raw = await deps.store.get(`op#${op.id}`, 'op');
      await deps.store.put({ pk: `op#${op.id}`, sk: 'op', data: { ...raw?.data, changeHash: 'ef'.repeat(32) } });
      const err = (await decideApproval(deps, {
        operationId: op.id,
        approver: alice,
        decision: 'approve',
        reason: 'ok',
        ...(sent ? { changeHash: sent } : {}),
      }).catch((e: unknown) => e)) as Error;
      expect(err.message).toContain('the change was modified after approval was requested');
      expect(err.message).not.toContain('does not match');
      expect((await deps.approvals.get(op.id))?.status).toBe('pending');
    });
  }
});
