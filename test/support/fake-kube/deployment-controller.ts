// Deployment controller, following pkg/controller/deployment: new ReplicaSet per pod template,
// revision bookkeeping (including re-using an old ReplicaSet on rollback), rolling update within
// maxSurge/maxUnavailable, Recreate, pause, scaling events, history cleanup and status conditions.
import { createHash } from 'node:crypto';
import { CONTROLLER_MANAGER, type ControllerContext, setCondition, typeOf, writeStatus } from './controller-context.ts';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  canonicalJson,
  clone,
  deepEqual,
  isRecord,
  type JsonRecord,
  parseTimestamp,
  timestamp,
} from './json.ts';
import { ownedPods } from './replicaset-controller.ts';
import { objectKey } from './store.ts';
import type { KubeObject } from './types.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const HASH_LABEL = 'pod-template-hash';
const SOURCE = { component: 'deployment-controller' };

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Like controller.ComputeHash: a 32-bit template hash rendered with rand.SafeEncodeString. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const digest = createHash('sha256')
    .update(canonicalJson(template))
    .update(collisionCount > 0 ? String(collisionCount) : '')
    .digest();
  const text = String(digest.readUInt32BE(0));
  let out = '';
  for (const ch of text) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

function revisionOf(rs: KubeObject): number {
  const n = Number.parseInt(rs.metadata.annotations?.[REVISION] ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

function specReplicas(obj: KubeObject): number {
  return asNumber(asRecord(obj.spec)?.replicas) ?? 0;
}

function statusNumber(obj: KubeObject, field: string): number {
  return asNumber(asRecord(obj.status)?.[field]) ?? 0;
}

function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const pct = Number.parseInt(value.slice(0, -1), 10);
    const raw = (total * (Number.isNaN(pct) ? 0 : pct)) / 100;
    return roundUp ? Math.ceil(raw) : Math.floor(raw);
  }
  const n = Number.parseInt(String(value ?? '0'), 10);
  return Number.isNaN(n) ? 0 : n;
}

function templateWithoutHash(template: unknown): unknown {
  const copy = clone(template);
  const labels = isRecord(copy) ? asRecord(asRecord(copy.metadata)?.labels) : undefined;
  if (labels) delete labels[HASH_LABEL];
  return copy;
}

interface DeploymentStatusCounts {
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
}

/** One sync of one Deployment. */
class DeploymentSync {
  private readonly ctx: ControllerContext;
  private d: KubeObject;
  private readonly now: number;
  private readonly dRt;
  private readonly rsRt;
  private conditions: JsonRecord[];
  private collisionCount: number;

  constructor(ctx: ControllerContext, d: KubeObject, now: number) {
    this.ctx = ctx;
    this.d = d;
    this.now = now;
    this.dRt = typeOf(ctx, 'deployments.apps');
    this.rsRt = typeOf(ctx, 'replicasets.apps');
    this.conditions = asArray(asRecord(d.status)?.conditions)
      .filter(isRecord)
      .map((c) => clone(c));
    this.collisionCount = asNumber(asRecord(d.status)?.collisionCount) ?? 0;
  }

  private get spec(): JsonRecord {
    return asRecord(this.d.spec) ?? {};
  }

  private get replicas(): number {
    return asNumber(this.spec.replicas) ?? 1;
  }

  private get strategy(): JsonRecord {
    return asRecord(this.spec.strategy) ?? {};
  }

  private fenceposts(): { surge: number; unavailable: number } {
    if (this.strategy.type === 'Recreate') return { surge: 0, unavailable: 0 };
    const ru = asRecord(this.strategy.rollingUpdate) ?? {};
    const surge = intOrPercent(ru.maxSurge ?? '25%', this.replicas, true);
    let unavailable = intOrPercent(ru.maxUnavailable ?? '25%', this.replicas, false);
    if (surge === 0 && unavailable === 0) unavailable = 1;
    return { surge, unavailable: Math.min(unavailable, this.replicas) };
  }

