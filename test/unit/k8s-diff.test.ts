import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { baselineOf, diffObjects, normalizeForDiff } from '../../shared/domain/k8s/index.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function liveDeployment() {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: '5f0c6f1e-8c1a-4b7e-9d2a-1f0e3c4b5a69',
      resourceVersion: '918273',
      generation: 12,
      creationTimestamp: '2026-10-26T09:14:03Z',
      selfLink: '/apis/apps/v1/namespaces/shop/deployments/web',
      labels: { app: 'web' } as Record<string, string>,
      annotations: {
        'deployment.kubernetes.io/revision': '7',
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1","kind":"Deployment"}',
      } as Record<string, string>,
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: '2026-11-20T10:00:00Z' }],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: {} },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              args: ['--port=8080', '--workers=4'],
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'REGION', value: 'eu-west-1' },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: {} },
            },
            { name: 'metrics', image: 'acme/metrics-sidecar:0.3', ports: [{ containerPort: 9100 }] },
          ],
          volumes: [],
          nodeSelector: null,
        },
      },
    },
    status: { observedGeneration: 12, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 },
  };
}

type Dep = ReturnType<typeof liveDeployment>;
function containers(d: Dep) {
  return d.spec.template.spec.containers as Array<Record<string, unknown>>;
}
function webEnv(d: Dep): Array<Record<string, string>> {
  const env = containers(d)[0]?.env;
  if (!Array.isArray(env)) throw new Error('fixture has no env');
  return env;
}

describe('normalizeForDiff', () => {
  it('drops status, server metadata, bookkeeping annotations, nulls and empty maps/arrays; sorts keys', () => {
    const n = normalizeForDiff(liveDeployment());
    expect(n.status).toBeUndefined();
    expect(n.metadata).toEqual({ labels: { app: 'web' }, name: 'web', namespace: 'shop' });
    expect(Object.keys(n)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    const tpl = (n.spec as { template: { metadata: Record<string, unknown>; spec: Record<string, unknown> } }).template;
    expect(tpl.metadata).toEqual({ labels: { app: 'web' } });
    expect(Object.keys(tpl.spec)).toEqual(['containers']); // empty volumes, null nodeSelector gone
    const web = (tpl.spec.containers as Array<Record<string, unknown>>)[0];
    expect(Object.keys(web ?? {})).toEqual(['args', 'env', 'image', 'name', 'ports', 'resources']);
    expect(web?.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' } });
    expect(web?.args).toEqual(['--port=8080', '--workers=4']); // list order kept
  });

  it('is idempotent and independent of key order, and does not touch its input', () => {
    const live = liveDeployment();
    const before = JSON.stringify(live);
    const once = normalizeForDiff(live);
    expect(normalizeForDiff(once)).toEqual(once);
    expect(JSON.stringify(normalizeForDiff(once))).toBe(JSON.stringify(once));
    const shuffled = {
      status: live.status,
      spec: live.spec,
      metadata: live.metadata,
      kind: live.kind,
      apiVersion: live.apiVersion,
    };
    expect(JSON.stringify(normalizeForDiff(shuffled))).toBe(JSON.stringify(once));
    expect(JSON.stringify(live)).toBe(before);
  });

  it('replaces Secret values by digests and folds stringData into data, so manifest and live Secret agree', () => {
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'pw-1' } };
    const live = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'db', uid: 'u', resourceVersion: '3', creationTimestamp: '2026-11-01T00:00:00Z' },
      data: { password: b64('pw-1') },
    };
    expect(normalizeForDiff(manifest)).toEqual({
      apiVersion: 'v1',
      data: { password: `sha256:${sha256('pw-1')}` },
      kind: 'Secret',
      metadata: { name: 'db' },
    });
    expect(normalizeForDiff(live).data).toEqual(normalizeForDiff(manifest).data);
    expect(normalizeForDiff(normalizeForDiff(live))).toEqual(normalizeForDiff(live));
    expect(diffObjects(manifest, live).changes).toEqual([{ path: 'type', op: 'add', to: 'Opaque' }]);
  });
});

