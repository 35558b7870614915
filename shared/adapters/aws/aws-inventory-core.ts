import { EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsInventory, type AwsScope, CloudApiError, type EksClusterDescription } from '../../ports/cloud.ts';
import { checkAccountsAndRegions } from './aws-config.ts';
import { toCloudApiError } from './aws-errors.ts';
import { bounded, describeEksCluster, untilAborted } from './eks-source.ts';
import {
  type AwsCredentialProvider,
  type AwsCredentials,
  type ConfiguredAccount,
  configuredAccounts,
} from './sts-roles.ts';

/*
 * The AwsInventory port's core (issue 13): each configured account (a role assumed through STS, or
 * the base credentials' own) and region, one SDK client per account × region × service made on first
 * use and kept, every method bounded by `timeoutMs` (all its pages together) and the caller's signal,
 * every failure a CloudApiError (aws-errors.ts); scopes() and EKS (describeEksCluster of
 * eks-source.ts). EC2 (aws-ec2.ts) and CloudWatch (aws-cloudwatch.ts) are parts a host hands in, so a
 * bundle that only describes EKS clusters (the drift functions: createEksInventory) carries neither
 * client; createAwsInventory (aws-inventory.ts) is the core with both.
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

/** What every SDK client of one account × region is made with. */
export interface AwsClientConfig {
  region: string;
  endpoint: string | undefined;
  credentials: AwsCredentialProvider;
  maxAttempts: number;
  requestHandler: { requestTimeout: number; connectionTimeout: number };
}

/** What the core lends a part: its bounded calls and its clients. */
export interface AwsCore {
  /** `run` under the caller's signal and the time bound, its failures as CloudApiError. */
  call<T>(
    service: string,
    op: string,
    caller: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T>;
  /**
   * The client of `service` for one configured account × region, made by `make` on first use and kept
   * (one service name, one client type); an unconfigured account or region is InvalidArgument.
   */
  client<C>(scope: AwsScope, service: string, make: (config: AwsClientConfig) => C, signal: AbortSignal): Promise<C>;
}

export type Ec2Operations = Pick<AwsInventory, 'listInstances' | 'getInstances' | 'powerInstances'>;
export type CloudWatchOperations = Pick<AwsInventory, 'getMetricData'>;

/** A service's code (its client constructor and its operations), given the core it runs on. */
export type AwsPart<Operations> = (core: AwsCore) => Operations;

/** The parts an inventory carries; an absent one's operations refuse (see refusal). */
export interface AwsParts {
  ec2?: AwsPart<Ec2Operations>;
  cloudwatch?: AwsPart<CloudWatchOperations>;
}

const EKS_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/**
 * EKS only (scopes and describeEksCluster), for the functions that describe EKS clusters and nothing
 * else: their bundles then carry no EC2 or CloudWatch client. Its EC2 and CloudWatch operations refuse.
 */
export function createEksInventory(opts: AwsInventoryOptions): AwsInventory {
  return createAwsInventoryCore(opts, {});
}

export function createAwsInventoryCore(opts: AwsInventoryOptions, parts: AwsParts): AwsInventory {
  const core = new Core(opts);
  const ec2 = parts.ec2?.(core) ?? {
    listInstances: refusal('EC2', 'DescribeInstances'),
    getInstances: refusal('EC2', 'DescribeInstances'),
    powerInstances: refusal('EC2', 'StartInstances/StopInstances'),
  };
  const cloudwatch = parts.cloudwatch?.(core) ?? { getMetricData: refusal('CloudWatch', 'GetMetricData') };
  return {
    scopes: (signal) => core.scopes(signal),
    describeEksCluster: (scope, name, o) => core.describeEksCluster(scope, name, o),
    listInstances: (query) => ec2.listInstances(query),
    getInstances: (scope, ids, signal) => ec2.getInstances(scope, ids, signal),
    powerInstances: (scope, action, ids, o) => ec2.powerInstances(scope, action, ids, o),
    getMetricData: (scope, query) => cloudwatch.getMetricData(scope, query),
  };
}

/**
 * An operation of a part this inventory was not given. Forbidden rather than InvalidArgument: no
 * argument could make it succeed, and the function that lacks the client lacks the permission too
 * (its role holds only what its bundle calls), which is what Forbidden tells the caller.
 */
function refusal(service: 'EC2' | 'CloudWatch', op: string): () => Promise<never> {
  return async () => {
    throw new CloudApiError(
      'aws',
      'Forbidden',
      `${op}: this function does not carry ${service} (its AWS inventory is EKS only); the aws toolset's functions do`,
    );
  };
}

type Account = ConfiguredAccount;

class Core implements AwsCore {
  private readonly timeoutMs: number;
  private readonly regions: string[];
  private readonly endpoint: string | undefined;
  private readonly accounts: Account[];
  private readonly clients = new Map<string, unknown>();

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
    this.accounts = configuredAccounts(opts.accounts, sts, { now, timeoutMs: this.timeoutMs });
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
      const eks = await this.client(scope, 'eks', (config) => new EKSClient(config), s);
      return describeEksCluster(eks, name, { signal: s, maxItems });
    });
  }

  async call<T>(
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

  async client<C>(
    scope: AwsScope,
    service: string,
    make: (config: AwsClientConfig) => C,
    signal: AbortSignal,
  ): Promise<C> {
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
    let client = this.clients.get(key) as C | undefined;
    if (!client) {
      client = make({
        region: scope.region,
        endpoint: this.endpoint,
        credentials: account.credentials,
        maxAttempts: 2,
        requestHandler: { requestTimeout: this.timeoutMs, connectionTimeout: this.timeoutMs },
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

export function invalid(message: string): CloudApiError {
  return new CloudApiError('aws', 'InvalidArgument', message);
}

function validateOptions(o: AwsInventoryOptions, timeoutMs: number): void {
  checkAccountsAndRegions(o, 'AWS');
  if (!(timeoutMs >= 100 && timeoutMs <= 300_000)) throw new Error('AWS inventory timeoutMs must be 100..300000');
}
