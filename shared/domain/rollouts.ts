import type { KubeObject } from './k8s/model.ts';

export interface RolloutStatus {
  /** complete: rolled out; progressing: still moving; failed: ProgressDeadlineExceeded; unknown: kind without rollout semantics. */
  state: 'complete' | 'progressing' | 'failed' | 'unknown';
  done: boolean;
  message: string;
  replicas?: { desired: number; updated: number; ready: number; available: number; total: number };
  observedGeneration?: number;
  generation?: number;
  revision?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);

/**
 * kubectl's rollout completion rules (kubectl/pkg/polymorphichelpers/rollout_status.go) for
 * Deployments, DaemonSets and StatefulSets, with the replica counts behind the verdict.
 */
export function rolloutStatus(o: KubeObject): RolloutStatus {
  const kind = o.kind;
  const name = o.metadata?.name ?? '?';
  const spec = obj(o.spec);
  const status = obj(o.status);
  const generation = num(o.metadata?.generation);
  const observed = num(status.observedGeneration);
  const base = { generation, observedGeneration: observed };

  if (kind === 'Deployment') {
    const desired = num(spec.replicas, 1);
    const counts = {
      desired,
      updated: num(status.updatedReplicas),
      ready: num(status.readyReplicas),
      available: num(status.availableReplicas),
      total: num(status.replicas),
    };
    const revision = o.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    const common = { ...base, replicas: counts, ...(revision ? { revision } : {}) };
    if (generation > observed) {
      return {
        ...common,
        state: 'progressing',
        done: false,
        message: 'Waiting for deployment spec update to be observed...',
      };
    }
    const conditions = Array.isArray(status.conditions) ? (status.conditions as Obj[]) : [];
    const progressing = conditions.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return {
        ...common,
        state: 'failed',
        done: false,
        message: `deployment "${name}" exceeded its progress deadline`,
      };
    }
    if (counts.updated < desired) {
      return {
        ...common,
        state: 'progressing',
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${counts.updated} out of ${desired} new replicas have been updated...`,
      };
    }
    if (counts.total > counts.updated) {
      return {
        ...common,
        state: 'progressing',
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${counts.total - counts.updated} old replicas are pending termination...`,
      };
    }
    if (counts.available < counts.updated) {
      return {
        ...common,
        state: 'progressing',
        done: false,
        message: `Waiting for deployment "${name}" rollout to finish: ${counts.available} of ${counts.updated} updated replicas are available...`,
      };
    }
    return { ...common, state: 'complete', done: true, message: `deployment "${name}" successfully rolled out` };
  }

  if (kind === 'DaemonSet') {
    const strategy = obj(spec.updateStrategy).type ?? 'RollingUpdate';
    if (strategy !== 'RollingUpdate') {
      return {
        ...base,
        state: 'unknown',
        done: true,
        message: `rollout status is only available for RollingUpdate strategy type`,
      };
    }
    const desired = num(status.desiredNumberScheduled);
    const updated = num(status.updatedNumberScheduled);
    const available = num(status.numberAvailable);
    const replicas = {
      desired,
      updated,
      ready: num(status.numberReady),
      available,
      total: num(status.currentNumberScheduled),
    };
    if (generation > observed) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: 'Waiting for daemon set spec update to be observed...',
      };
    }
    if (updated < desired) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
      };
    }
    if (available < desired) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
      };
    }
    return {
      ...base,
      replicas,
      state: 'complete',
      done: true,
      message: `daemon set "${name}" successfully rolled out`,
    };
  }

  if (kind === 'StatefulSet') {
    const strategy = obj(spec.updateStrategy);
    if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') {
      return {
        ...base,
        state: 'unknown',
        done: true,
        message: 'rollout status is only available for RollingUpdate strategy type',
      };
    }
    const desired = num(spec.replicas, 1);
    const replicas = {
      desired,
      updated: num(status.updatedReplicas),
      ready: num(status.readyReplicas),
      available: num(status.availableReplicas),
      total: num(status.replicas),
    };
    if (observed === 0 || generation > observed) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: 'Waiting for statefulset spec update to be observed...',
      };
    }
    if (replicas.ready < desired) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: `Waiting for ${desired - replicas.ready} pods to be ready...`,
      };
    }
    const partition = num(obj(strategy.rollingUpdate).partition);
    if (partition > 0) {
      if (replicas.updated < desired - partition) {
        return {
          ...base,
          replicas,
          state: 'progressing',
          done: false,
          message: `Waiting for partitioned roll out to finish: ${replicas.updated} out of ${desired - partition} new pods have been updated...`,
        };
      }
      return {
        ...base,
        replicas,
        state: 'complete',
        done: true,
        message: `partitioned roll out complete: ${replicas.updated} new pods have been updated...`,
      };
    }
    if (status.updateRevision !== status.currentRevision) {
      return {
        ...base,
        replicas,
        state: 'progressing',
        done: false,
        message: `waiting for statefulset rolling update to complete ${replicas.updated} pods at revision ${String(status.updateRevision)}...`,
      };
    }
    return {
      ...base,
      replicas,
      state: 'complete',
      done: true,
      message: `statefulset rolling update complete ${replicas.ready} pods at revision ${String(status.currentRevision)}...`,
    };
  }

  return { ...base, state: 'unknown', done: true, message: `${kind ?? 'object'} has no rollout status` };
}