describe('diffObjects', () => {
  it('reports nothing for two reads of the same object that differ only in server noise', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    b.metadata.resourceVersion = '999999';
    b.metadata.generation = 13;
    b.metadata.managedFields = [];
    b.status.readyReplicas = 1;
    b.metadata.annotations['deployment.kubernetes.io/revision'] = '8';
    expect(diffObjects(a, b)).toEqual({ changes: [], omitted: 0, summary: 'no changes' });
  });

  it('matches containers by name, so reordering is not a change and paths name the container', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    b.spec.replicas = 3;
    b.spec.template.spec.containers.reverse();
    const web = containers(b).find((c) => c.name === 'web');
    if (web) web.image = 'nginx:1.27';
    b.metadata.labels.tier = 'frontend';
    const d = diffObjects(a, b);
    expect(d.changes).toEqual([
      { path: 'metadata.labels.tier', op: 'add', to: 'frontend' },
      { path: 'spec.replicas', op: 'change', from: 2, to: 3 },
      { path: 'spec.template.spec.containers[name=web].image', op: 'change', from: 'nginx:1.25', to: 'nginx:1.27' },
    ]);
    expect(d.summary).toBe(
      '3 changes: + metadata.labels.tier: frontend, ~ spec.replicas 2 -> 3, ~ spec.template.spec.containers[name=web].image nginx:1.25 -> nginx:1.27',
    );
  });

  it('matches env by name and other lists (args, unnamed ports) by index', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    const web = containers(b)[0] as { args: string[]; env: Array<Record<string, string>> };
    web.args = ['--port=8080', '--workers=8', '--verbose'];
    web.env = [
      { name: 'REGION', value: 'us-east-1' },
      { name: 'LOG_LEVEL', value: 'info' },
    ];
    const metrics = containers(b)[1] as { ports: Array<Record<string, number>> };
    metrics.ports = [{ containerPort: 9200 }];
    const d = diffObjects(a, b);
    // named items are visited in the order of the live list: web, then metrics
    expect(d.changes).toEqual([
      { path: 'spec.template.spec.containers[name=web].args[1]', op: 'change', from: '--workers=4', to: '--workers=8' },
      { path: 'spec.template.spec.containers[name=web].args[2]', op: 'add', to: '--verbose' },
      {
        path: 'spec.template.spec.containers[name=web].env[name=REGION].value',
        op: 'change',
        from: 'eu-west-1',
        to: 'us-east-1',
      },
      {
        path: 'spec.template.spec.containers[name=metrics].ports[0].containerPort',
        op: 'change',
        from: 9100,
        to: 9200,
      },
    ]);
  });

  it('reports added and removed containers and volumes as whole items', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    b.spec.template.spec.containers = b.spec.template.spec.containers.filter((c) => c.name !== 'metrics');
    containers(b).push({ name: 'log-shipper', image: 'fluent/fluent-bit:3.1' });
    (b.spec.template.spec as Record<string, unknown>).volumes = [{ name: 'cache', emptyDir: {} }];
    const d = diffObjects(a, b);
    expect(d.changes).toEqual([
      {
        path: 'spec.template.spec.containers[name=metrics]',
        op: 'remove',
        from: { image: 'acme/metrics-sidecar:0.3', name: 'metrics', ports: [{ containerPort: 9100 }] },
      },
      {
        path: 'spec.template.spec.containers[name=log-shipper]',
        op: 'add',
        to: { image: 'fluent/fluent-bit:3.1', name: 'log-shipper' },
      },
      { path: 'spec.template.spec.volumes', op: 'add', to: [{ name: 'cache' }] },
    ]);
    expect(d.summary).toContain('- spec.template.spec.containers[name=metrics]');
    expect(d.summary).toContain('+ spec.template.spec.containers[name=log-shipper]');
  });

  it('quotes keys that are not plain identifiers', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    b.metadata.labels['app.kubernetes.io/version'] = '1.27';
    expect(diffObjects(a, b).changes[0]?.path).toBe('metadata.labels["app.kubernetes.io/version"]');
  });

  it('cuts long values to 200 characters and lists at most maxChanges', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    a.metadata.annotations = { ...a.metadata.annotations, note: 'short' };
    b.metadata.annotations = { ...b.metadata.annotations, note: 'n'.repeat(1000) };
    for (let i = 0; i < 20; i++) b.metadata.labels[`l${String(i).padStart(2, '0')}`] = 'x';
    const d = diffObjects(a, b, { maxChanges: 5 });
    expect(d.changes).toHaveLength(5);
    expect(d.omitted).toBe(16);
    expect(d.summary.startsWith('21 changes: ')).toBe(true);
    expect(d.summary.endsWith(', … 16 more')).toBe(true);
    const note = diffObjects(a, b).changes.find((c) => c.path === 'metadata.annotations.note');
    expect(note).toEqual({ path: 'metadata.annotations.note', op: 'change', from: 'short', to: `${'n'.repeat(200)}…` });
    const wholeMap = diffObjects(liveDeployment(), b).changes.find((c) => c.path === 'metadata.annotations');
    expect(wholeMap?.to).toBe(`${JSON.stringify({ note: 'n'.repeat(1000) }).slice(0, 200)}…`);
  });

  it('masks credential-looking values and secret-named env values in changes', () => {
    const a = liveDeployment();
    const b = liveDeployment();
    webEnv(b).push({ name: 'DB_PASSWORD', value: 'pl41n-t3xt-pw' });
    const c = liveDeployment();
    webEnv(c).push({ name: 'DB_PASSWORD', value: 'n3w-pl41n-pw' });
    const added = diffObjects(a, b);
    const changed = diffObjects(b, c);
    const json = JSON.stringify([added, changed]);
    expect(json).not.toContain('pl41n');
    expect(changed.changes).toEqual([
      {
        path: 'spec.template.spec.containers[name=web].env[name=DB_PASSWORD].value',
        op: 'change',
        from: '<redacted>',
        to: '<redacted>',
      },
    ]);
  });

  it('describes a new object when there is no live one', () => {
    const d = diffObjects(undefined, liveDeployment());
    expect(d.summary).toBe('new Deployment shop/web');
    expect(d.changes.map((c) => `${c.op} ${c.path}`)).toEqual([
      'add apiVersion',
      'add kind',
      'add metadata',
      'add spec',
    ]);
  });

  it('can ignore fields only present in the live object (drift against a manifest)', () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
    };
    const live = liveDeployment();
    live.spec.replicas = 5;
    const d = diffObjects(manifest, live, { ignoreAdditions: true });
    expect(d.changes).toEqual([{ path: 'spec.replicas', op: 'change', from: 2, to: 5 }]);
    expect(diffObjects(manifest, live).changes.length).toBeGreaterThan(5);
  });
  it('treats keys named like Object.prototype members as ordinary keys', () => {
    const a = { kind: 'Widget', metadata: { name: 'w' }, spec: JSON.parse('{"constructor":"a","__proto__":{"x":1}}') };
    const b = { kind: 'Widget', metadata: { name: 'w' }, spec: JSON.parse('{"toString":"b","__proto__":{"x":2}}') };
    expect(diffObjects(a, b).changes).toEqual([
      { path: 'spec.__proto__.x', op: 'change', from: 1, to: 2 },
      { path: 'spec.constructor', op: 'remove', from: 'a' },
      { path: 'spec.toString', op: 'add', to: 'b' },
    ]);
    const secret = (v: string) => ({
      kind: 'Secret',
      metadata: { name: 's' },
      data: JSON.parse(`{"__proto__":"${b64(v)}"}`),
    });
    expect(baselineOf(secret('one')).hash).not.toBe(baselineOf(secret('two')).hash);
    expect(Object.keys(normalizeForDiff(secret('one')).data as object)).toEqual(['__proto__']);
  });
});

