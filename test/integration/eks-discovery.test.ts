import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EksClusterSource } from '../../shared/adapters/aws/eks-source.ts';
import { assumedRoleCredentials } from '../../shared/adapters/aws/sts-roles.ts';
import type { DiscoveredCluster } from '../../shared/ports/cluster-sources.ts';
import { freePort, type MotoServer, startMoto } from '../support/moto.ts';

/*
 * EKS discovery against moto_server (moto 5.2): real EKS and STS wire calls through the AWS SDK.
 * moto keeps one state per account; keys that an AssumeRole hands out belong to the role's account,
 * any other key to moto's default account 123456789012.
 */

const DEFAULT_ACCOUNT = '123456789012';
const ROLE_ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ROLE_ACCOUNT}:role/cloudops-read`;
const BASE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
});

function eks(
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = BASE,
) {
  return new EKSClient({ region, endpoint: moto.url, credentials });
}

async function roleCredentials() {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: BASE });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'setup' }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

async function createCluster(client: EKSClient, name: string, version = '1.31') {
  await client.send(
    new CreateClusterCommand({
      name,
      version,
      roleArn: `arn:aws:iam::${DEFAULT_ACCOUNT}:role/eks-cluster`,
      resourcesVpcConfig: { subnetIds: ['subnet-1'] },
    }),
  );
}

function decodeToken(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('EksClusterSource against moto_server', () => {
  it('lists and describes the clusters of two regions of the base credentials’ account', async () => {
    await createCluster(eks('eu-west-1'), 'payments', '1.30');
    await createCluster(eks('eu-west-1'), 'search');
    await createCluster(eks('us-east-2'), 'batch');
    const source = new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1', 'us-east-2'],
      endpoint: moto.url,
      credentials: BASE,
    });

    const { clusters, errors } = await source.discover();

    expect(errors).toEqual([]);
    expect(clusters.map((c) => c.id)).toEqual([
      `eks:${DEFAULT_ACCOUNT}/eu-west-1/payments`,
      `eks:${DEFAULT_ACCOUNT}/eu-west-1/search`,
      `eks:${DEFAULT_ACCOUNT}/us-east-2/batch`,
    ]);
    const payments = clusters[0] as DiscoveredCluster;
    expect(payments).toMatchObject({
      source: 'eks',
      name: 'payments',
      owner: DEFAULT_ACCOUNT,
      location: 'eu-west-1',
      version: '1.30',
      status: 'ACTIVE',
    });
    expect(payments.endpoint).toMatch(/^https:\/\/[^/]+\.eu-west-1\.eks\.amazonaws\.com$/);
    expect(payments.caData?.length).toBeGreaterThan(100);
  });

  it('assumes each configured role through STS and files the clusters under the role’s account', async () => {
    await createCluster(eks('eu-west-1', await roleCredentials()), 'tenant-a');
    await createCluster(eks('eu-west-1'), 'shared');
    const source = new EksClusterSource({
      accounts: [{ roleArn: ROLE }, {}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
    });

    const { clusters, errors } = await source.discover();

    expect(errors).toEqual([]);
    expect(clusters.map((c) => c.id)).toEqual(
      [`eks:${ROLE_ACCOUNT}/eu-west-1/tenant-a`, `eks:${DEFAULT_ACCOUNT}/eu-west-1/shared`].sort(),
    );

    // The token of the role account's cluster is signed with the assumed role's temporary keys.
    const tenant = clusters.find((c) => c.name === 'tenant-a') as DiscoveredCluster;
    const cred = await source.token(tenant);
    const url = decodeToken(cred.token);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIA[A-Z0-9]+\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBeTruthy();
    // ...and the base account's with the base keys.
    const shared = clusters.find((c) => c.name === 'shared') as DiscoveredCluster;
    const baseUrl = decodeToken((await source.token(shared)).token);
    expect(baseUrl.searchParams.get('X-Amz-Credential')?.startsWith(`${BASE.accessKeyId}/`)).toBe(true);
    expect(baseUrl.searchParams.has('X-Amz-Security-Token')).toBe(false);
  });

  it('caches a token until shortly before its 14 minutes are up, on the injected clock', async () => {
    await createCluster(eks('eu-west-1'), 'c1');
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const source = new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
      now: () => now,
    });
    const [cluster] = (await source.discover()).clusters;
    if (!cluster) throw new Error('no cluster');

    const first = await source.token(cluster);
    expect(first.expiresAt).toBe(now + 14 * 60_000);
    now += 12 * 60_000;
    expect((await source.token(cluster)).token).toBe(first.token);
    now += 60_001; // within the minute before expiry: renewed
    const second = await source.token(cluster);
    expect(second.token).not.toBe(first.token);
    expect(second.expiresAt).toBe(now + 14 * 60_000);
    expect(decodeToken(second.token).searchParams.get('X-Amz-Date')).toBe('20260101T121300Z');
  });

  it('uses the SDK’s default credential chain when given no credentials (here: the environment’s keys)', async () => {
    await createCluster(eks('eu-west-1'), 'c1');
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVCHAINEXAMPLE1';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    try {
      const source = new EksClusterSource({ accounts: [{}], regions: ['eu-west-1'], endpoint: moto.url });
      const { clusters, errors } = await source.discover();
      expect(errors).toEqual([]);
      expect(clusters.map((c) => c.id)).toEqual([`eks:${DEFAULT_ACCOUNT}/eu-west-1/c1`]);
      const url = decodeToken((await source.token(clusters[0] as DiscoveredCluster)).token);
      expect(url.searchParams.get('X-Amz-Credential')?.startsWith('AKIAENVCHAINEXAMPLE1/')).toBe(true);
    } finally {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('refuses a token for a cluster of an account it was not configured with', async () => {
    const source = new EksClusterSource({
      accounts: [{ roleArn: ROLE }],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
    });
    const stranger: DiscoveredCluster = {
      id: 'eks:999999999999/eu-west-1/x',
      source: 'eks',
      name: 'x',
      owner: '999999999999',
      location: 'eu-west-1',
      status: 'ACTIVE',
    };
    await expect(source.token(stranger)).rejects.toThrow(/belongs to no configured AWS account/);
  });

  it('pages through ListClusters and bounds what one scope may list', async () => {
    const client = eks('eu-west-1');
    for (const name of ['c1', 'c2', 'c3', 'c4', 'c5']) await createCluster(client, name);
    // moto honours maxResults, so a page size of 2 takes three pages.
    const page = await client.send(new ListClustersCommand({ maxResults: 2 }));
    expect(page.clusters).toHaveLength(2);
    expect(page.nextToken).toBeTruthy();

    const all = await new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
      pageSize: 2,
    }).discover();
    expect(all.errors).toEqual([]);
    expect(all.clusters.map((c) => c.name)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);

    const capped = await new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
      pageSize: 2,
      maxClustersPerScope: 3,
    }).discover();
    expect(capped.clusters).toHaveLength(3);
    expect(capped.errors).toEqual([
      { scope: `eks:${DEFAULT_ACCOUNT}/eu-west-1`, message: 'more than 3 clusters; only the first 3 are listed' },
    ]);
  });

  it('lists at most `concurrency` scopes at once', async () => {
    const regions = ['eu-west-1', 'eu-west-2', 'eu-west-3', 'us-east-1', 'us-east-2', 'us-west-2'];
    for (const region of regions) await createCluster(eks(region), `c-${region}`);
    // A loopback proxy in front of moto that counts the ListClusters calls in flight at once.
    let inFlight = 0;
    let most = 0;
    const held: Array<() => void> = [];
    const proxy = createHttpServer(async (req, res) => {
      const listing = req.method === 'GET' && req.url?.startsWith('/clusters?');
      if (listing) most = Math.max(most, ++inFlight);
      try {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        // Hold each listing until a third is in flight (which the bound forbids) or 2 s pass: the two
        // allowed overlap whatever the machine's speed, and a third would be seen, not raced past.
        if (listing) {
          if (inFlight >= 3) for (const release of held.splice(0)) release();
          else await new Promise<void>((r) => held.push(r) && setTimeout(r, 2000));
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k !== 'connection' && k !== 'content-length'),
        ) as Record<string, string>;
        const up = await fetch(`${moto.url}${req.url}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        const body = Buffer.from(await up.arrayBuffer());
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(body);
      } finally {
        if (listing) inFlight--;
      }
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const { port } = proxy.address() as { port: number };
    try {
      const source = new EksClusterSource({
        accounts: [{}],
        regions,
        endpoint: `http://127.0.0.1:${port}`,
        credentials: BASE,
        concurrency: 2,
      });
      const { clusters, errors } = await source.discover();
      expect(errors).toEqual([]);
      expect(clusters).toHaveLength(6);
      expect(most).toBe(2);
    } finally {
      proxy.close();
    }
  });

  it('reports an endpoint on a closed port as an error entry per scope, without throwing', async () => {
    const closed = await freePort();
    const source = new EksClusterSource({
      accounts: [{ roleArn: ROLE }],
      regions: ['eu-west-1', 'us-east-2'],
      endpoint: `http://127.0.0.1:${closed}`,
      credentials: BASE,
      timeoutMs: 5_000,
    });
    const { clusters, errors } = await source.discover();
    expect(clusters).toEqual([]);
    expect(errors.map((e) => e.scope)).toEqual([`eks:${ROLE_ACCOUNT}/eu-west-1`, `eks:${ROLE_ACCOUNT}/us-east-2`]);
    for (const e of errors) {
      expect(e.message).toMatch(/ECONNREFUSED|timed out/);
      expect(e.message).not.toContain('arn:aws');
    }
  });

  it('gives up on an endpoint that accepts and never answers after the scope timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const source = new EksClusterSource({
        accounts: [{}],
        regions: ['eu-west-1'],
        endpoint: `http://127.0.0.1:${port}`,
        credentials: BASE,
        timeoutMs: 500,
      });
      const { clusters, errors } = await source.discover();
      expect(clusters).toEqual([]);
      expect(errors).toEqual([{ scope: 'eks:default/eu-west-1', message: 'timed out after 500 ms' }]);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('stops when the caller aborts', async () => {
    await createCluster(eks('eu-west-1'), 'c1');
    const source = new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
    });
    const { clusters, errors } = await source.discover(AbortSignal.abort());
    expect(clusters).toEqual([]);
    expect(errors).toEqual([{ scope: 'eks:default/eu-west-1', message: 'cancelled' }]);
  });

  it('describes a cluster: version, node groups; add-ons and insights reported unavailable where moto lacks them', async () => {
    const client = eks('eu-west-1');
    await createCluster(client, 'payments', '1.30');
    for (const [name, types, min, max, desired] of [
      ['general', ['m6i.large'], 2, 6, 3],
      ['spot', ['m6i.xlarge', 'm5.xlarge'], 0, 10, 1],
    ] as const) {
      await client.send(
        new CreateNodegroupCommand({
          clusterName: 'payments',
          nodegroupName: name,
          instanceTypes: [...types],
          scalingConfig: { minSize: min, maxSize: max, desiredSize: desired },
          subnets: ['subnet-1'],
          nodeRole: `arn:aws:iam::${DEFAULT_ACCOUNT}:role/eks-node`,
        }),
      );
    }
    const source = new EksClusterSource({
      accounts: [{}],
      regions: ['eu-west-1'],
      endpoint: moto.url,
      credentials: BASE,
    });
    const [cluster] = (await source.discover()).clusters;
    if (!cluster) throw new Error('no cluster');

    const d = await source.describe(cluster);

    expect(d).toMatchObject({ name: 'payments', status: 'ACTIVE', version: '1.30' });
    expect(d.nodegroups).toEqual({
      available: true,
      truncated: false,
      items: [
        expect.objectContaining({
          name: 'general',
          status: 'ACTIVE',
          instanceTypes: ['m6i.large'],
          scaling: { min: 2, max: 6, desired: 3 },
        }),
        expect.objectContaining({
          name: 'spot',
          status: 'ACTIVE',
          instanceTypes: ['m6i.xlarge', 'm5.xlarge'],
          scaling: { min: 0, max: 10, desired: 1 },
        }),
      ],
    });
    // moto 5.2 serves neither ListAddons nor ListInsights (an HTML 404): reported, not invented.
    expect(d.addons).toEqual({ available: false, reason: expect.stringMatching(/^ListAddons failed: .*HTTP 404/) });
    expect(d.insights).toEqual({ available: false, reason: expect.stringMatching(/^ListInsights failed: .*HTTP 404/) });
  });
});

