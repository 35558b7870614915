// Defaulting the API server applies on write, and the status a new object starts with.
import { asArray, asRecord, asString, ensureRecord, getIn, isRecord, type JsonRecord } from './json.ts';
import type { KubeObject, ResourceType } from './types.ts';

function setDefault(target: JsonRecord, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function imagePullPolicy(image: string): string {
  const lastSegment = image.split('/').pop() ?? image;
  if (lastSegment.includes('@')) return 'IfNotPresent';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: unknown): void {
  if (!isRecord(c)) return;
  setDefault(c, 'imagePullPolicy', imagePullPolicy(asString(c.image) ?? ''));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of asArray(c.ports)) if (isRecord(p)) setDefault(p, 'protocol', 'TCP');
}

export function defaultPodSpec(spec: JsonRecord): void {
  for (const c of asArray(spec.containers)) defaultContainer(c);
  for (const c of asArray(spec.initContainers)) defaultContainer(c);
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
}

function defaultTemplate(obj: KubeObject, path: readonly string[]): void {
  const spec = getIn(obj, path);
  if (isRecord(spec)) defaultPodSpec(spec);
}

/** Mutates a fresh copy of an object being written. */
export function applyDefaults(obj: KubeObject, rt: ResourceType): void {
  if (!rt.builtIn) return;
  const spec = () => ensureRecord(obj, ['spec']);
  switch (rt.kind) {
    case 'Pod': {
      const s = spec();
      defaultPodSpec(s);
      setDefault(s, 'serviceAccountName', 'default');
      setDefault(s, 'serviceAccount', s.serviceAccountName);
      setDefault(s, 'enableServiceLinks', true);
      setDefault(s, 'priority', 0);
      setDefault(s, 'preemptionPolicy', 'PreemptLowerPriority');
      setDefault(s, 'tolerations', [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ]);
      break;
    }
    case 'Deployment': {
      const s = spec();
      setDefault(s, 'replicas', 1);
      setDefault(s, 'revisionHistoryLimit', 10);
      setDefault(s, 'progressDeadlineSeconds', 600);
      const strategy = ensureRecord(s, ['strategy']);
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = ensureRecord(strategy, ['rollingUpdate']);
        setDefault(ru, 'maxUnavailable', '25%');
        setDefault(ru, 'maxSurge', '25%');
      }
      defaultTemplate(obj, ['spec', 'template', 'spec']);
      break;
    }
    case 'ReplicaSet':
    case 'ReplicationController':
      setDefault(spec(), 'replicas', 1);
      defaultTemplate(obj, ['spec', 'template', 'spec']);
      break;
    case 'StatefulSet': {
      const s = spec();
      setDefault(s, 'replicas', 1);
      setDefault(s, 'podManagementPolicy', 'OrderedReady');
      setDefault(s, 'revisionHistoryLimit', 10);
      setDefault(s, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      setDefault(s, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultTemplate(obj, ['spec', 'template', 'spec']);
      break;
    }
    case 'DaemonSet': {
      const s = spec();
      setDefault(s, 'revisionHistoryLimit', 10);
      setDefault(s, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      defaultTemplate(obj, ['spec', 'template', 'spec']);
      break;
    }
    case 'Job': {
      const s = spec();
      setDefault(s, 'parallelism', 1);
      setDefault(s, 'completions', 1);
      setDefault(s, 'backoffLimit', 6);
      setDefault(s, 'completionMode', 'NonIndexed');
      setDefault(s, 'suspend', false);
      defaultTemplate(obj, ['spec', 'template', 'spec']);
      break;
    }
    case 'CronJob': {
      const s = spec();
      setDefault(s, 'concurrencyPolicy', 'Allow');
      setDefault(s, 'suspend', false);
      setDefault(s, 'successfulJobsHistoryLimit', 3);
      setDefault(s, 'failedJobsHistoryLimit', 1);
      defaultTemplate(obj, ['spec', 'jobTemplate', 'spec', 'template', 'spec']);
      break;
    }
    case 'Service': {
      const s = spec();
      setDefault(s, 'type', 'ClusterIP');
      setDefault(s, 'sessionAffinity', 'None');
      setDefault(s, 'internalTrafficPolicy', 'Cluster');
      for (const p of asArray(s.ports)) {
        if (!isRecord(p)) continue;
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      break;
    }
    case 'Namespace': {
      setDefault(spec(), 'finalizers', ['kubernetes']);
      const name = obj.metadata.name;
      if (name) obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': name };
      break;
    }
    case 'Secret': {
      setDefault(obj, 'type', 'Opaque');
      const stringData = asRecord(obj.stringData);
      if (stringData) {
        const data = ensureRecord(obj, ['data']);
        for (const [k, v] of Object.entries(stringData)) {
          if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
        }
        delete obj.stringData;
      }
      break;
    }
  }
}

export function podQosClass(spec: unknown): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = asArray(getIn(spec, ['containers']));
  let anyResources = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = asRecord(getIn(c, ['resources', 'requests'])) ?? {};
    const limits = asRecord(getIn(c, ['resources', 'limits'])) ?? {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) anyResources = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined) guaranteed = false;
      else if (requests[r] !== undefined && requests[r] !== limits[r]) guaranteed = false;
    }
  }
  if (!anyResources) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** For types with a status subresource the server ignores the status sent on create. */
export function initialStatus(obj: KubeObject, rt: ResourceType): unknown {
  switch (rt.kind) {
    case 'Pod':
      return { phase: 'Pending', qosClass: podQosClass(obj.spec) };
    case 'Namespace':
      return { phase: 'Active' };
    case 'Service':
      return { loadBalancer: {} };
    case 'Node':
      return obj.status ?? {};
    default:
      return rt.builtIn ? {} : undefined;
  }
}
