import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GcpApiError } from '../../shared/adapters/gcp/container-client.ts';
import { GkeClusterSource } from '../../shared/adapters/gcp/gke-cluster-source.ts';
import type { DiscoveredCluster } from '../../shared/ports/cluster-sources.ts';
import { type FakeContainerApi, type FakeGkeProject, startFakeContainerApi } from '../support/fake-gcp/container.ts';
import { FakeGoogleTokens } from '../support/fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from '../support/fake-gcp/metadata.ts';

/**
 * The GKE cluster source through the real @google-cloud/container (REST mode) and google-auth-library,
 * against loopback fakes of the Container v1 API and of the metadata server, found the way a Cloud
 * Function finds it (Application Default Credentials with GCE_METADATA_HOST pointing at the fake).
 */

const SA = 'cloudops@ops-project.iam.gserviceaccount.com';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n').toString('base64');

const projects: FakeGkeProject[] = [
  {
    id: 'alpha-project',
    viewers: [SA],
    clusters: [
      {
        name: 'prod-eu',
        location: 'europe-west1',
        endpoint: '203.0.113.21',
        caData: CA,
        currentMasterVersion: '1.31.2-gke.1000',
        releaseChannel: 'REGULAR',
        nodePools: [
          {
            name: 'default-pool',
            machineType: 'e2-standard-4',
            version: '1.31.2-gke.1000',
            initialNodeCount: 1,
            locations: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
            autoscaling: { enabled: true, minNodeCount: 1, maxNodeCount: 5, locationPolicy: 'BALANCED' },
          },
          {
            name: 'batch',
            machineType: 'n2-highmem-8',
            version: '1.30.5-gke.1200',
            status: 'RECONCILING',
            initialNodeCount: 2,
            locations: ['europe-west1-b'],
          },
        ],
      },
      { name: 'new-one', location: 'europe-west1-b', status: 'PROVISIONING', currentMasterVersion: '1.31.2-gke.1000' },
    ],
  },
  {
    id: 'beta-project',
    viewers: [SA],
    clusters: [
      {
        name: 'edge',
        location: 'asia-east1-a',
        endpoint: '203.0.113.40',
        caData: CA,
        currentMasterVersion: '1.30.5-gke.1200',
      },
    ],
  },
  // Exists, but the function's service account holds no role on it.
  { id: 'gamma-project', viewers: ['someone-else@x-project.iam.gserviceaccount.com'], clusters: [] },
  { id: 'stuck-project', viewers: [SA], clusters: [], hang: true },
  {
    id: 'patchy-project',
    viewers: [SA],
    missingZones: ['us-east1-c'],
    clusters: [{ name: 'api', location: 'us-east1', endpoint: '203.0.113.50', currentMasterVersion: '1.31.1-gke.1' }],
  },
];

let tokens: FakeGoogleTokens;
let metadata: FakeMetadataServer;
let api: FakeContainerApi;
let gcloudDir: string;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  tokens = new FakeGoogleTokens();
  metadata = await startFakeMetadataServer(tokens, { serviceAccount: SA, projectId: 'ops-project' });
  api = await startFakeContainerApi(tokens, projects);
  // ADC as on Cloud Functions: no key file, no gcloud ADC file, the metadata server answers.
  gcloudDir = mkdtempSync(join(tmpdir(), 'gke-adc-'));
  const keys = ['GCE_METADATA_HOST', 'GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION'];
  for (const k of [...keys, 'GOOGLE_CLOUD_PROJECT']) {
    savedEnv[k] = process.env[k];
    delete process.env[k];
  }
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.CLOUDSDK_CONFIG = gcloudDir;
  // As Cloud Functions sets it; without it google-auth-library also asks a gcloud CLI for a project.
  process.env.GOOGLE_CLOUD_PROJECT = 'ops-project';
});

afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await api?.close();
  await metadata?.close();
  rmSync(gcloudDir, { recursive: true, force: true });
});

const source = (projectIds: string[], more: { apiEndpoint?: string; timeoutMs?: number; auth?: GoogleAuth } = {}) =>
  new GkeClusterSource({
    projects: projectIds,
    apiEndpoint: more.apiEndpoint ?? api.url,
    timeoutMs: more.timeoutMs ?? 5_000,
    auth: more.auth,
  });

