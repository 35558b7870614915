// The cluster registry without a network: ids, aliases, did-you-mean, discovery caching on an
// injected clock, shared discovery, a failing source, the discovery settings, impersonation mapping.
// (Clients are built but never asked anything here; test/integration/cluster-registry.test.ts talks
// to the fake API server.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ClusterRegistry, impersonationOf, parseClusterRef } from '../../shared/adapters/kube/cluster-registry.ts';
import { sourcesFromConfig } from '../../shared/adapters/kube/index.ts';
import { KubeconfigClusters, NoClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { ConfigError, loadConfig } from '../../shared/config/config.ts';
import { UnknownClusterError } from '../../shared/ports/kube.ts';
import { FakeClusterSource } from '../support/fake-cluster-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'registry-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig with these contexts (the first is current), each its own cluster and token. */
function kubeconfig(contexts: string[]): KubeconfigClusters {
  const path = join(dir, `kc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: contexts.map((_, i) => ({ name: `c${i}`, cluster: { server: `https://10.0.0.${i + 1}:6443` } })),
      users: contexts.map((_, i) => ({ name: `u${i}`, user: { token: `t${i}` } })),
      contexts: contexts.map((c, i) => ({
        name: c,
        context: { cluster: `c${i}`, user: `u${i}`, namespace: `ns${i}` },
      })),
      'current-context': contexts[0],
    }),
  );
  return new KubeconfigClusters({ kubeconfig: path, timeoutMs: 1000, discoveryTtlMs: 1000 }, {});
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const registry = (opts: Partial<ConstructorParameters<typeof ClusterRegistry>[0]> & { kubeconfig: never | unknown }) =>
  new ClusterRegistry({ ttlMs: 60_000, timeoutMs: 1000, discoveryTtlMs: 1000, ...opts } as never);

describe('cluster ids', () => {
  it('parses prefixes and leaves plain context names alone', () => {
    expect(parseClusterRef('kube:prod')).toEqual({ kind: 'kube', rest: 'prod' });
    expect(parseClusterRef('eks:123456789012/eu-west-1/web')).toEqual({
      kind: 'eks',
      rest: '123456789012/eu-west-1/web',
    });
    expect(parseClusterRef('gke:p/europe-west1/c')).toEqual({ kind: 'gke', rest: 'p/europe-west1/c' });
    expect(parseClusterRef('arn:aws:eks:eu-west-1:1:cluster/x')).toEqual({
      kind: 'plain',
      name: 'arn:aws:eks:eu-west-1:1:cluster/x',
    });
  });

  it('a context goes by its name and by kube:<context>; a context named like an id only by kube:<name>', async () => {
    const r = registry({ kubeconfig: kubeconfig(['prod', 'eks:1/r/x', 'kube:odd']) });
    const list = await r.list();
    expect(list.map((c) => [c.name, c.id])).toEqual([
      ['prod', 'kube:prod'],
      ['kube:eks:1/r/x', 'kube:eks:1/r/x'],
      ['kube:kube:odd', 'kube:kube:odd'],
    ]);
    expect((await r.client('prod')).cluster).toBe('prod');
    expect((await r.client('kube:prod')).cluster).toBe('prod');
    expect((await r.client()).cluster).toBe('prod');
    expect((await r.client('kube:eks:1/r/x')).cluster).toBe('kube:eks:1/r/x');
    expect((await r.client('kube:kube:odd')).cluster).toBe('kube:kube:odd');
    // The id-like name means a discovered cluster, never the context that happens to be called so.
    await expect(r.client('eks:1/r/x')).rejects.toThrow(UnknownClusterError);
    // `kube:odd` is the context `odd`, which does not exist: the context named `kube:odd` is suggested.
    await expect(r.client('kube:odd')).rejects.toThrow(/did you mean "kube:kube:odd"/);
  });

  it('an unknown name gets a did-you-mean over names, ids and the bare names of discovered clusters', async () => {
    const eks = new FakeClusterSource('eks', 't');
    eks.add('payments', 'https://10.1.0.1');
    const r = registry({ kubeconfig: kubeconfig(['staging']), sources: [eks] });
    await expect(r.client('stagign')).rejects.toThrow(
      /unknown cluster "stagign"; known clusters: staging, eks:.*; did you mean "staging"\?/,
    );
    await expect(r.client('payments')).rejects.toThrow(/did you mean "eks:123456789012\/eu-west-1\/payments"\?/);
    await expect(r.client('eks:123456789012/eu-west-1/payment')).rejects.toThrow(
      /did you mean "eks:123456789012\/eu-west-1\/payments"/,
    );
    await expect(r.client('zzzzzzzz')).rejects.not.toThrow(/did you mean/);
    // A huge name is quoted bounded.
    const err = await r.client('x'.repeat(5000)).catch((e: Error) => e);
    expect((err as Error).message.length).toBeLessThan(600);
  });

  it('without a kubeconfig, the only discovered cluster is the default', async () => {
    const gke = new FakeClusterSource('gke', 't');
    gke.add('main', 'https://10.2.0.1');
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [gke] });
    expect(await r.defaultCluster()).toBe('gke:demo-project/europe-west1/main');
    expect((await r.client()).cluster).toBe('gke:demo-project/europe-west1/main');
    gke.add('second', 'https://10.2.0.2');
    const two = registry({ kubeconfig: new NoClusters('none'), sources: [gke] });
    expect(await two.defaultCluster()).toBeUndefined();
    await expect(two.client()).rejects.toThrow(UnknownClusterError);
  });

  it('a discovered cluster without an endpoint yet is refused with its status', async () => {
    const eks = new FakeClusterSource('eks', 't');
    eks.add('new', undefined, { status: 'CREATING' });
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [eks] });
    await expect(r.client('eks:123456789012/eu-west-1/new')).rejects.toThrow(/no API endpoint yet \(status "?CREATING/);
  });
});

