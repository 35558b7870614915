/**
 * Compact kubectl-like rows for list output. Column logic follows kubectl's table printers
 * (k8s.io/kubernetes/pkg/printers/internalversion) so the values read like `kubectl get`.
 * Rows never carry Secret or ConfigMap values, only key counts.
 */
import { maskSecretsInText } from '../redact.ts';
import { humanDuration, parseTimestamp, sinceTimestamp } from './human-duration.ts';
import { arr, at, num, rec, records, str } from './object-guards.ts';

export type SummaryCell = string | number;
export type SummaryRow = Record<string, SummaryCell>;
export interface Summary {
  columns: string[];
  rows: SummaryRow[];
}

export const EVENT_MESSAGE_MAX_CHARS = 200;

const KIND_ALIASES: Record<string, string> = {};
function alias(kind: string, ...names: string[]): void {
  for (const name of [kind.toLowerCase(), ...names]) KIND_ALIASES[name] = kind;
}
alias('Pod', 'pods', 'po');
alias('Deployment', 'deployments', 'deploy');
alias('ReplicaSet', 'replicasets', 'rs');
alias('StatefulSet', 'statefulsets', 'sts');
alias('DaemonSet', 'daemonsets', 'ds');
alias('Job', 'jobs');
alias('CronJob', 'cronjobs', 'cj');
alias('Service', 'services', 'svc');
alias('Node', 'nodes', 'no');
alias('Namespace', 'namespaces', 'ns');
alias('Event', 'events', 'ev');
alias('ConfigMap', 'configmaps', 'cm');
alias('Secret', 'secrets');
alias('Ingress', 'ingresses', 'ing');
alias('PersistentVolumeClaim', 'persistentvolumeclaims', 'pvc');
alias('HorizontalPodAutoscaler', 'horizontalpodautoscalers', 'hpa');

/**
 * Resolves a kind, resource name or short name ("Pod", "pods", "po", "deployments.apps",
 * "PodList") to the kind with a dedicated printer, or undefined for anything else.
 */
export function printerKind(kind: string): string | undefined {
  let key = kind.trim();
  if (key.endsWith('List') && key.length > 4) key = key.slice(0, -4);
  key = key.toLowerCase();
  const dot = key.indexOf('.');
  if (dot > 0) key = key.slice(0, dot);
  return KIND_ALIASES[key];
}

type Printer = { columns: string[]; row: (obj: Record<string, unknown>, nowMs: number) => SummaryRow };