export interface RevisionEntry {
  revision: number;
  replicaSet: string;
  changeCause?: string;
  images: string[];
  replicas: number;
  createdAt?: string;
  current: boolean;
}

export function isOwnedBy(child: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  return (child.metadata?.ownerReferences ?? []).some(
    (r) => (uid ? r.uid === uid : r.name === owner.metadata?.name) && r.kind === owner.kind,
  );
}

/** kubectl rollout history for a Deployment: its ReplicaSets by revision, newest last. */
export function deploymentHistory(deployment: KubeObject, replicaSets: KubeObject[]): RevisionEntry[] {
  const current = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  return replicaSets
    .filter((rs) => isOwnedBy(rs, deployment))
    .map((rs) => {
      const revision = Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
      const podSpec = obj(obj(obj(rs.spec).template).spec);
      const containers = Array.isArray(podSpec.containers) ? (podSpec.containers as Obj[]) : [];
      const cause = rs.metadata?.annotations?.['kubernetes.io/change-cause'];
      return {
        revision,
        replicaSet: rs.metadata?.name ?? '?',
        ...(cause ? { changeCause: cause } : {}),
        images: containers.map((c) => String(c.image)),
        replicas: num(obj(rs.status).replicas),
        ...(rs.metadata?.creationTimestamp ? { createdAt: rs.metadata.creationTimestamp } : {}),
        current: String(revision) === current,
      };
    })
    .filter((e) => e.revision > 0)
    .sort((a, b) => a.revision - b.revision);
}

/**
 * The pod template to roll back to, as kubectl rollout undo picks it: the given revision, or the
 * one before the current. Returns the template without its pod-template-hash label.
 */
export function undoTemplate(
  deployment: KubeObject,
  replicaSets: KubeObject[],
  toRevision?: number,
): { revision: number; template: Obj } | { error: string } {
  const history = deploymentHistory(deployment, replicaSets);
  if (history.length === 0) return { error: 'no rollout history: the deployment owns no ReplicaSets with a revision' };
  const currentRev = Number(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
  let target: RevisionEntry | undefined;
  if (toRevision !== undefined && toRevision > 0) {
    target = history.find((h) => h.revision === toRevision);
    if (!target)
      return { error: `revision ${toRevision} not found; revisions: ${history.map((h) => h.revision).join(', ')}` };
  } else {
    target = [...history].reverse().find((h) => h.revision < currentRev);
    if (!target) return { error: 'no previous revision to roll back to' };
  }
  if (target.revision === currentRev) return { error: `revision ${target.revision} is already the current revision` };
  const rs = replicaSets.find((r) => r.metadata?.name === target.replicaSet) as KubeObject;
  const template = structuredClone(obj(obj(rs.spec).template));
  const meta = obj(template.metadata);
  const labels = { ...obj(meta.labels) };
  delete labels['pod-template-hash'];
  template.metadata = { ...meta, labels };
  return { revision: target.revision, template };
}

/** Reconciler retries of an incomplete rollback: 30 s, doubling, at most 15 min apart. */
export const ROLLBACK_RETRY = { firstDelayMs: 30_000, maxDelayMs: 15 * 60_000 } as const;

/** How long after attempt `attempt` (1 = the workflow's own rollback failed) the next retry is due. */
export function rollbackRetryDelayMs(attempt: number): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  return Math.min(ROLLBACK_RETRY.maxDelayMs, ROLLBACK_RETRY.firstDelayMs * 2 ** Math.min(n - 1, 30));
}
