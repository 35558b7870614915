import { describe, expect, it } from 'vitest';
import { listCatalog } from '../../scripts/tool-manifest.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { catalogTool } from '../../shared/mcp/endpoint.ts';
import { InProcessToolRunner } from '../../shared/mcp/tool-runner.ts';
import { CloudApiError, type CloudInventory, type Ec2Instance, type GcpInstance } from '../../shared/ports/cloud.ts';
import { awsCloudwatchMetricsGetTool } from '../../shared/tools/aws/cloudwatch-metrics-get.tool.ts';
import { awsEc2InstancesListTool } from '../../shared/tools/aws/ec2-instances-list.tool.ts';
import { awsEksClustersDescribeTool } from '../../shared/tools/aws/eks-clusters-describe.tool.ts';
import { gcpComputeInstancesListTool } from '../../shared/tools/gcp/compute-instances-list.tool.ts';
import { gcpGkeClustersDescribeTool } from '../../shared/tools/gcp/gke-clusters-describe.tool.ts';
import { gcpMonitoringTimeseriesQueryTool } from '../../shared/tools/gcp/monitoring-timeseries-query.tool.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import { FakeAws, FakeGcp } from '../support/fake-cloud-reads.ts';

/*
 * The aws and gcp read tools (issue 13) run through the in-process runner (strict arguments, the
 * handler, the output check) over Deps built on the MemoryStore and in-memory inventories that refuse
 * what EC2, EKS, CloudWatch, Compute, GKE and Monitoring refuse (test/support/fake-cloud-reads.ts).
 */

const TOOLS = [
  awsEksClustersDescribeTool,
  awsEc2InstancesListTool,
  awsCloudwatchMetricsGetTool,
  gcpGkeClustersDescribeTool,
  gcpComputeInstancesListTool,
  gcpMonitoringTimeseriesQueryTool,
] as unknown as AnyTool[];

const ACCT = '123456789012';
const ACCT2 = '210987654321';
const REGION = 'eu-west-1';
const PROJECT = 'alpha-project';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const DEFAULT_BUDGET = 50_000;

interface Answer {
  isError: boolean;
  /** invalid_arguments, denied, ... when the runner refused before the handler. */
  refused?: string;
  text: string;
  data: Record<string, unknown>;
  bytes: number;
}

function harness(cloud: CloudInventory, env: Record<string, string> = {}, clock = { now: () => NOW }) {
  const config = loadConfig({ STORE: 'memory', LOG_LEVEL: 'silent', ...env });
  const deps = buildDeps(config, new MemoryStore(clock), createLogger('silent'), {
    clusters: {
      list: async () => [],
      defaultCluster: async () => undefined,
      client: async () => Promise.reject(new Error('no clusters in this test')),
    },
    policy: loadPolicy(undefined),
    workflows: () => ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
    metrics: new PrometheusSource(undefined),
    cloud,
    clock,
  });
  const runner = new InProcessToolRunner(TOOLS, deps);
  let n = 0;
  return async (tool: string, args: Record<string, unknown> = {}): Promise<Answer> => {
    const out = await runner.run({
      v: 1,
      tool,
      args,
      caller: { subject: 'viewer-1', name: 'Vera', roles: ['viewer'], method: 'apiKey' },
      requestId: `req-${++n}`,
    });
    if (!out.ok) return { isError: true, refused: out.error.kind, text: out.error.message, data: {}, bytes: 0 };
    const r = out.result;
    const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');
    return {
      isError: r.isError === true,
      text,
      data: r.structuredContent ?? {},
      bytes: Buffer.byteLength(JSON.stringify(r), 'utf8'),
    };
  };
}

const hex = (i: number, width: number) => i.toString(16).padStart(width, '0');
const STATES = ['running', 'stopped', 'pending', 'terminated'] as const;

function ec2(i: number): Ec2Instance {
  const tags: Record<string, string> = { Name: `web-${i}`, team: i % 2 ? 'payments' : 'search', env: 'prod' };
  // Every 50th carries far more tags (EC2 allows 50) with long values.
  if (i % 50 === 0) for (let t = 0; t < 20; t++) tags[`extra-${t}`] = 'v'.repeat(200);
  return {
    id: `i-${hex(i, 17)}`,
    name: `web-${i}`,
    state: STATES[i % 4] as string,
    type: 'm6i.large',
    zone: 'eu-west-1a',
    privateIp: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    launchTime: new Date(NOW - (i + 1) * 3_600_000).toISOString(),
    tags,
  };
}

function awsWith(instances: number, accounts = [ACCT], regions = [REGION]): FakeAws {
  const aws = new FakeAws(accounts, regions);
  aws.instances.set(
    `${ACCT}/${REGION}`,
    Array.from({ length: instances }, (_, i) => ec2(i)),
  );
  return aws;
}

