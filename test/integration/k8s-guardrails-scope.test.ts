/**
 * Scope is decided by the API server's discovery, never by the manifest: through the real
 * k8s_resources_apply and k8s_resources_delete tools against the fake Kubernetes API server, a
 * cluster-scoped object that claims an allowed (or protected) namespace is judged, and written, as
 * cluster-scoped; a namespaced one is judged by the namespace it is written to.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_NAME } from '../support/fake-kube/index.ts';
import { type Harness, startHarness } from '../support/k8s-harness.ts';

/** Confined to `default` and `team-*`; CRDs and ClusterRoles may be written by agents. */
const POLICY = `namespaces: { allow: [default, 'team-*'] }
clusterScoped: { allow: [CustomResourceDefinition, ClusterRole] }
`;

const crb = (namespace?: string) => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: sneaky${namespace ? `, namespace: ${namespace}` : ''} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ kind: ServiceAccount, name: default, namespace: default }]
`;

const clusterRole = (
  name: string,
  namespace: string | undefined,
  verbs: string,
) => `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${name}${namespace ? `, namespace: ${namespace}` : ''} }
rules: [{ apiGroups: [''], resources: [pods], verbs: ${verbs} }]
`;

const configMap = (name: string, namespace?: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}${namespace ? `, namespace: ${namespace}` : ''} }
data: { a: b }
`;

