import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudCodeOf } from '../../shared/adapters/aws/aws-errors.ts';
import { type AwsInventoryOptions, createAwsInventory } from '../../shared/adapters/aws/aws-inventory.ts';
import { type AwsScope, CloudApiError, type Ec2Instance } from '../../shared/ports/cloud.ts';
import { freePort, type MotoServer, startMoto } from '../support/moto.ts';

/*
 * The AwsInventory adapter against moto_server (moto 5.2): real EC2, CloudWatch, EKS and STS wire
 * calls through the AWS SDK, seeded through the SDK too. moto keeps one state per account and region;
 * keys an AssumeRole hands out belong to the role's account, any other key to 123456789012.
 *
 * moto gaps (what real AWS does and moto 5.2 does not; measured here or read in moto's source):
 * - EC2 DescribeInstances: MaxResults is not held to 5..1000 (moto takes 2), and pages count
 *   reservations, not instances (one RunInstances of 3 is one "result"). The adapter checks 5..1000 itself.
 * - EC2 DryRun on StartInstances/StopInstances: honoured (DryRunOperation, HTTP 412), but without
 *   looking at the instances: a dry run of an id that does not exist also answers DryRunOperation.
 *   A denied call is moto's IAM check (only when auth is switched on, /moto-api/reset-auth) answering
 *   `AccessDenied`, where EC2 answers `UnauthorizedOperation` with an encoded authorization message.
 * - EC2 state changes are immediate: stop leaves an instance `stopped` at once (AWS: `stopping` for a
 *   while), start `running` (AWS: `pending`).
 * - CloudWatch GetMetricData: never pages (no NextToken, MaxDatapoints ignored), StatusCode is always
 *   Complete; percentile stats (p95, ...) make moto fail with HTTP 500; with dimensions, it ignores the
 *   namespace; Average, Sum, Minimum, Maximum and SampleCount are computed. Paging and PartialData are
 *   checked here through a loopback proxy that pages moto's answer the way CloudWatch does.
 * - EKS: no ListAddons, no ListInsights (HTML 404: reported unavailable, never invented); clusters and
 *   node groups are ACTIVE at once.
 */