/** Follows `continue` from the structured answer until the list ends, checking each page's bounds. */
async function allPages(
  call: (tool: string, args: Record<string, unknown>) => Promise<Answer>,
  tool: string,
  args: Record<string, unknown>,
  budget: number,
  rows: 'items' | 'series' = 'items',
): Promise<{ rows: Array<Record<string, unknown>>; pages: number }> {
  const seen: Array<Record<string, unknown>> = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await call(tool, { ...args, ...(token ? { continue: token } : {}) });
    expect(r.isError, r.text).toBe(false);
    expect(r.bytes, `page ${pages + 1}`).toBeLessThanOrEqual(budget);
    const count = r.data.count as number;
    expect(r.data[rows]).toHaveLength(count);
    seen.push(...(r.data[rows] as Array<Record<string, unknown>>));
    token = r.data.continue as string | undefined;
    // The way on is in the text too: many clients show the model only the text.
    if (token) expect(r.text).toContain(`continue: "${token}"`);
    pages++;
    expect(pages, 'runaway paging').toBeLessThan(400);
  } while (token);
  return { rows: seen, pages };
}

describe('aws_ec2_instances_list', () => {
  it('pages 5,000 instances within the default output budget, each exactly once, count and continue in both channels', async () => {
    const aws = awsWith(5000);
    const call = harness({ aws });
    const first = await call('aws_ec2_instances_list', { limit: 200 });
    expect(first.isError, first.text).toBe(false);
    expect(first.bytes).toBeLessThanOrEqual(DEFAULT_BUDGET);
    // Summary first: where, how many, by state; then the More line, then the table.
    const [heading, more, header] = first.text.split('\n');
    expect(heading).toMatch(new RegExp(`^EC2 instances in ${ACCT}/${REGION}: \\d+ on this page \\(running \\d+`));
    expect(heading).toContain(`: ${first.data.count} on this page (`);
    expect(more).toMatch(/^More: more instances; call aws_ec2_instances_list again with continue: "/);
    expect(header).toMatch(/^ID\s+NAME\s+STATE\s+TYPE\s+ZONE\s+PRIVATEIP\s+AGE$/);
    expect(first.text).toMatch(/i-00000000000000001\s+web-1\s+stopped\s+m6i\.large\s+eu-west-1a\s+10\.0\.0\.1\s+120m/);

    const { rows, pages } = await allPages(call, 'aws_ec2_instances_list', { limit: 200 }, DEFAULT_BUDGET);
    const ids = rows.map((r) => r.id);
    expect(ids).toHaveLength(5000);
    expect(new Set(ids).size).toBe(5000);
    expect(pages).toBeGreaterThan(25);
    // Tags: capped per instance, the rest counted; Name is its own column.
    const heavy = rows.find((r) => r.id === `i-${hex(50, 17)}`) as {
      tags: Record<string, string>;
      tagsOmitted: number;
    };
    expect(Object.keys(heavy.tags)).toHaveLength(8);
    expect(heavy.tagsOmitted).toBe(14);
    expect(heavy.tags.Name).toBeUndefined();
    expect(Object.values(heavy.tags).every((v) => v.length <= 64)).toBe(true);
  });

  it('stays within a small budget (4 KB): fewer rows per page, never a lost one', async () => {
    const call = harness({ aws: awsWith(300) }, { OUTPUT_BUDGET_BYTES: '4096' });
    const { rows } = await allPages(call, 'aws_ec2_instances_list', { limit: 50 }, 4096);
    expect(new Set(rows.map((r) => r.id)).size).toBe(300);
  });

  it('filters by state and tags in the provider call, and pages the filtered list', async () => {
    const aws = awsWith(1000);
    const call = harness({ aws });
    const { rows } = await allPages(
      call,
      'aws_ec2_instances_list',
      { states: ['running'], tags: { team: 'search' }, limit: 100 },
      DEFAULT_BUDGET,
    );
    // running: i % 4 == 0, team search: i even -> every 4th of 1,000.
    expect(rows).toHaveLength(250);
    expect(rows.every((r) => r.state === 'running')).toBe(true);
    // Every 50th carries 20 more tags and shows the first 8 by name: team is among those left out
    // (multiples of 100 here: 10 of the 250).
    const shown = rows.filter((r) => !r.tagsOmitted);
    expect(shown).toHaveLength(240);
    expect(shown.every((r) => (r.tags as Record<string, string>).team === 'search')).toBe(true);
  });

  it('refuses a continue token used with other filters, or with another tool', async () => {
    const call = harness({ aws: awsWith(600), gcp: gcpWith(10) });
    const first = await call('aws_ec2_instances_list', { states: ['running'], limit: 50 });
    const token = first.data.continue as string;
    expect(token).toBeTruthy();
    const changed = await call('aws_ec2_instances_list', { states: ['stopped'], limit: 50, continue: token });
    expect(changed.isError).toBe(true);
    expect(changed.text).toMatch(/`continue` belongs to a different query: scope or filters changed/);
    const tagged = await call('aws_ec2_instances_list', {
      states: ['running'],
      tags: { team: 'search' },
      continue: token,
    });
    expect(tagged.text).toMatch(/different query/);
    // The same filters with another limit are the same list: the token goes on.
    const same = await call('aws_ec2_instances_list', { states: ['running'], limit: 100, continue: token });
    expect(same.isError, same.text).toBe(false);
    const elsewhere = await call('gcp_compute_instances_list', { continue: token });
    expect(elsewhere.text).toMatch(/different query/);
    const forged = await call('aws_ec2_instances_list', { continue: 'bm90LWEtdG9rZW4' });
    expect(forged.text).toMatch(/not a token from this tool/);
  });

  it('reads named instances whole (EC2 takes no MaxResults with InstanceIds) and names an unknown one', async () => {
    const aws = awsWith(40);
    const call = harness({ aws });
    const ids = [3, 4, 8, 12].map((i) => `i-${hex(i, 17)}`);
    const r = await call('aws_ec2_instances_list', { instanceIds: ids, states: ['running', 'stopped'] });
    expect(r.isError, r.text).toBe(false);
    // 4, 8, 12 are running; 3 is terminated.
    expect((r.data.items as Array<{ id: string }>).map((i) => i.id).sort()).toEqual(ids.slice(1));
    expect(aws.calls.at(-1)).toBe('get:4');
    const missing = await call('aws_ec2_instances_list', { instanceIds: [ids[0], 'i-0123456789abcdef0'] });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain(
      "AWS refused the call (InvalidInstanceID.NotFound): The instance ID 'i-0123456789abcdef0' does not exist",
    );
    const malformed = await call('aws_ec2_instances_list', { instanceIds: ['i-xyz'] });
    expect(malformed.refused).toBe('invalid_arguments');
  });

  it('the fake refuses what EC2 refuses: MaxResults under 5, MaxResults with InstanceIds, a foreign token', async () => {
    const aws = awsWith(10);
    const scope = { account: ACCT, region: REGION };
    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CloudApiError);
      return err as CloudApiError;
    };
    expect((await refused(aws.listInstances({ scope, limit: 4 }))).code).toBe('InvalidArgument');
    expect((await refused(aws.listInstances({ scope, limit: 5, ids: [ec2(1).id] }))).providerCode).toBe(
      'InvalidParameterCombination',
    );
    expect((await refused(aws.listInstances({ scope, limit: 5, nextToken: 'abc' }))).code).toBe('InvalidArgument');
    expect((await refused(aws.getInstances(scope, ['i-0123456789abcdef0']))).code).toBe('NotFound');
    const gcp = gcpWith(3);
    const filter = 'resource.labels.zone = "us-central1-a"';
    const q = { project: PROJECT, filter, start: new Date(NOW - 60_000), end: new Date(NOW) };
    const err = await refused(
      gcp.queryTimeSeries({ ...q, alignmentPeriodSeconds: 60, aligner: 'ALIGN_MEAN', limit: 5 }),
    );
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toMatch(/metric\.type/);
  });

  it('refuses unknown and bad arguments before any call, with a did-you-mean', async () => {
    const aws = awsWith(10);
    const call = harness({ aws });
    const typo = await call('aws_ec2_instances_list', { limt: 10 });
    expect(typo.refused).toBe('invalid_arguments');
    expect(typo.text).toMatch(/unknown argument `limt` \(did you mean `limit`\?\)/);
    expect((await call('aws_ec2_instances_list', { limit: 4 })).refused).toBe('invalid_arguments');
    const manyTags = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    const tags = await call('aws_ec2_instances_list', { tags: manyTags });
    expect(tags.refused).toBe('invalid_arguments');
    expect(tags.text).toMatch(/at most 10 tags/);
    const longKey = await call('aws_ec2_instances_list', { tags: { ['k'.repeat(129)]: 'v' } });
    expect(longKey.text).toMatch(/tags: keys of 1-128 characters, values of at most 256/);
    expect(aws.calls).toEqual([]);
  });
});

