// The in-process control plane: a timer-driven loop running the scheduler/kubelet (pod lifecycle),
// the ReplicaSet and Deployment controllers, namespace defaults, and sane status for StatefulSets
// and DaemonSets (which are stored, but get no pods).
import { CONTROLLER_MANAGER, type ControllerContext, typeOf, writeStatus } from './controller-context.ts';
import { podTemplateHash, reconcileDeployment } from './deployment-controller.ts';
import { asNumber, asRecord } from './json.ts';
import { PodLifecycle } from './pod-lifecycle.ts';
import { reconcileReplicaSet } from './replicaset-controller.ts';
import { KubeApiError } from './status.ts';
import type { StoreEvent } from './store.ts';
import { objectKey } from './store.ts';
import type { KubeObject } from './types.ts';

const WORKLOADS = new Set(['deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'daemonsets.apps']);

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const FAKE_CA =
  '-----BEGIN CERTIFICATE-----\nZmFrZS1rdWJlIHJvb3QgQ0EgKG5vdCBhIHJlYWwgY2VydGlmaWNhdGUp\n-----END CERTIFICATE-----\n';

export class Controller {
  private readonly ctx: ControllerContext;
  private readonly lifecycle: PodLifecycle;
  /** `${storage}\u0000${key}` of workloads the controller reconciles. */
  private readonly managed = new Set<string>();
  private readonly pendingNamespaces = new Set<string>();
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private kickScheduled = false;
  private running = false;
  private unsubscribe: (() => void) | undefined;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.lifecycle = new PodLifecycle(ctx);
    this.tickMs = Math.max(5, Math.min(100, Math.round(ctx.readyDelayMs / 3)));
  }

  start(): void {
    this.unsubscribe = this.ctx.service.store.subscribe((e) => this.onEvent(e));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
  }

  /** Starts the pod lifecycle for a pod that was seeded without it. */
  manage(storage: string, key: string): void {
    const obj = this.ctx.service.store.get(storage, key);
    if (!obj) return;
    this.onEvent({ type: 'ADDED', storage, key, object: obj, rv: 0, origin: 'seed', reconcile: true });
  }

  private onEvent(e: StoreEvent): void {
    const id = `${e.storage}\u0000${e.key}`;
    if (e.type === 'DELETED') {
      this.managed.delete(id);
      if (e.storage === 'pods') this.lifecycle.forget(e.key);
      return;
    }
    if (!e.reconcile) return;
    if (e.storage === 'pods' && e.type === 'ADDED') this.lifecycle.track(e.key, e.object, Date.now());
    if (WORKLOADS.has(e.storage)) this.managed.add(id);
    if (e.storage === 'namespaces' && e.type === 'ADDED') this.pendingNamespaces.add(e.key);
    // Writes from outside the controller get a prompt reaction; its own writes wait for the next tick.
    if (e.origin !== 'controller') this.kick();
  }

  private kick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.tick();
    });
  }

  tick(): void {
    if (this.running) return;
    this.running = true;
    const now = Date.now();
    try {
      for (const ns of [...this.pendingNamespaces]) {
        this.pendingNamespaces.delete(ns);
        this.guard(`namespace ${ns}`, () => this.namespaceDefaults(ns));
      }
      this.lifecycle.tick(now);
      for (const storage of ['replicasets.apps', 'deployments.apps', 'statefulsets.apps', 'daemonsets.apps']) {
        for (const id of [...this.managed].sort()) {
          const [s, key] = id.split('\u0000') as [string, string];
          if (s !== storage) continue;
          const obj = this.ctx.service.store.get(s, key);
          if (!obj) {
            this.managed.delete(id);
            continue;
          }
          this.guard(`${s} ${key}`, () => this.reconcile(s, obj, now));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A real controller meets the same refusal while a namespace terminates, and retries quietly.
      if (err instanceof KubeApiError && err.status.details?.causes?.[0]?.reason === 'NamespaceTerminating') return;
      console.error(`fake-kube: controller failed on ${what}`, err);
    }
  }

  private reconcile(storage: string, obj: KubeObject, now: number): void {
    switch (storage) {
      case 'replicasets.apps':
        reconcileReplicaSet(this.ctx, obj, now);
        break;
      case 'deployments.apps':
        reconcileDeployment(this.ctx, obj, now);
        break;
      case 'statefulsets.apps':
        this.statefulSetStatus(obj);
        break;
      case 'daemonsets.apps':
        this.daemonSetStatus(obj);
        break;
    }
  }

  /** Every namespace gets a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap. */
  private namespaceDefaults(namespace: string): void {
    const ns = this.ctx.service.store.get('namespaces', namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const sa = typeOf(this.ctx, 'serviceaccounts');
    const cm = typeOf(this.ctx, 'configmaps');
    if (!this.ctx.service.store.get(sa.storage, objectKey(namespace, 'default'))) {
      this.ctx.service.create(sa, namespace, { metadata: { name: 'default' } }, CONTROLLER_MANAGER);
    }
    if (!this.ctx.service.store.get(cm.storage, objectKey(namespace, ROOT_CA_CONFIGMAP))) {
      const metadata = {
        name: ROOT_CA_CONFIGMAP,
        annotations: {
          'kubernetes.io/description':
            'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
        },
      };
      this.ctx.service.create(cm, namespace, { metadata, data: { 'ca.crt': FAKE_CA } }, CONTROLLER_MANAGER);
    }
  }

  private statefulSetStatus(sts: KubeObject): void {
    const rt = typeOf(this.ctx, 'statefulsets.apps');
    const replicas = asNumber(asRecord(sts.spec)?.replicas) ?? 1;
    const revision = `${sts.metadata.name}-${podTemplateHash(asRecord(sts.spec)?.template)}`;
    const status: Record<string, unknown> = { observedGeneration: sts.metadata.generation, replicas };
    if (replicas > 0) {
      Object.assign(status, {
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
      });
    }
    Object.assign(status, { currentRevision: revision, updateRevision: revision, collisionCount: 0 });
    writeStatus(this.ctx, rt, sts, status);
  }

  private daemonSetStatus(ds: KubeObject): void {
    const rt = typeOf(this.ctx, 'daemonsets.apps');
    const nodes = this.ctx.service.store.count('nodes');
    const status: Record<string, unknown> = {
      currentNumberScheduled: nodes,
      numberMisscheduled: 0,
      desiredNumberScheduled: nodes,
      numberReady: nodes,
      observedGeneration: ds.metadata.generation,
    };
    if (nodes > 0) Object.assign(status, { updatedNumberScheduled: nodes, numberAvailable: nodes });
    writeStatus(this.ctx, rt, ds, status);
  }
}