const DEFAULT_ACCOUNT = '123456789012';
const ROLE_ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ROLE_ACCOUNT}:role/cloudops-ops`;
const BASE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const REGIONS = ['eu-west-1', 'us-east-2'];
type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

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

function inventory(overrides: Partial<AwsInventoryOptions> = {}) {
  return createAwsInventory({
    accounts: [{ roleArn: ROLE }, {}],
    regions: REGIONS,
    endpoint: moto.url,
    credentials: BASE,
    ...overrides,
  });
}

async function roleKeys(): Promise<Keys> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: BASE });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'seed' }))).Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

const ec2 = (region: string, credentials: Keys = BASE) => new EC2Client({ region, endpoint: moto.url, credentials });

/** RunInstances, one reservation per call; the ids in order. */
async function run(client: EC2Client, count: number, tags: Record<string, string> = {}): Promise<string[]> {
  const out = await client.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      InstanceType: 't3.micro',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: Object.keys(tags).length
        ? [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }]
        : undefined,
    }),
  );
  return (out.Instances ?? []).map((i) => i.InstanceId as string);
}

async function states(client: EC2Client, ids: string[]): Promise<string[]> {
  const out = await client.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const byId = new Map(
    (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i.State?.Name]),
  );
  return ids.map((id) => byId.get(id) ?? 'absent');
}

async function rejection(p: Promise<unknown>): Promise<CloudApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CloudApiError);
  return err as CloudApiError;
}

const scopeOf = (account: string, region: string): AwsScope => ({ account, region });

describe('AwsInventory (EC2) against moto_server', () => {
  it('resolves the accounts (role ARN, GetCallerIdentity) and keeps each account × region apart', async () => {
    const inv = inventory();
    expect(await inv.scopes()).toEqual({ accounts: [ROLE_ACCOUNT, DEFAULT_ACCOUNT], regions: REGIONS });

    const roleEu = await run(ec2('eu-west-1', await roleKeys()), 2, { team: 'a' });
    const baseUs = await run(ec2('us-east-2'), 1, { team: 'b' });
    const ids = async (account: string, region: string) =>
      (await inv.listInstances({ scope: scopeOf(account, region), limit: 50 })).items.map((i) => i.id).sort();

    expect(await ids(ROLE_ACCOUNT, 'eu-west-1')).toEqual([...roleEu].sort());
    expect(await ids(DEFAULT_ACCOUNT, 'us-east-2')).toEqual(baseUs);
    expect(await ids(ROLE_ACCOUNT, 'us-east-2')).toEqual([]);
    expect(await ids(DEFAULT_ACCOUNT, 'eu-west-1')).toEqual([]);

    const stranger = await rejection(inv.listInstances({ scope: scopeOf('999999999999', 'eu-west-1'), limit: 5 }));
    expect(stranger.code).toBe('InvalidArgument');
    expect(stranger.message).toMatch(/account 999999999999 is not configured/);
    const region = await rejection(inv.listInstances({ scope: scopeOf(ROLE_ACCOUNT, 'ap-south-1'), limit: 5 }));
    expect(region.code).toBe('InvalidArgument');
  });

  it('pages with EC2’s NextToken: 12 instances, 5 a page, each instance once', async () => {
    const client = ec2('eu-west-1');
    const all: string[] = [];
    for (let i = 0; i < 12; i++) all.push(...(await run(client, 1, { Name: `web-${i}` })));
    const inv = inventory();
    const seen: string[] = [];
    const sizes: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await inv.listInstances({ scope: scopeOf(DEFAULT_ACCOUNT, 'eu-west-1'), limit: 5, nextToken });
      sizes.push(page.items.length);
      seen.push(...page.items.map((i) => i.id));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(sizes).toEqual([5, 5, 2]);
    expect([...seen].sort()).toEqual([...all].sort());
    expect(new Set(seen).size).toBe(12);
  });

  it('filters by tags and states, and by ids without refusing a page size', async () => {
    const client = ec2('eu-west-1');
    const prod = await run(client, 3, { env: 'prod', Name: 'api' });
    const dev = await run(client, 2, { env: 'dev' });
    const inv = inventory();
    const scope = scopeOf(DEFAULT_ACCOUNT, 'eu-west-1');
    await inv.powerInstances(scope, 'stop', [prod[0] as string], { dryRun: false });

    const running = await inv.listInstances({ scope, limit: 10, tags: { env: 'prod' }, states: ['running'] });
    expect(running.items.map((i) => i.id).sort()).toEqual([prod[1], prod[2]].sort());
    const stopped = await inv.listInstances({ scope, limit: 10, states: ['stopped', 'stopping'] });
    expect(stopped.items.map((i) => i.id)).toEqual([prod[0]]);
    const both = await inv.listInstances({ scope, limit: 10, tags: { env: 'dev', Name: 'api' } });
    expect(both.items).toEqual([]);

    const one = running.items.find((i) => i.id === prod[1]) as Ec2Instance;
    expect(one).toMatchObject({ name: 'api', state: 'running', type: 't3.micro', tags: { env: 'prod', Name: 'api' } });
    expect(one.zone).toMatch(/^eu-west-1[a-c]$/);
    expect(one.privateIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(new Date(one.launchTime as string).toISOString()).toBe(one.launchTime);
    expect(Object.hasOwn((await inv.getInstances(scope, [dev[0] as string]))[0] as object, 'name')).toBe(false);

    // ids with a page size: EC2 refuses MaxResults beside InstanceIds, so the adapter filters by id.
    const byId = await inv.listInstances({ scope, limit: 5, ids: [dev[1] as string, 'i-0123456789abcdef0'] });
    expect(byId.items.map((i) => i.id)).toEqual([dev[1]]);

    for (const bad of [
      { limit: 4 },
      { limit: 5, states: ['asleep'] },
      { limit: 5, ids: ['web-1'] },
      { limit: 5, nextToken: '' },
    ]) {
      expect((await rejection(inv.listInstances({ scope, ...bad }))).code).toBe('InvalidArgument');
    }
  });

  it('gets exactly the instances asked for, in order; an unknown id is NotFound naming it', async () => {
    const ids = await run(ec2('us-east-2'), 3);
    const inv = inventory();
    const scope = scopeOf(DEFAULT_ACCOUNT, 'us-east-2');
    const got = await inv.getInstances(scope, [ids[2] as string, ids[0] as string]);
    expect(got.map((i) => i.id)).toEqual([ids[2], ids[0]]);

    const err = await rejection(inv.getInstances(scope, [ids[1] as string, 'i-0123456789abcdef0']));
    expect(err).toMatchObject({ provider: 'aws', code: 'NotFound', providerCode: 'InvalidInstanceID.NotFound' });
    expect(err.message).toContain('i-0123456789abcdef0');
    expect(err.message.length).toBeLessThanOrEqual(300);
    // The same id in another region of the account is not there.
    const elsewhere = await rejection(inv.getInstances(scopeOf(DEFAULT_ACCOUNT, 'eu-west-1'), [ids[0] as string]));
    expect(elsewhere.code).toBe('NotFound');
    expect((await rejection(inv.getInstances(scope, []))).code).toBe('InvalidArgument');
  });

  it('stops and starts instances, reporting each state change', async () => {
    const client = ec2('eu-west-1', await roleKeys());
    const ids = await run(client, 2);
    const inv = inventory();
    const scope = scopeOf(ROLE_ACCOUNT, 'eu-west-1');

    const stopped = await inv.powerInstances(scope, 'stop', ids, { dryRun: false });
    expect(stopped.dryRun).toBe(false);
    expect(stopped.changes.map((c) => [c.id, c.previous, c.current]).sort()).toEqual(
      ids.map((id) => [id, 'running', 'stopping']).sort(),
    );
    expect(await states(client, ids)).toEqual(['stopped', 'stopped']);

    const started = await inv.powerInstances(scope, 'start', [ids[0] as string], { dryRun: false });
    expect(started.changes).toEqual([{ id: ids[0], previous: 'stopped', current: 'pending' }]);
    expect(await states(client, ids)).toEqual(['running', 'stopped']);

    const gone = await rejection(inv.powerInstances(scope, 'stop', ['i-0123456789abcdef0'], { dryRun: false }));
    expect(gone).toMatchObject({ code: 'NotFound', providerCode: 'InvalidInstanceID.NotFound' });
  });

  it('dry runs with EC2’s own DryRun: checked, nothing changed', async () => {
    const client = ec2('eu-west-1');
    const ids = await run(client, 2);
    const inv = inventory();
    const scope = scopeOf(DEFAULT_ACCOUNT, 'eu-west-1');
    await inv.powerInstances(scope, 'stop', [ids[1] as string], { dryRun: false });

    expect(await inv.powerInstances(scope, 'stop', [ids[0] as string], { dryRun: true })).toEqual({
      dryRun: true,
      changes: [],
    });
    expect(await inv.powerInstances(scope, 'start', [ids[1] as string], { dryRun: true })).toEqual({
      dryRun: true,
      changes: [],
    });
    expect(await states(client, ids)).toEqual(['running', 'stopped']);
  });

  it('reports a dry run the credentials may not make as Forbidden, without the principal’s ARN', async () => {
    const ids = await run(ec2('eu-west-1'), 1);
    const viewer = await iamUser('viewer', ['ec2:DescribeInstances', 'sts:GetCallerIdentity']);
    await setMotoAuth('0');
    try {
      const inv = inventory({ accounts: [{}], credentials: viewer });
      const scope = scopeOf(DEFAULT_ACCOUNT, 'eu-west-1');
      expect((await inv.getInstances(scope, ids)).map((i) => i.state)).toEqual(['running']);
      const err = await rejection(inv.powerInstances(scope, 'stop', ids, { dryRun: true }));
      expect(err.code).toBe('Forbidden');
      expect(err.providerCode).toMatch(/^(AccessDenied|UnauthorizedOperation)$/);
      expect(err.message).not.toMatch(/arn:aws|AKIA|ASIA/);
      expect((await inv.getInstances(scope, ids)).map((i) => i.state)).toEqual(['running']);
    } finally {
      await setMotoAuth('inf');
    }
  });
});

describe('AwsInventory (CloudWatch, EKS) against moto_server', () => {
  const minute = 60_000;
  const base = Math.floor(Date.now() / minute) * minute - 30 * minute;

  async function putPoints(credentials: Keys, values: number[]) {
    const cw = new CloudWatchClient({ region: 'eu-west-1', endpoint: moto.url, credentials });
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Shop',
        MetricData: values.map((Value, i) => ({
          MetricName: 'Latency',
          Dimensions: [{ Name: 'service', Value: 'checkout' }],
          Timestamp: new Date(base + i * minute),
          Value,
        })),
      }),
    );
  }

  const latency = (stat = 'Average') => ({
    id: 'lat',
    namespace: 'Shop',
    metric: 'Latency',
    dimensions: { service: 'checkout' },
    stat,
    periodSeconds: 60,
  });

  it('returns the points put, oldest first, capped to the newest maxPoints', async () => {
    await putPoints(await roleKeys(), [10, 20, 30, 40, 50, 60, 70, 80]);
    const inv = inventory();
    const scope = scopeOf(ROLE_ACCOUNT, 'eu-west-1');
    const window = { start: new Date(base), end: new Date(base + 10 * minute) };

    const [all] = await inv.getMetricData(scope, { queries: [latency()], ...window, maxPoints: 100 });
    expect(all).toEqual({
      id: 'lat',
      label: 'Latency Average',
      timestamps: Array.from({ length: 8 }, (_, i) => new Date(base + i * minute).toISOString()),
      values: [10, 20, 30, 40, 50, 60, 70, 80],
      status: 'Complete',
    });

    const [newest] = await inv.getMetricData(scope, { queries: [latency('Maximum')], ...window, maxPoints: 3 });
    expect(newest?.values).toEqual([60, 70, 80]);
    expect(newest?.timestamps[0]).toBe(new Date(base + 5 * minute).toISOString());
    expect(newest?.status).toBe('PartialData');

    // The other account has no such metric.
    const [none] = await inv.getMetricData(scopeOf(DEFAULT_ACCOUNT, 'eu-west-1'), {
      queries: [latency()],
      ...window,
      maxPoints: 10,
    });
    expect(none?.values).toEqual([]);

    const bad = await rejection(
      inv.getMetricData(scope, { queries: [{ ...latency(), id: 'Lat' }], ...window, maxPoints: 10 }),
    );
    expect(bad.code).toBe('InvalidArgument');
  });

  it('pages GetMetricData newest first and stops once every series holds maxPoints', async () => {
    await putPoints(BASE, [10, 20, 30, 40, 50, 60, 70, 80]);
    const proxy = await pagingProxy(3);
    try {
      const inv = inventory({ endpoint: proxy.url, accounts: [{}] });
      const scope = scopeOf(DEFAULT_ACCOUNT, 'eu-west-1');
      const window = { start: new Date(base), end: new Date(base + 10 * minute) };

      const [all] = await inv.getMetricData(scope, { queries: [latency()], ...window, maxPoints: 100 });
      expect(proxy.pages).toBe(3);
      expect(all?.values).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
      expect(all?.timestamps).toEqual(Array.from({ length: 8 }, (_, i) => new Date(base + i * minute).toISOString()));
      expect(all?.status).toBe('Complete');

      proxy.pages = 0;
      const [newest] = await inv.getMetricData(scope, { queries: [latency()], ...window, maxPoints: 2 });
      expect(proxy.pages).toBe(1);
      expect(newest).toMatchObject({ values: [70, 80], status: 'PartialData' });
    } finally {
      await proxy.close();
    }
  });

  it('describes an EKS cluster of the role’s account through the inventory', async () => {
    const client = new EKSClient({ region: 'us-east-2', endpoint: moto.url, credentials: await roleKeys() });
    await client.send(
      new CreateClusterCommand({
        name: 'payments',
        version: '1.31',
        roleArn: `arn:aws:iam::${ROLE_ACCOUNT}:role/eks-cluster`,
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
      }),
    );
    await client.send(
      new CreateNodegroupCommand({
        clusterName: 'payments',
        nodegroupName: 'general',
        instanceTypes: ['m6i.large'],
        scalingConfig: { minSize: 1, maxSize: 4, desiredSize: 2 },
        subnets: ['subnet-1'],
        nodeRole: `arn:aws:iam::${ROLE_ACCOUNT}:role/eks-node`,
      }),
    );
    const inv = inventory();

    const d = await inv.describeEksCluster(scopeOf(ROLE_ACCOUNT, 'us-east-2'), 'payments');
    expect(d).toMatchObject({ name: 'payments', status: 'ACTIVE', version: '1.31' });
    expect(d.nodegroups).toEqual({
      available: true,
      truncated: false,
      items: [
        expect.objectContaining({
          name: 'general',
          instanceTypes: ['m6i.large'],
          scaling: { min: 1, max: 4, desired: 2 },
        }),
      ],
    });
    expect(d.insights.available).toBe(false);

    const other = await rejection(inv.describeEksCluster(scopeOf(DEFAULT_ACCOUNT, 'us-east-2'), 'payments'));
    expect(other.code).toBe('NotFound');
    expect((await rejection(inv.describeEksCluster(scopeOf(ROLE_ACCOUNT, 'us-east-2'), '../x'))).code).toBe(
      'InvalidArgument',
    );
  });
});

describe('AwsInventory when the endpoint fails', () => {
  it('reports a closed port as Unavailable', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const viaRole = inventory({ endpoint: closed, accounts: [{ roleArn: ROLE }] });
    const err = await rejection(viaRole.listInstances({ scope: scopeOf(ROLE_ACCOUNT, 'eu-west-1'), limit: 5 }));
    expect(err.code).toBe('Unavailable');
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('arn:aws');

    const base = inventory({ endpoint: closed, accounts: [{}] });
    expect((await rejection(base.scopes())).code).toBe('Unavailable');
  });

  it('gives up on an endpoint that accepts and never answers with Timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const inv = inventory({ endpoint: `http://127.0.0.1:${port}`, accounts: [{}], timeoutMs: 300 });
      const scope = scopeOf(DEFAULT_ACCOUNT, 'eu-west-1');
      expect((await rejection(inv.scopes())).code).toBe('Timeout');
      const err = await rejection(inv.getInstances(scope, ['i-0123456789abcdef0']));
      expect(err.code).toBe('Timeout');
      expect(err.message).toMatch(/timed out after 300 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('stops when the caller aborts', async () => {
    const inv = inventory();
    const err = await rejection(
      inv.listInstances({ scope: scopeOf(ROLE_ACCOUNT, 'eu-west-1'), limit: 5, signal: AbortSignal.abort() }),
    );
    expect(err).toMatchObject({ code: 'Timeout', message: 'DescribeInstances: cancelled' });
  });

  it('refuses bad options by name', () => {
    expect(() => createAwsInventory({ accounts: [], regions: ['eu-west-1'] })).toThrow(/AWS accounts/);
    expect(() => createAwsInventory({ accounts: [{ roleArn: 'role/x' }], regions: ['eu-west-1'] })).toThrow(
      /not an IAM role ARN/,
    );
    expect(() => createAwsInventory({ accounts: [{}], regions: ['mars-1'] })).toThrow(/not an AWS region/);
    expect(() => createAwsInventory({ accounts: [{}], regions: ['eu-west-1'], timeoutMs: 10 })).toThrow(/timeoutMs/);
    expect(() => createAwsInventory({ accounts: [{}], regions: ['eu-west-1'], endpoint: 'ftp://x' })).toThrow(
      /endpoint/,
    );
  });
});