describe('scope resolution', () => {
  it('AWS not configured, an unknown account with a did-you-mean, a region required of two', async () => {
    const none = await harness({})('aws_ec2_instances_list', {});
    expect(none.isError).toBe(true);
    expect(none.text).toMatch(/^AWS is not configured on this server: set AWS_REGIONS/);

    const two = harness({ aws: awsWith(5, [ACCT, ACCT2], [REGION, 'us-east-1']) });
    const typo = await two('aws_ec2_instances_list', { account: '123456789013', region: REGION });
    expect(typo.text).toMatch(/^account 123456789013 is not configured \(did you mean 123456789012\?\)/);
    const noRegion = await two('aws_ec2_instances_list', { account: ACCT });
    expect(noRegion.text).toMatch(/^region is required: 2 are configured \(eu-west-1, us-east-1; AWS_REGIONS\)/);
    const eks = await two('aws_eks_clusters_describe', { cluster: `eks:${ACCT}/ap-south-1/prod` });
    expect(eks.text).toMatch(/^region ap-south-1 is not configured/);
    const cw = await two('aws_cloudwatch_metrics_get', {
      account: ACCT,
      queries: [{ namespace: 'AWS/EC2', metric: 'CPUUtilization' }],
    });
    expect(cw.text).toMatch(/^region is required/);
    // Exactly one configured: it is the default.
    const one = await harness({ aws: awsWith(5) })('aws_ec2_instances_list', {});
    expect(one.isError, one.text).toBe(false);
    expect(one.data).toMatchObject({ account: ACCT, region: REGION, count: 5 });
  });

  it('GCP not configured, an unknown project with a did-you-mean, a project required of two', async () => {
    expect((await harness({})('gcp_compute_instances_list', {})).text).toMatch(/^GCP is not configured on this server/);
    const two = harness({ gcp: new FakeGcp([PROJECT, 'beta-project'], ['us-central1-a']) });
    expect((await two('gcp_compute_instances_list', { project: 'alpha-projcet' })).text).toMatch(
      /^project alpha-projcet is not configured \(did you mean alpha-project\?\)/,
    );
    expect((await two('gcp_monitoring_timeseries_query', { metricType: 'compute.googleapis.com/x' })).text).toMatch(
      /^project is required: 2 are configured/,
    );
  });
});

