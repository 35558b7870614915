import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  EC2Client,
  type Filter,
  type Instance,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import {
  type AwsInventory,
  type AwsScope,
  CloudApiError,
  type Ec2Instance,
  type Ec2ListQuery,
  type EksClusterDescription,
  type MetricQuery,
  type MetricSeries,
  type Page,
  type PowerResult,
} from '../../ports/cloud.ts';
import { toCloudApiError } from './aws-errors.ts';
import { bounded, describeEksCluster, untilAborted } from './eks-source.ts';
import {
  type AwsCredentialProvider,
  type AwsCredentials,
  assumedRoleCredentials,
  callerAccount,
  roleAccount,
} from './sts-roles.ts';

/*
 * The AwsInventory port over the AWS SDK (issue 13): EKS (describeEksCluster of eks-source.ts), EC2
 * DescribeInstances / StartInstances / StopInstances and CloudWatch GetMetricData, in each configured
 * account (a role assumed through STS, or the base credentials' own) and region. One SDK client per
 * account × region × service, made on first use and kept. Each method is bounded by `timeoutMs` (all
 * its pages together) and the caller's signal; every failure is a CloudApiError (aws-errors.ts).
 */

export interface AwsInventoryOptions {
  /** One entry per account; `{}` means the base credentials' own account (GetCallerIdentity, once). */
  accounts: Array<{ roleArn?: string }>;
  regions: string[];
  /** AWS_ENDPOINT_URL: where every API call goes (tests, VPC endpoints). */
  endpoint?: string;
  /** Base credentials (what AssumeRole is called with); the SDK's default chain when absent. */
  credentials?: AwsCredentials | AwsCredentialProvider;
  /** Bound of each method call, all its pages together (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const METRIC_ID = /^[a-z][a-zA-Z0-9_]{0,254}$/;
const STATES = new Set(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']);
const MAX_ACCOUNTS = 100;
const MAX_REGIONS = 40;
/** Instance ids in one call (listInstances, getInstances, powerInstances). */
const MAX_IDS = 1000;
const MAX_TAG_FILTERS = 50;
const MAX_TOKEN = 8192;
/** GetMetricData's own bound on queries per request. */
const MAX_QUERIES = 500;
/** Points per series a caller may ask for: a week of one-minute points. */
const MAX_POINTS = 10_080;
/** GetMetricData pages read at most per call (each holds up to 100,800 points). */
const MAX_METRIC_PAGES = 20;

type Service = 'ec2' | 'cloudwatch' | 'eks';
type Client = EC2Client | CloudWatchClient | EKSClient;

interface Account {
  key: string;
  credentials: AwsCredentialProvider;
  /** Known from the role ARN, or resolved once through GetCallerIdentity. */
  accountId: () => Promise<string>;
}

export function createAwsInventory(opts: AwsInventoryOptions): AwsInventory {
  return new SdkAwsInventory(opts);
}

class SdkAwsInventory implements AwsInventory {
  private readonly timeoutMs: number;
  private readonly regions: string[];
  private readonly endpoint: string | undefined;
  private readonly accounts: Account[] = [];
  private readonly clients = new Map<string, Client>();