describe('diffObjects on Secrets', () => {
  const secret = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: 'db-credentials', namespace: 'shop', resourceVersion: '1' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });

  it('reports changed, added and removed keys without ever showing a value', () => {
    const before = secret({ password: 'old-S3cret!', username: 'app', legacy: 'L3gacy-val' });
    const after = secret({ password: 'new-S3cret!', username: 'app', apiKey: 'k3y-Value-9' });
    const d = diffObjects(before, after);
    expect(d.changes).toEqual([
      { path: 'data.apiKey', op: 'add', to: '<redacted>' },
      { path: 'data.legacy', op: 'remove', from: '<redacted>' },
      { path: 'data.password', op: 'change', from: '<redacted>', to: '<redacted>' },
    ]);
    expect(d.summary).toBe('3 changes: + data.apiKey, - data.legacy, ~ data.password (value changed)');
    const json = JSON.stringify(d);
    for (const v of ['old-S3cret!', 'new-S3cret!', 'L3gacy-val', 'k3y-Value-9']) {
      expect(json).not.toContain(v);
      expect(json).not.toContain(b64(v));
    }
  });

  it('hides a whole data map that appears or disappears', () => {
    const empty = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } };
    const d = diffObjects(empty, secret({ token: 'T0ken-Value' }));
    expect(d.changes).toContainEqual({ path: 'data', op: 'add', to: '<redacted>' });
    expect(JSON.stringify(d)).not.toContain(b64('T0ken-Value'));
    const created = diffObjects(undefined, secret({ token: 'T0ken-Value' }));
    expect(JSON.stringify(created)).not.toContain(b64('T0ken-Value'));
  });
});

