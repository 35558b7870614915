import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import type { Alerting, ReconcileInput } from '../../shared/app/alerts/types.ts';
import { adoptBaselines } from '../../shared/app/drift/adopt.ts';
import { checkDrift, type DriftCheckDeps } from '../../shared/app/drift/check.ts';
import type { DriftCheckReport } from '../../shared/app/drift/types.ts';
import { Baselines } from '../../shared/app/repos/baselines.ts';
import { DriftFindings } from '../../shared/app/repos/drift-findings.ts';
import { defaultPolicy } from '../../shared/domain/guardrails/index.ts';
import type { KubeClient, KubeObject } from '../../shared/ports/kube.ts';
import { FAKE_TOKEN, type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';

const NS = 'payments';
const HPA_AGENT =
  'kube-controller-manager/v1.31.0 (linux/amd64) kubernetes/abc1234/system:serviceaccount:kube-system:horizontal-pod-autoscaler';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.25',
            ports: [{ containerPort: 8080 }],
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
          },
        ],
      },
    },
  },
};
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: NS },
  data: { MODE: 'prod' },
};
const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: NS },
  type: 'Opaque',
  stringData: { password: 'first-secret-value' },
};

/** An Alerting that records what each check hands it (the real one is tested with its own receiver). */
class RecordingAlerting implements Alerting {
  readonly channel = 'test';
  readonly reconciles: ReconcileInput[] = [];
  async reconcile(input: ReconcileInput) {
    this.reconciles.push(structuredClone(input));
    return { opened: input.firing.length, updated: 0, repeated: 0, resolved: 0, unchanged: 0 };
  }
  async deliver() {
    return { sent: 0, deferred: 0, failed: 0, pending: 0 };
  }
  async list() {
    return { items: [] };
  }
  async sendTest(): Promise<never> {
    throw new Error('not used');
  }
  last(): ReconcileInput {
    return this.reconciles[this.reconciles.length - 1] as ReconcileInput;
  }
}