  constructor(opts: AwsInventoryOptions) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    validateOptions(opts, this.timeoutMs);
    this.regions = [...new Set(opts.regions)];
    this.endpoint = opts.endpoint;
    const now = opts.now ?? Date.now;
    const sts = new STSClient({
      region: this.regions[0],
      endpoint: opts.endpoint,
      credentials: opts.credentials,
      maxAttempts: 2,
      requestHandler: { requestTimeout: this.timeoutMs, connectionTimeout: this.timeoutMs },
    });
    const base: AwsCredentialProvider = async () => {
      const c = await sts.config.credentials();
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration,
      };
    };
    const seen = new Set<string>();
    for (const { roleArn } of opts.accounts) {
      const key = roleArn ?? '';
      if (seen.has(key)) continue;
      seen.add(key);
      if (roleArn) {
        const id = roleAccount(roleArn);
        this.accounts.push({
          key,
          credentials: assumedRoleCredentials({ roleArn, sts, now, timeoutMs: this.timeoutMs }),
          accountId: async () => id,
        });
      } else {
        let pending: Promise<string> | undefined;
        this.accounts.push({
          key,
          credentials: base,
          // Shared by concurrent callers, so bounded on its own rather than by the first caller's signal.
          accountId: () => {
            pending ??= callerAccount(sts, AbortSignal.timeout(this.timeoutMs)).catch((err: unknown) => {
              pending = undefined;
              throw err;
            });
            return pending;
          },
        });
      }
    }
  }

  async scopes(signal?: AbortSignal): Promise<{ accounts: string[]; regions: string[] }> {
    return this.call('STS', 'GetCallerIdentity', signal, async (s) => {
      const ids: string[] = [];
      for (const account of this.accounts) ids.push(await untilAborted(account.accountId(), s));
      return { accounts: [...new Set(ids)], regions: [...this.regions] };
    });
  }

  async describeEksCluster(
    scope: AwsScope,
    name: string,
    opts: { signal?: AbortSignal; maxItems?: number } = {},
  ): Promise<EksClusterDescription> {
    if (typeof name !== 'string' || !EKS_NAME.test(name)) {
      throw invalid('EKS cluster name: 1-100 letters, digits, hyphens and underscores, starting alphanumeric');
    }
    const maxItems = opts.maxItems ?? 100;
    if (!(Number.isInteger(maxItems) && maxItems >= 1 && maxItems <= 1000)) {
      throw invalid('maxItems must be an integer 1..1000');
    }
    return this.call('EKS', 'DescribeCluster', opts.signal, async (s) => {
      const eks = (await this.client(scope, 'eks', s)) as EKSClient;
      return describeEksCluster(eks, name, { signal: s, maxItems });
    });
  }

  async listInstances(query: Ec2ListQuery): Promise<Page<Ec2Instance>> {
    const { limit, nextToken, ids, states, tags } = query;
    if (!(Number.isInteger(limit) && limit >= 5 && limit <= 1000)) throw invalid('limit must be an integer 5..1000');
    if (nextToken !== undefined && (typeof nextToken !== 'string' || !nextToken || nextToken.length > MAX_TOKEN)) {
      throw invalid(`nextToken must be the token a previous page returned (at most ${MAX_TOKEN} characters)`);
    }
    // EC2 refuses MaxResults beside InstanceIds, so ids go in as a filter: pages, and no NotFound.
    const filters: Filter[] = [];
    if (ids !== undefined) filters.push({ Name: 'instance-id', Values: checkIds(ids) });
    if (states !== undefined) {
      if (!Array.isArray(states) || states.length === 0 || states.some((s) => !STATES.has(s))) {
        throw invalid(`states: one or more of ${[...STATES].join(', ')}`);
      }
      filters.push({ Name: 'instance-state-name', Values: [...new Set(states)] });
    }
    if (tags !== undefined) {
      const entries = Object.entries(tags);
      if (entries.length > MAX_TAG_FILTERS) throw invalid(`tags: at most ${MAX_TAG_FILTERS}`);
      for (const [k, v] of entries) {
        if (!k || k.length > 128 || typeof v !== 'string' || v.length > 256) {
          throw invalid('tags: keys of 1-128 characters, values of at most 256');
        }
        filters.push({ Name: `tag:${k}`, Values: [v] });
      }
    }
    return this.call('EC2', 'DescribeInstances', query.signal, async (s) => {
      const ec2 = (await this.client(query.scope, 'ec2', s)) as EC2Client;
      const out = await ec2.send(
        new DescribeInstancesCommand({
          Filters: filters.length ? filters : undefined,
          MaxResults: limit,
          NextToken: nextToken,
        }),
        { abortSignal: s },
      );
      const page: Page<Ec2Instance> = {
        items: (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map(toInstance)),
      };
      if (out.NextToken) page.nextToken = out.NextToken;
      return page;
    });
  }

  async getInstances(scope: AwsScope, ids: string[], signal?: AbortSignal): Promise<Ec2Instance[]> {
    const wanted = checkIds(ids);
    return this.call('EC2', 'DescribeInstances', signal, async (s) => {
      const ec2 = (await this.client(scope, 'ec2', s)) as EC2Client;
      const found = new Map<string, Ec2Instance>();
      let token: string | undefined;
      do {
        // With InstanceIds EC2 answers every one or InvalidInstanceID.NotFound naming the missing.
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: wanted, NextToken: token }), {
          abortSignal: s,
        });
        for (const r of out.Reservations ?? [])
          for (const i of r.Instances ?? []) found.set(i.InstanceId ?? '', toInstance(i));
        token = out.NextToken ?? undefined;
      } while (token);
      const missing = wanted.filter((id) => !found.has(id));
      if (missing.length) {
        throw new CloudApiError(
          'aws',
          'NotFound',
          `DescribeInstances: no instance ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} in ${scope.account}/${scope.region}`,
          'InvalidInstanceID.NotFound',
        );
      }
      return wanted.map((id) => found.get(id) as Ec2Instance);
    });
  }

  async powerInstances(
    scope: AwsScope,
    action: 'start' | 'stop',
    ids: string[],
    opts: { dryRun: boolean; signal?: AbortSignal },
  ): Promise<PowerResult> {
    if (action !== 'start' && action !== 'stop') throw invalid('action must be start or stop');
    if (typeof opts?.dryRun !== 'boolean') throw invalid('dryRun must be true or false');
    const wanted = checkIds(ids);
    const op = action === 'start' ? 'StartInstances' : 'StopInstances';
    return this.call('EC2', op, opts.signal, async (s) => {
      const ec2 = (await this.client(scope, 'ec2', s)) as EC2Client;
      const input = { InstanceIds: wanted, DryRun: opts.dryRun || undefined };
      let changes: Array<{ InstanceId?: string; PreviousState?: { Name?: string }; CurrentState?: { Name?: string } }>;
      try {
        changes =
          action === 'start'
            ? ((await ec2.send(new StartInstancesCommand(input), { abortSignal: s })).StartingInstances ?? [])
            : ((await ec2.send(new StopInstancesCommand(input), { abortSignal: s })).StoppingInstances ?? []);
      } catch (err) {
        // EC2's answer to a dry run that would have succeeded is this error.
        if (opts.dryRun && (err as Error).name === 'DryRunOperation') return { dryRun: true, changes: [] };
        throw err;
      }
      if (opts.dryRun) {
        throw new CloudApiError('aws', 'Internal', `${op}: the endpoint ignored DryRun and changed the instances`);
      }
      return {
        dryRun: false,
        changes: changes.map((c) => ({
          id: c.InstanceId ?? '',
          previous: c.PreviousState?.Name ?? 'unknown',
          current: c.CurrentState?.Name ?? 'unknown',
        })),
      };
    });
  }

  async getMetricData(
    scope: AwsScope,
    query: { queries: MetricQuery[]; start: Date; end: Date; maxPoints: number; signal?: AbortSignal },
  ): Promise<MetricSeries[]> {
    const { queries, start, end, maxPoints } = query;
    const requests = checkMetricQueries(queries);
    if (!(start instanceof Date && end instanceof Date && start.getTime() < end.getTime())) {
      throw invalid('start and end must be dates, start before end');
    }
    if (!(Number.isInteger(maxPoints) && maxPoints >= 1 && maxPoints <= MAX_POINTS)) {
      throw invalid(`maxPoints must be an integer 1..${MAX_POINTS}`);
    }
    return this.call('CloudWatch', 'GetMetricData', query.signal, async (s) => {
      const cw = (await this.client(scope, 'cloudwatch', s)) as CloudWatchClient;
      const series = new Map(
        queries.map((q) => [
          q.id,
          { label: q.id, times: [] as string[], values: [] as number[], status: 'Complete', cut: false },
        ]),
      );
      const enough = () => [...series.values()].every((x) => x.values.length >= maxPoints);
      let token: string | undefined;
      let pages = 0;
      // Newest first (ScanBy), so each series keeps its first maxPoints and paging stops once every
      // series holds that many: memory and pages stay bounded by what the caller asked for.
      do {
        const out = await cw.send(
          new GetMetricDataCommand({
            MetricDataQueries: requests,
            StartTime: start,
            EndTime: end,
            ScanBy: 'TimestampDescending',
            NextToken: token,
          }),
          { abortSignal: s },
        );
        for (const r of out.MetricDataResults ?? []) {
          const x = series.get(r.Id ?? '');
          if (!x) continue;
          if (r.Label) x.label = r.Label;
          const times = r.Timestamps ?? [];
          const values = r.Values ?? [];
          const n = Math.min(times.length, values.length);
          let i = 0;
          for (; i < n && x.values.length < maxPoints; i++) {
            x.times.push((times[i] as Date).toISOString());
            x.values.push(values[i] as number);
          }
          if (i < n) x.cut = true;
          // The last page's word, except that a failure on any page stays.
          if (r.StatusCode && x.status !== 'InternalError' && x.status !== 'Forbidden') x.status = r.StatusCode;
        }
        token = out.NextToken ?? undefined;
      } while (token && !enough() && ++pages < MAX_METRIC_PAGES);
      // Oldest first; a series with older points dropped or left unread is PartialData.
      return [...series.entries()].map(([id, x]) => ({
        id,
        label: x.label,
        timestamps: x.times.reverse(),
        values: x.values.reverse(),
        status: (x.cut || token !== undefined) && x.status === 'Complete' ? 'PartialData' : x.status,
      }));
    });
  }

  /** `run` under the caller's signal and the time bound, its failures as CloudApiError. */
  private async call<T>(
    service: string,
    op: string,
    caller: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const signal = bounded(caller, this.timeoutMs);
    try {
      return await untilAborted(run(signal), signal);
    } catch (err) {
      throw toCloudApiError(err, { service, op, signal, caller, timeoutMs: this.timeoutMs });
    }
  }

  /** The cached client of one configured account × region × service. */
  private async client(scope: AwsScope, service: Service, signal: AbortSignal): Promise<Client> {
    if (!this.regions.includes(scope?.region)) {
      throw invalid(`region ${String(scope?.region).slice(0, 60)} is not configured (${this.regions.join(', ')})`);
    }
    let account: Account | undefined;
    for (const a of this.accounts) {
      if ((await untilAborted(a.accountId(), signal)) === scope.account) {
        account = a;
        break;
      }
    }
    if (!account) throw invalid(`account ${String(scope.account).slice(0, 20)} is not configured`);
    const key = `${account.key}|${scope.region}|${service}`;
    let client = this.clients.get(key);
    if (!client) {
      const config = {
        region: scope.region,
        endpoint: this.endpoint,
        credentials: account.credentials,
        maxAttempts: 2,
        requestHandler: { requestTimeout: this.timeoutMs, connectionTimeout: this.timeoutMs },
      };
      client =
        service === 'ec2'
          ? new EC2Client(config)
          : service === 'eks'
            ? new EKSClient(config)
            : new CloudWatchClient(config);
      this.clients.set(key, client);
    }
    return client;
  }
}