describe('GKE discovery', () => {
  it('lists the clusters of every project in every location, mapped to registry entries', async () => {
    const result = await source(['alpha-project', 'beta-project']).discover();
    expect(result.errors).toEqual([]);
    expect(result.clusters).toEqual([
      {
        id: 'gke:alpha-project/europe-west1-b/new-one',
        source: 'gke',
        name: 'new-one',
        owner: 'alpha-project',
        location: 'europe-west1-b',
        version: '1.31.2-gke.1000',
        status: 'PROVISIONING',
      },
      {
        id: 'gke:alpha-project/europe-west1/prod-eu',
        source: 'gke',
        name: 'prod-eu',
        owner: 'alpha-project',
        location: 'europe-west1',
        endpoint: 'https://203.0.113.21',
        caData: CA,
        version: '1.31.2-gke.1000',
        status: 'RUNNING',
      },
      {
        id: 'gke:beta-project/asia-east1-a/edge',
        source: 'gke',
        name: 'edge',
        owner: 'beta-project',
        location: 'asia-east1-a',
        endpoint: 'https://203.0.113.40',
        caData: CA,
        version: '1.30.5-gke.1200',
        status: 'RUNNING',
      },
    ] satisfies DiscoveredCluster[]);
    // The library spoke REST to the fake (all locations, numeric enums), with a metadata-server token.
    expect(api.requests).toContain('GET /v1/projects/alpha-project/locations/-/clusters?$alt=json%3Benum-encoding=int');
    expect(metadata.tokenRequests).toBeGreaterThan(0);
  });

  it('reports a forbidden and an unknown project in errors and still lists the others', async () => {
    const result = await source(['gamma-project', 'alpha-project', 'nowhere-project']).discover();
    expect(result.clusters.map((c) => c.id)).toEqual([
      'gke:alpha-project/europe-west1-b/new-one',
      'gke:alpha-project/europe-west1/prod-eu',
    ]);
    expect(result.errors).toHaveLength(2);
    const [gamma, nowhere] = result.errors;
    expect(gamma?.scope).toBe('gke:gamma-project');
    expect(gamma?.message).toContain('PERMISSION_DENIED');
    expect(gamma?.message).toContain('Required "container.clusters.list" permission(s) for "projects/gamma-project"');
    expect(nowhere?.scope).toBe('gke:nowhere-project');
    expect(nowhere?.message).toContain('Permission denied on resource project nowhere-project');
    expect(JSON.stringify(result)).not.toMatch(/ya29\./);
  });

  it('says which zones GKE could not reach while listing the rest', async () => {
    const result = await source(['patchy-project']).discover();
    expect(result.clusters.map((c) => c.id)).toEqual(['gke:patchy-project/us-east1/api']);
    expect(result.errors).toEqual([{ scope: 'gke:patchy-project', message: expect.stringContaining('us-east1-c') }]);
  });

  it('gives up on a project that never answers within the timeout, and lists the others', async () => {
    const result = await source(['stuck-project', 'beta-project'], { timeoutMs: 1_500 }).discover();
    expect(result.clusters.map((c) => c.id)).toEqual(['gke:beta-project/asia-east1-a/edge']);
    expect(result.errors).toEqual([
      { scope: 'gke:stuck-project', message: expect.stringContaining('DEADLINE_EXCEEDED') },
    ]);
  });

  it('reports a closed port for every project instead of throwing or hanging', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await source(['alpha-project', 'beta-project'], {
      apiEndpoint: `http://127.0.0.1:${port}`,
      timeoutMs: 3_000,
    }).discover();
    expect(result.clusters).toEqual([]);
    expect(result.errors.map((e) => e.scope)).toEqual(['gke:alpha-project', 'gke:beta-project']);
    for (const e of result.errors) expect(e.message).toMatch(/: UNAVAILABLE: no answer after retries: .*ECONNREFUSED/);
    // A hang guard, not a speed check: both projects are bounded by their timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('reports a token without the cloud-platform scope as the API refuses it', async () => {
    const narrow = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/userinfo.email'] });
    const result = await source(['alpha-project'], { auth: narrow }).discover();
    expect(result.clusters).toEqual([]);
    expect(result.errors[0]?.message).toContain('insufficient authentication scopes');
  });

  it('cancels discovery when the caller aborts', async () => {
    const ac = new AbortController();
    const pending = source(['stuck-project'], { timeoutMs: 60_000 }).discover(ac.signal);
    setTimeout(() => ac.abort(), 200);
    const result = await pending;
    expect(result.errors).toEqual([{ scope: 'gke:stuck-project', message: expect.stringContaining('CANCELLED') }]);
  });
});

