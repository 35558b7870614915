import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adoptableObject,
  compareWithBaseline,
  compileDriftRules,
  type DriftPolicy,
  defaultDriftPolicy,
  parseJqPath,
  parseJsonPointer,
  quantityKey,
} from '../../shared/domain/drift/index.ts';
import { baselineOf, normalizeForDiff } from '../../shared/domain/k8s/index.ts';

type Rec = Record<string, unknown>;

const manifest = (): Rec => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'payments', labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.25',
            ports: [{ containerPort: 8080 }],
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'DB_PASSWORD', value: 'hunter2-very-secret' },
            ],
            resources: { requests: { cpu: '0.1', memory: '1024Mi' }, limits: { memory: '2Gi' } },
          },
        ],
      },
    },
  },
});

/** What the API server would return: defaults filled in, canonical quantities, server metadata, status. */
function liveOf(m: Rec, managedFields: unknown[] = []): Rec {
  const live = structuredClone(m) as Rec & { spec: Rec & { template: { spec: { containers: Rec[] } } } };
  live.metadata = {
    ...(m.metadata as Rec),
    uid: 'u-1',
    resourceVersion: '42',
    generation: 2,
    creationTimestamp: '2026-12-01T00:00:00Z',
    annotations: { 'deployment.kubernetes.io/revision': '2' },
    managedFields,
  };
  Object.assign(live.spec, {
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    strategy: { type: 'RollingUpdate' },
  });
  const c = live.spec.template.spec.containers[0] as Rec;
  Object.assign(c, { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
  (c.ports as Rec[])[0] = { containerPort: 8080, protocol: 'TCP' };
  c.resources = { requests: { cpu: '100m', memory: '1Gi' }, limits: { memory: '2Gi' } };
  live.status = { replicas: 3, readyReplicas: 3 };
  return live;
}

const applyEntry = {
  manager: 'cloudops-mcp',
  operation: 'Apply',
  apiVersion: 'apps/v1',
  time: '2026-12-01T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: {
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:name': {}, 'f:resources': {} } } },
      },
    },
  },
};
const editEntry = {
  manager: 'kubectl-edit',
  operation: 'Update',
  apiVersion: 'apps/v1',
  time: '2026-12-02T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
};
const hpaEntry = {
  manager: 'kube-controller-manager',
  operation: 'Update',
  subresource: 'scale',
  apiVersion: 'apps/v1',
  time: '2026-12-03T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
};

const baseline = () => baselineOf(manifest()).object;
const rulesFor = (policy: DriftPolicy, cluster = 'prod') =>
  compileDriftRules(policy)({ cluster, apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'payments', name: 'web' });

