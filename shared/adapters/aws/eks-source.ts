import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListAddonsCommand,
  ListClustersCommand,
  ListInsightsCommand,
  ListNodegroupsCommand,
} from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { mapBounded } from '../../domain/concurrency.ts';
import type { Availability, EksClusterDescription, EksNodegroup } from '../../ports/cloud.ts';
import type {
  ClusterCredential,
  ClusterSource,
  DiscoveredCluster,
  DiscoveryResult,
} from '../../ports/cluster-sources.ts';

export type { Availability, EksClusterDescription, EksNodegroup } from '../../ports/cloud.ts';

import { checkAccountsAndRegions, roleAccount } from './aws-config.ts';
import { eksToken, stsHost } from './eks-token.ts';
import {
  type AwsCredentialProvider,
  type AwsCredentials,
  type ConfiguredAccount,
  configuredAccounts,
} from './sts-roles.ts';

/*
 * EKS clusters found through the EKS API (issue 13): for each configured account (a role to assume,
 * or the base credentials) and each region, ListClusters (paged) and DescribeCluster. Every scope
 * (account × region) is bounded in time and the scopes run a few at a time; a scope that fails or
 * times out becomes an entry of `errors`, never an exception and never a hang. Tokens are made with
 * the credentials of the cluster's account (eks-token.ts) and cached until shortly before expiry.
 */

export interface EksSourceOptions {
  /** One entry per account; `{}` means the base credentials' own account. */
  accounts: Array<{ roleArn?: string }>;
  regions: string[];
  /** AWS_ENDPOINT_URL: where the EKS and STS API calls go (tests, VPC endpoints). Never the token's host. */
  endpoint?: string;
  /** Base credentials (what AssumeRole is called with); the SDK's default chain when absent. */
  credentials?: AwsCredentials | AwsCredentialProvider;
  now?: () => number;
  /** Bound of one account × region scope of discover(), and of each API call (default 15 s). */
  timeoutMs?: number;
  /** Scopes listed at once (default 4). */
  concurrency?: number;
  /** ListClusters page size (1..100, default 100). */
  pageSize?: number;
  /** Clusters listed per scope at most (default 1000); more are reported as an error entry. */
  maxClustersPerScope?: number;
  /** A cached token is replaced this long before its expiry (default 60 s). */
  tokenMarginMs?: number;
}

const DESCRIBE_CONCURRENCY = 8;
const MESSAGE_CAP = 300;
const MAX_CACHED_TOKENS = 2000;

type Account = ConfiguredAccount;

export class EksClusterSource implements ClusterSource {
  readonly kind = 'eks' as const;
  private readonly opts: Required<
    Pick<EksSourceOptions, 'timeoutMs' | 'concurrency' | 'pageSize' | 'maxClustersPerScope' | 'tokenMarginMs'>
  > &
    EksSourceOptions;
  private readonly now: () => number;
  private readonly accounts: Account[];
  private readonly clients = new Map<string, EKSClient>();
  private readonly tokens = new Map<string, Promise<ClusterCredential>>();

  constructor(options: EksSourceOptions) {
    // `??` rather than a spread: a host passing `timeoutMs: undefined` gets the default.
    this.opts = {
      ...options,
      timeoutMs: options.timeoutMs ?? 15_000,
      concurrency: options.concurrency ?? 4,
      pageSize: options.pageSize ?? 100,
      maxClustersPerScope: options.maxClustersPerScope ?? 1000,
      tokenMarginMs: options.tokenMarginMs ?? 60_000,
    };
    this.now = options.now ?? Date.now;
    validate(this.opts);
    const baseSts = new STSClient({
      region: options.regions[0],
      endpoint: options.endpoint,
      credentials: options.credentials,
      maxAttempts: 2,
      requestHandler: { requestTimeout: this.opts.timeoutMs, connectionTimeout: this.opts.timeoutMs },
    });
    this.accounts = configuredAccounts(options.accounts, baseSts, { now: this.now, timeoutMs: this.opts.timeoutMs });
  }