describe('aws_eks_clusters_describe', () => {
  const cluster = {
    name: 'prod',
    status: 'ACTIVE',
    version: '1.29',
    platformVersion: 'eks.7',
    nodegroups: {
      available: true as const,
      truncated: false,
      items: [
        {
          name: 'general',
          status: 'ACTIVE',
          instanceTypes: ['m6i.large', 'm6a.large'],
          scaling: { min: 2, desired: 3, max: 6 },
          version: '1.28',
          capacityType: 'ON_DEMAND',
        },
      ],
    },
    addons: {
      available: true as const,
      truncated: false,
      items: [
        { name: 'vpc-cni', version: 'v1.16.0-eksbuild.1', status: 'ACTIVE' },
        { name: 'coredns', version: 'v1.10.1-eksbuild.7', status: 'DEGRADED' },
      ],
    },
    insights: {
      available: false as const,
      reason: 'ListInsights is not supported by this endpoint (UnknownOperationException)',
    },
  };

  function aws() {
    const a = new FakeAws([ACCT], [REGION]);
    a.clusters.set(`${ACCT}/${REGION}/prod`, cluster);
    return a;
  }

  it('shows versions, node groups and add-ons, and says why upgrade insights are unavailable', async () => {
    const call = harness({ aws: aws() });
    const r = await call('aws_eks_clusters_describe', { cluster: `eks:${ACCT}/${REGION}/prod` });
    expect(r.isError, r.text).toBe(false);
    const lines = r.text.split('\n');
    expect(lines[0]).toBe(
      `EKS cluster prod (eks:${ACCT}/${REGION}/prod): ACTIVE, Kubernetes 1.29 (eks.7); node groups 1; add-ons 2; upgrade insights unavailable`,
    );
    expect(r.text).toMatch(/general\s+ACTIVE\s+m6i\.large,m6a\.large\s+2\s+3\s+6\s+1\.28\s+ON_DEMAND/);
    expect(r.text).toMatch(/coredns\s+v1\.10\.1-eksbuild\.7\s+DEGRADED/);
    expect(r.text).toContain(
      'Upgrade insights: unavailable (ListInsights is not supported by this endpoint (UnknownOperationException))',
    );
    expect(r.data).toMatchObject({
      id: `eks:${ACCT}/${REGION}/prod`,
      version: '1.29',
      insights: { available: false, reason: cluster.insights.reason },
    });
    // By name, the only account and region being the defaults.
    const byName = await call('aws_eks_clusters_describe', { name: 'prod' });
    expect(byName.data.id).toBe(`eks:${ACCT}/${REGION}/prod`);
  });

  it('lists insights when there are, counted by status in the heading, and cuts long lists', async () => {
    const a = aws();
    a.clusters.set(`${ACCT}/${REGION}/big`, {
      ...cluster,
      name: 'big',
      insights: {
        available: true,
        truncated: false,
        items: [
          {
            id: 'a1',
            name: 'Deprecated APIs removed in 1.30',
            category: 'UPGRADE_READINESS',
            status: 'ERROR',
            kubernetesVersion: '1.30',
          },
          {
            id: 'a2',
            name: 'Kubelet version skew',
            category: 'UPGRADE_READINESS',
            status: 'PASSING',
            kubernetesVersion: '1.30',
          },
        ],
      },
      nodegroups: {
        available: true,
        truncated: false,
        items: Array.from({ length: 80 }, (_, i) => ({ ...cluster.nodegroups.items[0], name: `ng-${i}` })) as never,
      },
    });
    const r = await harness({ aws: a })('aws_eks_clusters_describe', { name: 'big' });
    expect(r.text.split('\n')[0]).toMatch(/node groups 50\+; add-ons 2; upgrade insights 2 \(1 ERROR, 1 PASSING\)$/);
    expect(r.text).toContain('Node groups (first 50; more exist):');
    expect(r.text).toMatch(/a1\s+Deprecated APIs removed in 1\.30\s+UPGRADE_READINESS\s+ERROR\s+1\.30/);
  });

  it('takes either an eks: id or a name, never both or neither; an unknown cluster is the API NotFound', async () => {
    const call = harness({ aws: aws() });
    const both = await call('aws_eks_clusters_describe', { cluster: `eks:${ACCT}/${REGION}/prod`, name: 'prod' });
    expect(both.text).toMatch(/either `cluster` \(an eks: id\) or `name`/);
    expect((await call('aws_eks_clusters_describe', {})).text).toMatch(/^name the cluster/);
    const notId = await call('aws_eks_clusters_describe', { cluster: 'eks:acct/eu-west-1/prod' });
    expect(notId.text).toMatch(/is not an EKS id: expected eks:<12-digit account>\/<region>\/<name>/);
    const gone = await call('aws_eks_clusters_describe', { name: 'staging' });
    expect(gone.isError).toBe(true);
    expect(gone.text).toMatch(
      /AWS refused the call \(ResourceNotFoundException\): No cluster found for name: staging\./,
    );
    expect((await call('aws_eks_clusters_describe', { name: '-bad' })).refused).toBe('invalid_arguments');
  });
});

