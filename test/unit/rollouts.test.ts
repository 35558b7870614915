import { describe, expect, it } from 'vitest';
import {
  deploymentHistory,
  ROLLBACK_RETRY,
  rollbackRetryDelayMs,
  rolloutStatus,
  undoTemplate,
} from '../../shared/domain/rollouts.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';

const deploy = (status: Record<string, unknown>, generation = 2, replicas = 3): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'web', generation, uid: 'd1', annotations: { 'deployment.kubernetes.io/revision': '2' } },
  spec: { replicas },
  status,
});

describe('rollout status (kubectl rules)', () => {
  it('waits for the spec update to be observed', () => {
    expect(rolloutStatus(deploy({ observedGeneration: 1 })).message).toBe(
      'Waiting for deployment spec update to be observed...',
    );
  });
  it('reports each waiting stage, then success', () => {
    const s = (st: Record<string, unknown>) => rolloutStatus(deploy({ observedGeneration: 2, ...st }));
    expect(s({ updatedReplicas: 1, replicas: 4, availableReplicas: 3 }).message).toContain(
      '1 out of 3 new replicas have been updated',
    );
    expect(s({ updatedReplicas: 3, replicas: 4, availableReplicas: 3 }).message).toContain(
      '1 old replicas are pending termination',
    );
    expect(s({ updatedReplicas: 3, replicas: 3, availableReplicas: 2 }).message).toContain(
      '2 of 3 updated replicas are available',
    );
    const done = s({ updatedReplicas: 3, replicas: 3, availableReplicas: 3, readyReplicas: 3 });
    expect(done).toMatchObject({
      state: 'complete',
      done: true,
      message: 'deployment "web" successfully rolled out',
      revision: '2',
    });
  });
  it('fails on ProgressDeadlineExceeded', () => {
    const s = rolloutStatus(
      deploy({
        observedGeneration: 2,
        updatedReplicas: 1,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
    );
    expect(s).toMatchObject({
      state: 'failed',
      done: false,
      message: 'deployment "web" exceeded its progress deadline',
    });
  });
  it('handles DaemonSets and StatefulSets', () => {
    const ds: KubeObject = {
      kind: 'DaemonSet',
      metadata: { name: 'agent', generation: 1 },
      spec: {},
      status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
    };
    expect(rolloutStatus(ds).message).toContain('2 of 3 updated pods are available');
    const sts: KubeObject = {
      kind: 'StatefulSet',
      metadata: { name: 'db', generation: 1 },
      spec: { replicas: 2 },
      status: {
        observedGeneration: 1,
        readyReplicas: 2,
        currentRevision: 'db-1',
        updateRevision: 'db-2',
        updatedReplicas: 1,
      },
    };
    expect(rolloutStatus(sts)).toMatchObject({
      done: false,
      message: 'waiting for statefulset rolling update to complete 1 pods at revision db-2...',
    });
    expect(rolloutStatus({ kind: 'ConfigMap', metadata: { name: 'x' } }).state).toBe('unknown');
  });
});

describe('history and undo', () => {
  const rs = (name: string, revision: string, image: string, owner = 'd1'): KubeObject => ({
    kind: 'ReplicaSet',
    metadata: {
      name,
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true }],
    },
    spec: {
      template: {
        metadata: { labels: { app: 'web', 'pod-template-hash': name.slice(-5) } },
        spec: { containers: [{ name: 'web', image }] },
      },
    },
    status: { replicas: revision === '2' ? 3 : 0 },
  });
  const d = deploy({ observedGeneration: 2 });
  const sets = [
    rs('web-aaaaa', '1', 'nginx:1.25'),
    rs('web-bbbbb', '2', 'nginx:1.27'),
    rs('other-ccccc', '5', 'x:1', 'zz'),
  ];

  it('lists owned ReplicaSets by revision', () => {
    const h = deploymentHistory(d, sets);
    expect(h.map((e) => [e.revision, e.images[0], e.current])).toEqual([
      [1, 'nginx:1.25', false],
      [2, 'nginx:1.27', true],
    ]);
  });
  it('undoes to the previous revision without the pod-template-hash label', () => {
    const u = undoTemplate(d, sets);
    expect(u).toMatchObject({
      revision: 1,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ image: 'nginx:1.25' }] } },
    });
    expect(JSON.stringify(u)).not.toContain('pod-template-hash');
  });
  it('refuses unknown and current revisions', () => {
    expect(undoTemplate(d, sets, 7)).toEqual({ error: 'revision 7 not found; revisions: 1, 2' });
    expect(undoTemplate(d, sets, 2)).toEqual({ error: 'revision 2 is already the current revision' });
    expect(undoTemplate(d, [])).toMatchObject({ error: expect.stringContaining('no rollout history') });
  });
});

describe('rollback reconciler backoff', () => {
  it('doubles from 30 s and stays at 15 min, whatever the attempt number', () => {
    expect([1, 2, 3, 4, 5, 6].map(rollbackRetryDelayMs)).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000]);
    for (const attempt of [7, 31, 32, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(rollbackRetryDelayMs(attempt)).toBe(ROLLBACK_RETRY.maxDelayMs);
    }
    // Nonsense attempt numbers never mean "retry at once" or "never".
    for (const attempt of [0, -3, 0.5, Number.NaN]) {
      const d = rollbackRetryDelayMs(attempt);
      expect(d >= ROLLBACK_RETRY.firstDelayMs && d <= ROLLBACK_RETRY.maxDelayMs, String(attempt)).toBe(true);
    }
  });
});