describe('discovery', () => {
  it('is lazy, cached for the TTL on the injected clock, then asked again', async () => {
    const c = clock();
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [eks], ttlMs: 60_000, now: c.now });
    expect(eks.discoveries).toBe(0);
    await r.list();
    await r.list();
    c.advance(59_999);
    await r.client('eks:123456789012/eu-west-1/a');
    expect(eks.discoveries).toBe(1);
    eks.add('b', 'https://10.1.0.2');
    expect((await r.list()).map((x) => x.name)).toEqual(['eks:123456789012/eu-west-1/a']);
    c.advance(1);
    expect((await r.list()).map((x) => x.name)).toEqual([
      'eks:123456789012/eu-west-1/a',
      'eks:123456789012/eu-west-1/b',
    ]);
    expect(eks.discoveries).toBe(2);
  });

  it('concurrent callers share one discovery', async () => {
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    let open!: () => void;
    eks.gate = new Promise((resolve) => {
      open = resolve;
    });
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [eks] });
    const calls = [r.list(), r.list(), r.client('eks:123456789012/eu-west-1/a'), r.sources(), r.defaultCluster()];
    open();
    const [first, second] = await Promise.all(calls);
    expect(eks.discoveries).toBe(1);
    expect(first).toEqual(second);
  });

  it('a failing source keeps its last good list, marked stale, reports why, and is retried sooner', async () => {
    const c = clock();
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    const gke = new FakeClusterSource('gke', 't');
    gke.add('g', 'https://10.2.0.1');
    const r = registry({ kubeconfig: kubeconfig(['local']), sources: [eks, gke], ttlMs: 600_000, now: c.now });
    expect((await r.list()).filter((x) => x.stale)).toEqual([]);
    c.advance(600_000);
    eks.failWith = new Error('ExpiredToken: the security token included in the request is expired');
    const list = await r.list();
    expect(list.map((x) => [x.name, x.stale === true])).toEqual([
      ['local', false],
      ['eks:123456789012/eu-west-1/a', true],
      ['gke:demo-project/europe-west1/g', false],
    ]);
    const reports = await r.sources();
    expect(reports.map((s) => [s.source, s.clusters, s.stale])).toEqual([
      ['kubeconfig', 1, false],
      ['eks', 1, true],
      ['gke', 1, false],
    ]);
    expect(reports[1]?.errors[0]?.message).toContain('ExpiredToken');
    // The stale cluster can still be used.
    expect((await r.client('eks:123456789012/eu-west-1/a')).cluster).toBe('eks:123456789012/eu-west-1/a');
    // A failed source is asked again after 30 s, not after the 10-minute TTL.
    const before = eks.discoveries;
    c.advance(29_000);
    await r.list();
    expect(eks.discoveries).toBe(before);
    c.advance(1000);
    eks.failWith = undefined;
    await r.list();
    expect(eks.discoveries).toBe(before + 1);
    expect((await r.sources())[1]).toMatchObject({ stale: false, errors: [] });
  });

  it('a scope that fails keeps its clusters from the last list (stale); without a failure, a cluster gone is gone', async () => {
    const c = clock();
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    eks.add('b', 'https://10.1.0.2', { id: 'eks:123456789012/us-east-1/b', location: 'us-east-1' });
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [eks], now: c.now });
    await r.list();
    eks.clusters = eks.clusters.filter((x) => x.name === 'a');
    eks.scopeErrors = [{ scope: '123456789012/us-east-1', message: 'AccessDenied' }];
    c.advance(60_000);
    expect((await r.list()).map((x) => [x.name, x.stale === true])).toEqual([
      ['eks:123456789012/eu-west-1/a', false],
      ['eks:123456789012/us-east-1/b', true],
    ]);
    eks.scopeErrors = [];
    c.advance(60_000);
    expect((await r.list()).map((x) => x.name)).toEqual(['eks:123456789012/eu-west-1/a']);
  });

  it('a source that never answers fails its discovery within the bound', async () => {
    const eks = new FakeClusterSource('eks', 't');
    eks.gate = new Promise(() => {});
    const r = registry({ kubeconfig: kubeconfig(['local']), sources: [eks], discoveryTimeoutMs: 50 });
    expect((await r.list()).map((x) => x.name)).toEqual(['local']);
    expect((await r.sources())[1]?.errors[0]?.message).toContain('timed out');
  });
});