describe('guardrails judge scope from discovery, through the apply and delete tools', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'policy-scope-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    h = await startHarness({ POLICY_FILE: join(dir, 'policy.yaml') });
    // A cluster-scoped custom kind: only discovery can tell it is cluster-scoped.
    await h.ok('k8s_resources_apply', {
      manifest: JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'gadgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Cluster',
          names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
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
    await h.ok('k8s_api_resources_list', { search: 'gadget', refresh: true });
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Non-GET requests since `before`: a refusal must not reach the API server, not even as a dry run. */
  const writesSince = (before: number) => h.kube.requests.slice(before).filter((q) => q.method !== 'GET');

  const refusedCases: Array<[string, string, string]> = [
    ['ClusterRoleBinding claiming the allowed namespace', crb('default'), 'scope/cluster-scoped'],
    ['ClusterRoleBinding claiming a team namespace', crb('team-a'), 'scope/cluster-scoped'],
    ['ClusterRoleBinding claiming no namespace', crb(), 'scope/cluster-scoped'],
    [
      'cluster-scoped custom object claiming the allowed namespace',
      'apiVersion: example.com/v1\nkind: Gadget\nmetadata: { name: g1, namespace: default }\nspec: { size: 1 }\n',
      'scope/cluster-scoped',
    ],
    [
      'Node claiming the allowed namespace',
      `apiVersion: v1\nkind: Node\nmetadata: { name: ${NODE_NAME}, namespace: default, labels: { stolen: 'yes' } }\n`,
      'scope/cluster-scoped',
    ],
    [
      'ClusterRole with a wildcard claiming the allowed namespace',
      clusterRole('wide', 'default', "['*']"),
      'cluster-access/rbac-role',
    ],
    [
      'ConfigMap whose metadata.namespace (protected) differs from the namespace argument',
      configMap('cm-ks', 'kube-system'),
      'scope/protected-namespace',
    ],
  ];

  for (const [label, manifest, rule] of refusedCases) {
    for (const dryRun of [false, true]) {
      it(`refuses a ${label}${dryRun ? ' (dry run)' : ''} with ${rule}, and writes nothing`, async () => {
        const before = h.kube.requests.length;
        const r = await h.call('k8s_resources_apply', { manifest, namespace: 'default', dryRun });
        expect(r.isError, r.text).toBe(true);
        expect(r.data.refused).toBe(true);
        expect((r.data.findings as Array<{ ruleId: string }>).map((f) => f.ruleId)).toContain(rule);
        expect(writesSince(before)).toEqual([]);
      });
    }
  }

  it('nothing refused above reached the store', () => {
    expect(h.kube.store.get('clusterrolebindings.rbac.authorization.k8s.io', undefined, 'sneaky')).toBeUndefined();
    expect(h.kube.store.get('gadgets.example.com', undefined, 'g1')).toBeUndefined();
    expect(h.kube.store.get('clusterroles.rbac.authorization.k8s.io', undefined, 'wide')).toBeUndefined();
    expect(h.kube.store.get('configmaps', 'kube-system', 'cm-ks')).toBeUndefined();
    const node = h.kube.store.get('nodes', undefined, NODE_NAME);
    expect(node?.metadata?.labels?.stolen).toBeUndefined();
  });

  it('an allowed cluster-scoped kind claiming a protected namespace is written cluster-scoped, without it', async () => {
    for (const dryRun of [true, false]) {
      const before = h.kube.requests.length;
      const r = await h.call('k8s_resources_apply', {
        manifest: clusterRole('pod-reader', 'kube-system', '[get, list, watch]'),
        dryRun,
      });
      expect(r.isError, r.text).toBe(false);
      expect(r.data.items).toEqual([
        expect.objectContaining({ kind: 'ClusterRole', name: 'pod-reader', namespace: '' }),
      ]);
      const writes = writesSince(before);
      expect(writes.length).toBeGreaterThan(0);
      // Sent to the cluster-scoped path, never under /namespaces/.
      for (const w of writes) expect(w.path).toBe('/apis/rbac.authorization.k8s.io/v1/clusterroles/pod-reader');
    }
    const stored = h.kube.store.get('clusterroles.rbac.authorization.k8s.io', undefined, 'pod-reader');
    expect(stored).toBeDefined();
    expect(stored?.metadata?.namespace).toBeUndefined();
  });

  it('a namespaced document is judged, and written, in the namespace it names over the namespace argument', async () => {
    // Argument outside the allowed namespaces, document inside: written (and judged) in `default`.
    const ok = await h.call('k8s_resources_apply', { manifest: configMap('cm-doc', 'default'), namespace: 'payments' });
    expect(ok.isError, ok.text).toBe(false);
    expect(h.kube.store.get('configmaps', 'default', 'cm-doc')).toBeDefined();
    // No namespace in the document: the argument is what is written, so it is what is judged.
    const arg = await h.call('k8s_resources_apply', { manifest: configMap('cm-arg'), namespace: 'kube-system' });
    expect(arg.isError).toBe(true);
    expect(arg.text).toContain('scope/protected-namespace');
    expect(h.kube.store.get('configmaps', 'kube-system', 'cm-arg')).toBeUndefined();
    const outside = await h.call('k8s_resources_apply', { manifest: configMap('cm-out'), namespace: 'payments' });
    expect(outside.isError).toBe(true);
    expect(outside.text).toContain('scope/namespace-not-allowed');
  });

  it('namespaced RBAC that escalates is refused by its cluster-access rule; a plain Role is written', async () => {
    const role = (verbs: string) =>
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: { name: r-${verbs.length}, namespace: default }\nrules: [{ apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: ${verbs} }]\n`;
    const bad = await h.call('k8s_resources_apply', { manifest: role('[create, bind]') });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('cluster-access/rbac-role at rules[0].verbs[1]');
    const good = await h.call('k8s_resources_apply', { manifest: role('[get, list]') });
    expect(good.isError, good.text).toBe(false);
  });

  it('k8s_resources_delete judges a cluster-scoped kind as cluster-scoped whatever namespace the call names', async () => {
    for (const namespace of ['default', 'team-a', undefined]) {
      const before = h.kube.requests.length;
      const r = await h.call('k8s_resources_delete', {
        kind: 'Node',
        name: NODE_NAME,
        ...(namespace ? { namespace } : {}),
      });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('scope/cluster-scoped');
      expect(writesSince(before)).toEqual([]);
    }
    expect(h.kube.store.get('nodes', undefined, NODE_NAME)).toBeDefined();
    // An allowed cluster-scoped kind is deleted by name, the namespace argument notwithstanding.
    const del = await h.call('k8s_resources_delete', {
      kind: 'ClusterRole',
      name: 'pod-reader',
      namespace: 'kube-system',
    });
    expect(del.isError, del.text).toBe(false);
    expect(h.kube.store.get('clusterroles.rbac.authorization.k8s.io', undefined, 'pod-reader')).toBeUndefined();
  });
});