describe('aws_cloudwatch_metrics_get', () => {
  function aws() {
    const a = new FakeAws([ACCT], [REGION]);
    const start = NOW - 180 * 60_000;
    // One point a minute for the last three hours: the value is the minute's index (0..179).
    a.metrics.set(`${ACCT}/${REGION}`, [
      {
        namespace: 'AWS/EC2',
        metric: 'CPUUtilization',
        dimensions: { InstanceId: 'i-0123456789abcdef0' },
        points: Array.from({ length: 180 }, (_, i) => ({ t: start + i * 60_000, v: i })),
      },
    ]);
    return a;
  }

  it('summarizes each series (never the raw points) and states the window and period', async () => {
    const r = await harness({ aws: aws() })('aws_cloudwatch_metrics_get', {
      queries: [
        { namespace: 'AWS/EC2', metric: 'CPUUtilization', dimensions: { InstanceId: 'i-0123456789abcdef0' } },
        { namespace: 'AWS/EC2', metric: 'NetworkIn', dimensions: { InstanceId: 'i-0123456789abcdef0' }, stat: 'Sum' },
      ],
    });
    expect(r.isError, r.text).toBe(false);
    const lines = r.text.split('\n');
    expect(lines[0]).toBe(
      `CloudWatch ${ACCT}/${REGION}: 2 series, last 3h (2026-12-07T09:00:00.000Z to 2026-12-07T12:00:00.000Z, UTC), period 300s`,
    );
    // 36 five-minute averages 2, 7, ..., 177: min 2, max 177, avg 89.5, p95 = 35th of 36 = 172; the first
    // twelve average 29.5, the last twelve 149.5: +406.8%.
    expect(lines[1]).toBe(
      'm1 AWS/EC2/CPUUtilization {InstanceId=i-0123456789abcdef0} Average: n=36 min 2 max 177 avg 89.5 p95 172 last 177@11:55 trend rising (+406.8%)',
    );
    expect(lines[2]).toMatch(/^ {2}points: 09:00 2, .*, 11:55 177$/);
    expect(lines[3]).toBe('m2 AWS/EC2/NetworkIn {InstanceId=i-0123456789abcdef0} Sum: no data in the window');
    const [cpu] = r.data.series as Array<Record<string, unknown>>;
    expect(cpu).toMatchObject({ id: 'm1', count: 36, min: 2, max: 177, avg: 89.5, p95: 172, status: 'Complete' });
    expect(cpu?.points).toHaveLength(12);
    expect(r.data).toMatchObject({ count: 2, periodSeconds: 300, window: { minutes: 180 } });
    expect(r.bytes).toBeLessThan(4000);
  });

  it('raises the period so a long window stays within 1,440 points per series, and says so', async () => {
    const r = await harness({ aws: aws() })('aws_cloudwatch_metrics_get', {
      queries: [{ namespace: 'AWS/EC2', metric: 'CPUUtilization', dimensions: { InstanceId: 'i-0123456789abcdef0' } }],
      sinceMinutes: 20160,
      periodSeconds: 60,
    });
    expect(r.text.split('\n')[0]).toMatch(/last 14d .*period 840s \(raised to keep each series within 1440 points\)$/);
    expect(r.data.periodSeconds).toBe(840);
  });

  it('fits ten series into a 4 KB budget by keeping fewer points, then fewer series', async () => {
    const queries = Array.from({ length: 10 }, () => ({
      namespace: 'AWS/EC2',
      metric: 'CPUUtilization',
      dimensions: { InstanceId: 'i-0123456789abcdef0' },
    }));
    const r = await harness({ aws: aws() }, { OUTPUT_BUDGET_BYTES: '4096' })('aws_cloudwatch_metrics_get', { queries });
    expect(r.isError, r.text).toBe(false);
    expect(r.bytes).toBeLessThanOrEqual(4096);
    const shown = r.data.series as Array<{ points: unknown[] }>;
    expect(shown.every((s) => s.points.length === 0)).toBe(true);
    expect(r.data.count as number).toBeLessThan(10);
    expect(r.text).toContain(`${r.data.omitted} series left out to fit the output budget`);
  });

  it('refuses bad queries before any call', async () => {
    const call = harness({ aws: aws() });
    const q = { namespace: 'AWS/EC2', metric: 'CPUUtilization' };
    expect((await call('aws_cloudwatch_metrics_get', { queries: [] })).refused).toBe('invalid_arguments');
    expect((await call('aws_cloudwatch_metrics_get', { queries: [{ ...q, stat: 'Median' }] })).refused).toBe(
      'invalid_arguments',
    );
    expect((await call('aws_cloudwatch_metrics_get', { queries: [q], periodSeconds: 90 })).refused).toBe(
      'invalid_arguments',
    );
    const dims = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`d${i}`, 'v']));
    const many = await call('aws_cloudwatch_metrics_get', { queries: [{ ...q, dimensions: dims }] });
    expect(many.text).toMatch(/at most 10 dimensions/);
    const typo = await call('aws_cloudwatch_metrics_get', { queries: [{ ...q, dimension: {} }] });
    expect(typo.text).toMatch(/did you mean `dimensions`/);
  });
});

