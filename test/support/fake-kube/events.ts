// Core v1 Events as the kubelet and controllers record them, with count/lastTimestamp aggregation.
import { randomUUID } from 'node:crypto';
import { timestamp } from './json.ts';
import type { ObjectStore } from './store.ts';
import { objectKey } from './store.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly store: ObjectStore;
  /** aggregation key -> storage key of the event that is counted up */
  private readonly seen = new Map<string, string>();
  private counter = 0;

  constructor(store: ObjectStore) {
    this.store = store;
  }

  record(
    involved: KubeObject,
    rt: ResourceType,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
    fieldPath?: string,
  ): void {
    const namespace = involved.metadata.namespace ?? 'default';
    if (!this.store.get('namespaces', namespace)) return;
    const now = timestamp();
    const aggregate = [involved.metadata.uid, fieldPath ?? '', type, reason, message, source.component].join('\u0000');
    const existingKey = this.seen.get(aggregate);
    const existing = existingKey ? this.store.get('events', existingKey) : undefined;
    if (existingKey && existing) {
      const count = typeof existing.count === 'number' ? existing.count : 1;
      this.store.update('events', existingKey, { ...existing, count: count + 1, lastTimestamp: now }, 'controller');
      return;
    }
    const nanos = BigInt(Date.now()) * 1_000_000n + BigInt(this.counter++ % 1_000_000);
    const name = `${involved.metadata.name}.${nanos.toString(16)}`;
    const involvedObject: Record<string, unknown> = {
      kind: rt.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: rt.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
    };
    if (!involved.metadata.namespace) delete involvedObject.namespace;
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    const sourceDoc: Record<string, string> = { component: source.component };
    if (source.host) sourceDoc.host = source.host;
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, uid: randomUUID(), creationTimestamp: now },
      involvedObject,
      reason,
      message,
      source: sourceDoc,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    const key = objectKey(namespace, name);
    this.store.create('events', key, event, 'controller');
    this.seen.set(aggregate, key);
  }
}