describe('token refresh', () => {
  it('rebuilds the client when the source hands out another token, and asks again for one about to expire', async () => {
    const c = clock();
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    let token = 'tok-1';
    let expiresAt = c.now() + 15 * 60_000;
    eks.credential = () => ({ token, expiresAt });
    const r = registry({ kubeconfig: new NoClusters('none'), sources: [eks], now: c.now, ttlMs: 3_600_000 });
    const id = 'eks:123456789012/eu-west-1/a';
    const first = await r.client(id);
    expect(await r.client(id)).toBe(first);
    token = 'tok-2';
    const second = await r.client(id);
    expect(second).not.toBe(first);
    expect(await r.client(id)).toBe(second);
    // A token within the margin of its expiry: the source is asked once more.
    const calls = eks.tokenCalls;
    expiresAt = c.now() + 30_000;
    await r.client(id);
    expect(eks.tokenCalls).toBe(calls + 2);
  });
});

describe('a source whose token never comes', () => {
  it('fails the client within the bound and shows the cluster unreachable in a probed listing', async () => {
    const eks = new FakeClusterSource('eks', 't');
    eks.add('a', 'https://10.1.0.1');
    eks.credential = () => new Promise(() => {}) as never;
    eks.token = (c) => eks.credential(c) as never;
    const r = registry({
      kubeconfig: new NoClusters('none'),
      sources: [eks],
      discoveryTimeoutMs: 50,
      probeTimeoutMs: 50,
    });
    await expect(r.client('eks:123456789012/eu-west-1/a')).rejects.toThrow(/no token for cluster .* within 50 ms/);
    const [row] = await r.list({ probe: true });
    expect(row).toMatchObject({ reachable: false, unreachableReason: 'no credentials within 50 ms' });
  });
});

describe('impersonation identity', () => {
  it('the caller subject, and one group for the strongest role towards clusters', () => {
    const id = (roles: Array<'viewer' | 'operator' | 'approver' | 'admin'>) =>
      impersonationOf({ subject: 'alice@example.com', name: 'Alice', roles, method: 'oauth' });
    expect(id(['viewer'])).toEqual({ user: 'alice@example.com', groups: ['cloudops:viewer'] });
    expect(id(['approver'])).toEqual({ user: 'alice@example.com', groups: ['cloudops:viewer'] });
    expect(id(['viewer', 'operator'])).toEqual({ user: 'alice@example.com', groups: ['cloudops:operator'] });
    expect(id(['approver', 'admin'])).toEqual({ user: 'alice@example.com', groups: ['cloudops:admin'] });
    expect(id([])).toEqual({ user: 'alice@example.com', groups: [] });
  });

  it('forCaller is the registry itself unless K8S_IMPERSONATE', () => {
    const caller = { subject: 's', name: 'n', roles: ['viewer' as const], method: 'oauth' as const };
    const off = registry({ kubeconfig: new NoClusters('none') });
    expect(off.forCaller(caller)).toBe(off);
    const on = registry({ kubeconfig: new NoClusters('none'), impersonate: true });
    expect(on.forCaller(caller)).not.toBe(on);
  });

  it('a subject that cannot travel in a header is refused before any request', async () => {
    const r = registry({ kubeconfig: kubeconfig(['local']), impersonate: true });
    const view = r.forCaller({
      subject: 'eve\r\nImpersonate-User: admin',
      name: 'e',
      roles: ['viewer'],
      method: 'oauth',
    });
    await expect(view.client('local')).rejects.toThrow(/cannot be impersonated/);
  });
});