  async discover(signal?: AbortSignal): Promise<DiscoveryResult> {
    const scopes = this.accounts.flatMap((account) => this.opts.regions.map((region) => ({ account, region })));
    const clusters: DiscoveredCluster[] = [];
    const errors: DiscoveryResult['errors'] = [];
    await mapBounded(scopes, this.opts.concurrency, async ({ account, region }) => {
      const scopeSignal = bounded(signal, this.opts.timeoutMs);
      const label = () => `eks:${account.roleArn ? roleAccount(account.roleArn) : 'default'}/${region}`;
      try {
        const found = await untilAborted(this.listScope(account, region, scopeSignal), scopeSignal);
        clusters.push(...found.clusters);
        errors.push(...found.errors);
      } catch (err) {
        errors.push({ scope: label(), message: describeError(err, this.opts.timeoutMs) });
      }
    });
    clusters.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    errors.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    return { clusters, errors };
  }

  async token(cluster: DiscoveredCluster, signal?: AbortSignal): Promise<ClusterCredential> {
    if (cluster.source !== 'eks') throw new Error(`not an EKS cluster: ${cluster.id.slice(0, 200)}`);
    stsHost(cluster.location); // refuses a location that is no region
    const cached = this.tokens.get(cluster.id);
    if (cached) {
      const c = await cached.catch(() => undefined);
      if (c && c.expiresAt - this.opts.tokenMarginMs > this.now()) return c;
      // Another caller may have started the renewal meanwhile: share it.
      const current = this.tokens.get(cluster.id);
      if (current && current !== cached) return current;
    }
    const made = this.makeToken(cluster, bounded(signal, this.opts.timeoutMs));
    // One entry per cluster; the oldest goes first should a caller ever hand in more than the cap.
    if (this.tokens.size >= MAX_CACHED_TOKENS && !this.tokens.has(cluster.id)) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
    this.tokens.set(cluster.id, made);
    made.catch(() => {
      if (this.tokens.get(cluster.id) === made) this.tokens.delete(cluster.id);
    });
    return made;
  }

  /** Version, node groups, add-ons and upgrade insights of one discovered cluster (see describeEksCluster). */
  async describe(cluster: DiscoveredCluster, signal?: AbortSignal): Promise<EksClusterDescription> {
    const account = await this.accountOf(cluster, bounded(signal, this.opts.timeoutMs));
    const scopeSignal = bounded(signal, this.opts.timeoutMs);
    return untilAborted(
      describeEksCluster(this.client(account, cluster.location), cluster.name, { signal: scopeSignal }),
      scopeSignal,
    );
  }

  private async makeToken(cluster: DiscoveredCluster, signal: AbortSignal): Promise<ClusterCredential> {
    const account = await this.accountOf(cluster, signal);
    const credentials = await untilAborted(account.credentials(), signal);
    return eksToken({ clusterName: cluster.name, region: cluster.location, credentials, now: this.now() });
  }

  private async accountOf(cluster: DiscoveredCluster, signal: AbortSignal): Promise<Account> {
    for (const account of this.accounts) {
      if ((await untilAborted(account.accountId(), signal)) === cluster.owner) return account;
    }
    throw new Error(`cluster ${cluster.id.slice(0, 200)} belongs to no configured AWS account`);
  }

