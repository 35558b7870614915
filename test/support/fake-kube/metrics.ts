// metrics.k8s.io/v1beta1 as metrics-server serves it, with usage derived deterministically from
// each container's requests (between 20% and 60% of the request, fixed per pod/container name),
// or set per container by the pod's USAGE_ANNOTATION.
import { createHash } from 'node:crypto';
import { asArray, asRecord, asString, getIn, timestamp } from './json.ts';
import { cpuMillis, memoryBytes, parseQuantity } from './quantity.ts';
import type { KubeObject } from './types.ts';

const DEFAULT_CPU_MILLIS = 5;
const DEFAULT_MEMORY_BYTES = 24 * 2 ** 20;
const SYSTEM_CPU_MILLIS = 180;
const SYSTEM_MEMORY_BYTES = 900 * 2 ** 20;

interface Usage {
  cpuNanos: number;
  memoryBytes: number;
}

function fraction(seed: string): number {
  const n = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return 0.2 + (n % 400) / 1000;
}

/**
 * Pins a pod's usage, per container, as quantities: `{"app": {"cpu": "250m", "memory": "128Mi"}}`.
 * Change the annotation between reads to make usage vary over time. A container not named (or a
 * value that is not a quantity) keeps the derived usage. Served in metrics-server's own units
 * (nanocores, KiB), as a real reading would be.
 */
export const USAGE_ANNOTATION = 'fake.kube/usage';

function pinnedUsage(pod: KubeObject, name: string): Partial<Usage> {
  const raw = pod.metadata.annotations?.[USAGE_ANNOTATION];
  if (typeof raw !== 'string') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return {};
  }
  const entry = asRecord(asRecord(doc)?.[name]);
  const cpu = parseQuantity(entry?.cpu);
  const mem = parseQuantity(entry?.memory);
  return {
    ...(cpu !== undefined && cpu >= 0 ? { cpuNanos: Math.round(cpu * 1e9) } : {}),
    ...(mem !== undefined && mem >= 0 ? { memoryBytes: Math.round(mem) } : {}),
  };
}

function containerUsage(pod: KubeObject, container: unknown): Usage {
  const name = asString(getIn(container, ['name'])) ?? '';
  const pinned = pinnedUsage(pod, name);
  const seed = `${pod.metadata.namespace}/${pod.metadata.name}/${name}`;
  const f = fraction(seed);
  const requests = getIn(container, ['resources', 'requests']);
  const limits = getIn(container, ['resources', 'limits']);
  const cpu = cpuMillis(getIn(requests, ['cpu'])) ?? cpuMillis(getIn(limits, ['cpu']));
  const mem = memoryBytes(getIn(requests, ['memory'])) ?? memoryBytes(getIn(limits, ['memory']));
  return {
    cpuNanos: pinned.cpuNanos ?? Math.round((cpu ?? DEFAULT_CPU_MILLIS / 0.4) * f * 1_000_000),
    memoryBytes: pinned.memoryBytes ?? Math.round((mem ?? DEFAULT_MEMORY_BYTES / 0.4) * f),
  };
}

function usageDoc(u: Usage): { cpu: string; memory: string } {
  return { cpu: `${u.cpuNanos}n`, memory: `${Math.round(u.memoryBytes / 1024)}Ki` };
}

function window(now: number): { timestamp: string; window: string } {
  return { timestamp: timestamp(now - 5000), window: '15.012s' };
}

export function isRunning(pod: KubeObject): boolean {
  return getIn(pod, ['status', 'phase']) === 'Running';
}

export function podMetrics(pod: KubeObject, now: number = Date.now()): KubeObject {
  const metadata: Record<string, unknown> = {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace,
    creationTimestamp: timestamp(now),
  };
  if (pod.metadata.labels) metadata.labels = { ...pod.metadata.labels };
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata,
    ...window(now),
    containers: asArray(getIn(pod, ['spec', 'containers'])).map((c) => ({
      name: asString(getIn(c, ['name'])) ?? '',
      usage: usageDoc(containerUsage(pod, c)),
    })),
  } as KubeObject;
}

export function nodeMetrics(node: KubeObject, podsOnNode: readonly KubeObject[], now: number = Date.now()): KubeObject {
  const total: Usage = { cpuNanos: SYSTEM_CPU_MILLIS * 1_000_000, memoryBytes: SYSTEM_MEMORY_BYTES };
  for (const pod of podsOnNode) {
    for (const c of asArray(getIn(pod, ['spec', 'containers']))) {
      const u = containerUsage(pod, c);
      total.cpuNanos += u.cpuNanos;
      total.memoryBytes += u.memoryBytes;
    }
  }
  const metadata: Record<string, unknown> = { name: node.metadata.name, creationTimestamp: timestamp(now) };
  if (node.metadata.labels) metadata.labels = { ...node.metadata.labels };
  return {
    kind: 'NodeMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata,
    ...window(now),
    usage: usageDoc(total),
  } as KubeObject;
}
