// k8s_resources_apply applies a manifest that holds a Namespace or a CRD and the objects inside it in
// ONE call, in dependency order (Namespaces, CRDs waited for until served, then Helm's install order),
// against a fake API server that refuses what a real one refuses (a namespaced write, dry run
// included, in a namespace that does not exist is 404 NotFound from NamespaceLifecycle admission).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentYaml, type Harness, startHarness } from '../support/k8s-harness.ts';

interface Item {
  kind: string;
  name: string;
  namespace: string;
  phase: string;
  action: string;
  serverDryRun?: string;
}

const crd = (plural: string, kind: string, scope: 'Namespaced' | 'Cluster' = 'Namespaced') => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${plural}.order.example.com }
spec:
  group: order.example.com
  scope: ${scope}
  names: { plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind} }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`;

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${name} }\n`;
const cm = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: ${namespace} }\ndata: { k: v }\n`;
const sa = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: ${name}, namespace: ${namespace} }\n`;
const docs = (...parts: string[]) => parts.map((p) => p.trim()).join('\n---\n');

describe('k8s_resources_apply: one call, in dependency order', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { readyDelayMs: 20 });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The writes (PATCH/POST/PUT/DELETE) seen since `from`, as `dry|real <path>`. */
  const writesSince = (from: number) =>
    h.kube.requests
      .slice(from)
      .filter((r) => r.method !== 'GET')
      .map((r) => `${/dryRun=All/.test(r.query) ? 'dry' : 'real'} ${r.path}`);

  it('creates a Namespace and what lives in it, whatever the document order, each dry-run after its namespace exists', async () => {
    const before = h.kube.requests.length;
    const r = await h.ok<{ items: Item[] }>('k8s_resources_apply', {
      manifest: docs(
        deploymentYaml('api', 'nginx:1.25.3', { namespace: 'team-a', replicas: 1 }),
        cm('settings', 'team-a'),
        sa('runner', 'team-a'),
        ns('team-a'),
      ),
    });
    expect(r.items.map((i) => [i.phase, i.kind, i.name, i.action])).toEqual([
      ['namespaces', 'Namespace', 'team-a', 'created'],
      ['objects', 'ServiceAccount', 'runner', 'created'],
      ['objects', 'ConfigMap', 'settings', 'created'],
      ['objects', 'Deployment', 'api', 'created'],
    ]);
    expect(r._text).toContain('Applied 4 objects');
    expect(r._text).toMatch(/in 2 phases, in this order: namespaces \(1\), objects \(3\)/);
    // Each phase: its dry runs, then its writes; the objects' dry runs come after the namespace exists.
    expect(writesSince(before)).toEqual([
      'dry /api/v1/namespaces/team-a',
      'real /api/v1/namespaces/team-a',
      'dry /api/v1/namespaces/team-a/serviceaccounts/runner',
      'dry /api/v1/namespaces/team-a/configmaps/settings',
      'dry /apis/apps/v1/namespaces/team-a/deployments/api',
      'real /api/v1/namespaces/team-a/serviceaccounts/runner',
      'real /api/v1/namespaces/team-a/configmaps/settings',
      'real /apis/apps/v1/namespaces/team-a/deployments/api',
    ]);
    expect(h.kube.store.get('deployments.apps', 'team-a', 'api')).toBeDefined();
    // Applying the same manifest again is a no-op update of every object.
    const again = await h.ok<{ items: Item[] }>('k8s_resources_apply', {
      manifest: docs(ns('team-a'), cm('settings', 'team-a')),
    });
    expect(again.items.map((i) => i.action)).toEqual(['unchanged', 'unchanged']);
  });

  for (const scope of ['Namespaced', 'Cluster'] as const) {
    it(`creates a ${scope} CRD and objects of its kind in one call (kind first in the manifest)`, async () => {
      const plural = scope === 'Cluster' ? 'gadgets' : 'gizmos';
      const kind = scope === 'Cluster' ? 'Gadget' : 'Gizmo';
      const space = `crd-${plural}`;
      const r = await h.ok<{ items: Item[] }>('k8s_resources_apply', {
        manifest: docs(
          `apiVersion: order.example.com/v1\nkind: ${kind}\nmetadata: { name: one, namespace: ${space} }\nspec: { size: 1 }`,
          crd(plural, kind, scope),
          ns(space),
          `apiVersion: order.example.com/v1\nkind: ${kind}\nmetadata: { name: two, namespace: ${space} }\nspec: { size: 2 }`,
        ),
      });
      expect(r.items.map((i) => [i.phase, i.kind, i.name])).toEqual([
        ['namespaces', 'Namespace', space],
        ['definitions', 'CustomResourceDefinition', `${plural}.order.example.com`],
        ['objects', kind, 'one'],
        ['objects', kind, 'two'],
      ]);
      // Scope comes from discovery once the CRD is served: a cluster-scoped kind drops the namespace.
      const expectedNs = scope === 'Cluster' ? '' : space;
      expect(r.items.filter((i) => i.kind === kind).map((i) => i.namespace)).toEqual([expectedNs, expectedNs]);
      expect(h.kube.store.get(`${plural}.order.example.com`, expectedNs || undefined, 'two')).toMatchObject({
        spec: { size: 2 },
      });
    });
  }

  it('waits until discovery serves a new CRD kind before writing its objects', async () => {
    // The group's discovery document is missing for the first few reads after the CRD is created,
    // as on a real server while the CRD controller catches up.
    h.kube.injectFailure({ method: 'GET', pathPattern: /^\/apis\/late\.example\.com\/v1$/, status: 404, times: 3 });
    const r = await h.ok<{ items: Item[] }>('k8s_resources_apply', {
      manifest: docs(
        'apiVersion: late.example.com/v1\nkind: Sprocket\nmetadata: { name: s1, namespace: default }\nspec: {}',
        `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: sprockets.late.example.com }
spec:
  group: late.example.com
  scope: Namespaced
  names: { plural: sprockets, singular: sprocket, kind: Sprocket }
  versions:
    - { name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } } }`,
      ),
    });
    expect(r.items.map((i) => [i.phase, i.kind, i.action])).toEqual([
      ['definitions', 'CustomResourceDefinition', 'created'],
      ['objects', 'Sprocket', 'created'],
    ]);
    const discoveryReads = h.kube.requests.filter((q) => q.path === '/apis/late.example.com/v1');
    expect(discoveryReads.filter((q) => q.status === 404).length).toBe(3);
    expect(discoveryReads.at(-1)?.status).toBe(200);
    expect(h.kube.store.get('sprockets.late.example.com', 'default', 's1')).toBeDefined();
  });

  it('dry run: judges documents whose namespace or CRD the manifest creates by guardrails, and says why', async () => {
    const before = h.kube.requests.length;
    const r = await h.ok<{ dryRun: boolean; items: Item[] }>('k8s_resources_apply', {
      dryRun: true,
      manifest: docs(
        cm('settings', 'team-dry'),
        ns('team-dry'),
        crd('doodads', 'Doodad'),
        'apiVersion: order.example.com/v1\nkind: Doodad\nmetadata: { name: d1, namespace: default }\nspec: {}',
        cm('plain', 'default'),
      ),
    });
    expect(r.dryRun).toBe(true);
    const byName = Object.fromEntries(r.items.map((i) => [i.name, i]));
    expect(byName['team-dry']).toMatchObject({ action: 'created (dry run)' });
    expect(byName['team-dry']?.serverDryRun).toBeUndefined();
    expect(byName['doodads.order.example.com']).toMatchObject({ action: 'created (dry run)' });
    expect(byName.settings).toMatchObject({ action: 'created (dry run, guardrails only)' });
    expect(byName.settings?.serverDryRun).toMatch(/server dry run needs namespace team-dry to exist/);
    expect(byName.d1?.serverDryRun).toMatch(/server dry run needs CustomResourceDefinition doodads.order.example.com/);
    expect(byName.plain).toMatchObject({ action: 'created (dry run)' });
    expect(r._text).toContain('server dry run needs namespace team-dry to exist');
    // Nothing was written; the server dry-ran only what it could judge.
    expect(writesSince(before).every((w) => w.startsWith('dry '))).toBe(true);
    expect(writesSince(before)).toEqual([
      'dry /api/v1/namespaces/team-dry',
      'dry /apis/apiextensions.k8s.io/v1/customresourcedefinitions/doodads.order.example.com',
      'dry /api/v1/namespaces/default/configmaps/plain',
    ]);
    expect(h.kube.store.get('namespaces', undefined, 'team-dry')).toBeUndefined();
  });

  it('runs guardrails on every document before writing any: a refused workload means no namespace either', async () => {
    const before = h.kube.requests.length;
    const r = await h.call('k8s_resources_apply', {
      manifest: docs(ns('team-refused'), deploymentYaml('bad', 'nginx:latest', { namespace: 'team-refused' })),
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('images/pinned');
    expect(writesSince(before)).toEqual([]);
    expect(h.kube.store.get('namespaces', undefined, 'team-refused')).toBeUndefined();
  });

  it('refuses a kind that neither discovery nor the manifest defines before writing anything', async () => {
    for (const odd of [
      'apiVersion: order.example.com/v2\nkind: Doohickey\nmetadata: { name: x }',
      'apiVersion: nowhere.example.com/v1\nkind: Thing\nmetadata: { name: x }',
    ]) {
      const before = h.kube.requests.length;
      const r = await h.call('k8s_resources_apply', {
        manifest: docs(ns('team-odd'), crd('doohickeys', 'Doohickey'), odd),
      });
      expect(r.isError, odd).toBe(true);
      expect(r.text).toMatch(/no resource type/);
      expect(writesSince(before)).toEqual([]);
    }
    expect(h.kube.store.get('namespaces', undefined, 'team-odd')).toBeUndefined();
  });

  it('a server refusal mid-way says exactly what was written and what was not', async () => {
    const before = h.kube.requests.length;
    const r = await h.call('k8s_resources_apply', {
      manifest: docs(
        ns('team-half'),
        cm('good', 'team-half'),
        // Not a DNS-1123 subdomain: the server's dry run answers 422 Invalid.
        cm('Not_Valid', 'team-half'),
      ),
    });
    expect(r.isError).toBe(true);
    expect(r.data).toMatchObject({
      stopped: true,
      items: [expect.objectContaining({ kind: 'Namespace', name: 'team-half', phase: 'namespaces' })],
      failed: { kind: 'ConfigMap', name: 'Not_Valid', phase: 'objects', stage: 'server dry run' },
      notWritten: [
        { kind: 'ConfigMap', name: 'good', namespace: 'team-half', phase: 'objects' },
        { kind: 'ConfigMap', name: 'Not_Valid', namespace: 'team-half', phase: 'objects' },
      ],
    });
    expect(r.text).toContain('Stopped on fake after writing 1 object');
    expect(r.text).toContain('Written (they stay on the cluster): namespace/team-half [namespaces]');
    expect(r.text).toContain('422');
    expect(writesSince(before).filter((w) => w.startsWith('real '))).toEqual(['real /api/v1/namespaces/team-half']);
    expect(h.kube.store.get('configmaps', 'team-half', 'good')).toBeUndefined();
  });

  it('a failed write mid-way reports the objects written before it', async () => {
    h.kube.injectFailure({
      method: 'PATCH',
      pathPattern: /\/configmaps\/second$/,
      queryPattern: /^(?!.*dryRun)/,
      status: 500,
    });
    const r = await h.call('k8s_resources_apply', {
      manifest: docs(ns('team-late'), cm('first', 'team-late'), cm('second', 'team-late'), cm('third', 'team-late')),
    });
    expect(r.isError).toBe(true);
    expect(r.data).toMatchObject({
      stopped: true,
      failed: { name: 'second', stage: 'write' },
      notWritten: [expect.objectContaining({ name: 'second' }), expect.objectContaining({ name: 'third' })],
    });
    expect((r.data.items as Item[]).map((i) => i.name)).toEqual(['team-late', 'first']);
    expect(h.kube.store.get('configmaps', 'team-late', 'first')).toBeDefined();
    expect(h.kube.store.get('configmaps', 'team-late', 'third')).toBeUndefined();
  });
});