describe('drift check against the fake API server', () => {
  let kube: FakeKube;
  let clusters: KubeconfigClusters;
  let client: KubeClient;
  let now = Date.parse('2026-12-07T10:00:00Z');
  const clock = { now: () => now };
  let deps: DriftCheckDeps & { alerting: RecordingAlerting; driftFindings: DriftFindings };

  async function send(method: string, path: string, body: unknown, headers: Record<string, string>) {
    const res = await fetch(`${kube.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${FAKE_TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
  const kubectlEdit = (patch: unknown, path = `/apis/apps/v1/namespaces/${NS}/deployments/web`) =>
    send('PATCH', `${path}?fieldManager=kubectl-edit`, patch, {
      'content-type': 'application/strategic-merge-patch+json',
    });

  async function applyAndRecord(m: KubeObject) {
    const res = await client.resolve(m.kind as string, m.apiVersion);
    await client.apply(res, m);
    await deps.baselines.record({ cluster: 'fake', manifest: m, appliedBy: 'alice', requestId: 'r-1' });
  }
  const check = (extra: Partial<Parameters<typeof checkDrift>[1]> = {}) =>
    checkDrift(deps, { trigger: 'tool', requestId: 'r-check', ...extra });
  const finding = (r: DriftCheckReport, name: string) => r.findings.find((f) => f.name === name);

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    clusters = new KubeconfigClusters(
      { kubeconfig: kube.kubeconfigPath, timeoutMs: 10_000, discoveryTtlMs: 60_000 },
      {},
    );
    client = await clusters.client('fake');
    kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  afterAll(async () => {
    await kube?.close();
  });
  beforeEach(async () => {
    kube.clearFailures();
    for (const [res, name] of [
      ['deployments.apps', 'web'],
      ['configmaps', 'settings'],
      ['secrets', 'db'],
    ] as const) {
      if (kube.store.get(res, NS, name)) kube.store.delete(res, NS, name);
    }
    const store = new MemoryStore(clock);
    deps = {
      clusters,
      store,
      clock,
      log: pino({ level: 'silent' }),
      policy: defaultPolicy(),
      baselines: new Baselines(store, clock),
      driftFindings: new DriftFindings(store, clock),
      alerting: new RecordingAlerting(),
    };
    for (const m of [deployment, configMap, secret]) await applyAndRecord(m);
  });

  it('nothing changed gives clean, with one list per kind and namespace and no get per object', async () => {
    const before = kube.requests.length;
    const r = await check();
    expect(r.counts).toEqual({ objects: 3, clean: 3, drifted: 0, deleted: 0, error: 0 });
    expect(r.findings).toEqual([]);
    const calls = kube.requests.slice(before).filter((q) => q.method === 'GET');
    const objectGets = calls.filter((q) => /\/(deployments|configmaps|secrets)\/[^/]+$/.test(q.path));
    expect(objectGets).toEqual([]);
    expect(calls.filter((q) => /\/namespaces\/payments\/(deployments|configmaps|secrets)$/.test(q.path))).toHaveLength(
      3,
    );
    expect(r.apiCalls).toBe(4); // three lists and discovery
    expect(deps.alerting.last()).toEqual({ source: 'drift', scope: 'fake', firing: [] });
  });

  it('a field another manager changed is found with its path, values and manager, and a restore call', async () => {
    await kubectlEdit({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } });
    const r = await check();
    expect(r.counts.drifted).toBe(1);
    const f = finding(r, 'web');
    expect(f?.state).toBe('drifted');
    expect(f?.changes).toEqual([
      {
        path: 'spec.template.spec.containers[web].image',
        baseline: 'nginx:1.25',
        live: 'nginx:1.26',
        manager: 'kubectl-edit',
      },
    ]);
    expect(f?.restore?.tool).toBe('k8s_resources_apply');
    expect(f?.restore?.arguments).toMatchObject({ cluster: 'fake', force: true });
    const restored = JSON.parse(String(f?.restore?.arguments.manifest));
    expect(restored.spec.template.spec.containers[0].image).toBe('nginx:1.25');
    expect(restored.metadata).toMatchObject({ name: 'web', namespace: NS });

    const alert = deps.alerting.last().firing[0];
    expect(alert?.summary).toBe('Deployment payments/web drifted: 1 field changed by kubectl-edit');
    expect(alert?.groupKey).toBe('drift:fake/payments');
    expect(alert?.fields).toContainEqual({
      label: 'spec.template.spec.containers[web].image',
      value: 'nginx:1.25 → nginx:1.26 (by kubectl-edit)',
    });

    // More drift on the same object: the same alert (fingerprint), with new content.
    now += 60_000;
    await kubectlEdit({
      metadata: { labels: { app: 'web', team: 'x' } },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
    const again = await check();
    const second = deps.alerting.last().firing[0];
    expect(second?.fingerprint).toBe(alert?.fingerprint);
    expect(second?.startsAt).toBe(alert?.startsAt);
    expect(second?.fields).toContainEqual({
      label: 'spec.template.spec.containers[web].image',
      value: 'nginx:1.25 → nginx:1.27 (by kubectl-edit)',
    });
    expect(finding(again, 'web')?.changesTotal).toBe(1); // an added label the baseline does not set is not drift

    // Put back as it was: clean, nothing firing (the alerting resolves it).
    await kubectlEdit({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } } });
    expect((await check()).counts.clean).toBe(3);
    expect(deps.alerting.last().firing).toEqual([]);
  });

  it('replicas changed by the HPA (kube-controller-manager through /scale) are not drift; by kubectl-edit they are', async () => {
    await send(
      'PATCH',
      `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`,
      { spec: { replicas: 5 } },
      {
        'content-type': 'application/merge-patch+json',
        'user-agent': HPA_AGENT,
      },
    );
    const live = kube.store.get('deployments.apps', NS, 'web') as KubeObject;
    expect((live.spec as { replicas?: number }).replicas).toBe(5);
    const r = await check();
    expect(r.counts).toMatchObject({ clean: 3, drifted: 0 });

    await kubectlEdit({ spec: { replicas: 4 } });
    const f = finding(await check(), 'web');
    expect(f?.changes).toEqual([{ path: 'spec.replicas', baseline: '2', live: '4', manager: 'kubectl-edit' }]);
  });

  it('a Secret is compared by digest, its values never shown, and restored from its source', async () => {
    await send(
      'PATCH',
      `/api/v1/namespaces/${NS}/secrets/db?fieldManager=kubectl-edit`,
      { stringData: { password: 'second-secret-value' } },
      { 'content-type': 'application/merge-patch+json' },
    );
    const r = await check();
    const f = finding(r, 'db');
    expect(f?.changes.map((c) => c.path)).toEqual(['data.password']);
    expect(f?.changes[0]?.baseline).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(f?.restore).toBeUndefined();
    expect(f?.restoreHint).toMatch(/from its source/);
    const everything = JSON.stringify([r, deps.alerting.reconciles, await deps.driftFindings.list({ limit: 50 })]);
    for (const v of ['first-secret-value', 'second-secret-value']) {
      expect(everything).not.toContain(v);
      expect(everything).not.toContain(Buffer.from(v).toString('base64'));
    }
  });

  it('a deleted object is a finding of its own, restorable without force', async () => {
    await client.delete(await client.resolve('ConfigMap'), 'settings', NS);
    const r = await check();
    const f = finding(r, 'settings');
    expect(f?.state).toBe('deleted');
    expect(f?.restore?.arguments).toEqual({ cluster: 'fake', manifest: expect.any(String) });
    expect(deps.alerting.last().firing.map((a) => a.summary)).toEqual([
      'ConfigMap payments/settings was deleted (drift from its baseline)',
    ]);
  });

  it('a list that fails gives error results for its objects, keeps their drift alert open, and never skips', async () => {
    await kubectlEdit({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } });
    const first = await check();
    const fp = deps.alerting.last().firing[0]?.fingerprint;
    expect(first.counts.drifted).toBe(1);
    kube.injectFailure({ method: 'GET', pathPattern: /\/deployments$/, status: 503, times: Infinity });
    const r = await check();
    expect(r.counts).toEqual({ objects: 3, clean: 2, drifted: 0, deleted: 0, error: 1 });
    expect(finding(r, 'web')?.error).toMatch(/listing Deployment failed/);
    const firing = deps.alerting.last().firing;
    expect(firing.map((a) => a.fingerprint)).toContain(fp);
    expect(firing.find((a) => a.fingerprint === fp)?.fields.at(-1)?.label).toBe('Note');
    expect(firing.some((a) => a.summary.startsWith('Drift check could not compare 1 object in fake/payments'))).toBe(
      true,
    );
  });

  it('a cluster that does not answer gives error results within the client timeout', async () => {
    const slow = new KubeconfigClusters(
      { kubeconfig: kube.kubeconfigPath, timeoutMs: 300, discoveryTtlMs: 60_000 },
      {},
    );
    await (await slow.client('fake')).resources(); // discovery cached; the lists hang
    kube.injectFailure({
      method: 'GET',
      pathPattern: /\/(deployments|configmaps|secrets)$/,
      delayMs: 30_000,
      times: Infinity,
    });
    const r = await checkDrift({ ...deps, clusters: slow }, { trigger: 'cli', requestId: 'r-slow' });
    expect(r.counts).toMatchObject({ objects: 3, error: 3 });
    for (const f of r.findings) expect(f.error).toMatch(/listing/);
  });

  it('a kind the cluster no longer serves is an error result; an unknown cluster is refused by name', async () => {
    await deps.baselines.record({
      cluster: 'fake',
      manifest: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: NS },
        spec: { size: 1 },
      },
      appliedBy: 'alice',
      requestId: 'r-2',
    });
    const r = await check();
    expect(r.counts).toMatchObject({ objects: 4, clean: 3, error: 1 });
    expect(finding(r, 'w')?.error).toMatch(/Widget \(example.com\/v1\) is not served by cluster fake/);
    await expect(check({ cluster: 'prdo' })).rejects.toThrow(/unknown cluster prdo; the configured clusters are: fake/);
  });

  it('an unreadable baseline is an error result naming the object', async () => {
    await deps.store.put({ pk: 'baseline#fake', sk: 'apps.Deployment/payments/broken', data: { nonsense: true } });
    const r = await check();
    expect(finding(r, 'broken')).toMatchObject({ kind: 'Deployment', namespace: NS, state: 'error' });
    expect(finding(r, 'broken')?.error).toMatch(/unreadable/);
  });

  it('stores the findings: counts, a state filter and continue tokens; a namespace check replaces only its namespace', async () => {
    await kubectlEdit({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } });
    await client.delete(await client.resolve('ConfigMap'), 'settings', NS);
    await check();
    const page1 = await deps.driftFindings.list({ limit: 1 });
    expect(page1.counts).toEqual({ objects: 3, clean: 1, drifted: 1, deleted: 1, error: 0 });
    expect(page1.items).toHaveLength(1);
    expect(page1.next).toBeDefined();
    const page2 = await deps.driftFindings.list({ limit: 1, continue: page1.next as string });
    expect(page2.items).toHaveLength(1);
    expect(new Set([...page1.items, ...page2.items].map((f) => f.name))).toEqual(new Set(['web', 'settings']));
    expect(page2.next).toBeUndefined();
    expect((await deps.driftFindings.list({ limit: 10, state: 'deleted' })).items.map((f) => f.name)).toEqual([
      'settings',
    ]);
    await expect(deps.driftFindings.list({ limit: 1, continue: 'garbage' })).rejects.toThrow(/continue token/);

    await applyAndRecord(configMap);
    const scoped = await check({ namespace: NS });
    expect(scoped.counts).toMatchObject({ objects: 3, drifted: 1, deleted: 0 });
    expect(deps.alerting.last().scope).toBe('fake/payments');
    expect((await deps.driftFindings.list({ limit: 10 })).items.map((f) => f.name)).toEqual(['web']);
  });

  it('adopts live objects as baselines that a check then finds clean', async () => {
    kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy' } });
    await send(
      'POST',
      '/apis/apps/v1/namespaces/legacy/deployments?fieldManager=kubectl-create',
      { ...deployment, metadata: { name: 'old', namespace: 'legacy', labels: { app: 'web' } } },
      {},
    );
    const res = await adoptBaselines(deps, {
      cluster: 'fake',
      namespace: 'legacy',
      kinds: ['Deployment', 'ReplicaSet'],
      by: 'bob',
      requestId: 'r-adopt',
    });
    expect(res.items).toEqual([{ kind: 'Deployment', namespace: 'legacy', name: 'old' }]);
    expect(res.skipped.every((s) => s.kind === 'ReplicaSet' && /managed by Deployment old/.test(s.reason))).toBe(true);
    const b = await deps.baselines.get('fake', 'apps/v1', 'Deployment', 'legacy', 'old');
    expect(JSON.stringify(b?.object)).not.toMatch(/terminationMessagePath|revisionHistoryLimit|status|uid/);
    const r = await check({ namespace: 'legacy' });
    expect(r.counts).toEqual({ objects: 1, clean: 1, drifted: 0, deleted: 0, error: 0 });
    await kubectlEdit(
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:9' }] } } } },
      '/apis/apps/v1/namespaces/legacy/deployments/old',
    );
    expect(finding(await check({ namespace: 'legacy' }), 'old')?.changes[0]).toMatchObject({
      path: 'spec.template.spec.containers[web].image',
      manager: 'kubectl-edit',
    });
  });
});