  private replicaSets(): KubeObject[] {
    const uid = this.d.metadata.uid ?? '';
    const out: KubeObject[] = [];
    for (const dep of this.ctx.service.store.dependentsOf(uid)) {
      if (dep.storage !== this.rsRt.storage) continue;
      const rs = this.ctx.service.store.get(dep.storage, dep.key);
      if (rs?.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller)) out.push(rs);
    }
    return out.sort((a, b) => {
      const ta = a.metadata.creationTimestamp ?? '';
      const tb = b.metadata.creationTimestamp ?? '';
      if (ta !== tb) return ta < tb ? -1 : 1;
      return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
    });
  }

  private split(): { newRS: KubeObject | undefined; oldRSs: KubeObject[] } {
    const all = this.replicaSets();
    const template = this.spec.template;
    const newRS = all.find((rs) => deepEqual(templateWithoutHash(asRecord(rs.spec)?.template), template));
    return { newRS, oldRSs: all.filter((rs) => rs !== newRS) };
  }

  private event(reason: string, message: string): void {
    this.ctx.events.record(this.d, this.dRt, 'Normal', reason, message, SOURCE);
  }

  private setProgressing(status: string, reason: string, message: string): void {
    const now = timestamp(this.now);
    this.conditions = setCondition(this.conditions, {
      type: 'Progressing',
      status,
      lastUpdateTime: now,
      lastTransitionTime: now,
      reason,
      message,
    });
  }

  // ---------------------------------------------------------------- ReplicaSets

  /** getAllReplicaSetsAndSyncRevision: finds (or creates) the new ReplicaSet and syncs revision annotations. */
  private syncRevision(createIfMissing: boolean): { newRS: KubeObject | undefined; oldRSs: KubeObject[] } {
    let { newRS, oldRSs } = this.split();
    const newRevision = Math.max(0, ...oldRSs.map(revisionOf)) + 1;
    if (newRS) {
      const current = revisionOf(newRS);
      if (current < newRevision || newRS.metadata.annotations?.[DESIRED_REPLICAS] === undefined) {
        const next = clone(newRS);
        const annotations = { ...next.metadata.annotations };
        if (current < newRevision) {
          if (current > 0) {
            const history = annotations[REVISION_HISTORY];
            annotations[REVISION_HISTORY] = history ? `${history},${current}` : String(current);
          }
          annotations[REVISION] = String(newRevision);
        }
        annotations[DESIRED_REPLICAS] = String(this.replicas);
        annotations[MAX_REPLICAS] = String(this.replicas + this.fenceposts().surge);
        next.metadata.annotations = annotations;
        newRS = this.ctx.service.update(this.rsRt, newRS, next, CONTROLLER_MANAGER);
      }
      if (!this.conditions.some((c) => c.type === 'Progressing')) {
        this.setProgressing('True', 'FoundNewReplicaSet', `Found new replica set "${newRS.metadata.name}"`);
      }
    } else if (createIfMissing) {
      newRS = this.createReplicaSet(oldRSs, newRevision);
    }
    if (newRS) this.syncDeploymentRevision(revisionOf(newRS));
    return { newRS, oldRSs };
  }

  private createReplicaSet(oldRSs: KubeObject[], revision: number): KubeObject {
    const namespace = this.d.metadata.namespace ?? 'default';
    const template = clone(asRecord(this.spec.template) ?? {});
    let hash = podTemplateHash(template, this.collisionCount);
    // A same-named ReplicaSet with another template is a hash collision: bump collisionCount and retry.
    for (
      let i = 0;
      i < 5 && this.ctx.service.store.get(this.rsRt.storage, objectKey(namespace, `${this.d.metadata.name}-${hash}`));
      i++
    ) {
      this.collisionCount++;
      hash = podTemplateHash(template, this.collisionCount);
    }
    const meta = asRecord(template.metadata) ?? {};
    template.metadata = meta;
    meta.labels = { ...(asRecord(meta.labels) ?? {}), [HASH_LABEL]: hash };
    const selector = clone(asRecord(this.spec.selector) ?? {});
    selector.matchLabels = { ...(asRecord(selector.matchLabels) ?? {}), [HASH_LABEL]: hash };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.d.metadata.annotations ?? {})) {
      if (k !== LAST_APPLIED && k !== REVISION && k !== REVISION_HISTORY) annotations[k] = v;
    }
    annotations[DESIRED_REPLICAS] = String(this.replicas);
    annotations[MAX_REPLICAS] = String(this.replicas + this.fenceposts().surge);
    annotations[REVISION] = String(revision);
    const replicas = this.strategy.type === 'Recreate' ? this.replicas : this.newReplicaSetReplicas(0, oldRSs);
    const rs = {
      apiVersion: this.rsRt.apiVersion,
      kind: 'ReplicaSet',
      metadata: {
        name: `${this.d.metadata.name}-${hash}`,
        namespace,
        labels: clone(meta.labels),
        annotations,
        ownerReferences: [
          {
            apiVersion: this.dRt.apiVersion,
            kind: 'Deployment',
            name: this.d.metadata.name,
            uid: this.d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { replicas, minReadySeconds: asNumber(this.spec.minReadySeconds) ?? 0, selector, template },
    };
    const created = this.ctx.service.create(this.rsRt, namespace, rs, CONTROLLER_MANAGER);
    this.setProgressing('True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`);
    if (replicas > 0)
      this.event('ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
    return created;
  }

  private syncDeploymentRevision(revision: number): void {
    if (this.d.metadata.annotations?.[REVISION] === String(revision)) return;
    const next = clone(this.d);
    next.metadata.annotations = { ...next.metadata.annotations, [REVISION]: String(revision) };
    this.d = this.ctx.service.update(this.dRt, this.d, next, CONTROLLER_MANAGER);
  }

  private scaleReplicaSet(rs: KubeObject, replicas: number): KubeObject {
    const from = specReplicas(rs);
    const annotations = rs.metadata.annotations ?? {};
    const desired = String(this.replicas);
    const max = String(this.replicas + this.fenceposts().surge);
    if (from === replicas && annotations[DESIRED_REPLICAS] === desired && annotations[MAX_REPLICAS] === max) return rs;
    const next = clone(rs);
    (next.spec as JsonRecord).replicas = replicas;
    next.metadata.annotations = { ...annotations, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
    const updated = this.ctx.service.update(this.rsRt, rs, next, CONTROLLER_MANAGER);
    if (from !== replicas) {
      const direction = replicas > from ? 'up' : 'down';
      this.event(
        'ScalingReplicaSet',
        `Scaled ${direction} replica set ${rs.metadata.name} from ${from} to ${replicas}`,
      );
    }
    return updated;
  }

  /** NewRSNewReplicas for RollingUpdate. */
  private newReplicaSetReplicas(current: number, oldRSs: KubeObject[]): number {
    const { surge } = this.fenceposts();
    const maxTotal = this.replicas + surge;
    const currentTotal = current + oldRSs.reduce((n, rs) => n + specReplicas(rs), 0);
    if (currentTotal >= maxTotal) return current;
    const scaleUp = maxTotal - currentTotal;
    return current + Math.min(scaleUp, Math.max(0, this.replicas - current));
  }

  // ---------------------------------------------------------------- strategies

  private rollingUpdate(): void {
    const { newRS, oldRSs } = this.syncRevision(true);
    if (!newRS) return;
    const current = specReplicas(newRS);
    if (current > this.replicas) {
      this.scaleReplicaSet(newRS, this.replicas);
      return;
    }
    if (current < this.replicas) {
      const target = this.newReplicaSetReplicas(current, oldRSs);
      if (target !== current) {
        this.scaleReplicaSet(newRS, target);
        return;
      }
    }
    if (this.scaleDownOld(newRS, oldRSs)) return;
    if (this.isComplete(this.counts())) this.cleanup();
  }

  /** reconcileOldReplicaSets: unhealthy old pods first, then available ones down to minAvailable. */
  private scaleDownOld(newRS: KubeObject, oldRSs: KubeObject[]): boolean {
    const active = oldRSs.filter((rs) => specReplicas(rs) > 0);
    if (active.length === 0) return false;
    const all = [newRS, ...oldRSs];
    const allPods = all.reduce((n, rs) => n + specReplicas(rs), 0);
    const minAvailable = this.replicas - this.fenceposts().unavailable;
    const newUnavailable = specReplicas(newRS) - statusNumber(newRS, 'availableReplicas');
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let changed = false;
    let cleaned = 0;
    const current = new Map(active.map((rs) => [rs.metadata.uid, rs]));
    for (const rs of active) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = specReplicas(rs) - statusNumber(rs, 'availableReplicas');
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      current.set(rs.metadata.uid, this.scaleReplicaSet(rs, specReplicas(rs) - down));
      cleaned += down;
      changed = true;
    }
    const available = all.reduce((n, rs) => n + statusNumber(rs, 'availableReplicas'), 0);
    if (available > minAvailable) {
      let remaining = available - minAvailable;
      for (const original of active) {
        const rs = current.get(original.metadata.uid) ?? original;
        if (remaining <= 0) break;
        const replicas = specReplicas(rs);
        if (replicas === 0) continue;
        const down = Math.min(replicas, remaining);
        this.scaleReplicaSet(rs, replicas - down);
        remaining -= down;
        changed = true;
      }
    }
    return changed;
  }

  private recreate(): void {
    let { newRS, oldRSs } = this.syncRevision(false);
    let scaledDown = false;
    for (const rs of oldRSs) {
      if (specReplicas(rs) > 0) {
        this.scaleReplicaSet(rs, 0);
        scaledDown = true;
      }
    }
    if (scaledDown) return;
    if (oldRSs.some((rs) => ownedPods(this.ctx, rs).length > 0)) return;
    if (!newRS) ({ newRS, oldRSs } = this.syncRevision(true));
    if (newRS && specReplicas(newRS) !== this.replicas) this.scaleReplicaSet(newRS, this.replicas);
    if (this.isComplete(this.counts())) this.cleanup();
  }

  /** dc.scale without proportional scaling: only when one ReplicaSet is active (or none is). */
  private scaleOnly(): void {
    const { newRS, oldRSs } = this.syncRevision(false);
    const target = this.activeOrLatest(newRS, oldRSs);
    if (target && specReplicas(target) !== this.replicas) this.scaleReplicaSet(target, this.replicas);
  }

  private activeOrLatest(newRS: KubeObject | undefined, oldRSs: KubeObject[]): KubeObject | undefined {
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const active = all.filter((rs) => specReplicas(rs) > 0);
    if (active.length === 1) return active[0];
    if (active.length === 0) return newRS ?? oldRSs[oldRSs.length - 1];
    return undefined;
  }

  private isScalingEvent(): boolean {
    const { newRS, oldRSs } = this.split();
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const active = all.filter((rs) => specReplicas(rs) > 0);
    if (!this.activeOrLatest(newRS, oldRSs)) return false;
    return active.some((rs) => {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && desired !== String(this.replicas);
    });
  }

  /** cleanupDeployment: deletes scaled-down old ReplicaSets beyond revisionHistoryLimit. */
  private cleanup(): void {
    const limit = asNumber(this.spec.revisionHistoryLimit) ?? 10;
    const { oldRSs } = this.split();
    const removable = oldRSs
      .filter((rs) => specReplicas(rs) === 0 && statusNumber(rs, 'replicas') === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    const excess = removable.length - limit;
    for (const rs of removable.slice(0, Math.max(0, excess))) {
      this.ctx.service.removeWithDependents(this.rsRt, rs, 'Background', 'controller');
    }
  }

  // ---------------------------------------------------------------- status

  private counts(): DeploymentStatusCounts {
    const { newRS, oldRSs } = this.split();
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const available = sum((rs) => statusNumber(rs, 'availableReplicas'));
    return {
      replicas: sum((rs) => statusNumber(rs, 'replicas')),
      updatedReplicas: newRS ? statusNumber(newRS, 'replicas') : 0,
      readyReplicas: sum((rs) => statusNumber(rs, 'readyReplicas')),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sum(specReplicas) - available),
    };
  }

  private isComplete(c: DeploymentStatusCounts): boolean {
    return c.updatedReplicas === this.replicas && c.replicas === this.replicas && c.availableReplicas === this.replicas;
  }

  private syncStatus(checkProgress: boolean): void {
    const counts = this.counts();
    const now = timestamp(this.now);
    const minAvailable = this.replicas - this.fenceposts().unavailable;
    const available = counts.availableReplicas >= minAvailable;
    this.conditions = setCondition(this.conditions, {
      type: 'Available',
      status: available ? 'True' : 'False',
      lastUpdateTime: now,
      lastTransitionTime: now,
      reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
    });
    if (checkProgress) this.checkProgress(counts);
    const status: JsonRecord = {};
    if (this.d.metadata.generation !== undefined) status.observedGeneration = this.d.metadata.generation;
    // DeploymentStatus counters are omitempty: zero values are not serialized.
    for (const [k, v] of Object.entries(counts)) if (v !== 0) status[k] = v;
    status.conditions = this.conditions;
    if (this.collisionCount > 0) status.collisionCount = this.collisionCount;
    writeStatus(this.ctx, this.dRt, this.d, status);
  }

  /** syncRolloutStatus: Progressing True/ReplicaSetUpdated on progress, NewReplicaSetAvailable when done, False/ProgressDeadlineExceeded after the deadline. */
  private checkProgress(counts: DeploymentStatusCounts): void {
    const { newRS } = this.split();
    const old = asRecord(this.d.status) ?? {};
    const current = this.conditions.find((c) => c.type === 'Progressing');
    const name = newRS?.metadata.name;
    if (counts.replicas === counts.updatedReplicas && current?.reason === 'NewReplicaSetAvailable') return;
    const oldUpdated = asNumber(old.updatedReplicas) ?? 0;
    const oldOldReplicas = (asNumber(old.replicas) ?? 0) - oldUpdated;
    const progressed =
      counts.updatedReplicas > oldUpdated ||
      counts.replicas - counts.updatedReplicas < oldOldReplicas ||
      counts.readyReplicas > (asNumber(old.readyReplicas) ?? 0) ||
      counts.availableReplicas > (asNumber(old.availableReplicas) ?? 0);
    if (this.isComplete(counts)) {
      const message = name
        ? `ReplicaSet "${name}" has successfully progressed.`
        : `Deployment "${this.d.metadata.name}" has successfully progressed.`;
      this.setProgressing('True', 'NewReplicaSetAvailable', message);
    } else if (progressed) {
      const now = timestamp(this.now);
      const message = name
        ? `ReplicaSet "${name}" is progressing.`
        : `Deployment "${this.d.metadata.name}" is progressing.`;
      const transition = current?.status === 'True' ? current.lastTransitionTime : now;
      this.conditions = [
        ...this.conditions.filter((c) => c.type !== 'Progressing'),
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: now,
          lastTransitionTime: transition,
          reason: 'ReplicaSetUpdated',
          message,
        },
      ];
    } else if (this.timedOut(current)) {
      const message = name
        ? `ReplicaSet "${name}" has timed out progressing.`
        : `Deployment "${this.d.metadata.name}" has timed out progressing.`;
      this.setProgressing('False', 'ProgressDeadlineExceeded', message);
    }
  }

  private timedOut(current: JsonRecord | undefined): boolean {
    if (!current) return false;
    if (current.reason === 'NewReplicaSetAvailable') return false;
    if (current.reason === 'ProgressDeadlineExceeded') return true;
    const deadline = asNumber(this.spec.progressDeadlineSeconds);
    const from = parseTimestamp(current.lastUpdateTime);
    if (deadline === undefined || from === undefined) return false;
    return from + deadline * 1000 < this.now;
  }

  // ---------------------------------------------------------------- entry point

  run(): void {
    const paused = this.spec.paused === true;
    const progressing = this.conditions.find((c) => c.type === 'Progressing');
    if (progressing?.reason !== 'ProgressDeadlineExceeded') {
      if (paused && progressing?.reason !== 'DeploymentPaused') {
        this.setProgressing('Unknown', 'DeploymentPaused', 'Deployment is paused');
      } else if (!paused && progressing?.reason === 'DeploymentPaused') {
        this.setProgressing('Unknown', 'DeploymentResumed', 'Deployment is resumed');
      }
    }
    if (paused) {
      this.scaleOnly();
      this.cleanup();
      this.syncStatus(false);
      return;
    }
    if (this.isScalingEvent()) {
      this.scaleOnly();
      this.syncStatus(false);
      return;
    }
    if (this.strategy.type === 'Recreate') this.recreate();
    else this.rollingUpdate();
    this.syncStatus(true);
  }
}

export function reconcileDeployment(ctx: ControllerContext, d: KubeObject, now: number): void {
  if (d.metadata.deletionTimestamp) return;
  if (!asString(d.metadata.name)) return;
  new DeploymentSync(ctx, d, now).run();
}