function gcpInstance(i: number): GcpInstance {
  const zones = ['us-central1-a', 'us-central1-b', 'europe-west1-b'];
  return {
    name: `vm-${i}`,
    id: String(1000 + i),
    zone: zones[i % 3] as string,
    status: i % 5 === 0 ? 'TERMINATED' : 'RUNNING',
    machineType: 'e2-medium',
    labels: {
      team: i % 2 ? 'payments' : 'search',
      ...(i % 40 === 0 ? Object.fromEntries(Array.from({ length: 15 }, (_, l) => [`l${l}`, 'x'])) : {}),
    },
    internalIp: `10.1.${Math.floor(i / 250)}.${i % 250}`,
    ...(i % 7 === 0 ? { externalIp: `34.1.${Math.floor(i / 250)}.${i % 250}` } : {}),
  };
}

function gcpWith(instances: number): FakeGcp {
  const gcp = new FakeGcp([PROJECT], ['us-central1-a', 'us-central1-b', 'europe-west1-b']);
  gcp.instances.set(
    PROJECT,
    Array.from({ length: instances }, (_, i) => gcpInstance(i)),
  );
  return gcp;
}

describe('gcp_compute_instances_list', () => {
  it('pages every VM once, filters by zone, status and labels, and refuses a token from other filters', async () => {
    const gcp = gcpWith(1200);
    const call = harness({ gcp });
    const { rows } = await allPages(call, 'gcp_compute_instances_list', { limit: 200 }, DEFAULT_BUDGET);
    expect(new Set(rows.map((r) => r.name)).size).toBe(1200);
    const heavy = rows.find((r) => r.name === 'vm-40') as { labels: Record<string, string>; labelsOmitted: number };
    expect(Object.keys(heavy.labels)).toHaveLength(8);
    expect(heavy.labelsOmitted).toBe(8);

    const first = await call('gcp_compute_instances_list', {
      zone: 'us-central1-a',
      statuses: ['RUNNING'],
      labels: { team: 'search' },
      limit: 10,
    });
    expect(first.text.split('\n')[0]).toMatch(
      /^Compute instances in alpha-project\/us-central1-a \(status RUNNING; labels team=search\): 10 on this page \(RUNNING 10\)$/,
    );
    expect(first.text).toMatch(/NAME\s+ZONE\s+STATUS\s+MACHINETYPE\s+INTERNALIP\s+EXTERNALIP/);
    const filtered = await allPages(
      call,
      'gcp_compute_instances_list',
      { zone: 'us-central1-a', statuses: ['RUNNING'], labels: { team: 'search' }, limit: 10 },
      DEFAULT_BUDGET,
    );
    // zone a: i % 3 == 0; search: even; running: not a multiple of 5 -> i % 6 == 0 and i % 5 != 0.
    const expected = Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 6 === 0 && i % 5 !== 0);
    expect(filtered.rows.map((r) => r.name)).toEqual(expected.map((i) => `vm-${i}`));

    const other = await call('gcp_compute_instances_list', { zone: 'us-central1-b', continue: first.data.continue });
    expect(other.text).toMatch(/different query/);
  });

  it('an unknown zone is the API NotFound; bad labels are refused before any call', async () => {
    const call = harness({ gcp: gcpWith(5) });
    const r = await call('gcp_compute_instances_list', { zone: 'us-west9-z' });
    expect(r.text).toMatch(
      /^GCP refused the call \(NOT_FOUND\): The resource 'projects\/alpha-project\/zones\/us-west9-z' was not found/,
    );
    const bad = await call('gcp_compute_instances_list', { labels: { Team: 'x"y' } });
    expect(bad.refused).toBe('invalid_arguments');
    expect(bad.text).toMatch(/labels: lowercase letters, digits, _ and - only/);
    expect((await call('gcp_compute_instances_list', { zone: 'us-central1' })).refused).toBe('invalid_arguments');
  });
});