describe('diffObjects on ConfigMaps', () => {
  const cm = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: 'shop' },
    data,
  });
  const SECRET = 'hunter2SuperSecretValue';

  it('hides values under secret-named keys and masks credentials in the others', () => {
    const before = cm({ DB_PASSWORD: 'old-value-1', 'db.password': 'old-2', LOG_LEVEL: 'info', 'config.json': '{}' });
    const after = cm({
      DB_PASSWORD: SECRET,
      'db.password': `${SECRET}-2`,
      LOG_LEVEL: 'debug',
      'config.json': `{"apiKey": "${SECRET}", "url": "postgres://app:${SECRET}@db:5432/app"}`,
    });
    const d = diffObjects(before, after);
    expect(d.changes).toEqual([
      { path: 'data.DB_PASSWORD', op: 'change', from: '<redacted>', to: '<redacted>' },
      { path: 'data.LOG_LEVEL', op: 'change', from: 'info', to: 'debug' },
      {
        path: 'data["config.json"]',
        op: 'change',
        from: '{}',
        to: '{"apiKey": "[REDACTED]", "url": "postgres://app:[REDACTED]@db:5432/app"}',
      },
      { path: 'data["db.password"]', op: 'change', from: '<redacted>', to: '<redacted>' },
    ]);
    expect(d.summary).toContain('~ data.DB_PASSWORD (value changed)');
    expect(JSON.stringify(d)).not.toContain(SECRET);
    expect(JSON.stringify(d)).not.toContain('old-value-1');
  });

  it('hides secret-named values in a data map that appears whole (a new ConfigMap)', () => {
    const empty = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'shop' } };
    const d = diffObjects(empty, cm({ API_TOKEN: SECRET, LOG_LEVEL: 'info' }));
    expect(d.changes).toEqual([{ path: 'data', op: 'add', to: { API_TOKEN: '<redacted>', LOG_LEVEL: 'info' } }]);
    expect(JSON.stringify(diffObjects(undefined, cm({ API_TOKEN: SECRET })))).not.toContain(SECRET);
  });
});

describe('baselineOf', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: 'db-credentials', namespace: 'shop', uid: 'abc', resourceVersion: '5' },
    data: { password: b64('Sup3r-S3cret') },
    stringData: { token: 'T0k3n-Value' },
  };

  it('stores digests instead of Secret values', () => {
    const { object, hash } = baselineOf(secret);
    expect(object).toEqual({
      apiVersion: 'v1',
      data: {
        password: `sha256:${sha256('Sup3r-S3cret')}`,
        token: `sha256:${sha256('T0k3n-Value')}`,
      },
      kind: 'Secret',
      metadata: { name: 'db-credentials', namespace: 'shop' },
      type: 'Opaque',
    });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const json = JSON.stringify({ object, hash });
    for (const v of ['Sup3r-S3cret', 'T0k3n-Value']) {
      expect(json).not.toContain(v);
      expect(json).not.toContain(b64(v));
    }
  });

  it('hashes stably under key order and server noise, and changes when a Secret value changes', () => {
    const reordered = {
      stringData: { token: 'T0k3n-Value' },
      data: { password: b64('Sup3r-S3cret') },
      metadata: { resourceVersion: '77', namespace: 'shop', name: 'db-credentials' },
      type: 'Opaque',
      kind: 'Secret',
      apiVersion: 'v1',
    };
    expect(baselineOf(reordered).hash).toBe(baselineOf(secret).hash);
    // the manifest form (stringData) and the live form (data) of the same Secret agree
    const live = {
      ...secret,
      stringData: undefined,
      data: { password: b64('Sup3r-S3cret'), token: b64('T0k3n-Value') },
    };
    expect(baselineOf(live).hash).toBe(baselineOf(secret).hash);
    const rotated = { ...secret, data: { password: b64('Sup3r-S3cret2') } };
    const changed = baselineOf(rotated);
    expect(changed.hash).not.toBe(baselineOf(secret).hash);
    // and a diff of the two baselines says which key changed, without values or digests
    expect(diffObjects(baselineOf(secret).object, changed.object).changes).toEqual([
      { path: 'data.password', op: 'change', from: '<redacted>', to: '<redacted>' },
    ]);
  });

  it('hashes a deployment stably and changes with the spec; secret-named env literals are digested', () => {
    const a = liveDeployment();
    webEnv(a).push({ name: 'API_TOKEN', value: 'l1teral-t0ken' });
    const base = baselineOf(a);
    expect(JSON.stringify(base)).not.toContain('l1teral-t0ken');
    const b = JSON.parse(JSON.stringify(a)) as Dep;
    b.status.readyReplicas = 0;
    b.metadata.resourceVersion = '2';
    expect(baselineOf(b).hash).toBe(base.hash);
    b.spec.replicas = 4;
    expect(baselineOf(b).hash).not.toBe(base.hash);
  });

  it('uses HMAC digests when given a key', () => {
    const keyed = baselineOf(secret, { hmacKey: 'k' });
    expect((keyed.object.data as Record<string, string>).password).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(keyed.hash).not.toBe(baselineOf(secret).hash);
    expect(baselineOf(secret, { hmacKey: 'k' }).hash).toBe(keyed.hash);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