describe('AWS error codes in the port’s terms', () => {
  it('maps the codes EC2, CloudWatch, EKS and STS answer with', () => {
    const table: Array<[string, number, string]> = [
      ['InvalidInstanceID.NotFound', 400, 'NotFound'],
      ['ResourceNotFoundException', 404, 'NotFound'],
      ['UnauthorizedOperation', 403, 'Forbidden'],
      ['AccessDeniedException', 400, 'Forbidden'],
      ['InvalidClientTokenId', 403, 'Forbidden'],
      ['AuthFailure', 401, 'Forbidden'],
      ['InvalidParameterValue', 400, 'InvalidArgument'],
      ['InvalidInstanceID.Malformed', 400, 'InvalidArgument'],
      ['ValidationError', 400, 'InvalidArgument'],
      ['Throttling', 400, 'Throttled'],
      ['RequestLimitExceeded', 503, 'Throttled'],
      ['IncorrectInstanceState', 400, 'Conflict'],
      ['ServiceUnavailable', 503, 'Unavailable'],
      ['SomethingNew', 429, 'Throttled'],
      ['InternalError', 500, 'Internal'],
    ];
    for (const [code, status, expected] of table) expect([code, cloudCodeOf(code, status)]).toEqual([code, expected]);
  });
});

/**
 * A loopback proxy in front of moto that pages GetMetricData the way CloudWatch does and moto does
 * not: at most `perPage` points of each series per answer in the requested ScanBy order, StatusCode
 * PartialData and a NextToken while points remain, InvalidNextToken for a token it never issued.
 */
