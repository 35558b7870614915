// A fake Kubernetes API server for tests: real wire shapes over node:http on a random loopback port,
// with an in-process controller for Deployments, ReplicaSets and Pods. See README.md beside this file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from './controller.ts';
import { EventRecorder } from './events.ts';
import { FAKE_TOKEN, renderKubeconfig, writeKubeconfig } from './kubeconfig.ts';
import { ObjectService } from './object-service.ts';
import { ResourceRegistry } from './resources.ts';
import { seedCluster } from './seed.ts';
import { ApiServer, type Authorize, type FailureRule, type RequestRecord, type TokenUser } from './server.ts';
import { ObjectStore } from './store.ts';
import { FakeKubeStore } from './store-facade.ts';

export { FAKE_TOKEN } from './kubeconfig.ts';
export { LOG_LINES_ANNOTATION } from './logs.ts';
export { USAGE_ANNOTATION } from './metrics.ts';
export type { ImageBehaviour } from './pod-lifecycle.ts';
export { NODE_NAME } from './seed.ts';
export type { Authorize, FailureRule, RequestRecord, TokenUser } from './server.ts';
export type { PutOptions } from './store-facade.ts';
export { FakeKubeStore } from './store-facade.ts';
export type { KubeObject } from './types.ts';

export interface FakeKubeOptions {
  /** How long a normal container takes to become ready (default 300 ms). Also paces the controller. */
  readyDelayMs?: number;
  /** Cluster, context and kubeconfig entry name (default `fake`). */
  clusterName?: string;
  /** Whether metrics.k8s.io is served from the start (default true). */
  metricsAvailable?: boolean;
  /** How many change events watches can resume from (default 10,000). */
  watchHistoryLimit?: number;
  /** How long a deleted Namespace stays Terminating before it and its contents are gone (default readyDelayMs). */
  namespaceTerminationMs?: number;
  /**
   * Bearer tokens accepted besides FAKE_TOKEN (which authenticates as `fake-admin` and may
   * impersonate), each with its user and whether it may impersonate.
   */
  tokens?: Record<string, TokenUser>;
  /** RBAC stand-in: a reason refuses the request with 403 Forbidden; absent, all is allowed. */
  authorize?: Authorize;
}

export interface FakeKube {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** A kubeconfig in a temp dir: context `clusterName`, bearer token `fake-token`, namespace `default`. */
  kubeconfigPath: string;
  kubeconfigYaml: string;
  store: FakeKubeStore;
  /** Fail (status) and/or delay (delayMs) the next `times` requests matching method and path. */
  injectFailure(rule: FailureRule): void;
  clearFailures(): void;
  /** Every request served, in order (the live array: tests may truncate it). */
  requests: RequestRecord[];
  /** Adds or removes metrics.k8s.io from discovery; when removed its paths answer 404. */
  setMetricsAvailable(available: boolean): void;
  /** Ends every Terminating namespace now (it and its contents are removed), without waiting. */
  finishNamespaceTerminations(): void;
  close(): Promise<void>;
}

const CRD_STORAGE = 'customresourcedefinitions.apiextensions.k8s.io';

export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const readyDelayMs = opts.readyDelayMs ?? 300;
  const clusterName = opts.clusterName ?? 'fake';
  const registry = new ResourceRegistry({ metricsAvailable: opts.metricsAvailable ?? true });
  const store = new ObjectStore({ historyLimit: opts.watchHistoryLimit ?? 10_000 });
  // CRDs become served types as soon as they are stored, whoever stored them.
  store.subscribe((e) => {
    if (e.storage !== CRD_STORAGE) return;
    if (e.type === 'DELETED') registry.unregisterCrd(e.previous ?? e.object);
    else registry.registerCrd(e.object);
  });
  const service = new ObjectService(store, registry);
  const controller = new Controller({ service, events: new EventRecorder(store), readyDelayMs, nodeName: 'node-1' });
  controller.start();
  seedCluster(service);

  const server = new ApiServer({
    service,
    token: FAKE_TOKEN,
    namespaceTerminationMs: opts.namespaceTerminationMs ?? readyDelayMs,
    ...(opts.tokens ? { tokens: opts.tokens } : {}),
    ...(opts.authorize ? { authorize: opts.authorize } : {}),
  });
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    controller.stop();
    throw err;
  }
  const dir = await mkdtemp(join(tmpdir(), 'fake-kube-'));
  const kubeconfigYaml = renderKubeconfig({ clusterName, server: url, token: FAKE_TOKEN });
  const kubeconfigPath = await writeKubeconfig(dir, kubeconfigYaml);

  return {
    url,
    kubeconfigPath,
    kubeconfigYaml,
    store: new FakeKubeStore(service, controller),
    injectFailure: (rule) => server.injectFailure(rule),
    clearFailures: () => server.clearFailures(),
    requests: server.requests,
    setMetricsAvailable: (available) => registry.setMetricsAvailable(available),
    finishNamespaceTerminations: () => server.finishNamespaceTerminations(),
    close: async () => {
      controller.stop();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