const PRINTERS: Record<string, Printer> = {
  Pod: { columns: ['name', 'namespace', 'ready', 'status', 'restarts', 'age', 'node'], row: podRow },
  Deployment: {
    columns: ['name', 'namespace', 'ready', 'upToDate', 'available', 'age', 'images'],
    row: (o, now) => ({
      ...base(o),
      ready: `${num(at(o, 'status', 'readyReplicas')) ?? 0}/${desired(o)}`,
      upToDate: num(at(o, 'status', 'updatedReplicas')) ?? 0,
      available: num(at(o, 'status', 'availableReplicas')) ?? 0,
      age: age(o, now),
      images: templateImages(o),
    }),
  },
  ReplicaSet: {
    columns: ['name', 'namespace', 'desired', 'current', 'ready', 'age'],
    row: (o, now) => ({
      ...base(o),
      desired: desired(o),
      current: num(at(o, 'status', 'replicas')) ?? 0,
      ready: num(at(o, 'status', 'readyReplicas')) ?? 0,
      age: age(o, now),
    }),
  },
  StatefulSet: {
    columns: ['name', 'namespace', 'ready', 'age'],
    row: (o, now) => ({
      ...base(o),
      ready: `${num(at(o, 'status', 'readyReplicas')) ?? 0}/${desired(o)}`,
      age: age(o, now),
    }),
  },
  DaemonSet: {
    columns: ['name', 'namespace', 'desired', 'current', 'ready', 'upToDate', 'available', 'age'],
    row: (o, now) => ({
      ...base(o),
      desired: num(at(o, 'status', 'desiredNumberScheduled')) ?? 0,
      current: num(at(o, 'status', 'currentNumberScheduled')) ?? 0,
      ready: num(at(o, 'status', 'numberReady')) ?? 0,
      upToDate: num(at(o, 'status', 'updatedNumberScheduled')) ?? 0,
      available: num(at(o, 'status', 'numberAvailable')) ?? 0,
      age: age(o, now),
    }),
  },
  Job: { columns: ['name', 'namespace', 'status', 'completions', 'duration', 'age'], row: jobRow },
  CronJob: {
    columns: ['name', 'namespace', 'schedule', 'suspend', 'active', 'lastSchedule', 'age'],
    row: (o, now) => {
      const suspend = at(o, 'spec', 'suspend');
      const last = at(o, 'status', 'lastScheduleTime');
      return {
        ...base(o),
        schedule: str(at(o, 'spec', 'schedule')) ?? '',
        suspend: suspend === true ? 'True' : suspend === false ? 'False' : '<unset>',
        active: arr(at(o, 'status', 'active')).length,
        lastSchedule: last ? sinceTimestamp(last, now) : '<none>',
        age: age(o, now),
      };
    },
  },
  Service: { columns: ['name', 'namespace', 'type', 'clusterIP', 'externalIP', 'ports', 'age'], row: serviceRow },
  Node: { columns: ['name', 'namespace', 'status', 'roles', 'age', 'version'], row: nodeRow },
  Namespace: {
    columns: ['name', 'namespace', 'status', 'age'],
    row: (o, now) => ({ ...base(o), status: str(at(o, 'status', 'phase')) ?? '', age: age(o, now) }),
  },
  Event: { columns: ['name', 'namespace', 'lastSeen', 'type', 'reason', 'object', 'count', 'message'], row: eventRow },
  ConfigMap: {
    columns: ['name', 'namespace', 'data', 'age'],
    row: (o, now) => ({ ...base(o), data: keyCount(o.data) + keyCount(o.binaryData), age: age(o, now) }),
  },
  Secret: {
    columns: ['name', 'namespace', 'type', 'data', 'age'],
    row: (o, now) => ({
      ...base(o),
      type: str(o.type) ?? '',
      data: new Set([...Object.keys(rec(o.data) ?? {}), ...Object.keys(rec(o.stringData) ?? {})]).size,
      age: age(o, now),
    }),
  },
  Ingress: { columns: ['name', 'namespace', 'class', 'hosts', 'address', 'ports', 'age'], row: ingressRow },
  PersistentVolumeClaim: {
    columns: ['name', 'namespace', 'status', 'volume', 'capacity', 'accessModes', 'storageClass', 'age'],
    row: pvcRow,
  },
  HorizontalPodAutoscaler: {
    columns: ['name', 'namespace', 'reference', 'targets', 'minPods', 'maxPods', 'replicas', 'age'],
    row: hpaRow,
  },
};

/** Summary rows for a list of objects of one kind. `nowMs` makes ages deterministic. */
export function summarize(kind: string, items: Record<string, unknown>[], nowMs: number): Summary {
  const resolved = printerKind(kind);
  const printer = resolved ? PRINTERS[resolved] : undefined;
  if (printer) return { columns: [...printer.columns], rows: items.map((item) => printer.row(item, nowMs)) };
  const rows = items.map((item) => genericRow(item, nowMs));
  const hasStatus = rows.some((r) => r.status !== undefined);
  if (hasStatus) for (const r of rows) r.status ??= '';
  return { columns: hasStatus ? ['name', 'namespace', 'age', 'status'] : ['name', 'namespace', 'age'], rows };
}

function base(o: Record<string, unknown>): SummaryRow {
  return { name: str(at(o, 'metadata', 'name')) ?? '', namespace: str(at(o, 'metadata', 'namespace')) ?? '' };
}

function age(o: Record<string, unknown>, nowMs: number): string {
  return sinceTimestamp(at(o, 'metadata', 'creationTimestamp'), nowMs);
}

/** spec.replicas; the API server defaults it to 1 when unset. */
function desired(o: Record<string, unknown>): number {
  return num(at(o, 'spec', 'replicas')) ?? 1;
}

function keyCount(value: unknown): number {
  return Object.keys(rec(value) ?? {}).length;
}

function templateImages(o: Record<string, unknown>): string {
  return records(at(o, 'spec', 'template', 'spec', 'containers'))
    .map((c) => str(c.image) ?? '')
    .join(',');
}

