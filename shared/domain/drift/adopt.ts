/**
 * A baseline adopted from a live object (drift_baselines_adopt): what people and their tools set,
 * not what the cluster filled in. Kept: the fields owned (managedFields) by managers other than the
 * cluster's own controllers, the autoscalers of CONTROLLER_FIELDS and status writers. Dropped:
 * status, server-set metadata, fields nobody but a controller owns, and values equal to the API
 * server's well-known defaults (an object created with `kubectl create` owns its defaults too).
 * Without managedFields (an old object) the whole object is kept, minus the defaults.
 */
import { globToRegExp } from '../guardrails/glob.ts';
import { childByItem, childByKey, type OwnerNode, readOwnership } from './ownership.ts';
import { CONTROLLER_FIELDS } from './policy.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Managers that are the cluster itself, never a person's intent. */
const CLUSTER_MANAGERS = [
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-apiserver',
  ...CONTROLLER_FIELDS.flatMap((c) => c.managers),
].map(globToRegExp);

/** Pod spec defaults the API server fills in (the values of k8s.io/kubernetes pkg/apis/core/v1/defaults.go). */
const POD_DEFAULTS: Rec = {
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  schedulerName: 'default-scheduler',
  enableServiceLinks: true,
};
const CONTAINER_DEFAULTS: Rec = { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
const WORKLOAD_DEFAULTS: Rec = { revisionHistoryLimit: 10, progressDeadlineSeconds: 600 };

export function adoptableObject(live: Rec): Rec {
  const meta = isRec(live.metadata) ? live.metadata : {};
  const own = readOwnership(meta.managedFields);
  const allowed = new Set<number>();
  own.entries.forEach((e, i) => {
    if (e.subresource === 'status' || CLUSTER_MANAGERS.some((m) => m.test(e.manager))) return;
    allowed.add(i);
  });
  const out: Rec = {};
  if (typeof live.apiVersion === 'string') out.apiVersion = live.apiVersion;
  if (typeof live.kind === 'string') out.kind = live.kind;
  const m: Rec = { name: meta.name };
  if (meta.namespace) m.namespace = meta.namespace;
  out.metadata = m;
  const useOwnership = own.entries.length > 0;
  for (const key of Object.keys(live)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status' || key === 'metadata') continue;
    if (!useOwnership) out[key] = structuredClone(live[key]);
    else {
      const node = childByKey(own.root, key);
      if (node && owned(node, allowed)) out[key] = project(live[key], node, allowed);
    }
  }
  for (const key of ['labels', 'annotations']) {
    const node = childByKey(childByKey(own.root, 'metadata'), key);
    if (isRec(meta[key]) && (!useOwnership || (node && owned(node, allowed))))
      m[key] = useOwnership && node ? project(meta[key], node, allowed) : structuredClone(meta[key]);
  }
  dropDefaults(out);
  return out;
}

function owned(node: OwnerNode, allowed: Set<number>, depth = 0): boolean {
  if (node.owners.some((o) => allowed.has(o))) return true;
  if (depth > 64) return false;
  const kids = [
    ...(node.f?.values() ?? []),
    ...(node.k ?? []).map((e) => e.node),
    ...(node.v ?? []).map((e) => e.node),
    ...(node.i?.values() ?? []),
  ];
  return kids.some((k) => owned(k, allowed, depth + 1));
}

function project(value: unknown, node: OwnerNode, allowed: Set<number>): unknown {
  const leaf = !node.f && !node.k && !node.v && !node.i;
  if (leaf || (!isRec(value) && !Array.isArray(value))) return structuredClone(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const child = childByItem(node, item, i);
      if (child && owned(child, allowed)) out.push(project(item, child, allowed));
    });
    return out;
  }
  const out: Rec = {};
  for (const key of Object.keys(value)) {
    const child = childByKey(node, key);
    if (child && owned(child, allowed)) out[key] = project(value[key], child, allowed);
  }
  return out;
}

function dropEqual(target: unknown, defaults: Rec): void {
  if (!isRec(target)) return;
  for (const [k, v] of Object.entries(defaults)) if (target[k] === v) delete target[k];
}

function dropPodDefaults(spec: unknown): void {
  if (!isRec(spec)) return;
  dropEqual(spec, POD_DEFAULTS);
  for (const list of ['containers', 'initContainers']) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    for (const c of items) {
      dropEqual(c, CONTAINER_DEFAULTS);
      if (isRec(c) && Array.isArray(c.ports))
        for (const p of c.ports) if (isRec(p) && p.protocol === 'TCP') delete p.protocol;
    }
  }
}

function dropDefaults(obj: Rec): void {
  const spec = obj.spec;
  if (!isRec(spec)) return;
  if (obj.kind === 'Pod') {
    dropPodDefaults(spec);
    return;
  }
  dropEqual(spec, WORKLOAD_DEFAULTS);
  if (isRec(spec.template)) dropPodDefaults(spec.template.spec);
}
