// Direct, HTTP-free access to the fake's storage for tests: seed and inspect objects quickly.
import { randomUUID } from 'node:crypto';
import type { Controller } from './controller.ts';
import { clone, timestamp } from './json.ts';
import type { ObjectService } from './object-service.ts';
import { objectKey } from './store.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface PutOptions {
  /**
   * Let the controller act on the object as if it had come through the API: a Pod gets scheduled
   * and started, a Deployment rolls out. Default false: the object is stored exactly as given.
   */
  reconcile?: boolean;
}

export class FakeKubeStore {
  private readonly service: ObjectService;
  private readonly controller: Controller;

  constructor(service: ObjectService, controller: Controller) {
    this.service = service;
    this.controller = controller;
  }

  private type(resource: string): ResourceType {
    const rt = this.service.registry.resolve(resource);
    if (!rt)
      throw new Error(
        `fake-kube store: unknown resource "${resource}" (use a plural like "pods" or "deployments.apps")`,
      );
    return rt;
  }

  /** A copy of the object, with kind and apiVersion set; undefined when absent. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const rt = this.type(resource);
    const obj = this.service.find(rt, namespace, name);
    return obj ? clone(this.service.present(rt, obj)) : undefined;
  }

  /** Copies of all objects of a resource (optionally in one namespace), sorted by namespace/name. */
  list(resource: string, namespace?: string): KubeObject[] {
    const rt = this.type(resource);
    return this.service.store
      .list(rt.storage, rt.namespaced ? namespace : undefined)
      .map((o) => clone(this.service.present(rt, o)));
  }

  /**
   * Creates or replaces an object without validation, defaulting or the controller (unless asked).
   * Fills in uid, creationTimestamp, generation and the `default` namespace when missing, and bumps
   * the resourceVersion like any write, so watches see it. Namespaced objects need their namespace.
   */
  put(obj: KubeObject, opts: PutOptions = {}): KubeObject {
    const apiVersion = obj.apiVersion;
    const kind = obj.kind;
    if (!apiVersion || !kind) throw new Error('fake-kube store: put() needs apiVersion and kind');
    const rt = this.service.registry.forKind(apiVersion, kind);
    if (!rt) throw new Error(`fake-kube store: ${apiVersion} ${kind} is not served`);
    const next = clone(obj);
    const meta = next.metadata;
    if (!meta?.name) throw new Error('fake-kube store: put() needs metadata.name');
    if (rt.namespaced) {
      meta.namespace ??= 'default';
      if (!this.service.store.get('namespaces', meta.namespace)) {
        throw new Error(`fake-kube store: namespace "${meta.namespace}" does not exist; put the Namespace first`);
      }
    } else {
      delete meta.namespace;
    }
    const key = objectKey(meta.namespace, meta.name);
    const existing = this.service.store.get(rt.storage, key);
    meta.uid ??= existing?.metadata.uid ?? randomUUID();
    meta.creationTimestamp ??= existing?.metadata.creationTimestamp ?? timestamp();
    if (rt.hasGeneration) meta.generation ??= existing?.metadata.generation ?? 1;
    const stored = existing
      ? this.service.store.update(rt.storage, key, next, 'seed', opts.reconcile ?? false)
      : this.service.store.create(rt.storage, key, next, 'seed', opts.reconcile ?? false);
    return clone(this.service.present(rt, stored));
  }

  /** Deletes an object (and what it owns). Returns false when it did not exist. */
  delete(resource: string, namespace: string | undefined, name: string): boolean {
    const rt = this.type(resource);
    const obj = this.service.find(rt, namespace, name);
    if (!obj) return false;
    this.service.removeWithDependents(rt, obj, 'Background', 'seed');
    return true;
  }

  /** Starts controller work (pod lifecycle, rollout) for an object seeded without it. */
  reconcile(resource: string, namespace: string | undefined, name: string): void {
    const rt = this.type(resource);
    this.controller.manage(rt.storage, this.service.keyOf(rt, namespace, name));
  }

  /** The current global resourceVersion. */
  resourceVersion(): string {
    return String(this.service.store.resourceVersion());
  }

  /** Drops the watch history, so watches from any older resourceVersion get 410 Expired. */
  compactHistory(): void {
    this.service.store.compact();
  }
}