function hasCondition(o: Record<string, unknown>, type: string): boolean {
  return records(at(o, 'status', 'conditions')).some((c) => c.type === type && c.status === 'True');
}

function terminatedReason(terminated: Record<string, unknown>): string {
  const reason = str(terminated.reason);
  if (reason) return reason;
  const signal = num(terminated.signal) ?? 0;
  return signal !== 0 ? `Signal:${signal}` : `ExitCode:${num(terminated.exitCode) ?? 0}`;
}

/** kubectl's printPod: READY, STATUS (the reason column) and RESTARTS. */
export function podStatus(pod: Record<string, unknown>): { ready: string; status: string; restarts: number } {
  const status = rec(pod.status) ?? {};
  const initContainers = records(at(pod, 'spec', 'initContainers'));
  const restartable = new Set(initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => str(c.name)));
  let total = records(at(pod, 'spec', 'containers')).length + restartable.size;
  if (total === 0) total = records(status.containerStatuses).length;
  const phase = str(status.phase) ?? '';
  let reason = str(status.reason) || phase;
  for (const c of records(status.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let restarts = 0;
  let restartableRestarts = 0;
  let ready = 0;
  let initializing = false;
  const initStatuses = records(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    const count = num(cs.restartCount) ?? 0;
    restarts += count;
    const isRestartable = restartable.has(str(cs.name));
    if (isRestartable) restartableRestarts += count;
    const terminated = rec(at(cs, 'state', 'terminated'));
    const waiting = rec(at(cs, 'state', 'waiting'));
    if (terminated && (num(terminated.exitCode) ?? 0) === 0) continue;
    if (isRestartable && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    if (terminated) reason = `Init:${terminatedReason(terminated)}`;
    else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(pod, 'Initialized')) {
    restarts = restartableRestarts;
    let hasRunning = false;
    const statuses = records(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += num(cs.restartCount) ?? 0;
      const waiting = rec(at(cs, 'state', 'waiting'));
      const terminated = rec(at(cs, 'state', 'terminated'));
      const waitingReason = waiting ? str(waiting.reason) : undefined;
      if (waitingReason) reason = waitingReason;
      else if (terminated) reason = terminatedReason(terminated);
      else if (cs.ready === true && rec(at(cs, 'state', 'running'))) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(at(pod, 'metadata', 'deletionTimestamp'));
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

function podRow(o: Record<string, unknown>, now: number): SummaryRow {
  const { ready, status, restarts } = podStatus(o);
  return { ...base(o), ready, status, restarts, age: age(o, now), node: str(at(o, 'spec', 'nodeName')) || '<none>' };
}

function jobRow(o: Record<string, unknown>, now: number): SummaryRow {
  const succeeded = num(at(o, 'status', 'succeeded')) ?? 0;
  const completions = num(at(o, 'spec', 'completions'));
  const parallelism = num(at(o, 'spec', 'parallelism'));
  let completionsText: string;
  if (completions !== undefined) completionsText = `${succeeded}/${completions}`;
  else if (parallelism !== undefined && parallelism > 1) completionsText = `${succeeded}/1 of ${parallelism}`;
  else completionsText = `${succeeded}/1`;
  const start = parseTimestamp(at(o, 'status', 'startTime'));
  const end = parseTimestamp(at(o, 'status', 'completionTime'));
  const duration = start === undefined ? '' : humanDuration((end ?? now) - start);
  let status = 'Running';
  if (hasCondition(o, 'Complete')) status = 'Complete';
  else if (hasCondition(o, 'Failed')) status = 'Failed';
  else if (at(o, 'metadata', 'deletionTimestamp')) status = 'Terminating';
  else if (hasCondition(o, 'Suspended')) status = 'Suspended';
  else if (hasCondition(o, 'FailureTarget')) status = 'FailureTarget';
  else if (hasCondition(o, 'SuccessCriteriaMet')) status = 'SuccessCriteriaMet';
  return { ...base(o), status, completions: completionsText, duration, age: age(o, now) };
}

function loadBalancerAddresses(o: Record<string, unknown>): string[] {
  return records(at(o, 'status', 'loadBalancer', 'ingress'))
    .map((i) => str(i.ip) || str(i.hostname) || '')
    .filter((s) => s !== '');
}

function serviceRow(o: Record<string, unknown>, now: number): SummaryRow {
  const spec = rec(o.spec) ?? {};
  const type = str(spec.type) || 'ClusterIP';
  const clusterIPs = arr(spec.clusterIPs).filter((s): s is string => typeof s === 'string');
  const clusterIP = clusterIPs[0] || str(spec.clusterIP) || '<none>';
  const externalIPs = arr(spec.externalIPs).filter((s): s is string => typeof s === 'string');
  let externalIP: string;
  if (type === 'ClusterIP' || type === 'NodePort') externalIP = externalIPs.length ? externalIPs.join(',') : '<none>';
  else if (type === 'LoadBalancer') {
    const all = [...loadBalancerAddresses(o), ...externalIPs];
    externalIP = all.length ? all.join(',') : '<pending>';
  } else if (type === 'ExternalName') externalIP = str(spec.externalName) ?? '';
  else externalIP = '<unknown>';
  const ports = records(spec.ports)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      const nodePort = num(p.nodePort) ?? 0;
      return nodePort > 0 ? `${p.port}:${nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
  return { ...base(o), type, clusterIP, externalIP, ports: ports || '<none>', age: age(o, now) };
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';

function nodeRow(o: Record<string, unknown>, now: number): SummaryRow {
  const ready = records(at(o, 'status', 'conditions')).find((c) => c.type === 'Ready');
  const status: string[] = [];
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (at(o, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(rec(at(o, 'metadata', 'labels')) ?? {})) {
    if (key.startsWith(NODE_ROLE_PREFIX) && key.length > NODE_ROLE_PREFIX.length) {
      roles.add(key.slice(NODE_ROLE_PREFIX.length));
    } else if (key === 'kubernetes.io/role' && typeof value === 'string' && value !== '') roles.add(value);
  }
  return {
    name: str(at(o, 'metadata', 'name')) ?? '',
    namespace: '',
    status: status.join(','),
    roles: roles.size ? [...roles].sort().join(',') : '<none>',
    age: age(o, now),
    version: str(at(o, 'status', 'nodeInfo', 'kubeletVersion')) ?? '',
  };
}

function cutChars(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

function eventRow(o: Record<string, unknown>, now: number): SummaryRow {
  // core/v1 Event and events.k8s.io/v1 Event (regarding/note/series/deprecated* fields).
  const last =
    at(o, 'series', 'lastObservedTime') ??
    o.lastTimestamp ??
    o.deprecatedLastTimestamp ??
    o.firstTimestamp ??
    o.deprecatedFirstTimestamp ??
    o.eventTime;
  const involved = rec(o.involvedObject) ?? rec(o.regarding) ?? {};
  const kind = (str(involved.kind) ?? '').toLowerCase();
  const target = str(involved.name) ? `${kind}/${involved.name}` : kind;
  const message = maskSecretsInText((str(o.message) ?? str(o.note) ?? '').trim());
  return {
    ...base(o),
    lastSeen: sinceTimestamp(last, now),
    type: str(o.type) ?? '',
    reason: str(o.reason) ?? '',
    object: target,
    count: num(at(o, 'series', 'count')) ?? num(o.count) ?? num(o.deprecatedCount) ?? 1,
    message: cutChars(message, EVENT_MESSAGE_MAX_CHARS),
  };
}

function ingressRow(o: Record<string, unknown>, now: number): SummaryRow {
  const rules = records(at(o, 'spec', 'rules'));
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    const host = str(rule.host);
    if (!more && host) hosts.push(host);
  }
  let hostsText = hosts.length ? hosts.join(',') : '*';
  if (more) hostsText = `${hostsText} + ${rules.length - 3} more...`;
  return {
    ...base(o),
    class: str(at(o, 'spec', 'ingressClassName')) ?? '<none>',
    hosts: hostsText,
    address: loadBalancerAddresses(o).join(','),
    ports: arr(at(o, 'spec', 'tls')).length ? '80, 443' : '80',
    age: age(o, now),
  };
}

const ACCESS_MODES: Array<[string, string]> = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

function pvcRow(o: Record<string, unknown>, now: number): SummaryRow {
  const volume = str(at(o, 'spec', 'volumeName')) ?? '';
  const modes = arr(at(o, 'status', 'accessModes'));
  return {
    ...base(o),
    status: at(o, 'metadata', 'deletionTimestamp') ? 'Terminating' : (str(at(o, 'status', 'phase')) ?? ''),
    volume,
    capacity: volume ? String(at(o, 'status', 'capacity', 'storage') ?? '') : '',
    accessModes: volume
      ? ACCESS_MODES.filter(([mode]) => modes.includes(mode))
          .map(([, short]) => short)
          .join(',')
      : '',
    storageClass:
      str(at(o, 'metadata', 'annotations', 'volume.beta.kubernetes.io/storage-class')) ??
      str(at(o, 'spec', 'storageClassName')) ??
      '',
    age: age(o, now),
  };
}

function quantity(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** kubectl's formatHPAMetrics for autoscaling/v2 (and v1's CPU percentage). */
export function hpaTargets(o: Record<string, unknown>): string {
  const specs = records(at(o, 'spec', 'metrics'));
  const statuses = records(at(o, 'status', 'currentMetrics'));
  if (specs.length === 0) {
    const target = num(at(o, 'spec', 'targetCPUUtilizationPercentage'));
    if (target === undefined) return '<none>';
    const current = num(at(o, 'status', 'currentCPUUtilizationPercentage'));
    return `cpu: ${current === undefined ? '<unknown>' : `${current}%`}/${target}%`;
  }
  const list = specs.map((spec, i) => {
    const type = str(spec.type) ?? '';
    const key = type.charAt(0).toLowerCase() + type.slice(1);
    const source = rec(spec[key]) ?? {};
    const status = rec(statuses[i]?.[key]);
    const target = rec(source.target) ?? {};
    const current = rec(status?.current) ?? {};
    switch (type) {
      case 'External':
      case 'Object': {
        if (target.averageValue !== undefined) {
          return `${quantity(current.averageValue) ?? '<unknown>'}/${quantity(target.averageValue)} (avg)`;
        }
        return `${quantity(current.value) ?? '<unknown>'}/${quantity(target.value) ?? ''}`;
      }
      case 'Pods':
        return `${quantity(current.averageValue) ?? '<unknown>'}/${quantity(target.averageValue) ?? ''}`;
      case 'Resource':
      case 'ContainerResource': {
        const name = str(source.name) ?? '';
        if (target.averageValue !== undefined) {
          return `${name}: ${quantity(current.averageValue) ?? '<unknown>'}/${quantity(target.averageValue)}`;
        }
        const cur = num(current.averageUtilization);
        const tgt = num(target.averageUtilization);
        return `${name}: ${cur === undefined ? '<unknown>' : `${cur}%`}/${tgt === undefined ? '<auto>' : `${tgt}%`}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const shown = list.slice(0, 2).join(', ');
  return list.length > 2 ? `${shown} + ${list.length - 2} more...` : shown;
}

function hpaRow(o: Record<string, unknown>, now: number): SummaryRow {
  const ref = rec(at(o, 'spec', 'scaleTargetRef')) ?? {};
  const min = num(at(o, 'spec', 'minReplicas'));
  return {
    ...base(o),
    reference: `${str(ref.kind) ?? ''}/${str(ref.name) ?? ''}`,
    targets: hpaTargets(o),
    minPods: min === undefined ? '<unset>' : min,
    maxPods: num(at(o, 'spec', 'maxReplicas')) ?? 0,
    replicas: num(at(o, 'status', 'currentReplicas')) ?? 0,
    age: age(o, now),
  };
}

/** Anything else (CRDs): name, namespace, age, and status from .status.phase or a Ready condition. */
function genericRow(o: Record<string, unknown>, now: number): SummaryRow {
  const row: SummaryRow = { ...base(o), age: age(o, now) };
  const phase = str(at(o, 'status', 'phase'));
  const ready = records(at(o, 'status', 'conditions')).find((c) => c.type === 'Ready');
  if (phase) row.status = phase;
  else if (ready) {
    const reason = str(ready.reason);
    if (ready.status === 'True') row.status = 'Ready';
    else row.status = `${ready.status === 'False' ? 'NotReady' : 'Unknown'}${reason ? ` (${reason})` : ''}`;
  }
  return row;
}
