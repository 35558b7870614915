// The fake Kubernetes API server, driven only through the real @kubernetes/client-node
// (and plain fetch where the client has no method), to hold it to real wire behaviour.
import {
  ApiException,
  ApiextensionsV1Api,
  ApisApi,
  AppsV1Api,
  CoreApi,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  Metrics,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, LOG_LINES_ANNOTATION, startFakeKube } from '../support/fake-kube/index.ts';

const READY_DELAY_MS = 40;

let fake: FakeKube;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  fake = await startFakeKube({ readyDelayMs: READY_DELAY_MS, clusterName: 'itest' });
  kc = new KubeConfig();
  kc.loadFromFile(fake.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await fake?.close();
});

// ------------------------------------------------------------------ helpers

interface StatusBody {
  kind?: string;
  apiVersion?: string;
  metadata?: Record<string, unknown>;
  status?: string;
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
  };
  code?: number;
}

async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: StatusBody }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) {
      const raw: unknown = err.body;
      const body =
        typeof raw === 'string' && raw.startsWith('{') ? (JSON.parse(raw) as StatusBody) : { message: String(raw) };
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('expected the request to fail');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('Authorization')) headers.set('Authorization', 'Bearer fake-token');
  return fetch(`${fake.url}${path}`, { ...init, headers });
}

async function rawJson(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await raw(path, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function createNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

function deployment(
  name: string,
  image: string,
  replicas: number,
  extra: Partial<V1Deployment['spec']> = {},
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
      ...extra,
    },
  };
}

function condition(d: V1Deployment, type: string) {
  return d.status?.conditions?.find((c) => c.type === type);
}