describe('GKE describe', () => {
  it('gives versions and node pools of one cluster', async () => {
    const d = await source(['alpha-project']).describe({
      project: 'alpha-project',
      location: 'europe-west1',
      name: 'prod-eu',
    });
    expect(d).toEqual({
      id: 'gke:alpha-project/europe-west1/prod-eu',
      project: 'alpha-project',
      location: 'europe-west1',
      name: 'prod-eu',
      status: 'RUNNING',
      version: '1.31.2-gke.1000',
      nodeVersion: '1.31.2-gke.1000',
      releaseChannel: 'REGULAR',
      autopilot: false,
      currentNodeCount: 5,
      nodePools: [
        {
          name: 'default-pool',
          machineType: 'e2-standard-4',
          version: '1.31.2-gke.1000',
          status: 'RUNNING',
          autoscaling: { minNodeCount: 1, maxNodeCount: 5, locationPolicy: 'BALANCED' },
          initialNodeCountPerZone: 1,
          zones: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
        },
        {
          name: 'batch',
          machineType: 'n2-highmem-8',
          version: '1.30.5-gke.1200',
          status: 'RECONCILING',
          initialNodeCountPerZone: 2,
          zones: ['europe-west1-b'],
        },
      ],
      nodePoolsOmitted: 0,
    });
  });

  it('refuses an unknown cluster with NOT_FOUND and a forbidden one with PERMISSION_DENIED', async () => {
    const gke = source(['alpha-project']);
    const missing = await gke
      .describe({ project: 'alpha-project', location: 'europe-west1', name: 'nope' })
      .catch((e) => e);
    expect(missing).toBeInstanceOf(GcpApiError);
    expect(missing.status).toBe('NOT_FOUND');
    expect(missing.message).toContain('projects/alpha-project/locations/europe-west1/clusters/nope');
    const forbidden = await gke
      .describe({ project: 'gamma-project', location: 'europe-west1', name: 'x' })
      .catch((e) => e);
    expect(forbidden.status).toBe('PERMISSION_DENIED');
    expect(forbidden.message).toContain('container.clusters.get');
  });

  it('refuses a malformed reference before calling the API', async () => {
    const before = api.requests.length;
    await expect(
      source(['alpha-project']).describe({ project: 'alpha-project', location: '../../x', name: 'prod-eu' }),
    ).rejects.toThrow(/not a GKE location/);
    expect(api.requests.length).toBe(before);
  });
});

describe('GKE cluster token', () => {
  const cluster: DiscoveredCluster = {
    id: 'gke:alpha-project/europe-west1/prod-eu',
    source: 'gke',
    name: 'prod-eu',
    owner: 'alpha-project',
    location: 'europe-west1',
    status: 'RUNNING',
  };

  it('is an access token of the runtime identity with the cloud-platform scope, cached, renewed near expiry', async () => {
    // google-auth-library and the source both read Date, so moving it moves both caches, as time does.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const t0 = Date.parse('2026-12-07T12:00:00Z');
      vi.setSystemTime(t0);
      const gke = source(['alpha-project']);
      const before = metadata.tokenRequests;

      const first = await gke.token(cluster);
      const grant = tokens.check(first.token);
      expect(grant?.principal).toBe(SA);
      expect(grant?.scopes).toContain('https://www.googleapis.com/auth/cloud-platform');
      expect(first.expiresAt).toBe(t0 + metadata.tokenLifetimeS * 1000);
      expect(metadata.tokenRequests).toBe(before + 1);

      vi.setSystemTime(t0 + 30 * 60_000);
      expect(await gke.token(cluster)).toEqual(first);
      const together = await Promise.all([gke.token(cluster), gke.token(cluster), gke.token(cluster)]);
      expect(together.every((c) => c.token === first.token)).toBe(true);
      expect(metadata.tokenRequests).toBe(before + 1);

      // Four minutes before expiry, inside the five-minute refresh margin: a new token, which outlives the old one.
      vi.setSystemTime(first.expiresAt - 4 * 60_000);
      const second = await gke.token(cluster);
      expect(second.token).not.toBe(first.token);
      expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
      expect(metadata.tokenRequests).toBe(before + 2);

      // Past the first token's expiry the API refuses it, and discovery goes on with the new one.
      vi.setSystemTime(first.expiresAt + 60_000);
      expect(tokens.check(first.token)).toBeUndefined();
      const result = await gke.discover();
      expect(result.errors).toEqual([]);
      expect(result.clusters).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses to make a token for a cluster of another source', async () => {
    await expect(source(['alpha-project']).token({ ...cluster, id: 'eks:1/r/n', source: 'eks' })).rejects.toThrow(
      /cannot make a token/,
    );
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
