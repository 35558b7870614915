// k8s_clusters_list over MCP on the local host, with the kubeconfig's context, an "EKS" and a "GKE"
// source (test doubles of the ClusterSource port built by the host from AWS_ACCOUNTS/GCP_PROJECTS)
// whose clusters are fake API servers, one silent: summary, table, structured rows, discovery errors;
// and cluster ids with `:` and `/` accepted by every tool's `cluster` argument.
import { createServer, type Server, type Socket } from 'node:net';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { FakeClusterSource } from '../support/fake-cluster-source.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { connectClient } from '../support/mcp-client.ts';

const EKS_ID = 'eks:123456789012/eu-west-1/payments';
const GKE_ID = 'gke:demo-project/europe-west1/analytics';
const STUCK = 'gke:demo-project/europe-west1/stuck';

describe('k8s_clusters_list across kubeconfig, EKS and GKE', () => {
  let local: FakeKube;
  let cloud: FakeKube;
  let blackhole: Server;
  const sockets = new Set<Socket>();
  let server: LocalServer;
  let client: Client;
  const seen: unknown[] = [];

  const call = async (name: string, args: Record<string, unknown> = {}) => {
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

  beforeAll(async () => {
    local = await startFakeKube({ clusterName: 'laptop', readyDelayMs: 40 });
    cloud = await startFakeKube({
      readyDelayMs: 40,
      tokens: {
        'eks-token': { user: 'eks-role', canImpersonate: true },
        'gke-token': { user: 'gke-sa', canImpersonate: true },
      },
    });
    blackhole = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    const silentUrl = `http://127.0.0.1:${(blackhole.address() as { port: number }).port}`;
    const eks = new FakeClusterSource('eks', 'eks-token');
    eks.add('payments', cloud.url);
    eks.scopeErrors = [
      { scope: '210987654321/us-east-1', message: 'AccessDenied: not authorized to perform sts:AssumeRole' },
    ];
    const gke = new FakeClusterSource('gke', 'gke-token');
    gke.add('analytics', cloud.url);
    gke.add('stuck', silentUrl);
    server = await startLocalServer(
      {
        PORT: '0',
        STORE: 'memory',
        LOG_LEVEL: 'silent',
        KUBECONFIG: local.kubeconfigPath,
        // The per-request timeout is long; k8s_clusters_list must still answer within its probe bound.
        K8S_TIMEOUT_MS: '60000',
        AWS_ACCOUNTS: 'arn:aws:iam::123456789012:role/cloudops-read,arn:aws:iam::210987654321:role/cloudops-read',
        AWS_REGIONS: 'eu-west-1,us-east-1',
        GCP_PROJECTS: 'demo-project',
      },
      {
        clusterSources: {
          eks: (s) => {
            seen.push(s);
            return eks;
          },
          gke: (s) => {
            seen.push(s);
            return gke;
          },
        },
      },
    );
    client = await connectClient(server.url, 'modern');
  });

  afterAll(async () => {
    await client?.close().catch(() => {});
    await server?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (blackhole ? blackhole.close(() => r()) : r()));
    await local?.close();
    await cloud?.close();
  });

  it('the host builds the sources from the settings', () => {
    expect(seen).toEqual([
      {
        roleArns: ['arn:aws:iam::123456789012:role/cloudops-read', 'arn:aws:iam::210987654321:role/cloudops-read'],
        regions: ['eu-west-1', 'us-east-1'],
      },
      { projects: ['demo-project'] },
    ]);
  });

  it('shows every cluster with source, version, endpoint host, reachability, status, default; summary and discovery errors first', async () => {
    const r = await call('k8s_clusters_list');
    expect(r.isError).toBe(false);
    const lines = r.text.split('\n');
    expect(lines[0]).toBe(
      'Clusters 1-4 of 4: kubeconfig 1, eks 1, gke 2; 3 reachable, 1 unreachable; discovery errors: eks',
    );
    expect(lines[1]).toBe('! eks 210987654321/us-east-1: AccessDenied: not authorized to perform sts:AssumeRole');
    const cloudHost = new URL(cloud.url).host;
    expect(r.text).toMatch(new RegExp(`${EKS_ID}\\s+eks\\s+1\\.31\\s+ACTIVE\\s+yes\\s+${cloudHost}`));
    expect(r.text).toMatch(/laptop\s+\*\s+kubeconfig\s+v1\.31\.0\s+yes/);
    expect(r.text).toMatch(/stuck\s+gke\s+1\.31\.2-gke\.1000\s+RUNNING\s+no: no answer within 3000 ms/);
    const items = r.data.items as Array<Record<string, unknown>>;
    expect(r.data).toMatchObject({ count: 4, total: 4 });
    expect(items[0]).toEqual({
      name: 'laptop',
      id: 'kube:laptop',
      source: 'kubeconfig',
      default: true,
      namespace: 'default',
      endpoint: new URL(local.url).host,
      version: 'v1.31.0',
      reachable: true,
    });
    expect(items.find((i) => i.name === STUCK)).toMatchObject({ reachable: false, reason: 'no answer within 3000 ms' });
    expect(r.data.sources).toEqual([
      { source: 'kubeconfig', clusters: 1, stale: false, errors: [] },
      {
        source: 'eks',
        clusters: 1,
        discoveredAt: expect.any(String),
        // Scope errors on the first discovery: no earlier list to keep, so nothing is stale.
        stale: false,
        errors: [
          { scope: '210987654321/us-east-1', message: 'AccessDenied: not authorized to perform sts:AssumeRole' },
        ],
      },
      { source: 'gke', clusters: 2, discoveredAt: expect.any(String), stale: false, errors: [] },
    ]);
    expect(JSON.stringify(r)).not.toMatch(/eks-token|gke-token|fake-token/);
    // For the report: the sample output.
    if (process.env.PRINT_SAMPLE) console.log(`${r.text}\n${JSON.stringify(r.data, null, 2)}`);
  });

  it('every tool takes a discovered id as `cluster`, and an unknown one gets a did-you-mean', async () => {
    const ns = await call('k8s_namespaces_list', { cluster: EKS_ID });
    expect(ns.isError).toBe(false);
    expect(ns.text).toContain('default');
    expect(cloud.requests.at(-1)?.user).toBe('eks-role');
    const pods = await call('k8s_resources_list', { kind: 'pods', cluster: GKE_ID, allNamespaces: true });
    expect(pods.isError).toBe(false);
    expect(cloud.requests.at(-1)?.user).toBe('gke-sa');
    expect((await call('k8s_namespaces_list', { cluster: 'kube:laptop' })).isError).toBe(false);
    const typo = await call('k8s_namespaces_list', { cluster: 'analytcs' });
    expect(typo.isError).toBe(true);
    expect(typo.text).toContain(`did you mean "${GKE_ID}"?`);
    // Still bounded: a `cluster` past 253 characters is refused by the schema, before any lookup.
    await expect(call('k8s_namespaces_list', { cluster: `eks:${'a'.repeat(300)}` })).rejects.toThrow(
      /`cluster`: Too big: expected string to have <=253 characters/,
    );
  });
});