async function replicaSetsOf(namespace: string, app: string): Promise<V1ReplicaSet[]> {
  const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${app}` });
  return list.items;
}

function revision(rs: V1ReplicaSet): string | undefined {
  return rs.metadata?.annotations?.['deployment.kubernetes.io/revision'];
}

async function availableDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
  return waitFor(`deployment ${name} to have ${replicas} available`, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const done =
      d.status?.observedGeneration === d.metadata?.generation &&
      d.status?.updatedReplicas === replicas &&
      d.status?.availableReplicas === replicas &&
      (d.status?.replicas ?? 0) === replicas &&
      condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable';
    return done ? d : undefined;
  });
}

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// ------------------------------------------------------------------ discovery

describe('discovery', () => {
  it('serves core, group and subresource discovery with real shapes', async () => {
    const versions = await kc.makeApiClient(CoreApi).getAPIVersions();
    expect(versions.versions).toEqual(['v1']);

    const coreResources = await core.getAPIResources();
    expect(coreResources.groupVersion).toBe('v1');
    const pods = coreResources.resources.find((r) => r.name === 'pods');
    expect(pods).toMatchObject({ namespaced: true, kind: 'Pod', shortNames: ['po'], singularName: 'pod' });
    expect(pods?.verbs).toEqual(
      expect.arrayContaining(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
    );
    expect(coreResources.resources.find((r) => r.name === 'pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(coreResources.resources.find((r) => r.name === 'namespaces')).toMatchObject({
      namespaced: false,
      shortNames: ['ns'],
    });
    for (const name of [
      'services',
      'configmaps',
      'secrets',
      'events',
      'nodes',
      'serviceaccounts',
      'persistentvolumeclaims',
      'endpoints',
      'replicationcontrollers',
    ]) {
      expect(coreResources.resources.some((r) => r.name === name)).toBe(true);
    }

    const appsResources = await apps.getAPIResources();
    expect(appsResources.resources.find((r) => r.name === 'deployments')).toMatchObject({
      kind: 'Deployment',
      shortNames: ['deploy'],
    });
    expect(appsResources.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
    expect(appsResources.resources.some((r) => r.name === 'deployments/status')).toBe(true);

    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    for (const g of [
      'apps',
      'batch',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
      'policy',
      'autoscaling',
      'events.k8s.io',
      'metrics.k8s.io',
    ]) {
      expect(names).toContain(g);
    }
    expect(groups.groups.find((g) => g.name === 'autoscaling')?.preferredVersion?.version).toBe('v2');
  });

  it('makes a CustomResourceDefinition servable and removes it again', async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
              subresources: { status: {} },
            },
          ],
        },
      },
    });
    const crd = await ext.readCustomResourceDefinition({ name: 'widgets.example.com' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');

    const group = await rawJson('/apis/example.com/v1');
    expect(group.status).toBe(200);
    expect(group.body.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'widgets', namespaced: true, kind: 'Widget', shortNames: ['wd'] }),
      ]),
    );
    expect((await kc.makeApiClient(ApisApi).getAPIVersions()).groups.map((g) => g.name)).toContain('example.com');

    await createNamespace('crd-ns');
    await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'crd-ns',
      plural: 'widgets',
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
    });
    const list: unknown = await custom.listNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'crd-ns',
      plural: 'widgets',
    });
    expect(list).toMatchObject({
      kind: 'WidgetList',
      items: [{ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'w1', generation: 1 } }],
    });

    // Custom resources have no strategic merge patch.
    const smpAttempt = await apiError(
      custom.patchNamespacedCustomObject(
        {
          group: 'example.com',
          version: 'v1',
          namespace: 'crd-ns',
          plural: 'widgets',
          name: 'w1',
          body: { spec: { size: 4 } },
        },
        smp,
      ),
    );
    expect(smpAttempt.code).toBe(415);

    await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    expect((await raw('/apis/example.com/v1/namespaces/crd-ns/widgets')).status).toBe(404);
    expect((await kc.makeApiClient(ApisApi).getAPIVersions()).groups.map((g) => g.name)).not.toContain('example.com');
  });
});

// ------------------------------------------------------------------ CRUD and Status errors

describe('CRUD and Status errors', () => {
  beforeAll(async () => {
    await createNamespace('crud');
  });

  it('creates, reads and reports AlreadyExists / NotFound exactly like the API server', async () => {
    const pod = await core.createNamespacedPod({
      namespace: 'crud',
      body: {
        metadata: { name: 'p1', labels: { app: 'x' } },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
      },
    });
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(pod.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(pod.spec?.restartPolicy).toBe('Always');
    expect(pod.status?.phase).toBe('Pending');
    const read = await core.readNamespacedPod({ name: 'p1', namespace: 'crud' });
    expect(read.metadata?.uid).toBe(pod.metadata?.uid);

    const dup = await apiError(
      core.createNamespacedPod({
        namespace: 'crud',
        body: { metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      }),
    );
    expect(dup.code).toBe(409);
    expect(dup.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "p1" already exists',
      reason: 'AlreadyExists',
      details: { name: 'p1', kind: 'pods' },
      code: 409,
    });

    const missing = await apiError(core.readNamespacedPod({ name: 'nope', namespace: 'crud' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
    });
    const missingDeploy = await apiError(apps.readNamespacedDeployment({ name: 'nope', namespace: 'crud' }));
    expect(missingDeploy.body).toMatchObject({
      message: 'deployments.apps "nope" not found',
      details: { group: 'apps', kind: 'deployments' },
    });

    const noNs = await apiError(
      core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'c' } } }),
    );
    expect(noNs.code).toBe(404);
    expect(noNs.body.message).toBe('namespaces "ghost" not found');
  });

  it('rejects invalid objects with 422 and field causes', async () => {
    const noSelector = await apiError(
      apps.createNamespacedDeployment({
        namespace: 'crud',
        body: {
          metadata: { name: 'bad' },
          spec: { template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
          // Deliberately invalid: the client's types require a selector.
        } as unknown as V1Deployment,
      }),
    );
    expect(noSelector.code).toBe(422);
    expect(noSelector.body.reason).toBe('Invalid');
    expect(noSelector.body.details).toMatchObject({ name: 'bad', group: 'apps', kind: 'Deployment' });
    expect(noSelector.body.details?.causes).toContainEqual({
      reason: 'FieldValueRequired',
      message: 'Required value',
      field: 'spec.selector',
    });
    expect(noSelector.body.message).toBe('Deployment.apps "bad" is invalid: spec.selector: Required value');

    const mismatch = await apiError(
      apps.createNamespacedDeployment({
        namespace: 'crud',
        body: {
          metadata: { name: 'bad2' },
          spec: {
            selector: { matchLabels: { app: 'a' } },
            template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
          },
        },
      }),
    );
    expect(mismatch.body.details?.causes?.[0]).toMatchObject({
      field: 'spec.template.metadata.labels',
      reason: 'FieldValueInvalid',
    });
    expect(mismatch.body.details?.causes?.[0]?.message).toContain('`selector` does not match template `labels`');

    const badName = await apiError(
      core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'Not_Valid' } } }),
    );
    expect(badName.code).toBe(422);
    expect(badName.body.details?.causes?.[0]?.field).toBe('metadata.name');
    expect(badName.body.message).toContain(
      'ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain',
    );

    const noName = await apiError(core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: {} } }));
    expect(noName.body.details?.causes?.[0]).toEqual({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  });

  it('enforces optimistic concurrency on replace and keeps generation for metadata-only changes', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'crud',
      body: { metadata: { name: 'cc' }, data: { a: '1' } },
    });
    const updated = await core.replaceNamespacedConfigMap({
      name: 'cc',
      namespace: 'crud',
      body: { ...cm, data: { a: '2' } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const stale = await apiError(
      core.replaceNamespacedConfigMap({ name: 'cc', namespace: 'crud', body: { ...cm, data: { a: '3' } } }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cc": the object has been modified; please apply your changes to the latest version and try again',
    });

    const d = await apps.createNamespacedDeployment({ namespace: 'crud', body: deployment('gen', 'nginx:1.25', 0) });
    expect(d.metadata?.generation).toBe(1);
    const labelled = await apps.patchNamespacedDeployment(
      { name: 'gen', namespace: 'crud', body: { metadata: { labels: { team: 'a' } } } },
      mergePatch,
    );
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await apps.patchNamespacedDeployment(
      { name: 'gen', namespace: 'crud', body: { spec: { replicas: 0, paused: true } } },
      mergePatch,
    );
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('separates the status subresource from the main resource, and keeps most of a pod spec immutable', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'crud',
      body: deployment('st', 'nginx:1.25', 0, { paused: true }),
    });
    const current = await apps.readNamespacedDeployment({ name: 'st', namespace: 'crud' });
    const viaMain = await apps.replaceNamespacedDeployment({
      name: 'st',
      namespace: 'crud',
      body: { ...current, status: { ...current.status, replicas: 42 } },
    });
    expect(viaMain.status?.replicas).toBeUndefined();

    const fresh = await apps.readNamespacedDeployment({ name: 'st', namespace: 'crud' });
    const viaStatus = await apps.replaceNamespacedDeploymentStatus({
      name: 'st',
      namespace: 'crud',
      body: {
        ...fresh,
        spec: { ...(fresh.spec as NonNullable<V1Deployment['spec']>), replicas: 9 },
        status: { ...fresh.status, observedGeneration: 99 },
      },
    });
    expect(viaStatus.status?.observedGeneration).toBe(99);
    expect(viaStatus.spec?.replicas).toBe(0);
    expect(viaStatus.metadata?.generation).toBe(fresh.metadata?.generation);

    await core.createNamespacedPod({
      namespace: 'crud',
      body: { metadata: { name: 'immutable' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
    });
    const image = await core.patchNamespacedPod(
      { name: 'immutable', namespace: 'crud', body: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } },
      smp,
    );
    expect(image.spec?.containers[0]?.image).toBe('busybox:2');
    const forbidden = await apiError(
      core.patchNamespacedPod(
        { name: 'immutable', namespace: 'crud', body: { spec: { restartPolicy: 'Never' } } },
        mergePatch,
      ),
    );
    expect(forbidden.code).toBe(422);
    expect(forbidden.body.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'spec' });
    expect(forbidden.body.message).toMatch(
      /^Pod "immutable" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
  });

  it('serves typed lists without kind/apiVersion on items, and rejects a wrong token', async () => {
    const { status, body } = await rawJson('/api/v1/namespaces/crud/pods');
    expect(status).toBe(200);
    expect(body).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    const items = body.items as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThan(0);
    expect(items[0]).not.toHaveProperty('kind');
    expect(items[0]).not.toHaveProperty('apiVersion');
    expect(typeof (body.metadata as Record<string, unknown>).resourceVersion).toBe('string');

    const denied = await raw('/api/v1/namespaces', { headers: { Authorization: 'Bearer wrong' } });
    expect(denied.status).toBe(401);
  });

  it('cascades deletes: Deployment to ReplicaSets and Pods, Namespace to its contents, collections by label', async () => {
    await createNamespace('gc');
    await apps.createNamespacedDeployment({ namespace: 'gc', body: deployment('gcd', 'nginx:1.25', 2) });
    await availableDeployment('gc', 'gcd', 2);
    const status = await apps.deleteNamespacedDeployment({ name: 'gcd', namespace: 'gc' });
    expect(status).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'gcd', group: 'apps', kind: 'deployments' },
    });
    expect((await apps.listNamespacedReplicaSet({ namespace: 'gc' })).items).toHaveLength(0);
    expect((await core.listNamespacedPod({ namespace: 'gc' })).items).toHaveLength(0);

    for (const [name, tier] of [
      ['a', 'web'],
      ['b', 'web'],
      ['c', 'db'],
    ]) {
      await core.createNamespacedConfigMap({
        namespace: 'gc',
        body: { metadata: { name: `cm-${name}`, labels: { tier: tier ?? '' } } },
      });
    }
    // The server answers a collection delete with the list of deleted objects (client-node types it as V1Status).
    const deleted = await rawJson('/api/v1/namespaces/gc/configmaps?labelSelector=tier%3Dweb', { method: 'DELETE' });
    expect(deleted.body.kind).toBe('ConfigMapList');
    expect((deleted.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).toEqual([
      'cm-a',
      'cm-b',
    ]);
    expect((await core.deleteCollectionNamespacedConfigMap({ namespace: 'gc', labelSelector: 'tier=none' })).kind).toBe(
      'ConfigMapList',
    );
    const left = (await core.listNamespacedConfigMap({ namespace: 'gc' })).items.map((i) => i.metadata?.name);
    expect(left).toContain('cm-c');
    expect(left).not.toContain('cm-a');

    // Deleting a namespace answers with the Namespace, now Terminating (client-node types it as V1Status).
    const ns = await rawJson('/api/v1/namespaces/gc', { method: 'DELETE' });
    expect(ns.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    // The namespace controller empties it, then it is gone.
    await waitFor('namespace gc gone', async () => (await apiError(core.readNamespace({ name: 'gc' }))).code === 404);
    expect((await core.listNamespacedConfigMap({ namespace: 'gc' })).items).toHaveLength(0);
  });
});

// ------------------------------------------------------------------ lists

describe('list selectors and paging over 5,000 pods', () => {
  const TOTAL = 5000;

  beforeAll(async () => {
    await createNamespace('bulk');
    await createNamespace('bulk-extra');
    for (let i = 0; i < TOTAL; i++) {
      const name = `pod-${String(i).padStart(5, '0')}`;
      const labels: Record<string, string> = { app: ['a', 'b', 'c', 'd'][i % 4] ?? 'a' };
      if (i % 10 === 0) labels.tier = 'gold';
      fake.store.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'bulk', labels },
        spec: { nodeName: i % 2 === 0 ? 'node-1' : 'node-2', containers: [{ name: 'c', image: 'busybox' }] },
        status: { phase: i % 5 === 0 ? 'Pending' : 'Running' },
      });
    }
  });

  it('leaves seeded objects alone unless asked to reconcile them', async () => {
    const seeded = fake.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'inert', namespace: 'bulk-extra' },
      spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
    });
    expect(seeded.metadata.uid).toBeTruthy();
    fake.store.put(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'lively', namespace: 'bulk-extra' },
        spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
      },
      { reconcile: true },
    );
    await waitFor(
      'the reconciled pod to run',
      async () =>
        (await core.readNamespacedPod({ name: 'lively', namespace: 'bulk-extra' })).status?.phase === 'Running',
    );
    const inert = await core.readNamespacedPod({ name: 'inert', namespace: 'bulk-extra' });
    expect(inert.status).toBeUndefined();
    expect(inert.spec?.nodeName).toBeUndefined();
    expect(() =>
      fake.store.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'absent' }, spec: {} }),
    ).toThrow(/namespace "absent" does not exist/);
  });

  it('filters with every label selector operator', async () => {
    const count = async (labelSelector: string) =>
      (await core.listNamespacedPod({ namespace: 'bulk', labelSelector })).items.length;
    expect(await count('app=a')).toBe(1250);
    expect(await count('app==b')).toBe(1250);
    expect(await count('app!=a')).toBe(3750);
    expect(await count('app in (a,c)')).toBe(2500);
    expect(await count('app notin (a,c,d)')).toBe(1250);
    expect(await count('tier')).toBe(500);
    expect(await count('!tier')).toBe(4500);
    expect(await count('app=a,tier')).toBe(250);
  });

  it('filters with field selectors', async () => {
    const count = async (fieldSelector: string) =>
      (await core.listNamespacedPod({ namespace: 'bulk', fieldSelector })).items.length;
    expect(await count('status.phase=Pending')).toBe(1000);
    expect(await count('status.phase!=Pending,spec.nodeName=node-1')).toBe(2000);
    expect(await count('metadata.name=pod-00042')).toBe(1);
    expect(await count('metadata.namespace=bulk')).toBe(TOTAL);
    const unsupported = await apiError(core.listNamespacedPod({ namespace: 'bulk', fieldSelector: 'spec.bogus=x' }));
    expect(unsupported.code).toBe(400);
  });

  it('pages with limit/continue: no repeats, none missing, sorted, with remainingItemCount', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let first = true;
    let pages = 0;
    do {
      const page = await core.listNamespacedPod({
        namespace: 'bulk',
        limit: 700,
        ...(token ? { _continue: token } : {}),
      });
      pages++;
      if (first) {
        expect(page.metadata?.remainingItemCount).toBe(TOTAL - 700);
        first = false;
      }
      for (const p of page.items) seen.push(p.metadata?.name ?? '');
      token = page.metadata?._continue || undefined;
      if (!token) expect(page.metadata?.remainingItemCount).toBeUndefined();
    } while (token);
    expect(pages).toBe(Math.ceil(TOTAL / 700));
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
    expect([...seen].sort()).toEqual(seen);
  });

  it('pages a selected list and an all-namespaces list', async () => {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedPod({
        namespace: 'bulk',
        labelSelector: 'tier=gold',
        limit: 120,
        ...(token ? { _continue: token } : {}),
      });
      // A selector makes the remaining count unknowable, so the real server leaves it out.
      expect(page.metadata?.remainingItemCount).toBeUndefined();
      names.push(...page.items.map((p) => p.metadata?.name ?? ''));
      token = page.metadata?._continue || undefined;
    } while (token);
    expect(names).toHaveLength(500);
    expect(new Set(names).size).toBe(500);

    const all = await core.listPodForAllNamespaces({ limit: 1 });
    const everything = (await core.listPodForAllNamespaces()).items.length;
    expect(all.metadata?.remainingItemCount).toBe(everything - 1);
  });
});

// ------------------------------------------------------------------ patch types, apply, dry run

describe('patch types', () => {
  beforeAll(async () => {
    await createNamespace('patch');
    await apps.createNamespacedDeployment({
      namespace: 'patch',
      body: {
        metadata: { name: 'pd', labels: { a: '1', b: '2' } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'pd' } },
          template: {
            metadata: { labels: { app: 'pd' } },
            spec: {
              containers: [
                { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
                { name: 'sidecar', image: 'envoy:1' },
              ],
            },
          },
        },
      },
    });
  });

  it('applies a JSON merge patch (null removes a key)', async () => {
    const d = await apps.patchNamespacedDeployment(
      { name: 'pd', namespace: 'patch', body: { metadata: { labels: { a: null, c: '3' } } } },
      mergePatch,
    );
    expect(d.metadata?.labels).toEqual({ b: '2', c: '3' });
  });

  it('applies a JSON patch and fails the whole patch on a failed test op', async () => {
    const d = await apps.patchNamespacedDeployment({
      name: 'pd',
      namespace: 'patch',
      body: [
        { op: 'test', path: '/metadata/labels/b', value: '2' },
        { op: 'add', path: '/metadata/labels/d', value: '4' },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.26' },
      ],
    });
    expect(d.metadata?.labels?.d).toBe('4');
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.26');

    const failed = await apiError(
      apps.patchNamespacedDeployment({
        name: 'pd',
        namespace: 'patch',
        body: [
          { op: 'add', path: '/metadata/labels/e', value: '5' },
          { op: 'test', path: '/metadata/labels/b', value: 'not-2' },
        ],
      }),
    );
    expect(failed.code).toBe(422);
    expect(failed.body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
    });
    const after = await apps.readNamespacedDeployment({ name: 'pd', namespace: 'patch' });
    expect(after.metadata?.labels?.e).toBeUndefined();
  });

  it('applies a strategic merge patch: containers/env/ports merge by key, $patch: delete removes', async () => {
    const d = await apps.patchNamespacedDeployment(
      {
        name: 'pd',
        namespace: 'patch',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'web', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] },
                  { name: 'sidecar', $patch: 'delete' },
                  { name: 'logger', image: 'fluentbit:3' },
                ],
              },
            },
          },
        },
      },
      smp,
    );
    const containers = d.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => c.name)).toEqual(['web', 'logger']);
    const web = containers[0];
    expect(web?.image).toBe('nginx:1.26');
    expect(web?.env?.map((e) => e.name)).toEqual(['A', 'B']);
    expect(web?.ports?.map((p) => p.containerPort)).toEqual([80, 443]);
    expect(containers[1]?.imagePullPolicy).toBe('IfNotPresent');
  });

  it('server-side apply creates, records managedFields, conflicts between managers, and force takes over', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const cm = (data: Record<string, string>): KubernetesObject & { data: Record<string, string> } => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: 'patch' },
      data,
    });
    const created = await objects.patch(
      cm({ key: 'a', other: 'x' }),
      undefined,
      undefined,
      'team-a',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    const entry = created.metadata?.managedFields?.find((m) => m.manager === 'team-a');
    expect(entry).toMatchObject({ operation: 'Apply', fieldsType: 'FieldsV1', apiVersion: 'v1' });
    expect(entry?.fieldsV1).toEqual({ 'f:data': { 'f:key': {}, 'f:other': {} } });

    const clash = await apiError(
      objects.patch(cm({ key: 'b' }), undefined, undefined, 'team-b', undefined, PatchStrategy.ServerSideApply),
    );
    expect(clash.code).toBe(409);
    expect(clash.body.reason).toBe('Conflict');
    expect(clash.body.message).toBe('Apply failed with 1 conflict: conflict with "team-a": .data.key');
    expect(clash.body.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "team-a"', field: '.data.key' },
    ]);

    // Same value: shared ownership, no conflict.
    await objects.patch(cm({ other: 'x' }), undefined, undefined, 'team-b', undefined, PatchStrategy.ServerSideApply);

    const forced = await objects.patch(
      cm({ key: 'b', other: 'x' }),
      undefined,
      undefined,
      'team-b',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((forced as unknown as { data: Record<string, string> }).data.key).toBe('b');
    const owners = forced.metadata?.managedFields ?? [];
    expect(owners.find((m) => m.manager === 'team-a')?.fieldsV1).toEqual({ 'f:data': { 'f:other': {} } });

    // team-a stops applying `other`, but team-b still owns it, so it stays...
    await objects.patch(cm({}), undefined, undefined, 'team-a', undefined, PatchStrategy.ServerSideApply);
    expect((await core.readNamespacedConfigMap({ name: 'applied', namespace: 'patch' })).data).toEqual({
      key: 'b',
      other: 'x',
    });
    // ...until team-b, its last owner, stops applying it too.
    await objects.patch(cm({ key: 'b' }), undefined, undefined, 'team-b', undefined, PatchStrategy.ServerSideApply);
    expect((await core.readNamespacedConfigMap({ name: 'applied', namespace: 'patch' })).data).toEqual({ key: 'b' });

    const noManager = await rawJson('/api/v1/namespaces/patch/configmaps/applied', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n',
    });
    expect(noManager.status).toBe(422);
    expect(noManager.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
  });

  it('dryRun=All validates and answers without storing anything', async () => {
    const before = fake.store.resourceVersion();
    const dry = await core.createNamespacedPod({
      namespace: 'patch',
      dryRun: 'All',
      body: { metadata: { name: 'dry' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    expect(dry.metadata?.name).toBe('dry');
    expect(dry.metadata?.uid).toBeTruthy();
    expect((await apiError(core.readNamespacedPod({ name: 'dry', namespace: 'patch' }))).code).toBe(404);

    const invalid = await apiError(
      core.createNamespacedPod({
        namespace: 'patch',
        dryRun: 'All',
        body: { metadata: { name: 'dry' }, spec: { containers: [] } },
      }),
    );
    expect(invalid.code).toBe(422);

    const patched = await apps.patchNamespacedDeployment(
      { name: 'pd', namespace: 'patch', dryRun: 'All', body: { spec: { replicas: 7 } } },
      mergePatch,
    );
    expect(patched.spec?.replicas).toBe(7);
    expect((await apps.readNamespacedDeployment({ name: 'pd', namespace: 'patch' })).spec?.replicas).toBe(0);

    await apps.deleteNamespacedDeployment({ name: 'pd', namespace: 'patch', dryRun: 'All' });
    expect((await apps.readNamespacedDeployment({ name: 'pd', namespace: 'patch' })).metadata?.name).toBe('pd');
    expect(fake.store.resourceVersion()).toBe(before);
  });
});

// ------------------------------------------------------------------ controller

describe('deployment controller', () => {
  beforeAll(async () => {
    await createNamespace('rollout');
  });

  it('brings a Deployment to 3 ready pods owned by a hashed ReplicaSet', async () => {
    await apps.createNamespacedDeployment({ namespace: 'rollout', body: deployment('web', 'nginx:1.25', 3) });
    const d = await availableDeployment('rollout', 'web', 3);
    expect(condition(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const [rs] = await replicaSetsOf('rollout', 'web');
    const hash = rs?.metadata?.labels?.['pod-template-hash'];
    expect(rs?.metadata?.name).toBe(`web-${hash}`);
    expect(rs?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    expect(revision(rs as V1ReplicaSet)).toBe('1');

    const pods = (await core.listNamespacedPod({ namespace: 'rollout', labelSelector: 'app=web' })).items;
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: rs?.metadata?.name });
      expect(p.spec?.nodeName).toBe('node-1');
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0, started: true });
      expect(p.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
    }
    const events = await core.listNamespacedEvent({
      namespace: 'rollout',
      fieldSelector: `involvedObject.name=${pods[0]?.metadata?.name}`,
    });
    expect(events.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']),
    );
  });

  it('rolls out an image change within maxSurge/maxUnavailable, then undo re-uses the old ReplicaSet as revision 3', async () => {
    const [first] = await replicaSetsOf('rollout', 'web');
    let maxPods = 0;
    const live = new Set<string>();
    const watcher = await new Watch(kc).watch(
      '/api/v1/namespaces/rollout/pods',
      { labelSelector: 'app=web' },
      (type, obj: V1Pod) => {
        const name = obj.metadata?.name ?? '';
        if (type === 'DELETED') live.delete(name);
        else live.add(name);
        maxPods = Math.max(maxPods, live.size);
      },
      () => {},
    );

    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'rollout',
        body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.26' }] } } } },
      },
      smp,
    );
    const d = await availableDeployment('rollout', 'web', 3);
    watcher.abort();
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    // 3 replicas: maxSurge 25% rounds up to 1 extra pod, maxUnavailable 25% rounds down to 0.
    expect(maxPods).toBe(4);

    const sets = await replicaSetsOf('rollout', 'web');
    expect(sets).toHaveLength(2);
    const old = sets.find((s) => s.metadata?.uid === first?.metadata?.uid);
    const next = sets.find((s) => s.metadata?.uid !== first?.metadata?.uid);
    expect(old?.spec?.replicas).toBe(0);
    expect(revision(next as V1ReplicaSet)).toBe('2');
    expect(next?.status?.readyReplicas).toBe(3);
    const events = await core.listNamespacedEvent({
      namespace: 'rollout',
      fieldSelector: 'involvedObject.kind=Deployment,reason=ScalingReplicaSet',
    });
    expect(events.items.map((e) => e.message)).toContain(`Scaled up replica set ${next?.metadata?.name} from 0 to 1`);

    // kubectl rollout undo: put the old template back.
    await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'rollout',
        body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] } } } },
      },
      smp,
    );
    const undone = await availableDeployment('rollout', 'web', 3);
    expect(undone.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const after = await replicaSetsOf('rollout', 'web');
    expect(after).toHaveLength(2);
    const reused = after.find((s) => s.metadata?.uid === first?.metadata?.uid);
    expect(revision(reused as V1ReplicaSet)).toBe('3');
    expect(reused?.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(reused?.spec?.replicas).toBe(3);
    expect(after.find((s) => s.metadata?.uid !== first?.metadata?.uid)?.spec?.replicas).toBe(0);
  });

  it('scales through the scale subresource', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'rollout' });
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 3 },
      status: { replicas: 3, selector: 'app=web' },
    });
    await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: 'rollout', body: { spec: { replicas: 5 } } },
      mergePatch,
    );
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: 'rollout' })).spec?.replicas).toBe(5);
    await availableDeployment('rollout', 'web', 5);
    const current = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'rollout' });
    await apps.replaceNamespacedDeploymentScale({
      name: 'web',
      namespace: 'rollout',
      body: { ...current, spec: { replicas: 2 } },
    });
    await availableDeployment('rollout', 'web', 2);
    await waitFor(
      'pods to go down to 2',
      async () => (await core.listNamespacedPod({ namespace: 'rollout', labelSelector: 'app=web' })).items.length === 2,
    );
  });

  it('reports CrashLoopBackOff with restarts and BackOff events, and an exceeded progress deadline', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'rollout',
      body: deployment('crasher', 'registry.example.com/crashloop:1', 1, { progressDeadlineSeconds: 2 }),
    });
    const pod = await waitFor('a crash-looping pod with restarts', async () => {
      const [p] = (await core.listNamespacedPod({ namespace: 'rollout', labelSelector: 'app=crasher' })).items;
      const cs = p?.status?.containerStatuses?.[0];
      return cs && cs.restartCount >= 2 && cs.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    });
    const cs = pod.status?.containerStatuses?.[0];
    expect(cs?.ready).toBe(false);
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });

    const events = await core.listNamespacedEvent({
      namespace: 'rollout',
      fieldSelector: `involvedObject.name=${pod.metadata?.name},type=Warning`,
    });
    const backoff = events.items.find((e) => e.reason === 'BackOff');
    expect(backoff?.message).toBe(
      `Back-off restarting failed container main in pod ${pod.metadata?.name}_rollout(${pod.metadata?.uid})`,
    );

    const d = await waitFor(
      'the progress deadline to pass',
      async () => {
        const dep = await apps.readNamespacedDeployment({ name: 'crasher', namespace: 'rollout' });
        return condition(dep, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? dep : undefined;
      },
      6000,
    );
    expect(condition(d, 'Progressing')?.status).toBe('False');
    expect(condition(d, 'Progressing')?.message).toMatch(/^ReplicaSet "crasher-\w+" has timed out progressing\.$/);
    expect(condition(d, 'Available')?.status).toBe('False');
    expect(d.status?.unavailableReplicas).toBe(1);
    expect(d.status?.readyReplicas).toBeUndefined();
  });

  it('reports image pull failures on standalone pods', async () => {
    await core.createNamespacedPod({
      namespace: 'rollout',
      body: { metadata: { name: 'puller' }, spec: { containers: [{ name: 'c', image: 'nginx:does-not-exist' }] } },
    });
    await waitFor('ImagePullBackOff', async () => {
      const p = await core.readNamespacedPod({ name: 'puller', namespace: 'rollout' });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
    });
    const events = await core.listNamespacedEvent({
      namespace: 'rollout',
      fieldSelector: 'involvedObject.name=puller,reason=Failed',
    });
    expect(events.items.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Failed to pull image "nginx:does-not-exist": /),
        'Error: ErrImagePull',
      ]),
    );
    const p = await core.readNamespacedPod({ name: 'puller', namespace: 'rollout' });
    expect(p.status?.phase).toBe('Pending');
  });
});

// ------------------------------------------------------------------ logs and metrics

describe('pods/log', () => {
  beforeAll(async () => {
    await createNamespace('logs');
  });

  it('serves tailLines, appends planted lines, and explains multi-container and previous errors', async () => {
    await core.createNamespacedPod({
      namespace: 'logs',
      body: {
        metadata: { name: 'single', annotations: { [LOG_LINES_ANNOTATION]: JSON.stringify(['password=hunter2']) } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
      },
    });
    await core.createNamespacedPod({
      namespace: 'logs',
      body: {
        metadata: { name: 'multi' },
        spec: {
          containers: [
            { name: 'a', image: 'nginx:1.25' },
            { name: 'b', image: 'nginx:1.25' },
          ],
        },
      },
    });
    await waitFor('pods running', async () => {
      const pods = (await core.listNamespacedPod({ namespace: 'logs', fieldSelector: 'status.phase=Running' })).items;
      return pods.length === 2;
    });

    const text = await core.readNamespacedPodLog({ name: 'single', namespace: 'logs', tailLines: 2 });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('container=app');
    expect(lines[1]).toBe('password=hunter2');
    const stamped = await core.readNamespacedPodLog({
      name: 'single',
      namespace: 'logs',
      timestamps: true,
      tailLines: 1,
    });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z password=hunter2\n$/);

    const ambiguous = await apiError(core.readNamespacedPodLog({ name: 'multi', namespace: 'logs' }));
    expect(ambiguous.code).toBe(400);
    expect(ambiguous.body.message).toBe('a container name must be specified for pod multi, choose one of: [a b]');
    expect(await core.readNamespacedPodLog({ name: 'multi', namespace: 'logs', container: 'b' })).toContain(
      'container=b',
    );

    const noPrevious = await apiError(core.readNamespacedPodLog({ name: 'single', namespace: 'logs', previous: true }));
    expect(noPrevious.body.message).toBe('previous terminated container "app" in pod "single" not found');
  });

  it('returns the last run of a crash-looping container for previous=true', async () => {
    await core.createNamespacedPod({
      namespace: 'logs',
      body: { metadata: { name: 'crashy' }, spec: { containers: [{ name: 'app', image: 'crashloop-demo:2' }] } },
    });
    await waitFor('a restart', async () => {
      const p = await core.readNamespacedPod({ name: 'crashy', namespace: 'logs' });
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    });
    const previous = await core.readNamespacedPodLog({ name: 'crashy', namespace: 'logs', previous: true });
    expect(previous).toContain('level=fatal');
    expect(previous).toContain('could not connect to database');
  });
});

describe('content negotiation, as a real API server does it', () => {
  const refused =
    'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf';
  beforeAll(async () => {
    await createNamespace('negotiate');
    await core.createNamespacedPod({
      namespace: 'negotiate',
      body: { metadata: { name: 'talker' }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } },
    });
    await waitFor('talker running', async () => {
      const p = await core.readNamespacedPod({ name: 'talker', namespace: 'negotiate' });
      return p.status?.phase === 'Running';
    });
  });

  // kubernetes/kubernetes#61450: pods/log answers text/plain but negotiates against the group's
  // serializers, so `Accept: text/plain` is 406 with the errNotAcceptable Status.
  const refusedAccepts = [
    'text/plain',
    'text/plain; charset=utf-8',
    'text/html',
    'application/xml',
    'text/*',
    'image/png, text/plain;q=0.9',
  ];
  const paths = [
    '/api/v1/namespaces/negotiate/pods/talker/log',
    '/api/v1/namespaces/negotiate/pods/talker',
    '/api/v1/namespaces/negotiate/pods',
    '/apis/apps/v1/namespaces/negotiate/deployments',
    '/api/v1',
    '/apis',
  ];
  for (const path of paths) {
    it(`refuses unservable Accept headers on ${path} with 406 and the real Status`, async () => {
      for (const accept of refusedAccepts) {
        const res = await raw(path, { headers: { Accept: accept } });
        expect(res.status, `${accept} on ${path}`).toBe(406);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(await res.json()).toEqual({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: refused,
          reason: 'NotAcceptable',
          code: 406,
        });
      }
    });
  }

  it('serves the log as text/plain for every Accept the server negotiates', async () => {
    const accepts = [
      undefined,
      '*/*',
      'application/json',
      'application/json, */*;q=0.8',
      'application/*',
      'text/plain, */*',
      'application/yaml',
      'application/vnd.kubernetes.protobuf',
      'text/plain;q=1, application/json;q=0.5',
    ];
    for (const accept of accepts) {
      const res = await raw(
        '/api/v1/namespaces/negotiate/pods/talker/log',
        accept ? { headers: { Accept: accept } } : {},
      );
      expect(res.status, String(accept)).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toContain('container=app');
    }
  });

  it('answers YAML to a YAML-only Accept, and JSON to wildcards', async () => {
    const yaml = await raw('/api/v1/namespaces/negotiate/pods/talker', { headers: { Accept: 'application/yaml' } });
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toBe('application/yaml');
    expect(await yaml.text()).toMatch(/^kind: Pod\napiVersion: v1\n/);
    const json = await raw('/api/v1/namespaces/negotiate/pods/talker', {
      headers: { Accept: 'text/plain, */*;q=0.1' },
    });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(((await json.json()) as { kind: string }).kind).toBe('Pod');
  });

  it('refuses a write in an unknown format with 415 before anything is stored', async () => {
    for (const type of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'application/vnd.kubernetes.protobuf',
    ]) {
      const res = await rawJson('/api/v1/namespaces/negotiate/configmaps', {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sneaky' } }),
      });
      expect(res.status, type).toBe(415);
      expect(res.body).toMatchObject({
        reason: 'UnsupportedMediaType',
        message:
          'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      });
    }
    expect(fake.store.get('configmaps', 'negotiate', 'sneaky')).toBeUndefined();
    const yaml = await raw('/api/v1/namespaces/negotiate/configmaps', {
      method: 'POST',
      headers: { 'Content-Type': 'application/yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: from-yaml }\n',
    });
    expect(yaml.status).toBe(201);
  });

  it('refuses a write whose Accept cannot be served before storing it', async () => {
    const res = await raw('/api/v1/namespaces/negotiate/configmaps', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/plain' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unseen' } }),
    });
    expect(res.status).toBe(406);
    expect(fake.store.get('configmaps', 'negotiate', 'unseen')).toBeUndefined();
  });
});

describe('refusals a real API server makes on create', () => {
  beforeAll(async () => {
    await createNamespace('strict');
  });
  const post = (path: string, body: unknown, query = '') =>
    rawJson(`${path}${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const apply = (path: string, body: unknown, query = '') =>
    rawJson(`${path}?fieldManager=t${query}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: JSON.stringify(body),
    });

  it('a namespaced object in a namespace that does not exist is 404 from NamespaceLifecycle, before validation, dry run too', async () => {
    const bodies = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', labels: { 'a/b/c': 'x' } } },
    ];
    for (const body of bodies) {
      for (const query of ['', '?dryRun=All']) {
        const created = await post('/api/v1/namespaces/ghost/configmaps', body, query);
        expect(created.status, `${JSON.stringify(body)} ${query}`).toBe(404);
        expect(created.body).toMatchObject({
          reason: 'NotFound',
          message: 'namespaces "ghost" not found',
          details: { name: 'ghost', kind: 'namespaces' },
        });
        const applied = await apply(
          `/api/v1/namespaces/ghost/configmaps/${body.metadata.name}`,
          body,
          query.replace('?', '&'),
        );
        expect(applied.status).toBe(404);
        expect(applied.body.message).toBe('namespaces "ghost" not found');
      }
    }
    expect(fake.store.list('configmaps', 'ghost')).toEqual([]);
  });

  it('refuses a body namespace that differs from the URL, and drops a namespace on a cluster-scoped kind', async () => {
    const mismatch = await post('/api/v1/namespaces/strict/configmaps', {
      metadata: { name: 'elsewhere', namespace: 'default' },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
    const role = await post('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'reader-strict', namespace: 'strict' },
      rules: [],
    });
    expect(role.status).toBe(201);
    expect((role.body.metadata as { namespace?: string }).namespace).toBeUndefined();
  });

  const badLabels: Array<Record<string, string>> = [
    { 'bad key!': 'x' },
    { '-leading': 'x' },
    { 'trailing-': 'x' },
    { 'a/b/c': 'x' },
    { '/empty-prefix': 'x' },
    { 'UPPER.example.com/name': 'x' },
    { [`${'k'.repeat(64)}`]: 'x' },
    { app: 'has space' },
    { app: '-leading' },
    { app: 'v'.repeat(64) },
    { app: 'semi;colon' },
  ];
  for (const labels of badLabels) {
    it(`refuses labels ${JSON.stringify(labels).slice(0, 60)} with 422 on metadata.labels`, async () => {
      const r = await post(
        '/api/v1/namespaces/strict/configmaps',
        { metadata: { name: 'lbl', labels } },
        '?dryRun=All',
      );
      expect(r.status).toBe(422);
      expect(r.body.reason).toBe('Invalid');
      const causes = (r.body.details as { causes: Array<{ field: string }> }).causes;
      expect(causes.map((c) => c.field)).toContain('metadata.labels');
    });
  }

  it('accepts the label and annotation shapes a real server accepts', async () => {
    const r = await post(
      '/api/v1/namespaces/strict/configmaps',
      {
        metadata: {
          name: 'fine',
          labels: {
            app: 'web',
            'app.kubernetes.io/name': 'My_App.v1',
            empty: '',
            [`${'k'.repeat(63)}`]: 'v'.repeat(63),
          },
          annotations: { 'Example.com/Note': 'anything at all: spaces, {json}, ünïcode', plain: '' },
        },
      },
      '?dryRun=All',
    );
    expect(r.status).toBe(201);
  });

  it('caps annotations at 256 KiB in total, and ConfigMaps and Secrets at 1 MiB of data', async () => {
    const big = await post(
      '/api/v1/namespaces/strict/configmaps',
      { metadata: { name: 'notes', annotations: { a: 'x'.repeat(200_000), b: 'y'.repeat(70_000) } } },
      '?dryRun=All',
    );
    expect(big.status).toBe(422);
    expect(big.body.message).toContain('metadata.annotations: Too long: must have at most 262144 bytes');

    const data: Record<string, string> = {};
    for (let i = 0; i < 11; i++) data[`part${i}`] = 'z'.repeat(100_000);
    const cm = await post('/api/v1/namespaces/strict/configmaps', { metadata: { name: 'huge' }, data }, '?dryRun=All');
    expect(cm.status).toBe(422);
    expect(cm.body.message).toBe('ConfigMap "huge" is invalid: []: Too long: must have at most 1048576 bytes');
    const fits = await post(
      '/api/v1/namespaces/strict/configmaps',
      { metadata: { name: 'fits' }, data: { one: 'z'.repeat(1_000_000) } },
      '?dryRun=All',
    );
    expect(fits.status).toBe(201);

    const secret = await post(
      '/api/v1/namespaces/strict/secrets',
      { metadata: { name: 'blob' }, data: { k: Buffer.alloc(1_100_000, 1).toString('base64') } },
      '?dryRun=All',
    );
    expect(secret.status).toBe(422);
    expect(secret.body.message).toContain('data: Too long: must have at most 1048576 bytes');
  });

  it('refuses dryRun values other than All with the 422 of the request options kind', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/api/v1/namespaces/strict/configmaps', 'CreateOptions'],
      ['PUT', '/api/v1/namespaces/strict/configmaps/dry', 'UpdateOptions'],
      ['PATCH', '/api/v1/namespaces/strict/configmaps/dry', 'PatchOptions'],
      ['DELETE', '/api/v1/namespaces/strict/configmaps/dry', 'DeleteOptions'],
    ];
    await post('/api/v1/namespaces/strict/configmaps', { metadata: { name: 'dry' }, data: { k: 'v' } });
    for (const [method, path, kind] of cases) {
      for (const value of ['true', 'all', '1', '']) {
        const r = await rawJson(`${path}?dryRun=${value}`, {
          method,
          headers: { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
          body: method === 'DELETE' ? '' : JSON.stringify({ metadata: { name: 'dry' }, data: { k: 'changed' } }),
        });
        expect(r.status, `${method} dryRun=${value}`).toBe(422);
        expect(r.body.message).toBe(
          `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{${JSON.stringify(value)}}: supported values: "All"`,
        );
      }
    }
    expect(fake.store.get('configmaps', 'strict', 'dry')).toMatchObject({ data: { k: 'v' } });
  });

  it('a deleted namespace terminates: creates in it are 403, a second delete 409, then it is gone', async () => {
    // A fake of its own whose namespace controller never catches up by itself: the test ends the
    // termination when it wants, so nothing here depends on how fast the machine is.
    const slow = await startFakeKube({ readyDelayMs: READY_DELAY_MS, namespaceTerminationMs: 3_600_000 });
    const local = (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('Authorization', 'Bearer fake-token');
      return fetch(`${slow.url}${path}`, { ...init, headers }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    };
    const post = (path: string, body: unknown, query = '') =>
      local(`${path}${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const apply = (path: string, body: unknown, query = '') =>
      local(`${path}?fieldManager=t${query}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/apply-patch+yaml' },
        body: JSON.stringify(body),
      });
    const rawJson = local;
    try {
      await post('/api/v1/namespaces', { metadata: { name: 'ending' } });
      await post('/api/v1/namespaces/ending/configmaps', { metadata: { name: 'before' } });
      const dry = await rawJson('/api/v1/namespaces/ending?dryRun=All', { method: 'DELETE' });
      expect(dry.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
      expect(slow.store.get('namespaces', undefined, 'ending')).not.toHaveProperty('metadata.deletionTimestamp');

      const deleted = await rawJson('/api/v1/namespaces/ending', { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({
        kind: 'Namespace',
        metadata: { name: 'ending', deletionTimestamp: expect.any(String) },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Terminating' },
      });
      for (const query of ['', '?dryRun=All']) {
        const refused = await post('/api/v1/namespaces/ending/configmaps', { metadata: { name: 'late' } }, query);
        expect(refused.status).toBe(403);
        expect(refused.body).toMatchObject({
          reason: 'Forbidden',
          message:
            'configmaps "late" is forbidden: unable to create new content in namespace ending because it is being terminated',
          details: { causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] },
        });
        const applied = await apply(
          '/api/v1/namespaces/ending/configmaps/late',
          { metadata: { name: 'late' } },
          query.replace('?', '&'),
        );
        expect(applied.status).toBe(403);
      }
      const again = await rawJson('/api/v1/namespaces/ending', { method: 'DELETE' });
      expect(again.status).toBe(409);
      expect(again.body.message).toContain('The system is ensuring all content is removed from this namespace');

      expect(slow.store.get('namespaces', undefined, 'ending')).toMatchObject({ status: { phase: 'Terminating' } });
      slow.finishNamespaceTerminations();
      expect(slow.store.get('namespaces', undefined, 'ending')).toBeUndefined();
      expect(slow.store.get('configmaps', 'ending', 'before')).toBeUndefined();
      const gone = await post('/api/v1/namespaces/ending/configmaps', { metadata: { name: 'late' } });
      expect(gone.status).toBe(404);
      // The name can be used again once it is gone.
      expect((await post('/api/v1/namespaces', { metadata: { name: 'ending' } })).status).toBe(201);
      expect((await post('/api/v1/namespaces/ending/configmaps', { metadata: { name: 'again' } })).status).toBe(201);
    } finally {
      await slow.close();
    }
  });

  it('refuses to delete the namespaces NamespaceLifecycle keeps alive, dry run too', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      for (const query of ['', '?dryRun=All']) {
        const r = await rawJson(`/api/v1/namespaces/${name}${query}`, { method: 'DELETE' });
        expect(r.status).toBe(403);
        expect(r.body).toMatchObject({
          reason: 'Forbidden',
          message: `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        });
      }
      expect(fake.store.get('namespaces', undefined, name)).toBeDefined();
    }
  });

  it('keeps the data of an immutable ConfigMap or Secret frozen', async () => {
    await post('/api/v1/namespaces/strict/configmaps', {
      metadata: { name: 'frozen' },
      data: { k: 'v' },
      immutable: true,
    });
    await post('/api/v1/namespaces/strict/secrets', {
      metadata: { name: 'frozen' },
      data: { k: 'dg==' },
      immutable: true,
    });
    const changes: Array<[string, unknown, string]> = [
      ['configmaps', { data: { k: 'other' } }, 'data'],
      ['configmaps', { data: { k: 'v', extra: 'x' } }, 'data'],
      ['configmaps', { immutable: false }, 'immutable'],
      ['configmaps', { binaryData: { b: 'dg==' } }, 'binaryData'],
      ['secrets', { data: { k: 'eA==' } }, 'data'],
      ['secrets', { immutable: null }, 'immutable'],
    ];
    for (const [kind, patch, field] of changes) {
      const r = await rawJson(`/api/v1/namespaces/strict/${kind}/frozen`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify(patch),
      });
      expect(r.status, `${kind} ${JSON.stringify(patch)}`).toBe(422);
      expect(r.body.message).toContain(`${field}: Forbidden: field is immutable when \`immutable\` is set`);
    }
    const labelled = await rawJson('/api/v1/namespaces/strict/configmaps/frozen', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { still: 'editable' } } }),
    });
    expect(labelled.status).toBe(200);
  });

  // KEP-2885 server-side field validation: Warn (default) drops and warns, Strict refuses, SSA refuses.
  const typos: Array<[string, string, Record<string, unknown>, string]> = [
    ['/apis/apps/v1/namespaces/strict/deployments', 'Deployment', { spec: { replica: 2 } }, 'spec.replica'],
    [
      '/apis/apps/v1/namespaces/strict/deployments',
      'Deployment',
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1', imagePullPolicyy: 'Always' }] } } } },
      'spec.template.spec.containers[0].imagePullPolicyy',
    ],
    ['/api/v1/namespaces/strict/configmaps', 'ConfigMap', { datas: { k: 'v' } }, 'datas'],
    ['/api/v1/namespaces/strict/configmaps', 'ConfigMap', { metadata: { labelz: { a: 'b' } } }, 'metadata.labelz'],
    ['/api/v1/namespaces/strict/services', 'Service', { spec: { port: 80 } }, 'spec.port'],
  ];
  const typoBody = (kind: string, name: string, extra: Record<string, unknown>) => {
    const base: Record<string, unknown> =
      kind === 'Deployment'
        ? {
            apiVersion: 'apps/v1',
            kind,
            metadata: { name },
            spec: {
              selector: { matchLabels: { app: name } },
              template: {
                metadata: { labels: { app: name } },
                spec: { containers: [{ name: 'app', image: 'nginx:1' }] },
              },
            },
          }
        : kind === 'Service'
          ? { apiVersion: 'v1', kind, metadata: { name }, spec: { ports: [{ port: 80 }] } }
          : { apiVersion: 'v1', kind, metadata: { name } };
    const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) {
        const cur = out[k];
        out[k] =
          v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
            ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
            : v;
      }
      return out;
    };
    return merge(base, extra);
  };

  for (const [path, kind, extra, field] of typos) {
    it(`unknown field ${field}: Strict 400, Warn drops it with a Warning header, SSA 500`, async () => {
      const strict = await post(path, typoBody(kind, 'typo-strict', extra), '?fieldValidation=Strict&dryRun=All');
      expect(strict.status).toBe(400);
      expect(strict.body.message).toBe(`strict decoding error: unknown field "${field}"`);

      const warned = await raw(`${path}?dryRun=All`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(typoBody(kind, 'typo-warn', extra)),
      });
      expect(warned.status).toBe(201);
      expect(warned.headers.get('warning')).toBe(`299 - "unknown field \\"${field}\\""`);
      // The answered (and, without dryRun, stored) object no longer has the field.
      let at: unknown = await warned.json();
      for (const step of field.split(/\.|\[|\]\.?/).filter(Boolean)) {
        if (!at || typeof at !== 'object') break;
        at = (at as Record<string, unknown>)[step];
      }
      expect(at).toBeUndefined();

      const applied = await apply(`${path}/typo-ssa`, typoBody(kind, 'typo-ssa', extra), '&dryRun=All');
      expect(applied.status).toBe(500);
      expect(applied.body.message).toMatch(
        new RegExp(
          `^failed to create typed patch object \\(strict/typo-ssa; .*Kind=${kind}\\): \\.${field.replace(/[.[\]]/g, '\\$&')}: field not declared in schema$`,
        ),
      );
    });
  }

  it('refuses an unknown fieldValidation value', async () => {
    const r = await post(
      '/api/v1/namespaces/strict/configmaps',
      { metadata: { name: 'fv' } },
      '?fieldValidation=strict',
    );
    expect(r.status).toBe(400);
  });

  it('refuses ConfigMap and Secret keys that are not config keys', async () => {
    for (const key of ['has space', 'slash/key', '..', '..hidden', 'k'.repeat(254)]) {
      for (const kind of ['configmaps', 'secrets']) {
        const value = kind === 'secrets' ? 'dg==' : 'v';
        const r = await post(
          `/api/v1/namespaces/strict/${kind}`,
          { metadata: { name: 'keys' }, data: { [key]: value } },
          '?dryRun=All',
        );
        expect(r.status, `${kind} ${key.slice(0, 20)}`).toBe(422);
        expect((r.body.details as { causes: Array<{ field: string }> }).causes[0]?.field).toBe(`data[${key}]`);
      }
    }
    const dup = await post(
      '/api/v1/namespaces/strict/configmaps',
      { metadata: { name: 'dup' }, data: { k: 'v' }, binaryData: { k: 'dg==' } },
      '?dryRun=All',
    );
    expect(dup.status).toBe(422);
  });
});