describe('gcp_gke_clusters_describe', () => {
  function gcp() {
    const g = new FakeGcp([PROJECT], []);
    g.clusters.set(`${PROJECT}/europe-west1/prod`, {
      id: `gke:${PROJECT}/europe-west1/prod`,
      project: PROJECT,
      location: 'europe-west1',
      name: 'prod',
      status: 'RUNNING',
      version: '1.30.5-gke.1014001',
      nodeVersion: '1.29.8-gke.1211000',
      releaseChannel: 'REGULAR',
      autopilot: false,
      currentNodeCount: 9,
      nodePools: [
        {
          name: 'default',
          machineType: 'e2-standard-4',
          version: '1.29.8-gke.1211000',
          status: 'RUNNING',
          autoscaling: { minNodeCount: 1, maxNodeCount: 5 },
          zones: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
        },
        { name: 'batch', machineType: 'n2-highmem-8', status: 'RUNNING_WITH_ERROR', zones: ['europe-west1-b'] },
      ],
      nodePoolsOmitted: 3,
    });
    return g;
  }

  it('shows versions, channel, node count and pools, and how many pools were left out', async () => {
    const call = harness({ gcp: gcp() });
    const r = await call('gcp_gke_clusters_describe', { cluster: `gke:${PROJECT}/europe-west1/prod` });
    expect(r.isError, r.text).toBe(false);
    expect(r.text.split('\n')[0]).toBe(
      `GKE cluster prod (gke:${PROJECT}/europe-west1/prod): RUNNING, master 1.30.5-gke.1014001, nodes 1.29.8-gke.1211000, channel REGULAR, 9 nodes, 5 node pools`,
    );
    expect(r.text).toMatch(
      /default\s+RUNNING\s+e2-standard-4\s+1\.29\.8-gke\.1211000\s+1-5\/zone\s+europe-west1-b,europe-west1-c,europe-west1-d/,
    );
    expect(r.text).toMatch(/batch\s+RUNNING_WITH_ERROR\s+n2-highmem-8\s+-\s+off\s+europe-west1-b/);
    expect(r.text).toContain('3 more node pools not shown');
    expect(r.data).toMatchObject({ name: 'prod', nodePoolsOmitted: 3, autopilot: false });
    const byName = await call('gcp_gke_clusters_describe', { location: 'europe-west1', name: 'prod' });
    expect(byName.data.id).toBe(`gke:${PROJECT}/europe-west1/prod`);
  });

  it('refuses both or neither form, a malformed id, and reports an unknown cluster', async () => {
    const call = harness({ gcp: gcp() });
    expect(
      (await call('gcp_gke_clusters_describe', { cluster: `gke:${PROJECT}/europe-west1/prod`, name: 'prod' })).text,
    ).toMatch(/either `cluster` \(a gke: id\)/);
    expect((await call('gcp_gke_clusters_describe', { name: 'prod' })).text).toMatch(/^name the cluster/);
    expect((await call('gcp_gke_clusters_describe', { cluster: 'gke:Alpha/x/prod' })).text).toMatch(/is not a GKE id/);
    const gone = await call('gcp_gke_clusters_describe', { location: 'europe-west1', name: 'staging' });
    expect(gone.text).toMatch(
      /^GCP refused the call \(NOT_FOUND\): Not found: projects\/alpha-project\/locations\/europe-west1\/clusters\/staging\./,
    );
  });
});

