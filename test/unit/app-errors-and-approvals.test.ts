// The application layer's contract with its channels: one approval decision for MCP and Slack (the
// channel that has no audit of its own gets the record from the use case), and the one place the
// tools layer turns the app's errors into tool results.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { decideApproval, decideFromChannel } from '../../shared/app/approvals.ts';
import { AppError, RefusedError } from '../../shared/app/errors.ts';
import { OperationAccessError } from '../../shared/app/operation-access.ts';
import { firstSighting } from '../../shared/app/replay.ts';
import { ApprovalError, Approvals } from '../../shared/app/repos/approvals.ts';
import { AuditTrail } from '../../shared/app/repos/audit.ts';
import { Operations } from '../../shared/app/repos/operations.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { KubeApiError, UnknownClusterError } from '../../shared/ports/kube.ts';
import { answer } from '../../shared/tools/common/errors.ts';

const HASH = 'cd'.repeat(32);
const bob = { subject: 'auth0|bob', name: 'bob' };
const alice: Identity = { subject: 'auth0|alice', name: 'alice', roles: ['approver'], method: 'slack' };

function parts() {
  let now = Date.parse('2026-12-07T12:00:00Z');
  const clock = { now: () => now++ };
  const store = new MemoryStore(clock);
  return {
    store,
    clock,
    approvals: new Approvals(store, clock),
    operations: new Operations(store, clock),
    audit: new AuditTrail({ store, clock, log: createLogger('silent'), retentionDays: 90 }),
  };
}

async function pending(p: ReturnType<typeof parts>, operationId: string): Promise<void> {
  await p.approvals.request({
    operationId,
    summary: 'rolling rollout of image "web:2"',
    changeHash: HASH,
    requester: bob,
    reason: '',
    ttlSeconds: 600,
  });
}

const decidedEvents = async (p: ReturnType<typeof parts>) =>
  (await p.audit.list({ limit: 50, tool: 'ops_approvals_decide' })).events;

describe('decideApproval', () => {
  it('records a decision and its refusal in the audit trail when the channel passes a DecisionAudit', async () => {
    const p = parts();
    await pending(p, 'op-1');
    const audit = { trail: p.audit, requestId: 'slack:U1:1', startedAt: p.clock.now(), args: { operationId: 'op-1' } };
    const input = { operationId: 'op-1', approver: alice, decision: 'approve' as const, reason: 'looks right' };
    const a = await decideApproval(p, { ...input, changeHash: HASH }, audit);
    expect(a).toMatchObject({ status: 'approved', decision: { by: { name: 'alice' } } });
    // Deciding again is refused: the refusal is recorded too, then thrown for the channel to word.
    await expect(decideApproval(p, input, { ...audit, requestId: 'slack:U1:2' })).rejects.toBeInstanceOf(ApprovalError);
    const events = await decidedEvents(p);
    expect(events.map((e) => [e.requestId, e.outcome]).sort()).toEqual([
      ['slack:U1:1', 'ok'],
      ['slack:U1:2', 'error'],
    ]);
    expect(events.find((e) => e.outcome === 'error')?.error).toMatch(/approved/);
    expect(events[0]).toMatchObject({
      caller: { subject: 'auth0|alice', method: 'slack' },
      args: { operationId: 'op-1' },
    });
  });

  it('writes no audit record of its own without one (the MCP tool wrapper audits the call)', async () => {
    const p = parts();
    await pending(p, 'op-2');
    await decideApproval(p, { operationId: 'op-2', approver: alice, decision: 'reject', reason: 'not now' });
    expect(await p.approvals.get('op-2')).toMatchObject({ status: 'rejected' });
    expect(await decidedEvents(p)).toEqual([]);
  });
});