describe('drift compare', () => {
  it('finds nothing when only the server changed things: defaults, metadata, status, canonical quantities', () => {
    const d = compareWithBaseline(baseline(), liveOf(manifest(), [applyEntry]));
    expect(d).toEqual({ changes: [], changesTotal: 0, ignored: 0 });
  });

  it('finds a field another manager changed, with its path, both values and the manager', () => {
    const live = liveOf(manifest(), [applyEntry, editEntry]);
    ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!.image = 'nginx:1.26';
    const d = compareWithBaseline(baseline(), live);
    expect(d.changes).toEqual([
      {
        path: 'spec.template.spec.containers[web].image',
        baseline: 'nginx:1.25',
        live: 'nginx:1.26',
        manager: 'kubectl-edit',
      },
    ]);
    expect(d.changesTotal).toBe(1);
  });

  it('a quantity that changed in value is drift; the same value spelt differently is not', () => {
    const live = liveOf(manifest(), [applyEntry]);
    const c = ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!;
    c.resources = { requests: { cpu: '200m', memory: '1Gi' }, limits: { memory: '2048Mi' } };
    const d = compareWithBaseline(baseline(), live);
    expect(d.changes.map((x) => [x.path, x.baseline, x.live])).toEqual([
      ['spec.template.spec.containers[web].resources.requests.cpu', '0.1', '200m'],
    ]);
    expect(d.changes[0]?.manager).toBe('cloudops-mcp'); // owns resources as a whole (atomic in this entry)
  });

  it.each([
    ['100m', '0.1'],
    ['1Gi', '1024Mi'],
    ['1k', '1000'],
    ['1e3', '1k'],
    ['1.5Gi', '1536Mi'],
    ['0', '0m'],
  ])('quantity %s equals %s', (a, b) => {
    expect(quantityKey(a)).toBeDefined();
    expect(quantityKey(a)).toBe(quantityKey(b));
  });

  it.each([
    ['100m', '0.01'],
    ['1Gi', '1G'],
    ['1Ki', '1000'],
  ])('quantity %s differs from %s', (a, b) => {
    expect(quantityKey(a)).not.toBe(quantityKey(b));
  });

  it('refuses what is not a quantity', () => {
    for (const v of ['', 'abc', '1.2.3', '10Zi', '1e', `${'9'.repeat(80)}`, {}, null])
      expect(quantityKey(v)).toBeUndefined();
  });

  it('a number and its decimal text are equal (ports, intOrString)', () => {
    const m = manifest();
    const live = liveOf(m, [applyEntry]);
    ((m.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!.ports = [
      { containerPort: '8080' },
    ];
    expect(compareWithBaseline(baselineOf(m).object, live).changesTotal).toBe(0);
  });

  it('compares Secret values by digest only and never shows them', () => {
    const secret = (value: string): Rec => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'payments' },
      type: 'Opaque',
      stringData: { password: value },
    });
    const b = baselineOf(secret('s3cret-value')).object;
    expect(JSON.stringify(b)).not.toContain('s3cret-value');
    const live = (v: string): Rec => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'payments', uid: 'x' },
      type: 'Opaque',
      data: { password: Buffer.from(v).toString('base64') },
    });
    expect(compareWithBaseline(b, live('s3cret-value')).changesTotal).toBe(0);
    const d = compareWithBaseline(b, live('another-value'));
    expect(d.changesTotal).toBe(1);
    expect(d.changes[0]?.path).toBe('data.password');
    expect(d.changes[0]?.baseline).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(d.changes[0]?.live).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(JSON.stringify(d)).not.toMatch(/another-value|YW5vdGhlci12YWx1ZQ/);
  });

  it('a secret-named env value changed is drift, shown as digests', () => {
    const live = liveOf(manifest(), [applyEntry]);
    const c = ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!;
    c.env = [
      { name: 'MODE', value: 'prod' },
      { name: 'DB_PASSWORD', value: 'changed-password' },
    ];
    const d = compareWithBaseline(baseline(), live);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]?.path).toBe('spec.template.spec.containers[web].env[DB_PASSWORD].value');
    expect(JSON.stringify(d)).not.toMatch(/hunter2|changed-password/);
  });

  it('items the baseline does not list (an injected sidecar) are not drift; a removed one is', () => {
    const live = liveOf(manifest(), [applyEntry]);
    const containers = ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers;
    containers.unshift({ name: 'istio-proxy', image: 'istio/proxyv2:1.22' });
    expect(compareWithBaseline(baseline(), live).changesTotal).toBe(0);
    containers.splice(1, 1);
    const d = compareWithBaseline(baseline(), live);
    expect(d.changes.map((c) => [c.path, c.live])).toEqual([['spec.template.spec.containers[web]', '(absent)']]);
  });

  it('a list of scalars is one value: an added argument is drift', () => {
    const m = manifest();
    const c = ((m.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!;
    c.args = ['--port=8080'];
    const live = liveOf(m, [applyEntry]);
    ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!.args = [
      '--port=8080',
      '--debug',
    ];
    expect(compareWithBaseline(baselineOf(m).object, live).changes.map((x) => x.path)).toEqual([
      'spec.template.spec.containers[web].args',
    ]);
  });

  it('replicas an HPA owns (kube-controller-manager through /scale) are not drift by default; by a person they are', () => {
    const live = liveOf(manifest(), [applyEntry, hpaEntry]);
    (live.spec as Rec).replicas = 7;
    const d = compareWithBaseline(baseline(), live, { rules: rulesFor(defaultDriftPolicy()) });
    expect(d.changesTotal).toBe(0);
    expect(d.ignored).toBe(1);
    expect(d.ignoredReason).toMatch(/HorizontalPodAutoscaler/);
    // Switched off in the policy, it is drift.
    const off = compareWithBaseline(baseline(), live, {
      rules: rulesFor({ controllerFields: false, ignoreDifferences: [] }),
    });
    expect(off.changes).toEqual([
      { path: 'spec.replicas', baseline: '3', live: '7', manager: 'kube-controller-manager' },
    ]);
    // The same manager without the scale subresource (or kubectl scale) is drift.
    const person = liveOf(manifest(), [applyEntry, { ...hpaEntry, manager: 'kubectl-scale' }]);
    (person.spec as Rec).replicas = 7;
    expect(compareWithBaseline(baseline(), person, { rules: rulesFor(defaultDriftPolicy()) }).changesTotal).toBe(1);
  });

  it('applies ignoreDifferences: JSON pointers, jq paths with select, managers, and object filters', () => {
    const live = liveOf(manifest(), [applyEntry, editEntry]);
    const c = ((live.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers[0]!;
    c.image = 'nginx:1.26';
    (live.spec as Rec).replicas = 5;
    const run = (rule: DriftPolicy['ignoreDifferences'][number], cluster = 'prod') =>
      compareWithBaseline(baseline(), live, {
        rules: rulesFor({ controllerFields: true, ignoreDifferences: [rule] }, cluster),
      }).changes.map((x) => x.path);
    expect(run({ jsonPointers: ['/spec/replicas'] })).toEqual(['spec.template.spec.containers[web].image']);
    expect(run({ jsonPointers: ['/spec/template/spec/containers/0/image'] })).toEqual(['spec.replicas']);
    expect(run({ jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web") | .image'] })).toEqual([
      'spec.replicas',
    ]);
    expect(
      run({ jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "other") | .image'] }),
    ).toHaveLength(2);
    expect(run({ managedFieldsManagers: ['kubectl-*'] })).toEqual(['spec.replicas']);
    // select() reads the baseline when the item is gone from the live object.
    const gone = liveOf(manifest(), [applyEntry]);
    ((gone.spec as Rec).template as { spec: { containers: Rec[] } }).spec.containers = [{ name: 'other', image: 'x' }];
    const rules = rulesFor({
      controllerFields: true,
      ignoreDifferences: [{ jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web")'] }],
    });
    expect(compareWithBaseline(baseline(), gone, { ...(rules ? { rules } : {}) })).toMatchObject({
      changesTotal: 0,
      ignored: 1,
    });
    expect(run({ kind: 'StatefulSet', jsonPointers: ['/spec/replicas'] })).toHaveLength(2);
    expect(run({ group: 'apps', kind: 'deployment', namespace: 'pay*', jsonPointers: ['/spec'] })).toEqual([]);
    expect(run({ clusters: ['staging'], jsonPointers: ['/spec'] })).toHaveLength(2);
  });

  it('caps the listed changes and counts them all', () => {
    const m: Rec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    const live: Rec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    for (let i = 0; i < 50; i++) {
      (m.data as Rec)[`k${i}`] = 'a';
      (live.data as Rec)[`k${i}`] = 'b';
    }
    const d = compareWithBaseline(m, live, { maxChanges: 5 });
    expect(d.changes).toHaveLength(5);
    expect(d.changesTotal).toBe(50);
  });

  it('bounds and masks values it shows', () => {
    const m: Rec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { big: 'a', password: 'x1' } };
    const live: Rec = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { big: 'b'.repeat(5000), password: 'x2' },
    };
    const d = compareWithBaseline(m, live);
    const big = d.changes.find((c) => c.path === 'data.big');
    expect(Array.from(big?.live ?? '').length).toBeLessThanOrEqual(201);
    expect(JSON.stringify(d)).not.toMatch(/x1|x2/);
  });

  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const object = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), json, { maxKeys: 6 });

  it('property: an object compared with itself is clean, and normalization is idempotent', () => {
    fc.assert(
      fc.property(object, fc.boolean(), (obj, secret) => {
        const o: Rec = secret ? { ...obj, kind: 'Secret', apiVersion: 'v1' } : obj;
        expect(compareWithBaseline(o, o).changesTotal).toBe(0);
        expect(compareWithBaseline(baselineOf(o).object, o).changesTotal).toBe(0);
        const once = normalizeForDiff(o);
        expect(normalizeForDiff(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('adopting keeps what people set, drops controller-owned fields, status and defaults', () => {
    const live = liveOf(manifest(), [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'apps/v1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:revisionHistoryLimit': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': { '.': {}, 'f:name': {}, 'f:image': {}, 'f:terminationMessagePath': {} },
                },
              },
            },
          },
        },
      },
      hpaEntry,
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        subresource: 'status',
        fieldsV1: { 'f:status': { 'f:replicas': {} } },
      },
    ]);
    const adopted = adoptableObject(live);
    expect(adopted).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'payments', labels: { app: 'web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
        },
      },
    });
    expect(compareWithBaseline(baselineOf(adopted).object, live).changesTotal).toBe(0);
  });
});