describe('gcp_monitoring_timeseries_query', () => {
  const CPU = 'compute.googleapis.com/instance/cpu/utilization';
  function gcp() {
    const g = new FakeGcp([PROJECT], []);
    const start = NOW - 180 * 60_000;
    g.series.set(
      PROJECT,
      Array.from({ length: 7 }, (_, s) => ({
        metricType: CPU,
        resourceType: 'gce_instance',
        labels: { 'resource.zone': s % 2 ? 'us-central1-b' : 'us-central1-a', instance_name: `vm-${s}` },
        unit: '10^2.%',
        points: Array.from({ length: 36 }, (_, i) => ({
          time: new Date(start + i * 300_000).toISOString(),
          value: s % 2 ? 0.5 : i / 100,
        })),
      })),
    );
    return g;
  }

  it('summarizes each series, labels first, and pages the series with the window pinned to the first page', async () => {
    const g = gcp();
    let now = NOW;
    const call = harness({ gcp: g }, {}, { now: () => now });
    const first = await call('gcp_monitoring_timeseries_query', {
      metricType: CPU,
      filter: 'resource.labels.zone = "us-central1-a"',
      limit: 2,
    });
    expect(first.isError, first.text).toBe(false);
    const lines = first.text.split('\n');
    expect(lines[0]).toBe(
      `Monitoring ${PROJECT}: ${CPU} ALIGN_MEAN, last 3h (2026-12-07T09:00:00.000Z to 2026-12-07T12:00:00.000Z, UTC), period 300s: 2 series on this page`,
    );
    expect(lines[1]).toMatch(/^More: more series; call gcp_monitoring_timeseries_query again with continue: "/);
    expect(lines[2]).toMatch(
      /^\{instance_name=vm-0, resource\.zone=us-central1-a\}: n=36 min 0 max 0\.35 avg 0\.175 p95 0\.34 last 0\.35@11:55 trend rising/,
    );
    expect(g.queries[0]?.filter).toBe(`metric.type = "${CPU}" AND (resource.labels.zone = "us-central1-a")`);
    // Later pages keep the first page's window even when the clock moved.
    now += 5 * 60_000;
    const args = { metricType: CPU, filter: 'resource.labels.zone = "us-central1-a"', limit: 2 };
    const second = await call('gcp_monitoring_timeseries_query', { ...args, continue: first.data.continue });
    expect(second.isError, second.text).toBe(false);
    expect(g.queries[1]?.end.getTime()).toBe(NOW);
    const all = await allPages(call, 'gcp_monitoring_timeseries_query', args, DEFAULT_BUDGET, 'series');
    // vm-0, 2, 4, 6 are in zone a.
    expect(all.rows.map((s) => (s.labels as Record<string, string>).instance_name)).toEqual([
      'vm-0',
      'vm-2',
      'vm-4',
      'vm-6',
    ]);
    const changed = await call('gcp_monitoring_timeseries_query', {
      ...args,
      filter: 'resource.labels.zone = "us-central1-b"',
      continue: first.data.continue,
    });
    expect(changed.text).toMatch(/different query/);
  });

  it('groups with a reducer, and refuses metric.type in filter and groupBy without a reducer', async () => {
    const g = gcp();
    const call = harness({ gcp: g });
    const r = await call('gcp_monitoring_timeseries_query', {
      metricType: CPU,
      aligner: 'max',
      reducer: 'mean',
      groupBy: ['resource.labels.zone'],
    });
    expect(r.isError, r.text).toBe(false);
    expect(g.queries.at(-1)).toMatchObject({
      aligner: 'ALIGN_MAX',
      reducer: 'REDUCE_MEAN',
      groupBy: ['resource.labels.zone'],
    });
    expect((r.data.series as Array<{ labels: unknown }>).map((s) => s.labels)).toEqual([
      { 'resource.zone': 'us-central1-a' },
      { 'resource.zone': 'us-central1-b' },
    ]);
    const sneaky = await call('gcp_monitoring_timeseries_query', {
      metricType: CPU,
      filter: 'metric.type = "custom.googleapis.com/other"',
    });
    expect(sneaky.text).toMatch(/`filter` must not name metric\.type/);
    const grouped = await call('gcp_monitoring_timeseries_query', {
      metricType: CPU,
      groupBy: ['resource.labels.zone'],
    });
    expect(grouped.text).toMatch(/`groupBy` needs a `reducer`/);
    const quoted = await call('gcp_monitoring_timeseries_query', { metricType: 'compute.googleapis.com/x" OR "' });
    expect(quoted.refused).toBe('invalid_arguments');
    expect((await call('gcp_monitoring_timeseries_query', { metricType: CPU, aligner: 'ALIGN_MEAN' })).refused).toBe(
      'invalid_arguments',
    );
  });

  it('stays within a 4 KB budget with many long-labelled series', async () => {
    const g = new FakeGcp([PROJECT], []);
    g.series.set(
      PROJECT,
      Array.from({ length: 50 }, (_, s) => ({
        metricType: CPU,
        resourceType: 'gce_instance',
        labels: Object.fromEntries(Array.from({ length: 14 }, (_, l) => [`label_${l}`, `${'x'.repeat(100)}-${s}`])),
        points: Array.from({ length: 36 }, (_, i) => ({
          time: new Date(NOW - (36 - i) * 300_000).toISOString(),
          value: i,
        })),
      })),
    );
    const call = harness({ gcp: g }, { OUTPUT_BUDGET_BYTES: '4096' });
    const { rows } = await allPages(
      call,
      'gcp_monitoring_timeseries_query',
      { metricType: CPU, limit: 50 },
      4096,
      'series',
    );
    expect(rows).toHaveLength(50);
    expect(rows.every((s) => s.labelsOmitted === 4)).toBe(true);
  });
});

describe('definitions as tools/list shows them', () => {
  it('are read-only, open-world, in the aws or gcp toolset, and small', async () => {
    const listed = await listCatalog(TOOLS.map(catalogTool));
    const sizes: Record<string, number> = {};
    for (const t of TOOLS) {
      expect(t.access, t.name).toBe('read');
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
      expect(t.group).toBe(t.name.split('_')[0]);
      expect(t.description.length, t.name).toBeLessThanOrEqual(300);
      const entry = listed.get(t.name);
      expect(entry?.inputSchema.additionalProperties, t.name).toBe(false);
      sizes[t.name] = JSON.stringify(entry).length;
    }
    if (process.env.TOOLS_LIST_SIZES) console.log(JSON.stringify(sizes));
    // The metric tools carry a query language's worth of arguments; the rest stay under 900 bytes.
    for (const [name, n] of Object.entries(sizes))
      expect(n, name).toBeLessThanOrEqual(/metrics|timeseries/.test(name) ? 1200 : 900);
  });
});
