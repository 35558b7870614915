import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer } from '../../local/server.ts';
import { deploymentYaml, type Harness, startHarness } from '../support/k8s-harness.ts';
import { connectClient } from '../support/mcp-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kubernetes tools: SDK client -> local host -> fake API server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists the kubeconfig clusters and shows them in server_info', async () => {
    const clusters = await h.ok<{ items: Array<{ name: string; default: boolean }> }>('k8s_clusters_list');
    expect(clusters.items).toEqual([expect.objectContaining({ name: 'fake', default: true })]);
    const info = await h.ok<{ clusters: Array<{ name: string }> }>('server_info');
    expect(info.clusters.map((c) => c.name)).toEqual(['fake']);
  });

  it('discovers API resources, and a CRD once applied', async () => {
    const before = await h.ok<{ items: Array<{ kind: string; apiVersion: string }> }>('k8s_api_resources_list', {
      search: 'deploy',
    });
    expect(before.items).toContainEqual(expect.objectContaining({ kind: 'Deployment', apiVersion: 'apps/v1' }));
    await h.ok('k8s_resources_apply', {
      manifest: JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wg'] },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      }),
    });
    const after = await h.ok<{ items: Array<{ kind: string }> }>('k8s_api_resources_list', {
      search: 'widget',
      refresh: true,
    });
    expect(after.items).toEqual([
      expect.objectContaining({ kind: 'Widget', name: 'widgets', apiVersion: 'example.com/v1', shortNames: 'wg' }),
    ]);
    await h.ok('k8s_resources_apply', {
      manifest: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w1 }\nspec: { size: 3 }\n',
    });
    const widgets = await h.ok<{ items: Array<{ name: string }> }>('k8s_resources_list', { kind: 'wg' });
    expect(widgets.items.map((w) => w.name)).toEqual(['w1']);
  });

  it('applies a Deployment, watches it become ready, scales it, rolls a new image and undoes it', async () => {
    const applied = await h.ok<{ items: Array<{ action: string }> }>('k8s_resources_apply', {
      manifest: deploymentYaml('web', 'nginx:1.25.3'),
    });
    expect(applied.items[0]?.action).toBe('created');
    const ready = await h.ok<{ state: string; replicas: { ready: number } }>('k8s_rollouts_status', {
      name: 'web',
      waitSeconds: 20,
    });
    expect(ready).toMatchObject({ state: 'complete', done: true, replicas: { ready: 3, available: 3 } });

    const pods = await h.ok<{ items: Array<{ name: string; ready: string; status: string }>; total: number }>(
      'k8s_resources_list',
      { kind: 'pods', labelSelector: 'app=web' },
    );
    expect(pods.total).toBe(3);
    expect(pods.items.every((p) => p.ready === '1/1' && p.status === 'Running')).toBe(true);
    expect(pods._text).toMatch(/NAME\s+.*READY\s+.*STATUS/);

    await h.ok('k8s_workloads_scale', { name: 'web', replicas: 5 });
    const scaled = await h.ok<{ replicas: { ready: number } }>('k8s_rollouts_status', { name: 'web', waitSeconds: 20 });
    expect(scaled.replicas.ready).toBe(5);

    await h.ok('k8s_resources_patch', {
      kind: 'Deployment',
      name: 'web',
      patch: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27.0' }] } } } }),
    });
    const progressing = await h.ok<{ state: string }>('k8s_rollouts_status', { name: 'web' });
    expect(progressing.state).toBe('progressing');
    const rolled = await h.ok<{ state: string; revision: string }>('k8s_rollouts_status', {
      name: 'web',
      waitSeconds: 20,
    });
    expect(rolled).toMatchObject({ state: 'complete', revision: '2' });

    const history = await h.ok<{ items: Array<{ revision: number; images: string[]; current: boolean }> }>(
      'k8s_rollouts_history',
      { name: 'web' },
    );
    expect(history.items.map((i) => [i.revision, i.images[0], i.current])).toEqual([
      [1, 'nginx:1.25.3', false],
      [2, 'nginx:1.27.0', true],
    ]);

    const undone = await h.ok<{ toRevision: number }>('k8s_rollouts_undo', { name: 'web' });
    expect(undone.toRevision).toBe(1);
    await h.ok('k8s_rollouts_status', { name: 'web', waitSeconds: 20 });
    const live = h.kube.store.get('deployments.apps', 'default', 'web') as unknown as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
      metadata: { annotations: Record<string, string> };
    };
    expect(live.spec.template.spec.containers[0]?.image).toBe('nginx:1.25.3');
    expect(live.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');

    const restarted = await h.ok<{ restartedAt: string }>('k8s_rollouts_restart', { name: 'web' });
    const after = h.kube.store.get('deployments.apps', 'default', 'web') as unknown as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    expect(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(restarted.restartedAt);
  });

  it('records a baseline of what was applied', async () => {
    const b = await h.server.deps.baselines.get('fake', 'apps/v1', 'Deployment', 'default', 'web');
    expect(b).toMatchObject({ cluster: 'fake', kind: 'Deployment', name: 'web', appliedBy: expect.any(String) });
    expect(b?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tails logs, and explains a multi-container pod', async () => {
    // The previous test restarted web: wait for the new pods, and read a running one.
    await h.ok('k8s_rollouts_status', { name: 'web', waitSeconds: 20 });
    const pods = await h.ok<{ items: Array<{ name: string; status: string }> }>('k8s_resources_list', {
      kind: 'pods',
      labelSelector: 'app=web',
      fieldSelector: 'status.phase=Running',
    });
    const pod = pods.items.find((p) => p.status === 'Running')?.name as string;
    expect(pod).toBeDefined();
    const logs = await h.ok<{ lines: number }>('k8s_pods_logs', { name: pod, tailLines: 5 });
    expect(logs.lines).toBeLessThanOrEqual(5);
    expect(logs.lines).toBeGreaterThan(0);
    await h.ok('k8s_resources_apply', {
      manifest: `apiVersion: v1
kind: Pod
metadata: { name: duo, annotations: { fake.kube/log-lines: '["login ok token=abc123secret", "AKIAIOSFODNN7EXAMPLE"]' } }
spec:
  containers:
    - { name: a, image: busybox:1.36, resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { memory: 16Mi } } }
    - { name: b, image: busybox:1.36, resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { memory: 16Mi } } }
`,
    });
    let status = '';
    for (let i = 0; i < 200 && status !== 'Running'; i++) {
      const p = await h.ok<{ items: Array<{ status: string }> }>('k8s_resources_list', {
        kind: 'pods',
        fieldSelector: 'metadata.name=duo',
      });
      status = p.items[0]?.status ?? '';
      if (status !== 'Running') await sleep(100);
    }
    expect(status).toBe('Running');
    const bad = await h.call('k8s_pods_logs', { name: 'duo' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('a container name must be specified for pod duo, choose one of: [a b]');
    expect(bad.text).toContain('cluster fake');
    const masked = await h.ok('k8s_pods_logs', { name: 'duo', container: 'a' });
    expect(masked._text).not.toContain('abc123secret');
    expect(masked._text).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('shows Warning events for a crash-looping deployment', async () => {
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml('crashy', 'example/crashloop:1.0', { replicas: 1 }) });
    let events: { items: Array<{ reason: string; type: string; object: string }> } = { items: [] };
    for (let i = 0; i < 40 && !events.items.some((e) => e.reason === 'BackOff'); i++) {
      await sleep(250);
      events = await h.ok('k8s_events_list', { type: 'Warning' });
    }
    expect(
      events.items.some((e) => e.reason === 'BackOff' && e.type === 'Warning' && e.object.startsWith('pod/crashy-')),
    ).toBe(true);
    const pods = await h.ok<{ items: Array<{ status: string; restarts: number }> }>('k8s_resources_list', {
      kind: 'pods',
      labelSelector: 'app=crashy',
    });
    expect(pods.items[0]?.status).toBe('CrashLoopBackOff');
    const prev = await h.ok('k8s_pods_logs', {
      name: (pods.items[0] as unknown as { name: string }).name,
      previous: true,
    });
    expect(prev._text).toContain('previous container');
  });

  it('reports metrics, and says clearly when metrics.k8s.io is absent', async () => {
    const top = await h.ok<{ items: Array<{ name: string; cpuMillicores: number }> }>('k8s_metrics_top', {
      resource: 'pods',
    });
    expect(top.items.length).toBeGreaterThan(0);
    const nodes = await h.ok<{ items: Array<{ name: string }> }>('k8s_metrics_top', { resource: 'nodes' });
    expect(nodes.items.map((n) => n.name)).toContain('node-1');
    h.kube.setMetricsAvailable(false);
    try {
      const missing = await h.call('k8s_metrics_top', { resource: 'pods' });
      expect(missing.isError).toBe(true);
      expect(missing.text).toContain('metrics.k8s.io is not served by cluster fake: install metrics-server');
    } finally {
      h.kube.setMetricsAvailable(true);
    }
  });

  it('namespaces list marks protected namespaces', async () => {
    const ns = await h.ok<{ items: Array<{ name: string; protected: string }> }>('k8s_namespaces_list');
    expect(ns.items.find((n) => n.name === 'kube-system')?.protected).toBe('yes');
    expect(ns.items.find((n) => n.name === 'default')?.protected).toBe('');
  });

  it('deletes one object, refuses a selector delete over maxCount, and dryRun deletes nothing', async () => {
    for (const n of ['a', 'b', 'c']) {
      await h.ok('k8s_resources_apply', {
        manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm-${n}, labels: { batch: x } }\ndata: { k: v }\n`,
      });
    }
    const over = await h.call('k8s_resources_delete', { kind: 'ConfigMap', labelSelector: 'batch=x', maxCount: 2 });
    expect(over.isError).toBe(true);
    expect(over.text).toContain('3 ConfigMap objects match "batch=x", over maxCount 2; nothing was deleted');
    const dry = await h.ok<{ deleted: string[] }>('k8s_resources_delete', {
      kind: 'ConfigMap',
      labelSelector: 'batch=x',
      maxCount: 3,
      dryRun: true,
    });
    expect(dry.deleted.sort()).toEqual(['cm-a', 'cm-b', 'cm-c']);
    expect(h.kube.store.list('configmaps', 'default').filter((c) => c.metadata?.labels?.batch === 'x')).toHaveLength(3);
    await h.ok('k8s_resources_delete', { kind: 'cm', name: 'cm-a' });
    await h.ok('k8s_resources_delete', { kind: 'ConfigMap', labelSelector: 'batch=x', maxCount: 2 });
    expect(h.kube.store.list('configmaps', 'default').filter((c) => c.metadata?.labels?.batch === 'x')).toHaveLength(0);
  });

  it('a delete by selector meets the scope rules object by object: protected Namespaces stay', async () => {
    const before = h.kube.requests.length;
    const r = await h.call('k8s_resources_delete', {
      kind: 'Namespace',
      labelSelector: 'kubernetes.io/metadata.name in (kube-public,kube-node-lease)',
      maxCount: 2,
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('scope/protected-namespace');
    expect(h.kube.requests.slice(before).filter((q) => q.method === 'DELETE')).toEqual([]);
    for (const ns of ['kube-public', 'kube-node-lease']) expect(h.kube.store.get('namespaces', '', ns)).toBeDefined();
  });

  it('a name that is a path trick (".", "..", "a/b") is refused before any request: no collection delete', async () => {
    for (const n of ['x', 'y']) {
      await h.ok('k8s_resources_apply', {
        manifest: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: keep-${n} }\ndata: { k: v }\n`,
      });
    }
    const before = h.kube.requests.length;
    for (const name of ['.', '..', 'a/b', '%2e']) {
      const del = await h.call('k8s_resources_delete', { kind: 'configmaps', name });
      expect(del.isError, name).toBe(true);
      expect(del.text, name).toContain('invalid name');
      const patch = await h.call('k8s_resources_patch', {
        kind: 'configmaps',
        name,
        patchType: 'merge',
        patch: '{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}',
      });
      expect(patch.isError, name).toBe(true);
    }
    expect(h.kube.requests.length).toBe(before);
    for (const n of ['x', 'y']) expect(h.kube.store.get('configmaps', 'default', `keep-${n}`)).toBeDefined();
    const ns = h.kube.store.get('namespaces', '', 'default') as { metadata: { labels?: Record<string, string> } };
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBeUndefined();
  });

  it('patches with merge and JSON patch types, and previews with dryRun', async () => {
    await h.ok('k8s_resources_apply', {
      manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { mode: blue }\n',
    });
    const preview = await h.ok<{ dryRun: boolean; changes: string }>('k8s_resources_patch', {
      kind: 'ConfigMap',
      name: 'settings',
      patchType: 'merge',
      patch: '{"data":{"mode":"green"}}',
      dryRun: true,
    });
    expect(preview.dryRun).toBe(true);
    expect(preview.changes).toContain('data.mode');
    expect(
      (h.kube.store.get('configmaps', 'default', 'settings') as unknown as { data: Record<string, string> }).data.mode,
    ).toBe('blue');
    await h.ok('k8s_resources_patch', {
      kind: 'ConfigMap',
      name: 'settings',
      patchType: 'json',
      patch: '[{"op":"add","path":"/data/extra","value":"1"}]',
    });
    expect(
      (h.kube.store.get('configmaps', 'default', 'settings') as unknown as { data: Record<string, string> }).data,
    ).toEqual({ mode: 'blue', extra: '1' });
    const bad = await h.call('k8s_resources_patch', {
      kind: 'ConfigMap',
      name: 'settings',
      patchType: 'json',
      patch: '[{"op":"test","path":"/data/mode","value":"red"}]',
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('cluster fake');
  });

  it('a Secret never shows its values: not in apply, get, list full, or the audit trail', async () => {
    const plain = 'S3cr3t-Value-9f27';
    const token = 'tok-0a1b2c3d4e5f';
    const b64 = Buffer.from(token).toString('base64');
    const manifest = `apiVersion: v1
kind: Secret
metadata: { name: db-creds }
type: Opaque
stringData: { password: ${plain} }
data: { apiUrl: ${b64} }
`;
    const applied = await h.ok('k8s_resources_apply', { manifest });
    expect(applied._text).toMatch(/^Applied 1 object on \S+\./);
    const got = await h.ok<{ object: { data: Record<string, string> } }>('k8s_resources_get', {
      kind: 'Secret',
      name: 'db-creds',
    });
    expect(Object.keys(got.object.data).sort()).toEqual(['apiUrl', 'password']);
    expect(got.object.data.password).toMatch(/redacted: 17 bytes/);
    await h.ok('k8s_resources_get', { kind: 'Secret', name: 'db-creds', format: 'json' });
    await h.ok('k8s_resources_list', { kind: 'secrets', output: 'full' });
    await h.ok('k8s_resources_list', { kind: 'secrets' });
    await h.ok('k8s_resources_apply', { manifest: manifest.replace(plain, `${plain}-v2`), dryRun: true });
    await h.ok('k8s_resources_patch', {
      kind: 'Secret',
      name: 'db-creds',
      patchType: 'merge',
      patch: JSON.stringify({ stringData: { password: `${plain}-v3` } }),
      dryRun: true,
    });
    // The same Secret named the other ways the resolver accepts: the audit record must not keep the patch.
    for (const kind of ['Secret.', 'secrets.', 'SECRETS']) {
      await h.ok('k8s_resources_patch', {
        kind,
        name: 'db-creds',
        patchType: 'merge',
        patch: JSON.stringify({ stringData: { password: `${plain}-v4` } }),
        dryRun: true,
      });
    }
    const audit = await h.ok('audit_events_list', { limit: 100 });
    const stored = await h.server.deps.store.query({
      pk: `audit#${new Date().toISOString().slice(0, 10)}`,
      limit: 1000,
    });
    const haystack = [...h.transcript, applied._text, audit._text, JSON.stringify(stored.items)].join('\n');
    for (const needle of [plain, token, b64, Buffer.from(plain).toString('base64')])
      expect(haystack).not.toContain(needle);
    expect(h.kube.store.get('secrets', 'default', 'db-creds')).toBeDefined();
  });

  it('credentials in ConfigMaps and connection URLs stay hidden: get, list full, apply diff, audit', async () => {
    const secret = 'hunter2SuperSecretValue';
    await h.ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: creds }\n' });
    const cm = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: app-config, namespace: creds }
data:
  DB_PASSWORD: ${value}
  config.json: '{"apiKey": "${value}", "region": "eu-west-1"}'
  LOG_LEVEL: info
`;
    const deploy = deploymentYaml('creds-web', 'nginx:1.25.3', { namespace: 'creds' }).replace(
      /image: nginx:1\.25\.3\n/,
      (m) => `${m}          env: [{ name: DATABASE_URL, value: "postgres://app:${secret}@db:5432/app" }]\n`,
    );
    expect(deploy).toContain('DATABASE_URL');
    const applied = await h.ok('k8s_resources_apply', { manifest: `${cm(secret)}---\n${deploy}` });
    const diff = await h.ok<{ items: Array<{ diff?: Array<{ path: string; to?: unknown }> }> }>('k8s_resources_apply', {
      manifest: cm(`${secret}-v2`),
      dryRun: true,
    });
    expect(diff.items[0]?.diff).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'data.DB_PASSWORD', to: '<redacted>' })]),
    );
    const got = await h.ok<{ object: { data: Record<string, string> } }>('k8s_resources_get', {
      kind: 'cm',
      namespace: 'creds',
      name: 'app-config',
    });
    expect(got.object.data.DB_PASSWORD).toBe(`<redacted: ${secret.length} bytes>`);
    expect(got.object.data['config.json']).toBe('{"apiKey": "[REDACTED]", "region": "eu-west-1"}');
    expect(got.object.data.LOG_LEVEL).toBe('info');
    const dep = await h.ok('k8s_resources_get', { kind: 'deploy', namespace: 'creds', name: 'creds-web' });
    expect(dep._text).toContain('postgres://app:[REDACTED]@db:5432/app');
    await h.ok('k8s_resources_list', { kind: 'cm', namespace: 'creds', output: 'full' });
    await h.ok('k8s_resources_list', { kind: 'deploy', namespace: 'creds', output: 'full' });
    const audit = await h.ok('audit_events_list', { limit: 100 });
    const stored = await h.server.deps.store.query({
      pk: `audit#${new Date().toISOString().slice(0, 10)}`,
      limit: 1000,
    });
    const haystack = [...h.transcript, applied._text, audit._text, JSON.stringify(stored.items)].join('\n');
    expect(haystack).not.toContain(secret);
  });

  it('one huge object cannot break the budget: get is cut with a note, list full stubs it, in both channels', async () => {
    const budget = h.server.deps.config.outputBudgetBytes;
    const half = Math.floor(budget / 2);
    const data: Record<string, string> = {};
    for (let i = 0; i < 9000; i++) data[`k${i}`] = 'x'.repeat(90);
    await h.ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: huge }\n' });
    await h.ok('k8s_resources_apply', {
      manifest: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'big', namespace: 'huge', labels: { app: 'big' } },
        data,
      }),
    });
    for (const format of ['yaml', 'json']) {
      const r = await h.call('k8s_resources_get', { kind: 'cm', namespace: 'huge', name: 'big', format });
      expect(r.isError).toBe(false);
      expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(half);
      expect(Buffer.byteLength(JSON.stringify(r.data))).toBeLessThanOrEqual(half);
      const object = r.data.object as { kind: string; metadata: { name: string }; data: Record<string, string> };
      expect(object.kind).toBe('ConfigMap');
      expect(object.metadata.name).toBe('big');
      expect(object.data.k0).toBe('x'.repeat(90));
      const shown = Object.keys(object.data).filter((k) => k !== '[omitted]').length;
      expect(shown).toBeGreaterThan(50);
      expect(object.data['[omitted]']).toMatch(new RegExp(`^${9000 - shown} more keys`));
      expect(r.data.truncated).toBe(true);
      expect(r.text).toMatch(/Truncated: the object is [\d,]+ bytes.*cannot return a single field/);
    }
    const list = await h.call('k8s_resources_list', { kind: 'cm', namespace: 'huge', output: 'full' });
    expect(Buffer.byteLength(list.text)).toBeLessThanOrEqual(half);
    expect(Buffer.byteLength(JSON.stringify(list.data))).toBeLessThanOrEqual(half);
    const stub = (list.data.items as Array<Record<string, unknown>>).find((i) => i.name === 'big');
    expect(stub).toEqual({
      name: 'big',
      namespace: 'huge',
      truncated: true,
      bytes: expect.any(Number),
      hint: expect.stringContaining('k8s_resources_get'),
    });
    expect(list.text).toContain('"truncated":true');
  });

  it('apply of 50 documents with long diffs stays within the budget and says what it left out', async () => {
    const budget = h.server.deps.config.outputBudgetBytes;
    const half = Math.floor(budget / 2);
    await h.ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: many }\n' });
    const docs = (v: string) =>
      Array.from({ length: 50 }, (_, i) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `m${i}`, namespace: 'many' },
          data: Object.fromEntries(Array.from({ length: 30 }, (_, j) => [`key${j}`, v.repeat(300)])),
        }),
      ).join('\n---\n');
    await h.ok('k8s_resources_apply', { manifest: docs('a') });
    const r = await h.call('k8s_resources_apply', { manifest: docs('b'), dryRun: true });
    expect(r.isError).toBe(false);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(half);
    expect(Buffer.byteLength(JSON.stringify(r.data))).toBeLessThanOrEqual(half);
    const items = r.data.items as Array<{ name: string; action: string; changes: string; diff?: unknown[] }>;
    expect(items).toHaveLength(50);
    expect(items.every((i) => i.action === 'configured (dry run)' && i.changes.startsWith('30 changes'))).toBe(true);
    const whole = items.filter((i) => i.diff?.length === 30).length;
    expect(items[0]?.diff?.length).toBeGreaterThan(0);
    expect(r.data.diffsOmitted).toBe(50 - whole);
    expect(items.filter((i) => !i.diff).length).toBeGreaterThan(40);
    expect(r.text).toContain(`the field-level diffs of ${50 - whole} objects were cut or omitted`);
  });

  it('pages 5,000 pods within the size budget: correct total, no repeats, none missing', async () => {
    await h.ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: big }\n' });
    const names: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const name = `p-${String(i).padStart(4, '0')}`;
      names.push(name);
      h.kube.store.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'big', labels: { app: 'big' } },
        spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox:1.36' }] },
        status: {
          phase: 'Running',
          containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
        },
      });
    }
    const budget = h.server.deps.config.outputBudgetBytes;
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const r = await h.call('k8s_resources_list', {
        kind: 'pods',
        namespace: 'big',
        ...(cont ? { continue: cont } : {}),
      });
      expect(r.isError).toBe(false);
      expect(Buffer.byteLength(r.text) + Buffer.byteLength(JSON.stringify(r.data))).toBeLessThanOrEqual(budget);
      if (pages === 0) {
        expect(r.data.total).toBe(5000);
        expect((r.data.items as unknown[]).length).toBeLessThan(5000);
      }
      seen.push(...(r.data.items as Array<{ name: string }>).map((i) => i.name));
      cont = r.data.continue as string | undefined;
      pages++;
    } while (cont && pages < 200);
    expect(seen).toHaveLength(5000);
    expect(new Set(seen).size).toBe(5000);
    expect(seen).toEqual(names);

    const full = await h.call('k8s_resources_list', { kind: 'pods', namespace: 'big', output: 'full', limit: 1000 });
    expect(Buffer.byteLength(full.text) + Buffer.byteLength(JSON.stringify(full.data))).toBeLessThanOrEqual(budget);
    expect(full.data.total).toBe(5000);
    expect(full.data.continue).toBeDefined();
  });

  it('API failures and latency become clear tool errors naming the cluster and the call', async () => {
    h.kube.injectFailure({
      method: 'GET',
      pathPattern: /\/api\/v1\/namespaces\/default\/configmaps$/,
      status: 500,
      times: Number.POSITIVE_INFINITY,
      message: 'etcd leader changed',
    });
    try {
      const r = await h.call('k8s_resources_list', { kind: 'ConfigMap' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('GET /api/v1/namespaces/default/configmaps on cluster fake: 500');
      expect(r.text).toContain('etcd leader changed');
    } finally {
      h.kube.clearFailures();
    }
    // A server with a short API timeout of its own, so the shared harness can keep a generous one
    // (a busy machine must not turn slow answers into failures elsewhere).
    const impatient = await startLocalServer({
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      KUBECONFIG: h.kube.kubeconfigPath,
      K8S_TIMEOUT_MS: '1000',
    });
    const client = await connectClient(impatient.url, 'modern');
    h.kube.injectFailure({
      method: 'GET',
      pathPattern: /\/api\/v1\/namespaces\/default\/services$/,
      delayMs: 12_000,
      times: 2,
    });
    try {
      const started = Date.now();
      const r = (await client.callTool({ name: 'k8s_resources_list', arguments: { kind: 'Service' } })) as {
        isError?: boolean;
        content: Array<{ text?: string }>;
      };
      expect(r.isError).toBe(true);
      expect(r.content[0]?.text).toContain('on cluster fake: no answer from the API server within 1000 ms');
      // Two attempts of 1 s each, not the 12 s the API server takes to answer.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      h.kube.clearFailures();
      await client.close();
      await impatient.close();
    }
    // A single transient 503 on a read is retried and does not reach the caller.
    h.kube.injectFailure({
      method: 'GET',
      pathPattern: /\/api\/v1\/namespaces\/default\/configmaps$/,
      status: 503,
      times: 1,
    });
    expect((await h.call('k8s_resources_list', { kind: 'ConfigMap' })).isError).toBe(false);
  });

  it('k8s_rollouts_status never waits past waitSeconds, even when the API server is slow', async () => {
    await h.ok('k8s_resources_apply', {
      manifest: deploymentYaml('stuck', 'registry.example.com/app:does-not-exist', { replicas: 1 }),
    });
    // Every poll after the first takes 2.5 s (within the 3 s client timeout, so it would succeed).
    h.kube.injectFailure({
      method: 'GET',
      pathPattern: /\/apis\/apps\/v1\/namespaces\/default\/deployments\/stuck$/,
      delayMs: 2500,
      times: Number.POSITIVE_INFINITY,
    });
    try {
      const started = Date.now();
      const r = await h.call('k8s_rollouts_status', { name: 'stuck', waitSeconds: 3 });
      const took = Date.now() - started;
      expect(r.isError).toBe(false);
      expect(r.data.done).toBe(false);
      // The wait ends at 3 s (the first read used 2.5 s of it); a poll started just before the end
      // is not waited for (that took about 5.5 s before).
      expect(took).toBeGreaterThanOrEqual(2900);
      expect(took).toBeLessThan(4500);
    } finally {
      h.kube.clearFailures();
    }
  });

  it('an aggregated API that hangs or a group that vanished does not break discovery', async () => {
    h.kube.injectFailure({
      method: 'GET',
      pathPattern: /^\/apis\/metrics\.k8s\.io\/v1beta1$/,
      delayMs: 5000,
      times: Number.POSITIVE_INFINITY,
    });
    try {
      const r = await h.call('k8s_api_resources_list', { search: 'deploy', refresh: true });
      expect(r.isError, r.text).toBe(false);
      expect(r.text).toContain('Deployment');
    } finally {
      h.kube.clearFailures();
    }
    h.kube.injectFailure({ method: 'GET', pathPattern: /^\/apis\/metrics\.k8s\.io\/v1beta1$/, status: 404, times: 1 });
    const gone = await h.call('k8s_api_resources_list', { search: 'deploy', refresh: true });
    expect(gone.isError, gone.text).toBe(false);
  });

  it('a failing credential plugin is reported as such, not as an unreachable cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-exec-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: eks',
        `clusters: [{ name: eks, cluster: { server: '${h.kube.url}' } }]`,
        'contexts: [{ name: eks, context: { cluster: eks, user: sso } }]',
        'users:',
        '  - name: sso',
        '    user:',
        '      exec:',
        '        apiVersion: client.authentication.k8s.io/v1beta1',
        '        command: /bin/sh',
        '        args: ["-c", "echo ExpiredToken: the security token included in the request is expired >&2; exit 255"]',
        '        interactiveMode: Never',
      ].join('\n'),
    );
    const server = await startLocalServer({
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      KUBECONFIG: kubeconfig,
      K8S_TIMEOUT_MS: '3000',
    });
    const client = await connectClient(server.url, 'modern');
    try {
      const r = (await client.callTool({ name: 'k8s_namespaces_list', arguments: {} })) as {
        isError?: boolean;
        content: Array<{ text?: string }>;
      };
      expect(r.isError).toBe(true);
      expect(r.content[0]?.text).toContain("the kubeconfig's credentials for this cluster could not be obtained");
      expect(r.content[0]?.text).not.toContain('cannot reach the API server');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('unknown cluster and unknown kind are clear errors', async () => {
    const c = await h.call('k8s_resources_list', { kind: 'pods', cluster: 'nope' });
    expect(c.isError).toBe(true);
    expect(c.text).toContain('unknown cluster "nope"; known clusters: fake');
    const k = await h.call('k8s_resources_list', { kind: 'Gizmo' });
    expect(k.text).toContain('no resource type "Gizmo"');
  });
});