function toInstance(i: Instance): Ec2Instance {
  const tags: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  const out: Ec2Instance = {
    id: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    type: i.InstanceType ?? 'unknown',
    tags,
  };
  if (tags.Name !== undefined) out.name = tags.Name;
  if (i.Placement?.AvailabilityZone) out.zone = i.Placement.AvailabilityZone;
  if (i.PrivateIpAddress) out.privateIp = i.PrivateIpAddress;
  if (i.PublicIpAddress) out.publicIp = i.PublicIpAddress;
  if (i.LaunchTime) out.launchTime = i.LaunchTime.toISOString();
  return out;
}

function checkIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS) {
    throw invalid(`instance ids: give 1 to ${MAX_IDS}`);
  }
  for (const id of ids) {
    if (typeof id !== 'string' || !INSTANCE_ID.test(id)) {
      throw invalid(`not an EC2 instance id: ${String(id).slice(0, 40)} (i- and 8 or 17 hex digits)`);
    }
  }
  return [...new Set(ids as string[])];
}

function checkMetricQueries(queries: MetricQuery[]): MetricDataQuery[] {
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES) {
    throw invalid(`queries: give 1 to ${MAX_QUERIES}`);
  }
  const ids = new Set<string>();
  return queries.map((q) => {
    if (typeof q?.id !== 'string' || !METRIC_ID.test(q.id)) {
      throw invalid('metric query id: a lowercase letter, then letters, digits and underscores (at most 255)');
    }
    if (ids.has(q.id)) throw invalid(`metric query id ${q.id} is given twice`);
    ids.add(q.id);
    for (const [what, v] of [
      ['namespace', q.namespace],
      ['metric', q.metric],
      ['stat', q.stat],
    ] as const) {
      if (typeof v !== 'string' || !v || v.length > 255) throw invalid(`${q.id}: ${what} must be 1-255 characters`);
    }
    const dims = Object.entries(q.dimensions ?? {});
    if (dims.length > 30) throw invalid(`${q.id}: at most 30 dimensions`);
    for (const [k, v] of dims) {
      if (!k || k.length > 255 || typeof v !== 'string' || !v || v.length > 1024) {
        throw invalid(`${q.id}: dimension names of 1-255 characters, values of 1-1024`);
      }
    }
    const p = q.periodSeconds;
    if (!(Number.isInteger(p) && p >= 1 && p <= 86_400 * 455 && ([1, 5, 10, 20, 30].includes(p) || p % 60 === 0))) {
      throw invalid(`${q.id}: periodSeconds must be 1, 5, 10, 20, 30 or a multiple of 60`);
    }
    return {
      Id: q.id,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: q.namespace,
          MetricName: q.metric,
          Dimensions: dims.map(([Name, Value]) => ({ Name, Value })),
        },
        Period: p,
        Stat: q.stat,
      },
    };
  });
}

function invalid(message: string): CloudApiError {
  return new CloudApiError('aws', 'InvalidArgument', message);
}

function validateOptions(o: AwsInventoryOptions, timeoutMs: number): void {
  if (!Array.isArray(o.accounts) || o.accounts.length === 0 || o.accounts.length > MAX_ACCOUNTS) {
    throw new Error(`AWS accounts: give 1 to ${MAX_ACCOUNTS} (an empty role means the base credentials' account)`);
  }
  for (const a of o.accounts) if (a.roleArn !== undefined) roleAccount(a.roleArn);
  if (!Array.isArray(o.regions) || o.regions.length === 0 || o.regions.length > MAX_REGIONS) {
    throw new Error(`AWS regions: give 1 to ${MAX_REGIONS} AWS regions`);
  }
  for (const r of o.regions) if (!REGION.test(r)) throw new Error(`AWS regions: not an AWS region: ${r.slice(0, 60)}`);
  if (o.endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(o.endpoint)) {
    throw new Error('AWS endpoint (AWS_ENDPOINT_URL) must be an http(s) URL');
  }
  if (!(timeoutMs >= 100 && timeoutMs <= 300_000)) throw new Error('AWS inventory timeoutMs must be 100..300000');
}