async function pagingProxy(perPage: number) {
  const state = { pages: 0 };
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
    ) as Record<string, string>;
    let body = Buffer.concat(chunks).toString('utf8');
    let offset = 0;
    const paging = target.endsWith('.GetMetricData');
    if (paging) {
      state.pages++;
      const input = JSON.parse(body) as { NextToken?: string };
      if (input.NextToken !== undefined) {
        if (!/^p\d+$/.test(input.NextToken)) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'InvalidNextToken', message: 'The service cannot process the token' }));
          return;
        }
        offset = Number(input.NextToken.slice(1));
        delete input.NextToken;
      }
      body = JSON.stringify(input);
    }
    const up = await fetch(`${moto.url}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length ? body : undefined,
    });
    let answer = Buffer.from(await up.arrayBuffer()).toString('utf8');
    if (paging && up.ok) {
      const out = JSON.parse(answer) as {
        MetricDataResults?: Array<{ Timestamps?: unknown[]; Values?: unknown[]; StatusCode?: string }>;
        NextToken?: string;
      };
      let more = false;
      for (const r of out.MetricDataResults ?? []) {
        const total = r.Values?.length ?? 0;
        r.Timestamps = r.Timestamps?.slice(offset, offset + perPage);
        r.Values = r.Values?.slice(offset, offset + perPage);
        r.StatusCode = total > offset + perPage ? 'PartialData' : 'Complete';
        more ||= total > offset + perPage;
      }
      if (more) out.NextToken = `p${offset + perPage}`;
      answer = JSON.stringify(out);
    }
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

/** An IAM user of the default account allowed exactly `actions`, and its access key (made while auth is off). */
async function iamUser(name: string, actions: string[]): Promise<Keys> {
  await iam('CreateUser', { UserName: name });
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
  await iam('PutUserPolicy', { UserName: name, PolicyName: 'only', PolicyDocument: JSON.stringify(policy) });
  const xml = await iam('CreateAccessKey', { UserName: name });
  const id = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
  const secret = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
  if (!id || !secret) throw new Error(`CreateAccessKey: ${xml.slice(0, 300)}`);
  return { accessKeyId: id, secretAccessKey: secret };
}

/** One IAM Query API call, signed with the base keys (no IAM client in the project's dependencies). */
async function iam(action: string, params: Record<string, string>): Promise<string> {
  const url = new URL(moto.url);
  const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
  const signer = new SignatureV4({ service: 'iam', region: 'us-east-1', credentials: BASE, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const res = await fetch(moto.url, { method: 'POST', headers: signed.headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${action}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** moto's IAM checks: on for every request from now ('0'), or off ('inf'). */
async function setMotoAuth(count: '0' | 'inf') {
  const res = await fetch(`${moto.url}/moto-api/reset-auth`, { method: 'POST', body: count });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`moto reset-auth: HTTP ${res.status}`);
}