describe('metrics.k8s.io', () => {
  it('serves pod and node metrics, and disappears when metrics-server is "uninstalled"', async () => {
    await createNamespace('metrics');
    await apps.createNamespacedDeployment({ namespace: 'metrics', body: deployment('m', 'nginx:1.25', 2) });
    await availableDeployment('metrics', 'm', 2);

    const metrics = new Metrics(kc);
    const podMetrics = await metrics.getPodMetrics('metrics');
    expect(podMetrics.kind).toBe('PodMetricsList');
    expect(podMetrics.items).toHaveLength(2);
    const usage = podMetrics.items[0]?.containers[0]?.usage;
    expect(usage?.cpu).toMatch(/^\d+n$/);
    expect(usage?.memory).toMatch(/^\d+Ki$/);
    // Usage is derived from requests (100m here): deterministic and below the request.
    expect(Number(usage?.cpu.slice(0, -1))).toBeLessThan(100_000_000);
    expect((await metrics.getPodMetrics('metrics')).items[0]?.containers[0]?.usage).toEqual(usage);

    const nodes: unknown = await custom.listClusterCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      plural: 'nodes',
    });
    expect(nodes).toMatchObject({ kind: 'NodeMetricsList', items: [{ metadata: { name: 'node-1' } }] });

    fake.setMetricsAvailable(false);
    try {
      const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
      expect(groups.groups.map((g) => g.name)).not.toContain('metrics.k8s.io');
      const gone = await apiError(
        custom.listNamespacedCustomObject({
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          namespace: 'metrics',
          plural: 'pods',
        }),
      );
      expect(gone.code).toBe(404);
      await expect(metrics.getPodMetrics('metrics')).rejects.toThrow();
    } finally {
      fake.setMetricsAvailable(true);
    }
  });
});