describe('guardrails on writes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const podWith = (name: string, spec: string, namespace = 'default') => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec}`;
  const res = 'resources: { requests: { cpu: 10m, memory: 8Mi }, limits: { memory: 16Mi } }';
  const cases: Array<[string, string, string, string]> = [
    [
      'privileged',
      podWith(
        'priv',
        `  containers:\n    - { name: c, image: busybox:1.36, securityContext: { privileged: true }, ${res} }`,
      ),
      'pss-baseline/privileged',
      'priv',
    ],
    [
      'hostPath',
      podWith(
        'hp',
        `  volumes: [{ name: h, hostPath: { path: /etc } }]\n  containers:\n    - { name: c, image: busybox:1.36, ${res} }`,
      ),
      'pss-baseline/host-path',
      'hp',
    ],
    [
      'latest image',
      podWith('lt', `  containers:\n    - { name: c, image: 'nginx:latest', ${res} }`),
      'images/pinned',
      'lt',
    ],
    [
      'kube-system',
      podWith('ks', `  containers:\n    - { name: c, image: busybox:1.36, ${res} }`, 'kube-system'),
      'scope/protected-namespace',
      'ks',
    ],
  ];

  for (const [label, manifest, rule, name] of cases) {
    it(`refuses a ${label} pod with ${rule} and creates nothing`, async () => {
      const before = h.kube.requests.length;
      const r = await h.call('k8s_resources_apply', { manifest });
      expect(r.isError).toBe(true);
      expect(r.text).toContain(rule);
      expect(r.data.refused).toBe(true);
      expect(
        (r.data.findings as Array<{ ruleId: string; path: string; fix: string }>).some(
          (f) => f.ruleId === rule && f.path && f.fix,
        ),
      ).toBe(true);
      const ns = label === 'kube-system' ? 'kube-system' : 'default';
      expect(h.kube.store.get('pods', ns, name)).toBeUndefined();
      // No write reached the API server, not even a dry run.
      expect(h.kube.requests.slice(before).filter((q) => q.method !== 'GET')).toEqual([]);
    });
  }

  it('a ClusterRoleBinding to cluster-admin is refused by scope/cluster-scoped and nothing is created', async () => {
    const before = h.kube.requests.length;
    const r = await h.call('k8s_resources_apply', {
      manifest: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: agent-admin }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ kind: ServiceAccount, name: default, namespace: default }]
`,
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('scope/cluster-scoped');
    expect(h.kube.requests.slice(before).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(h.kube.store.get('clusterrolebindings.rbac.authorization.k8s.io', '', 'agent-admin')).toBeUndefined();
  });

  it('a patch that makes a Deployment privileged is refused on the dry-run result', async () => {
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml('guarded', 'nginx:1.25.3', { replicas: 1 }) });
    const r = await h.call('k8s_resources_patch', {
      kind: 'Deployment',
      name: 'guarded',
      patch: JSON.stringify({
        spec: { template: { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] } } },
      }),
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('pss-baseline/privileged');
    const live = h.kube.store.get('deployments.apps', 'default', 'guarded') as unknown as {
      spec: { template: { spec: { containers: Array<{ securityContext?: unknown }> } } };
    };
    expect(live.spec.template.spec.containers[0]?.securityContext).toBeUndefined();
  });

  it('audit mode lets the same writes through with the findings in the result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, 'mode: audit\n');
    const audit = await startHarness({ POLICY_FILE: policyFile });
    try {
      for (const [, manifest, rule, name] of cases.slice(0, 3)) {
        const r = await audit.ok<{ findings: Array<{ ruleId: string; mode: string }> }>('k8s_resources_apply', {
          manifest,
        });
        expect(r.findings).toContainEqual(expect.objectContaining({ ruleId: rule, mode: 'audit' }));
        expect(r._text).toContain(rule);
        expect(audit.kube.store.get('pods', 'default', name)).toBeDefined();
      }
    } finally {
      await audit.close();
    }
  });
});
