import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { Approvals } from '../../shared/app/repos/approvals.ts';
import { PolicyError, parsePolicy } from '../../shared/domain/guardrails/policy.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import {
  buildPlan,
  canaryReplicas,
  DEFAULT_GATES,
  evaluateHealth,
  evaluateMetric,
  MAX_KEPT_MEASUREMENTS,
  type MetricGate,
  type MetricRecord,
  ROLLOUT_LIMITS,
  recordMeasurement,
} from '../../shared/domain/rollout-plan.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';

const deployment = (status: Record<string, unknown>): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'web', generation: 2 },
  spec: { replicas: 2 },
  status: { observedGeneration: 2, ...status },
});
const pod = (name: string, s: Record<string, unknown>): KubeObject => ({
  kind: 'Pod',
  metadata: { name },
  status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, ...s }] },
});

describe('rollout plans', () => {
  it('canary steps end at 100% and pause only where asked, never after the last', () => {
    const p = buildPlan({ strategy: 'canary', steps: [{ weight: 10, pause: true }, { weight: 50 }] });
    expect(p.steps.map((s) => [s.weight, s.pause])).toEqual([
      [10, true],
      [50, false],
      [100, false],
    ]);
    expect(buildPlan({ strategy: 'canary' }).steps.map((s) => s.weight)).toEqual([10, 50, 100]);
  });
  it('blue-green has a rollback window; defaults are kubectl-like', () => {
    const p = buildPlan({ strategy: 'blueGreen' });
    expect(p.steps.map((s) => s.name)).toEqual(['green up', 'switch traffic']);
    expect(p.rollbackWindowSeconds).toBe(30);
    expect(p.gates).toEqual(DEFAULT_GATES);
    expect(DEFAULT_GATES.progressDeadlineSeconds).toBe(600);
  });
});

describe('canary replica split', () => {
  it('rounds the canary up and keeps at least one stable pod below 100%', () => {
    expect(canaryReplicas(10, 10)).toEqual({ canary: 1, stable: 9 });
    expect(canaryReplicas(4, 25)).toEqual({ canary: 1, stable: 3 });
    expect(canaryReplicas(4, 50)).toEqual({ canary: 2, stable: 2 });
    // Small Deployments: the canary never takes all the traffic before the 100% step.
    expect(canaryReplicas(1, 10)).toEqual({ canary: 1, stable: 1 });
    expect(canaryReplicas(2, 90)).toEqual({ canary: 2, stable: 1 });
    expect(canaryReplicas(0, 50)).toEqual({ canary: 0, stable: 0 });
  });
});

describe('health gate', () => {
  const gates = DEFAULT_GATES;
  it('passes only when the rollout is complete and every new pod is ready', () => {
    const ready = [
      pod('a', { ready: true, state: { running: {} } }),
      pod('b', { ready: true, state: { running: {} } }),
    ];
    const done = deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 });
    expect(evaluateHealth({ deployment: done, pods: ready, gates, elapsedSeconds: 10 }).verdict).toBe('pass');
    const notReady = [ready[0] as KubeObject, pod('b', { state: { waiting: { reason: 'ContainerCreating' } } })];
    expect(evaluateHealth({ deployment: done, pods: notReady, gates, elapsedSeconds: 10 }).verdict).toBe('pending');
  });
  it('fails fast on crash loops, image pulls and restarts, and on the deadline', () => {
    const progressing = deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
    const crash = pod('c', { state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 1 });
    expect(evaluateHealth({ deployment: progressing, pods: [crash], gates, elapsedSeconds: 5 })).toMatchObject({
      verdict: 'fail',
      reason: 'pods in CrashLoopBackOff: c',
    });
    const pull = pod('p', { state: { waiting: { reason: 'ImagePullBackOff' } } });
    expect(evaluateHealth({ deployment: progressing, pods: [pull], gates, elapsedSeconds: 5 }).reason).toContain(
      'cannot pull',
    );
    const restarts = pod('r', { ready: true, state: { running: {} }, restartCount: 3 });
    expect(evaluateHealth({ deployment: progressing, pods: [restarts], gates, elapsedSeconds: 5 }).reason).toContain(
      'restarted 3 times',
    );
    const slow = pod('s', { state: { waiting: { reason: 'ContainerCreating' } } });
    expect(evaluateHealth({ deployment: progressing, pods: [slow], gates, elapsedSeconds: 601 })).toMatchObject({
      verdict: 'fail',
      reason: expect.stringContaining('progress deadline (600 s)'),
    });
    const deadline = deployment({
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }],
    });
    expect(evaluateHealth({ deployment: deadline, pods: [], gates, elapsedSeconds: 1 }).verdict).toBe('fail');
  });
});