// ------------------------------------------------------------------ watch

describe('watch', () => {
  beforeAll(async () => {
    await createNamespace('watch');
  });

  it('streams ADDED, MODIFIED and DELETED through the client Watch', async () => {
    const seen: Array<{ type: string; name: string; label: string | undefined }> = [];
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/watch/configmaps',
      { labelSelector: 'watched=yes' },
      (type, obj: { metadata?: { name?: string; labels?: Record<string, string> } }) => {
        seen.push({ type, name: obj.metadata?.name ?? '', label: obj.metadata?.labels?.step });
      },
      () => {},
    );
    await core.createNamespacedConfigMap({
      namespace: 'watch',
      body: { metadata: { name: 'w', labels: { watched: 'yes', step: '1' } } },
    });
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'ignored' } } });
    await core.patchNamespacedConfigMap(
      { name: 'w', namespace: 'watch', body: { metadata: { labels: { step: '2' } } } },
      mergePatch,
    );
    await core.deleteNamespacedConfigMap({ name: 'w', namespace: 'watch' });
    await waitFor('three events', async () => seen.length >= 3);
    controller.abort();
    expect(seen).toEqual([
      { type: 'ADDED', name: 'w', label: '1' },
      { type: 'MODIFIED', name: 'w', label: '2' },
      { type: 'DELETED', name: 'w', label: '2' },
    ]);
  });

  it('resumes from a resourceVersion, and answers 410 Expired once history is compacted', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'watch' });
    const rv = list.metadata?.resourceVersion ?? '';
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'later' } } });
    const types: string[] = [];
    const resumed = await new Watch(kc).watch(
      '/api/v1/namespaces/watch/configmaps',
      { resourceVersion: rv },
      (type, obj: { metadata?: { name?: string } }) => {
        types.push(`${type}:${obj.metadata?.name}`);
      },
      () => {},
    );
    await waitFor('the missed event', async () => types.length >= 1);
    resumed.abort();
    expect(types).toEqual(['ADDED:later']);

    fake.store.compactHistory();
    const errors: Array<{ type: string; code: unknown; reason: unknown }> = [];
    await new Watch(kc).watch(
      '/api/v1/namespaces/watch/configmaps',
      { resourceVersion: rv },
      (type, obj: { code?: number; reason?: string }) => {
        errors.push({ type, code: obj.code, reason: obj.reason });
      },
      () => {},
    );
    await waitFor('the expiry', async () => errors.length >= 1);
    expect(errors[0]).toEqual({ type: 'ERROR', code: 410, reason: 'Expired' });
  });

  it('feeds an informer', async () => {
    const informer = makeInformer(kc, '/api/v1/namespaces/watch/secrets', () =>
      core.listNamespacedSecret({ namespace: 'watch' }),
    );
    const added: string[] = [];
    informer.on('add', (obj) => added.push(obj.metadata?.name ?? ''));
    await informer.start();
    try {
      await core.createNamespacedSecret({
        namespace: 'watch',
        body: { metadata: { name: 's1' }, stringData: { token: 'abc' } },
      });
      await waitFor('the informer to see s1', async () => added.includes('s1'));
      const cached = informer.get('s1', 'watch');
      expect(cached?.data?.token).toBe(Buffer.from('abc').toString('base64'));
    } finally {
      await informer.stop();
    }
  });
});