describe('decideFromChannel', () => {
  const approvers = {
    U0ALICE: { subject: 'auth0|alice', name: 'Alice' },
    U0BOB: { subject: 'auth0|bob', name: 'Bob' },
  };
  const click = (user: string, operationId: string, changeHash = HASH) => ({
    channel: 'slack' as const,
    user: { id: user, name: user.toLowerCase() },
    operationId,
    decision: 'approve' as const,
    changeHash,
  });

  it('maps the channel user to their identity, decides as them and audits it under the decide tool', async () => {
    const p = parts();
    await pending(p, 'op-3');
    const out = await decideFromChannel(p, approvers, click('U0ALICE', 'op-3'));
    expect(out).toMatchObject({
      kind: 'decided',
      approver: { subject: 'auth0|alice', name: 'Alice', roles: ['approver'], method: 'slack' },
      approval: { status: 'approved', decision: { reason: 'via Slack by u0alice (U0ALICE)' } },
    });
    const [event] = await decidedEvents(p);
    expect(event).toMatchObject({
      requestId: expect.stringMatching(/^slack:U0ALICE:\d+$/),
      caller: { subject: 'auth0|alice', method: 'slack' },
      args: { operationId: 'op-3', decision: 'approve', changeHash: HASH, slackUser: 'U0ALICE' },
      outcome: 'ok',
    });
  });

  it('a refusal (own change, wrong hash) is an outcome with the reason, and audited', async () => {
    const p = parts();
    await pending(p, 'op-4');
    const own = await decideFromChannel(p, approvers, click('U0BOB', 'op-4'));
    expect(own).toMatchObject({ kind: 'refused', reason: expect.stringContaining('you requested this change') });
    const wrong = await decideFromChannel(p, approvers, click('U0ALICE', 'op-4', 'ef'.repeat(32)));
    expect(wrong).toMatchObject({ kind: 'refused', reason: expect.stringContaining('does not match') });
    expect((await decidedEvents(p)).map((e) => e.outcome)).toEqual(['error', 'error']);
    expect(await p.approvals.get('op-4')).toMatchObject({ status: 'pending' });
  });

  it('a user not in the list (an inherited property name included) decides nothing and writes no record', async () => {
    const p = parts();
    await pending(p, 'op-5');
    for (const user of ['U0MALLORY', 'constructor', '__proto__', 'toString']) {
      expect(await decideFromChannel(p, approvers, click(user, 'op-5'))).toEqual({ kind: 'not_an_approver' });
    }
    expect(await decidedEvents(p)).toEqual([]);
    expect(await p.approvals.get('op-5')).toMatchObject({ status: 'pending' });
  });
});

describe('firstSighting', () => {
  it('accepts a request once per channel and key, and refuses the replay', async () => {
    const p = parts();
    expect(await firstSighting(p, 'slack-request', 'abc', 600)).toBe(true);
    expect(await firstSighting(p, 'slack-request', 'abc', 600)).toBe(false);
    expect(await firstSighting(p, 'slack-request', 'abd', 600)).toBe(true);
    expect(await firstSighting(p, 'other-channel', 'abc', 600)).toBe(true);
  });
});

describe('answer: the app errors as tool results', () => {
  const thrown = (err: unknown) => answer(async () => Promise.reject(err));

  it('a refused write keeps its details as structuredContent', async () => {
    const r = await thrown(
      new RefusedError({ message: 'refused by rule x', details: { refused: true, findings: [] } }),
    );
    expect(r).toEqual({
      content: [{ type: 'text', text: 'refused by rule x' }],
      structuredContent: { refused: true, findings: [] },
      isError: true,
    });
  });

  it.each([
    new AppError('give either name or labelSelector'),
    new UnknownClusterError('no cluster "x"'),
    new OperationAccessError('no operation "op-9"'),
    new ApprovalError('no approval is pending'),
  ])('%s is an error result with its message', async (err) => {
    expect(await thrown(err)).toEqual({ content: [{ type: 'text', text: err.message }], isError: true });
  });

  it('an API error names the cluster, the call and the reason', async () => {
    const err = new KubeApiError({
      cluster: 'prod',
      call: 'GET deployments/web',
      status: 404,
      reason: 'NotFound',
      message: 'deployments.apps "web" not found',
    });
    const r = await thrown(err);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toEqual({
      cluster: 'prod',
      call: 'GET deployments/web',
      status: 404,
      reason: 'NotFound',
    });
    expect(r.content[0]).toMatchObject({ text: expect.stringContaining('Check the name, namespace and kind') });
  });

  it('anything else is thrown on, for the tool wrapper to report', async () => {
    await expect(thrown(new TypeError('bug'))).rejects.toThrow('bug');
  });
});
