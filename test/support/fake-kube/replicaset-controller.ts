// ReplicaSet controller: keeps the number of owned pods at spec.replicas and reports status.
import { CONTROLLER_MANAGER, type ControllerContext, typeOf, writeStatus } from './controller-context.ts';
import { asNumber, asRecord, asStringMap, clone, getIn, isRecord, parseTimestamp } from './json.ts';
import { randomSuffix } from './object-service.ts';
import { objectKey } from './store.ts';
import type { KubeObject } from './types.ts';

function conditionTrue(obj: KubeObject, type: string): boolean {
  const conditions = getIn(obj, ['status', 'conditions']);
  return Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c.type === type && c.status === 'True');
}

export function isPodReady(pod: KubeObject): boolean {
  return conditionTrue(pod, 'Ready');
}

/** Ready for at least minReadySeconds. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const conditions = getIn(pod, ['status', 'conditions']);
  const ready = Array.isArray(conditions) ? conditions.find((c) => isRecord(c) && c.type === 'Ready') : undefined;
  const since = parseTimestamp(isRecord(ready) ? ready.lastTransitionTime : undefined);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** Pods whose controller owner is `owner`, excluding ones being deleted. */
export function ownedPods(ctx: ControllerContext, owner: KubeObject): KubeObject[] {
  const uid = owner.metadata.uid ?? '';
  const out: KubeObject[] = [];
  for (const dep of ctx.service.store.dependentsOf(uid)) {
    if (dep.storage !== 'pods') continue;
    const pod = ctx.service.store.get('pods', dep.key);
    if (!pod || pod.metadata.deletionTimestamp) continue;
    if (pod.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller)) out.push(pod);
  }
  return out;
}

/** The order the real controller deletes pods in: unscheduled, pending, not ready, then newest first. */
function deletionRank(pod: KubeObject): number {
  if (!getIn(pod, ['spec', 'nodeName'])) return 0;
  if (getIn(pod, ['status', 'phase']) === 'Pending') return 1;
  if (!isPodReady(pod)) return 2;
  return 3;
}

export function reconcileReplicaSet(ctx: ControllerContext, rs: KubeObject, now: number): void {
  const rsRt = typeOf(ctx, 'replicasets.apps');
  const podRt = typeOf(ctx, 'pods');
  const spec = asRecord(rs.spec) ?? {};
  const desired = asNumber(spec.replicas) ?? 1;
  const template = asRecord(spec.template) ?? {};
  const namespace = rs.metadata.namespace ?? 'default';
  let pods = ownedPods(ctx, rs);

  if (pods.length < desired) {
    for (let i = pods.length; i < desired; i++) {
      let name = `${rs.metadata.name}-${randomSuffix()}`;
      while (ctx.service.store.get('pods', objectKey(namespace, name))) name = `${rs.metadata.name}-${randomSuffix()}`;
      const templateMeta = asRecord(template.metadata) ?? {};
      const metadata: Record<string, unknown> = {
        name,
        generateName: `${rs.metadata.name}-`,
        namespace,
        labels: asStringMap(templateMeta.labels),
        ownerReferences: [
          {
            apiVersion: rsRt.apiVersion,
            kind: 'ReplicaSet',
            name: rs.metadata.name,
            uid: rs.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      };
      if (isRecord(templateMeta.annotations)) metadata.annotations = clone(templateMeta.annotations);
      const pod = ctx.service.create(
        podRt,
        namespace,
        { apiVersion: 'v1', kind: 'Pod', metadata, spec: clone(template.spec ?? {}) },
        CONTROLLER_MANAGER,
      );
      pods.push(pod);
      ctx.events.record(rs, rsRt, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, {
        component: 'replicaset-controller',
      });
    }
  } else if (pods.length > desired) {
    const victims = [...pods]
      .sort((a, b) => {
        const rank = deletionRank(a) - deletionRank(b);
        if (rank !== 0) return rank;
        return Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0);
      })
      .slice(0, pods.length - desired);
    for (const v of victims) {
      ctx.service.removeWithDependents(podRt, v, 'Background', 'controller');
      ctx.events.record(rs, rsRt, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, {
        component: 'replicaset-controller',
      });
    }
    const gone = new Set(victims.map((v) => v.metadata.uid));
    pods = pods.filter((p) => !gone.has(p.metadata.uid));
  }

  const current = ctx.service.store.get(rsRt.storage, objectKey(namespace, rs.metadata.name ?? ''));
  if (!current) return;
  const minReady = asNumber(spec.minReadySeconds) ?? 0;
  const templateLabels = asStringMap(getIn(template, ['metadata', 'labels']));
  const status: Record<string, unknown> = { replicas: pods.length };
  const fully = pods.filter((p) =>
    Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
  ).length;
  const ready = pods.filter(isPodReady).length;
  const available = pods.filter((p) => isPodAvailable(p, minReady, now)).length;
  // Zero-valued counters are omitempty in ReplicaSetStatus; replicas is always present.
  if (fully > 0) status.fullyLabeledReplicas = fully;
  if (ready > 0) status.readyReplicas = ready;
  if (available > 0) status.availableReplicas = available;
  if (current.metadata.generation !== undefined) status.observedGeneration = current.metadata.generation;
  writeStatus(ctx, rsRt, current, status);
}