// ------------------------------------------------------------------ failure injection

describe('failure injection', () => {
  it('fails the next matching request with the injected status, then recovers', async () => {
    await createNamespace('faults');
    await core.createNamespacedConfigMap({ namespace: 'faults', body: { metadata: { name: 'flaky' } } });
    fake.injectFailure({ method: 'GET', pathPattern: /\/configmaps\/flaky$/, status: 500 });
    const failed = await apiError(core.readNamespacedConfigMap({ name: 'flaky', namespace: 'faults' }));
    expect(failed.code).toBe(500);
    expect(failed.body).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect((await core.readNamespacedConfigMap({ name: 'flaky', namespace: 'faults' })).metadata?.name).toBe('flaky');
    expect(fake.requests.filter((r) => r.path.endsWith('/configmaps/flaky')).map((r) => r.status)).toEqual([500, 200]);

    fake.injectFailure({ pathPattern: /\/configmaps\/flaky$/, status: 503, times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++) {
      expect((await apiError(core.readNamespacedConfigMap({ name: 'flaky', namespace: 'faults' }))).code).toBe(503);
    }
    fake.clearFailures();
    expect((await core.readNamespacedConfigMap({ name: 'flaky', namespace: 'faults' })).metadata?.name).toBe('flaky');
  });

  it('delays matching requests by the injected latency', async () => {
    fake.injectFailure({ pathPattern: /\/namespaces\/faults$/, delayMs: 400 });
    const started = performance.now();
    await core.readNamespace({ name: 'faults' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    const quick = performance.now();
    await core.readNamespace({ name: 'faults' });
    expect(performance.now() - quick).toBeLessThan(390);
  });

  it('drops a delayed request as soon as the client gives up on it', async () => {
    fake.injectFailure({ pathPattern: /\/namespaces\/faults\/secrets$/, delayMs: 10_000 });
    const before = fake.requests.length;
    await expect(raw('/api/v1/namespaces/faults/secrets', { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    // Recorded with status 0 (no response) well before the 10 s delay would have ended.
    const entry = await waitFor(
      'the abandoned request to be recorded',
      async () => fake.requests.slice(before).find((r) => r.path === '/api/v1/namespaces/faults/secrets'),
      2000,
    );
    expect(entry.status).toBe(0);
  });
});
