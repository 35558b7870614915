// K8S_IMPERSONATE end to end: OAuth callers over MCP on the local host, the tool's requests reach the
// fake API server impersonating the caller (Impersonate-User: the token's subject, Impersonate-Group:
// cloudops:<role>), and the cluster's RBAC (the fake's authorize hook) decides: a write the MCP role
// allows is refused by the cluster for one user and allowed for another. A kubeconfig credential
// that may not impersonate gets the API server's 403, and without K8S_IMPERSONATE nothing is impersonated.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { FAKE_TOKEN, type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { freePort } from '../support/local-host.ts';
import { connectClient } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const configMap = (name: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}, namespace: default }
data: { k: v }
`;

describe('K8S_IMPERSONATE: tools reach the cluster as their caller', () => {
  let kube: FakeKube;
  let issuer: TestIssuer;
  let server: LocalServer;
  let plain: LocalServer;
  let dir: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    kube = await startFakeKube({
      readyDelayMs: 40,
      tokens: { 'weak-token': { user: 'ci-bot', canImpersonate: false } },
      // RBAC stand-in, in the API server's words: reads for all; writes for cloudops:operator, except mallory.
      authorize: (who, method, path) => {
        if (method === 'GET') return undefined;
        // /api/v1/namespaces/<ns>/<plural>[/<name>]
        const resource = path.split('/')[5] ?? '';
        const refuse = `${resource} is forbidden: User "${who.user}" cannot ${method.toLowerCase()} resource "${resource}" in API group "" in the namespace "default"`;
        if (who.user === 'mallory') return refuse;
        return who.groups.includes('cloudops:operator') || who.user === 'fake-admin' ? undefined : refuse;
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'impersonation-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: kube.url, 'insecure-skip-tls-verify': true } }],
        users: [
          { name: 'admin', user: { token: FAKE_TOKEN } },
          { name: 'weak', user: { token: 'weak-token' } },
        ],
        contexts: [
          { name: 'main', context: { cluster: 'fake', user: 'admin', namespace: 'default' } },
          { name: 'weak', context: { cluster: 'fake', user: 'weak', namespace: 'default' } },
        ],
        'current-context': 'main',
      }),
      { mode: 0o600 },
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    issuer = await startTestIssuer(url);
    const common = { STORE: 'memory', LOG_LEVEL: 'silent', KUBECONFIG: kubeconfig, K8S_TIMEOUT_MS: '20000' };
    server = await startLocalServer({
      ...common,
      PORT: String(port),
      PUBLIC_URL: url,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
      K8S_IMPERSONATE: 'true',
    });
    plain = await startLocalServer({ ...common, PORT: '0' });
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server?.close();
    await plain?.close();
    await issuer?.close();
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const as = async (subject: string, scope: string) => {
    const token = await issuer.token({ sub: subject, scope, name: subject });
    const client = await connectClient(server.url, 'modern', { authorization: `Bearer ${token}` });
    clients.push(client);
    return async (name: string, args: Record<string, unknown>) => {
      const r = (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        content?: Array<{ text?: string }>;
        structuredContent?: Record<string, unknown>;
      };
      return {
        isError: r.isError === true,
        text: (r.content ?? []).map((c) => c.text ?? '').join('\n'),
        data: r.structuredContent ?? {},
      };
    };
  };

  it('a read runs as the caller, with the group of their role', async () => {
    const alice = await as('alice', 'cloudops:read');
    kube.requests.length = 0;
    const r = await alice('k8s_namespaces_list', {});
    expect(r.isError).toBe(false);
    expect(kube.requests.length).toBeGreaterThan(0);
    for (const req of kube.requests) {
      expect(req).toMatchObject({ user: 'alice', groups: ['cloudops:viewer'], impersonatedBy: 'fake-admin' });
    }
  });

  it("the cluster's RBAC decides writes: allowed for one operator, refused for another", async () => {
    const bob = await as('bob', 'cloudops:write cloudops:read');
    kube.requests.length = 0;
    const ok = await bob('k8s_resources_apply', { manifest: configMap('from-bob') });
    expect(ok.isError, ok.text).toBe(false);
    const writes = kube.requests.filter((r) => r.method !== 'GET');
    // The server-side dry run and the write itself, both as bob.
    expect(writes.length).toBeGreaterThanOrEqual(2);
    for (const w of writes)
      expect(w).toMatchObject({ user: 'bob', groups: ['cloudops:operator'], status: expect.any(Number) });
    expect(kube.store.get('configmaps', 'default', 'from-bob')).toBeDefined();

    const mallory = await as('mallory', 'cloudops:write cloudops:read');
    const refused = await mallory('k8s_resources_apply', { manifest: configMap('from-mallory') });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('User "mallory" cannot patch resource "configmaps"');
    expect(refused.text).toContain('(yours with K8S_IMPERSONATE)');
    expect(kube.store.get('configmaps', 'default', 'from-mallory')).toBeUndefined();
  });

  it("a rollout's steps, run by the workflow after the call answered, act on the cluster as its requester", async () => {
    const bob = await as('bob', 'cloudops:write cloudops:read');
    const applied = await bob('k8s_resources_apply', { manifest: deploymentYaml('imp-web', 'nginx:1.25.3') });
    expect(applied.isError, applied.text).toBe(false);
    await bob('k8s_rollouts_status', { name: 'imp-web', waitSeconds: 20 });
    const started = await bob('delivery_rollouts_start', { name: 'imp-web', image: 'nginx:1.27.1' });
    expect(started.isError, started.text).toBe(false);
    const answeredAt = kube.requests.length;
    const operationId = String(started.data.operationId);
    let status = '';
    for (let i = 0; i < 300 && !['completed', 'failed', 'cancelled'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = String((await bob('ops_operations_get', { operationId })).data.status);
    }
    expect(status).toBe('completed');
    const deployment = kube.store.get('deployments', 'default', 'imp-web') as unknown as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.image).toBe('nginx:1.27.1');
    // Every request of the workflow's steps (after the tool answered), writes included, impersonated bob.
    const steps = kube.requests.slice(answeredAt);
    expect(steps.some((r) => r.method !== 'GET')).toBe(true);
    for (const r of steps)
      expect(r).toMatchObject({ user: 'bob', groups: ['cloudops:operator'], impersonatedBy: 'fake-admin' });
  }, 90_000);

  it('a kubeconfig credential that may not impersonate gets the API server 403, not a call as itself', async () => {
    const alice = await as('alice', 'cloudops:read');
    kube.requests.length = 0;
    const r = await alice('k8s_namespaces_list', { cluster: 'weak' });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('User "ci-bot" cannot impersonate resource "users"');
    expect(kube.requests.every((q) => q.status === 403)).toBe(true);
  });

  it('without K8S_IMPERSONATE the server acts as its own credential', async () => {
    const client = await connectClient(plain.url, 'modern');
    clients.push(client);
    kube.requests.length = 0;
    const r = (await client.callTool({ name: 'k8s_namespaces_list', arguments: {} })) as { isError?: boolean };
    expect(r.isError).not.toBe(true);
    expect(kube.requests.length).toBeGreaterThan(0);
    for (const req of kube.requests) expect(req).toMatchObject({ user: 'fake-admin' });
    expect(kube.requests.some((q) => q.impersonatedBy !== undefined)).toBe(false);
  });
});