  private client(account: Account, region: string): EKSClient {
    const key = `${account.roleArn ?? ''}|${region}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new EKSClient({
        region,
        endpoint: this.opts.endpoint,
        credentials: account.credentials,
        maxAttempts: 2,
        requestHandler: { requestTimeout: this.opts.timeoutMs, connectionTimeout: this.opts.timeoutMs },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  private async listScope(account: Account, region: string, signal: AbortSignal): Promise<DiscoveryResult> {
    const errors: DiscoveryResult['errors'] = [];
    const owner = await untilAborted(account.accountId(), signal);
    const client = this.client(account, region);
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListClustersCommand({ maxResults: this.opts.pageSize, nextToken }), {
        abortSignal: signal,
      });
      names.push(...(page.clusters ?? []));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken && names.length < this.opts.maxClustersPerScope);
    if (nextToken || names.length > this.opts.maxClustersPerScope) {
      names.length = Math.min(names.length, this.opts.maxClustersPerScope);
      errors.push({
        scope: `eks:${owner}/${region}`,
        message: `more than ${this.opts.maxClustersPerScope} clusters; only the first ${this.opts.maxClustersPerScope} are listed`,
      });
    }
    const described = await mapBounded(names, DESCRIBE_CONCURRENCY, async (name) => {
      try {
        const out = await client.send(new DescribeClusterCommand({ name }), { abortSignal: signal });
        const c = out.cluster;
        if (!c) return undefined;
        const found: DiscoveredCluster = {
          id: `eks:${owner}/${region}/${name}`,
          source: 'eks',
          name,
          owner,
          location: region,
          status: c.status ?? 'UNKNOWN',
        };
        if (c.endpoint) found.endpoint = c.endpoint.replace(/\/+$/, '');
        if (c.certificateAuthority?.data) found.caData = c.certificateAuthority.data;
        if (c.version) found.version = c.version;
        return found;
      } catch (err) {
        if (signal.aborted) throw err;
        // Deleted between ListClusters and DescribeCluster: gone, not an error.
        if ((err as Error).name === 'ResourceNotFoundException') return undefined;
        errors.push({ scope: `eks:${owner}/${region}/${name}`, message: describeError(err, this.opts.timeoutMs) });
        return undefined;
      }
    });
    return { clusters: described.filter((c): c is DiscoveredCluster => c !== undefined), errors };
  }
}

/**
 * One cluster in detail, for the `aws_eks_clusters_describe` tool: DescribeCluster, then node groups
 * (ListNodegroups + DescribeNodegroup), add-ons (ListAddons + DescribeAddon) and upgrade insights
 * (ListInsights), each list capped at `maxItems`. A list the API refuses (no permission, an endpoint
 * without that API) is reported unavailable with the reason; the cluster itself must describe.
 */
export async function describeEksCluster(
  client: EKSClient,
  name: string,
  opts: { signal?: AbortSignal; maxItems?: number } = {},
): Promise<EksClusterDescription> {
  const { signal } = opts;
  const maxItems = opts.maxItems ?? 100;
  const out = await client.send(new DescribeClusterCommand({ name }), { abortSignal: signal });
  const c = out.cluster;
  if (!c) throw new Error(`DescribeCluster returned no cluster for ${name}`);

  const paged = async (
    list: (nextToken?: string) => Promise<{ names: string[]; nextToken?: string }>,
  ): Promise<{ names: string[]; truncated: boolean }> => {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await list(nextToken);
      names.push(...page.names);
      nextToken = page.nextToken;
    } while (nextToken && names.length < maxItems);
    return { names: names.slice(0, maxItems), truncated: Boolean(nextToken) || names.length > maxItems };
  };

  const nodegroups = availability(async () => {
    const { names, truncated } = await paged(async (nextToken) => {
      const p = await client.send(new ListNodegroupsCommand({ clusterName: name, nextToken }), { abortSignal: signal });
      return { names: p.nodegroups ?? [], nextToken: p.nextToken ?? undefined };
    });
    const items = await mapBounded(names, DESCRIBE_CONCURRENCY, async (ng): Promise<EksNodegroup> => {
      const d = await client.send(new DescribeNodegroupCommand({ clusterName: name, nodegroupName: ng }), {
        abortSignal: signal,
      });
      const n = d.nodegroup;
      const item: EksNodegroup = {
        name: ng,
        status: n?.status ?? 'UNKNOWN',
        instanceTypes: n?.instanceTypes ?? [],
        scaling: {
          min: n?.scalingConfig?.minSize,
          max: n?.scalingConfig?.maxSize,
          desired: n?.scalingConfig?.desiredSize,
        },
      };
      if (n?.version) item.version = n.version;
      if (n?.capacityType) item.capacityType = n.capacityType;
      return item;
    });
    return { items, truncated };
  }, 'ListNodegroups');

  const addons = availability(async () => {
    const { names, truncated } = await paged(async (nextToken) => {
      const p = await client.send(new ListAddonsCommand({ clusterName: name, nextToken }), { abortSignal: signal });
      return { names: p.addons ?? [], nextToken: p.nextToken ?? undefined };
    });
    const items = await mapBounded(names, DESCRIBE_CONCURRENCY, async (addon) => {
      const d = await client.send(new DescribeAddonCommand({ clusterName: name, addonName: addon }), {
        abortSignal: signal,
      });
      return { name: addon, version: d.addon?.addonVersion, status: d.addon?.status ?? 'UNKNOWN' };
    });
    return { items, truncated };
  }, 'ListAddons');

  const insights = availability(async () => {
    const items: Array<{ id: string; name: string; category?: string; status?: string; kubernetesVersion?: string }> =
      [];
    let nextToken: string | undefined;
    do {
      const p = await client.send(new ListInsightsCommand({ clusterName: name, nextToken }), { abortSignal: signal });
      for (const i of p.insights ?? []) {
        items.push({
          id: i.id ?? '',
          name: i.name ?? '',
          category: i.category,
          status: i.insightStatus?.status,
          kubernetesVersion: i.kubernetesVersion,
        });
      }
      nextToken = p.nextToken ?? undefined;
    } while (nextToken && items.length < maxItems);
    return { items: items.slice(0, maxItems), truncated: Boolean(nextToken) || items.length > maxItems };
  }, 'ListInsights');

  const description: EksClusterDescription = {
    name,
    status: c.status ?? 'UNKNOWN',
    nodegroups: await nodegroups,
    addons: await addons,
    insights: await insights,
  };
  if (c.version) description.version = c.version;
  if (c.platformVersion) description.platformVersion = c.platformVersion;
  return description;
}

async function availability<T>(
  load: () => Promise<{ items: T[]; truncated: boolean }>,
  what: string,
): Promise<Availability<T>> {
  try {
    return { available: true, ...(await load()) };
  } catch (err) {
    return { available: false, reason: `${what} failed: ${describeError(err)}` };
  }
}

function validate(
  o: EksSourceOptions & {
    timeoutMs: number;
    concurrency: number;
    pageSize: number;
    maxClustersPerScope: number;
    tokenMarginMs: number;
  },
): void {
  checkAccountsAndRegions(o, 'EKS');
  if (!(o.timeoutMs >= 100 && o.timeoutMs <= 300_000)) throw new Error('EKS timeoutMs must be 100..300000');
  if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1 && o.concurrency <= 32)) {
    throw new Error('EKS concurrency must be an integer 1..32');
  }
  if (!(Number.isInteger(o.pageSize) && o.pageSize >= 1 && o.pageSize <= 100)) {
    throw new Error('EKS pageSize must be an integer 1..100');
  }
  if (!(Number.isInteger(o.maxClustersPerScope) && o.maxClustersPerScope >= 1 && o.maxClustersPerScope <= 10_000)) {
    throw new Error('EKS maxClustersPerScope must be an integer 1..10000');
  }
  if (!(o.tokenMarginMs >= 0 && o.tokenMarginMs <= 10 * 60_000)) throw new Error('EKS tokenMarginMs must be 0..600000');
}

/** A signal that aborts with the caller's or after `ms`. */
export function bounded(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** `p`, unless the signal aborts first (the SDK's credential resolution does not see the signal). */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** What went wrong, short and without ARNs or credentials. */
export function describeError(err: unknown, timeoutMs?: number): string {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'TimeoutError') return `timed out${timeoutMs ? ` after ${timeoutMs} ms` : ''}`;
  if (e?.name === 'AbortError') return 'cancelled';
  const status = e?.$metadata?.httpStatusCode;
  // A body that is not the API's JSON (an HTML 404 page): the endpoint does not serve this API.
  const message =
    e?.name === 'SyntaxError' ? 'the endpoint answered with something that is not the EKS API' : (e?.message ?? '');
  const text = `${e?.code ?? e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${message}`
    .replace(/arn:aws[\w-]*:[^\s"',]+/g, '<arn>')
    .replace(/\b(A(?:KIA|SIA)[A-Z0-9]{12,})\b/g, '<access key>');
  return text.length > MESSAGE_CAP ? `${text.slice(0, MESSAGE_CAP - 1)}…` : text;
}