describe('drift paths', () => {
  it('parses JSON pointers and refuses what is not one', () => {
    expect(parseJsonPointer('/metadata/annotations/a~1b~0c')).toEqual(['metadata', 'annotations', 'a/b~c']);
    expect(() => parseJsonPointer('spec/replicas')).toThrow(/starts with "\/"/);
    expect(() => parseJsonPointer('/a~2')).toThrow(/~0/);
  });

  it('parses the jq subset and says where it stops', () => {
    expect(parseJqPath('.spec.template.spec.containers[] | select(.name == "web") | .resources')).toEqual([
      { key: 'spec' },
      { key: 'template' },
      { key: 'spec' },
      { key: 'containers' },
      { each: true },
      { select: ['name'], equals: 'web' },
      { key: 'resources' },
    ]);
    expect(parseJqPath('.metadata.annotations["a.b/c"]')).toEqual([
      { key: 'metadata' },
      { key: 'annotations' },
      { key: 'a.b/c' },
    ]);
    expect(parseJqPath('.spec.ports[0].port')).toEqual([
      { key: 'spec' },
      { key: 'ports' },
      { index: 0 },
      { key: 'port' },
    ]);
    expect(() => parseJqPath('.spec | del(.x)')).toThrow(/expected "\."/);
    expect(() => parseJqPath('.')).toThrow(/empty path/);
    expect(() => parseJqPath('.a[] | select(.b[] == 1)')).toThrow(/not allowed inside select/);
    expect(() => parseJqPath(`.${'a.'.repeat(40)}b`)).toThrow(/more than 32/);
    expect(() => parseJqPath('x'.repeat(600))).toThrow(/longer than 512/);
  });
});