describe('discovery settings', () => {
  it('parses and bounds AWS_ACCOUNTS, AWS_REGIONS, GCP_PROJECTS, CLUSTER_DISCOVERY_TTL, K8S_IMPERSONATE', () => {
    const c = loadConfig({
      AWS_ACCOUNTS: 'arn:aws:iam::123456789012:role/cloudops-read, arn:aws:iam::210987654321:role/ops/read',
      AWS_REGIONS: 'eu-west-1,us-east-1',
      GCP_PROJECTS: 'demo-project',
      CLUSTER_DISCOVERY_TTL: '2m',
      K8S_IMPERSONATE: 'true',
    });
    expect(c.clusterDiscovery).toEqual({
      awsAccounts: ['arn:aws:iam::123456789012:role/cloudops-read', 'arn:aws:iam::210987654321:role/ops/read'],
      awsRegions: ['eu-west-1', 'us-east-1'],
      gcpProjects: ['demo-project'],
      ttlMs: 120_000,
    });
    expect(c.kube.impersonate).toBe(true);
    expect(loadConfig({}).clusterDiscovery?.ttlMs).toBe(300_000);
    expect(loadConfig({}).kube.impersonate).toBeUndefined();
  });

  it.each([
    ['AWS_ACCOUNTS', '123456789012', /AWS_ACCOUNTS.*IAM role ARN/],
    ['AWS_ACCOUNTS', 'arn:aws:iam::12345:role/x', /AWS_ACCOUNTS.*IAM role ARN/],
    [
      'AWS_ACCOUNTS',
      Array.from({ length: 51 }, (_, i) => `arn:aws:iam::${String(i).padStart(12, '0')}:role/r`).join(','),
      /at most 50/,
    ],
    ['AWS_REGIONS', 'Europe', /AWS_REGIONS.*AWS region/],
    ['GCP_PROJECTS', 'My_Project', /GCP_PROJECTS.*project id/],
    ['CLUSTER_DISCOVERY_TTL', '5', /CLUSTER_DISCOVERY_TTL.*10s to 24h/],
    ['CLUSTER_DISCOVERY_TTL', '1s', /CLUSTER_DISCOVERY_TTL.*10s to 24h/],
    ['CLUSTER_DISCOVERY_TTL', '25h', /CLUSTER_DISCOVERY_TTL.*10s to 24h/],
    ['K8S_IMPERSONATE', 'yes', /K8S_IMPERSONATE: must be true or false/],
  ])('%s: a bad value is refused by name (case %#)', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('a setting whose source the host cannot build fails the start by name; regions default to AWS_REGION', () => {
    const config = loadConfig({ AWS_ACCOUNTS: 'arn:aws:iam::123456789012:role/r', GCP_PROJECTS: 'demo-project' });
    expect(() => sourcesFromConfig(config, {}, {})).toThrow(
      /AWS_ACCOUNTS\/AWS_REGIONS: this server has no EKS discovery/,
    );
    const eks = new FakeClusterSource('eks', 't');
    expect(() => sourcesFromConfig(config, {}, { eks: () => eks })).toThrow(/GCP_PROJECTS: this server has no GKE/);
    const seen: unknown[] = [];
    const gke = new FakeClusterSource('gke', 't');
    const sources = sourcesFromConfig(
      config,
      { AWS_REGION: 'ap-south-1' },
      {
        eks: (s) => {
          seen.push(s);
          return eks;
        },
        gke: (s) => {
          seen.push(s);
          return gke;
        },
      },
    );
    expect(sources).toEqual([eks, gke]);
    expect(seen).toEqual([
      { roleArns: ['arn:aws:iam::123456789012:role/r'], regions: ['ap-south-1'] },
      { projects: ['demo-project'] },
    ]);
    expect(sourcesFromConfig(loadConfig({}), {}, {})).toEqual([]);
  });
});