describe('assumed-role credentials', () => {
  it('calls AssumeRole once while the credentials are fresh, and again shortly before they expire', async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: BASE });
    let calls = 0;
    sts.middlewareStack.add(
      (next) => async (args) => {
        calls++;
        return next(args);
      },
      { step: 'initialize' },
    );
    let now = Date.now();
    const provider = assumedRoleCredentials({ roleArn: ROLE, sts, now: () => now, durationSeconds: 900 });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(calls).toBe(1);
    expect(a).toBe(b);
    expect(a.accessKeyId).toMatch(/^ASIA/);
    const expiration = a.expiration?.getTime() ?? 0;
    now = expiration - 5 * 60_000 - 1;
    expect(await provider()).toBe(a);
    expect(calls).toBe(1);
    now = expiration - 5 * 60_000 + 1;
    const c = await provider();
    expect(calls).toBe(2);
    expect(c.accessKeyId).not.toBe(a.accessKeyId);
  });

  it('refuses what is not a role ARN', () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: BASE });
    expect(() => assumedRoleCredentials({ roleArn: 'arn:aws:iam::123:user/x', sts })).toThrow(/not an IAM role ARN/);
    expect(() => new EksClusterSource({ accounts: [{ roleArn: 'role/x' }], regions: ['eu-west-1'] })).toThrow(
      /not an IAM role ARN/,
    );
    expect(() => new EksClusterSource({ accounts: [{}], regions: ['mars-1'] })).toThrow(/not an AWS region/);
    expect(() => new EksClusterSource({ accounts: [], regions: ['eu-west-1'] })).toThrow(/EKS accounts/);
    expect(() => new EksClusterSource({ accounts: [{}], regions: ['eu-west-1'], timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new EksClusterSource({ accounts: [{}], regions: ['eu-west-1'], endpoint: 'ftp://x' })).toThrow(
      /endpoint/,
    );
    // An option given as undefined takes its default rather than failing.
    expect(() => new EksClusterSource({ accounts: [{}], regions: ['eu-west-1'], timeoutMs: undefined })).not.toThrow();
  });
});

describe('moto harness', () => {
  it('says what is missing when moto_server cannot be found', async () => {
    const saved = process.env.MOTO_SERVER;
    process.env.MOTO_SERVER = '/nonexistent/moto_server';
    try {
      await expect(startMoto()).rejects.toThrow(/moto_server was not found .*moto 5\.2/);
    } finally {
      if (saved === undefined) delete process.env.MOTO_SERVER;
      else process.env.MOTO_SERVER = saved;
    }
  });
});