describe('metric analysis (Argo Rollouts semantics)', () => {
  const g: MetricGate = {
    name: 'errors',
    query: 'x',
    op: '<',
    threshold: 1,
    intervalSeconds: 60,
    count: 3,
    failureLimit: 1,
  };
  const at = '2026-11-21T00:00:00Z';
  it('passes after count measurements within the failure limit; fails beyond it', () => {
    expect(evaluateMetric(g, { name: 'errors', values: [{ at, value: 0, ok: true }] })).toBe('pending');
    expect(
      evaluateMetric(g, {
        name: 'errors',
        values: [
          { at, ok: true },
          { at, ok: false },
          { at, ok: true },
        ],
      }),
    ).toBe('pass');
    expect(
      evaluateMetric(g, {
        name: 'errors',
        values: [
          { at, ok: false },
          { at, ok: false },
        ],
      }),
    ).toBe('fail');
  });
  it('is inconclusive after 4 consecutive errors: a human decides', () => {
    const errors = Array.from({ length: 4 }, () => ({ at, error: 'Prometheus unreachable' }));
    expect(evaluateMetric(g, { name: 'errors', values: errors.slice(0, 3) })).toBe('pending');
    expect(evaluateMetric(g, { name: 'errors', values: errors })).toBe('inconclusive');
  });

  it('counts every measurement, not only the ones kept for display: count up to 100 can pass', () => {
    const gate = { ...g, count: 100, failureLimit: 0 };
    let r: MetricRecord = { name: 'errors', values: [] };
    for (let i = 0; i < 99; i++) r = recordMeasurement(r, { at, value: 0.1, ok: true });
    expect(r.values).toHaveLength(MAX_KEPT_MEASUREMENTS);
    expect(evaluateMetric(gate, r)).toBe('pending');
    r = recordMeasurement(r, { at, value: 0.1, ok: true });
    expect(evaluateMetric(gate, r)).toBe('pass');
  });
  it('a failure no longer on display still counts against the failure limit', () => {
    const gate = { ...g, count: 100, failureLimit: 0 };
    let r: MetricRecord = recordMeasurement({ name: 'errors', values: [] }, { at, value: 5, ok: false });
    for (let i = 0; i < 60; i++) r = recordMeasurement(r, { at, value: 0.1, ok: true });
    expect(r.values.some((v) => v.ok === false)).toBe(false);
    expect(evaluateMetric(gate, r)).toBe('fail');
  });
  it('errors in a row are counted across the display window; a good measurement resets them', () => {
    let r: MetricRecord = { name: 'errors', values: [] };
    for (let i = 0; i < 3; i++) r = recordMeasurement(r, { at, error: 'down' });
    expect(evaluateMetric(g, r)).toBe('pending');
    r = recordMeasurement(r, { at, value: 0.1, ok: true });
    for (let i = 0; i < 3; i++) r = recordMeasurement(r, { at, error: 'down' });
    expect(evaluateMetric(g, r)).toBe('pending');
    r = recordMeasurement(r, { at, error: 'down' });
    expect(evaluateMetric(g, r)).toBe('inconclusive');
  });
});

describe('time limits: nothing waits until the execution timeout', () => {
  it('the deadline and the approval expiry end well before the execution timeout; the lease outlives it', () => {
    expect(ROLLOUT_LIMITS.deadlineSeconds).toBeLessThanOrEqual(ROLLOUT_LIMITS.executionTimeoutSeconds - 2 * 3600);
    expect(ROLLOUT_LIMITS.maxApprovalTtlSeconds).toBeLessThan(ROLLOUT_LIMITS.deadlineSeconds);
    expect(ROLLOUT_LIMITS.leaseTtlSeconds).toBeGreaterThan(ROLLOUT_LIMITS.executionTimeoutSeconds);
  });
  it('the policy refuses an approval TTL beyond the cap, saying why', () => {
    expect(parsePolicy('approvals: { ttlSeconds: 43200 }').approvals.ttlSeconds).toBe(43_200);
    let err: unknown;
    try {
      parsePolicy('approvals: { ttlSeconds: 86400 }');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect(String((err as Error).message)).toContain('execution timeout');
  });
});

describe('approvals', () => {
  const alice: Identity = { subject: 'alice', name: 'alice', roles: ['operator'], method: 'oauth' };
  const bob: Identity = { subject: 'bob', name: 'bob', roles: ['approver'], method: 'oauth' };
  it('expire: a pending approval past its time reads as expired and cannot be decided', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const approvals = new Approvals(new MemoryStore({ now: () => now }), { now: () => now });
    await approvals.request({
      operationId: 'op-1',
      summary: 's',
      changeHash: 'h',
      requester: alice,
      reason: '',
      ttlSeconds: 600,
    });
    expect((await approvals.get('op-1'))?.status).toBe('pending');
    now += 601_000;
    expect((await approvals.get('op-1'))?.status).toBe('expired');
    await expect(
      approvals.decide({ operationId: 'op-1', approver: bob, decision: 'approve', reason: 'late' }),
    ).rejects.toThrow(/expired/);
  });
  it('are decided once', async () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    const approvals = new Approvals(new MemoryStore({ now: () => now }), { now: () => now });
    await approvals.request({
      operationId: 'op-2',
      summary: 's',
      changeHash: 'h',
      requester: alice,
      reason: '',
      ttlSeconds: 600,
    });
    const [a, b] = await Promise.allSettled([
      approvals.decide({ operationId: 'op-2', approver: bob, decision: 'approve', reason: 'ok' }),
      approvals.decide({
        operationId: 'op-2',
        approver: { ...bob, subject: 'carol', name: 'carol' },
        decision: 'reject',
        reason: 'no',
      }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
  });
});
