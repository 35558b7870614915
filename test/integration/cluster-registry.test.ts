// The cluster registry against fake API servers: a kubeconfig context, and "EKS" and "GKE" clusters
// from fake sources whose endpoints are fake API servers that accept only the tokens the sources
// hand out. Reads through discovered clusters, token refresh seen by the server, and reachability
// probes that report a silent and a closed endpoint within the probe's bound.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterRegistry } from '../../shared/adapters/kube/cluster-registry.ts';
import { KubeconfigClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { KubeApiError } from '../../shared/ports/kube.ts';
import { FakeClusterSource } from '../support/fake-cluster-source.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';

/** A TCP server that accepts connections and never answers (a black-holed API server). */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('cluster registry over fake API servers', () => {
  let local: FakeKube;
  let cloud: FakeKube;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let eks: FakeClusterSource;
  let gke: FakeClusterSource;
  let registry: ClusterRegistry;
  const EKS_ID = 'eks:123456789012/eu-west-1/payments';
  const GKE_ID = 'gke:demo-project/europe-west1/analytics';

  beforeAll(async () => {
    local = await startFakeKube({ clusterName: 'laptop', readyDelayMs: 40 });
    cloud = await startFakeKube({
      readyDelayMs: 40,
      tokens: {
        'eks-token-1': { user: 'arn:aws:sts::123456789012:assumed-role/cloudops/1', canImpersonate: true },
        'eks-token-2': { user: 'arn:aws:sts::123456789012:assumed-role/cloudops/2', canImpersonate: true },
        'gke-token': { user: 'cloudops@demo-project.iam.gserviceaccount.com', canImpersonate: true },
      },
    });
    silent = await silentServer();
    eks = new FakeClusterSource('eks', 'eks-token-1');
    eks.add('payments', cloud.url);
    eks.add('stuck', silent.url);
    gke = new FakeClusterSource('gke', 'gke-token');
    gke.add('analytics', cloud.url);
    gke.add('gone', await closedPort());
    registry = new ClusterRegistry({
      kubeconfig: new KubeconfigClusters({
        kubeconfig: local.kubeconfigPath,
        timeoutMs: 20_000,
        discoveryTtlMs: 60_000,
      }),
      sources: [eks, gke],
      ttlMs: 300_000,
      // The normal per-request timeout stays generous; the probe has its own short bound.
      timeoutMs: 20_000,
      discoveryTtlMs: 60_000,
      probeTimeoutMs: 500,
    });
  });

  afterAll(async () => {
    await local?.close();
    await cloud?.close();
    await silent?.close();
  });

  it('reads through a discovered cluster with the token its source made', async () => {
    cloud.requests.length = 0;
    const client = await registry.client(EKS_ID);
    const namespaces = await client.list(await client.resolve('Namespace', 'v1'));
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
    expect(cloud.requests.at(-1)).toMatchObject({
      status: 200,
      user: 'arn:aws:sts::123456789012:assumed-role/cloudops/1',
    });
    const g = await registry.client(GKE_ID);
    await g.getPath('/version');
    expect(cloud.requests.at(-1)?.user).toBe('cloudops@demo-project.iam.gserviceaccount.com');
  });

  it('a new token from the source rebuilds the client; the server sees the new identity', async () => {
    const before = await registry.client(EKS_ID);
    eks.credential = () => ({ token: 'eks-token-2', expiresAt: Date.now() + 15 * 60_000 });
    const after = await registry.client(EKS_ID);
    expect(after).not.toBe(before);
    await after.getPath('/version');
    expect(cloud.requests.at(-1)).toMatchObject({
      status: 200,
      user: 'arn:aws:sts::123456789012:assumed-role/cloudops/2',
    });
    // A token the server does not accept is the server's 401, named with the cluster.
    eks.credential = () => ({ token: 'revoked', expiresAt: Date.now() + 15 * 60_000 });
    const revoked = await registry.client(EKS_ID);
    const err = await revoked.getPath('/version').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(401);
    expect((err as KubeApiError).message).toContain(EKS_ID);
    eks.credential = () => ({ token: 'eks-token-1', expiresAt: Date.now() + 15 * 60_000 });
  });

  it('lists every source with versions and reachability; a silent and a closed endpoint are reported, not waited on', async () => {
    const list = await registry.list({ probe: true });
    const byName = Object.fromEntries(list.map((c) => [c.name, c]));
    expect(list.map((c) => c.name)).toEqual([
      'laptop',
      EKS_ID,
      'eks:123456789012/eu-west-1/stuck',
      GKE_ID,
      'gke:demo-project/europe-west1/gone',
    ]);
    expect(byName.laptop).toMatchObject({
      id: 'kube:laptop',
      source: 'kubeconfig',
      isDefault: true,
      reachable: true,
      version: 'v1.31.0',
    });
    // The cloud's version word is kept; the probe says the endpoint answers.
    expect(byName[EKS_ID]).toMatchObject({ source: 'eks', status: 'ACTIVE', version: '1.31', reachable: true });
    expect(byName[GKE_ID]).toMatchObject({ source: 'gke', status: 'RUNNING', reachable: true });
    expect(byName['eks:123456789012/eu-west-1/stuck']).toMatchObject({
      reachable: false,
      unreachableReason: 'no answer within 500 ms',
    });
    expect(byName['gke:demo-project/europe-west1/gone']?.reachable).toBe(false);
    expect(byName['gke:demo-project/europe-west1/gone']?.unreachableReason).toMatch(
      /cannot reach the API server.*ECONNREFUSED/,
    );
    // Credentials never appear in what is listed.
    expect(JSON.stringify(list)).not.toMatch(/eks-token|gke-token|fake-token/);
  });

  it('however many clusters are silent, a listing ends after a few probe timeouts; the rest say they were not probed', async () => {
    const many = new FakeClusterSource('gke', 'gke-token');
    for (let i = 0; i < 12; i++) many.add(`silent-${i}`, silent.url);
    const r = new ClusterRegistry({
      kubeconfig: new KubeconfigClusters({
        kubeconfig: local.kubeconfigPath,
        timeoutMs: 20_000,
        discoveryTtlMs: 60_000,
      }),
      sources: [many],
      ttlMs: 300_000,
      timeoutMs: 20_000,
      discoveryTtlMs: 60_000,
      probeTimeoutMs: 200,
      probeConcurrency: 2,
    });
    // 12 silent clusters, 2 at a time, 200 ms each: 6 rounds unbounded; the listing stops taking new ones after 4.
    const list = await r.list({ probe: true });
    const silentOnes = list.filter((c) => c.source === 'gke');
    expect(silentOnes.every((c) => c.reachable !== true)).toBe(true);
    const notProbed = silentOnes.filter((c) => c.reachable === undefined);
    expect(notProbed.length).toBeGreaterThan(0);
    expect(notProbed[0]?.unreachableReason).toBe('not probed: the listing ran out of time; list again');
    expect(
      silentOnes.filter((c) => c.reachable === false).every((c) => c.unreachableReason === 'no answer within 200 ms'),
    ).toBe(true);
  });

  it('kube:<context> and the plain context name reach the same client', async () => {
    expect(await registry.client('kube:laptop')).toBe(await registry.client('laptop'));
    expect((await registry.client()).cluster).toBe('laptop');
  });
});
