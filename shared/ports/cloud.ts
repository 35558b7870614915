/*
 * Cloud inventory (issue 13): what the `aws` and `gcp` toolsets and the cloud drift check read and
 * change outside Kubernetes. The AWS adapter (shared/adapters/aws/aws-inventory.ts) speaks EKS, EC2,
 * CloudWatch and STS; the GCP adapter (shared/adapters/gcp/gcp-inventory.ts) Container v1, Compute v1
 * and Monitoring v3. Tools see only these types; every list is bounded by the caller's limit and
 * paged with the provider's own token; every call takes an AbortSignal and is bounded in time by
 * the adapter. Failures are CloudApiError with a provider-neutral code, never an SDK error.
 */

/** A list the API answered, or why it could not be had (not faked: an API the endpoint lacks says so). */
export type Availability<T> =
  | { available: true; items: T[]; truncated: boolean }
  | { available: false; reason: string };

export interface EksNodegroup {
  name: string;
  status: string;
  instanceTypes: string[];
  scaling: { min?: number; max?: number; desired?: number };
  version?: string;
  capacityType?: string;
}

export interface EksAddon {
  name: string;
  version?: string;
  status: string;
}

export interface EksInsight {
  id: string;
  name: string;
  category?: string;
  status?: string;
  kubernetesVersion?: string;
}

export interface EksClusterDescription {
  name: string;
  status: string;
  version?: string;
  platformVersion?: string;
  nodegroups: Availability<EksNodegroup>;
  addons: Availability<EksAddon>;
  insights: Availability<EksInsight>;
}

export interface GkeClusterRef {
  project: string;
  /** Region or zone. */
  location: string;
  name: string;
}

export interface GkeNodePoolSummary {
  name: string;
  machineType?: string;
  version?: string;
  status: string;
  /** Absent when autoscaling is off. */
  autoscaling?: {
    minNodeCount?: number;
    maxNodeCount?: number;
    totalMinNodeCount?: number;
    totalMaxNodeCount?: number;
    locationPolicy?: string;
  };
  /** Nodes per zone the pool was created with (GKE's initialNodeCount). */
  initialNodeCountPerZone?: number;
  zones: string[];
}

export interface GkeClusterDescription {
  id: string;
  project: string;
  location: string;
  name: string;
  status: string;
  statusMessage?: string;
  /** Control plane version (currentMasterVersion). */
  version?: string;
  /** Oldest node version (currentNodeVersion). */
  nodeVersion?: string;
  releaseChannel?: string;
  autopilot: boolean;
  /** Nodes in the cluster now, as GKE counts them. */
  currentNodeCount?: number;
  nodePools: GkeNodePoolSummary[];
  /** Pools left out past the cap. */
  nodePoolsOmitted: number;
}

/** One page of a provider list: `nextToken` is the provider's own (EC2 NextToken, GCP pageToken). */
export interface Page<T> {
  items: T[];
  nextToken?: string;
  /** Places the provider could not reach this time (GCP aggregatedList zones): items there may be missing. */
  unreachable?: string[];
}

/** Where an AWS call goes: one configured account (12-digit id) and region. */
export interface AwsScope {
  account: string;
  region: string;
}

/** EC2 instance states (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html). */
export const EC2_INSTANCE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
] as const;

/** Compute instance statuses (https://cloud.google.com/compute/docs/instances/instance-life-cycle). */
export const GCP_INSTANCE_STATUSES = [
  'PROVISIONING',
  'STAGING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'SUSPENDING',
  'SUSPENDED',
  'REPAIRING',
  'TERMINATED',
] as const;

export interface Ec2Instance {
  id: string;
  /** The Name tag. */
  name?: string;
  /** pending | running | stopping | stopped | shutting-down | terminated */
  state: string;
  type: string;
  zone?: string;
  privateIp?: string;
  publicIp?: string;
  /** ISO 8601. */
  launchTime?: string;
  /** Every tag of the instance (EC2 allows at most 50). */
  tags: Record<string, string>;
}

export interface Ec2ListQuery {
  scope: AwsScope;
  /** Only these instance ids. */
  ids?: string[];
  /** Only instances in these states. */
  states?: string[];
  /** Only instances carrying every one of these tags with exactly this value. */
  tags?: Record<string, string>;
  /** Instances per page (5..1000, EC2's MaxResults bounds). */
  limit: number;
  nextToken?: string;
  signal?: AbortSignal;
}

export interface InstanceStateChange {
  id: string;
  previous: string;
  current: string;
}

/** The outcome of a start or stop: with `dryRun` the provider checked the request and changed nothing. */
export interface PowerResult {
  dryRun: boolean;
  /** Empty for a dry run. */
  changes: InstanceStateChange[];
}

export interface MetricQuery {
  /** The caller's id for this series (CloudWatch: lowercase letter first, [a-zA-Z0-9_]). */
  id: string;
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  /** Average, Sum, Minimum, Maximum, SampleCount, or a percentile such as p95. */
  stat: string;
  periodSeconds: number;
}

export interface MetricSeries {
  id: string;
  label: string;
  /** Oldest first; ISO 8601, one per value. */
  timestamps: string[];
  values: number[];
  /** Complete, PartialData (more points than one answer carries), InternalError, Forbidden. */
  status: string;
}

export interface AwsInventory {
  /** The account ids (resolved from AWS_ACCOUNTS role ARNs, or the base credentials' own) and the regions. */
  scopes(signal?: AbortSignal): Promise<{ accounts: string[]; regions: string[] }>;
  describeEksCluster(
    scope: AwsScope,
    name: string,
    opts?: { signal?: AbortSignal; maxItems?: number },
  ): Promise<EksClusterDescription>;
  listInstances(query: Ec2ListQuery): Promise<Page<Ec2Instance>>;
  /** Exactly these instances; one that does not exist is a CloudApiError `NotFound` naming it. */
  getInstances(scope: AwsScope, ids: string[], signal?: AbortSignal): Promise<Ec2Instance[]>;
  /** StartInstances / StopInstances; `dryRun` uses EC2's own DryRun (permission and request checked, nothing changed). */
  powerInstances(
    scope: AwsScope,
    action: 'start' | 'stop',
    ids: string[],
    opts: { dryRun: boolean; signal?: AbortSignal },
  ): Promise<PowerResult>;
  /** GetMetricData over [start, end), every page up to `maxPoints` per series (newest kept). */
  getMetricData(
    scope: AwsScope,
    query: { queries: MetricQuery[]; start: Date; end: Date; maxPoints: number; signal?: AbortSignal },
  ): Promise<MetricSeries[]>;
}

export interface GcpInstance {
  name: string;
  id: string;
  /** Short zone name (us-central1-a). */
  zone: string;
  /** PROVISIONING | STAGING | RUNNING | STOPPING | STOPPED | SUSPENDING | SUSPENDED | REPAIRING | TERMINATED */
  status: string;
  /** Short machine type (e2-medium). */
  machineType: string;
  labels: Record<string, string>;
  internalIp?: string;
  externalIp?: string;
  /** ISO 8601. */
  created?: string;
}

export interface GcpInstanceQuery {
  project: string;
  /** One zone; absent: every zone (aggregatedList). */
  zone?: string;
  /** Only instances in these statuses. */
  statuses?: string[];
  /** Only instances carrying every one of these labels with exactly this value. */
  labels?: Record<string, string>;
  /** Instances per page (1..500, Compute's maxResults bounds). */
  limit: number;
  nextToken?: string;
  signal?: AbortSignal;
}

export interface GcpTimeSeriesQuery {
  project: string;
  /** A Monitoring filter, e.g. `metric.type = "compute.googleapis.com/instance/cpu/utilization"`. */
  filter: string;
  start: Date;
  end: Date;
  alignmentPeriodSeconds: number;
  /** ALIGN_MEAN, ALIGN_MAX, ALIGN_RATE, ... */
  aligner: string;
  /** REDUCE_MEAN, REDUCE_SUM, ...; with groupBy, one series per group. */
  reducer?: string;
  groupBy?: string[];
  /** Series per page (1..1000). */
  limit: number;
  nextToken?: string;
  signal?: AbortSignal;
}

export interface TimeSeries {
  metricType: string;
  resourceType: string;
  /** Metric and resource labels (resource ones prefixed `resource.`). */
  labels: Record<string, string>;
  unit?: string;
  /** Oldest first. */
  points: Array<{ time: string; value: number }>;
}

export interface GcpInventory {
  /** The configured projects (GCP_PROJECTS). */
  projects(): string[];
  describeGkeCluster(ref: GkeClusterRef, signal?: AbortSignal): Promise<GkeClusterDescription>;
  listInstances(query: GcpInstanceQuery): Promise<Page<GcpInstance>>;
  /** One instance; absent is a CloudApiError `NotFound`. */
  getInstance(project: string, zone: string, name: string, signal?: AbortSignal): Promise<GcpInstance>;
  /**
   * instances.start / instances.stop: answers once Compute accepted the operation (it runs on);
   * Compute has no dry run, so previews never reach this.
   */
  powerInstance(
    project: string,
    zone: string,
    name: string,
    action: 'start' | 'stop',
    signal?: AbortSignal,
  ): Promise<{ operation: string; status: string }>;
  queryTimeSeries(query: GcpTimeSeriesQuery): Promise<Page<TimeSeries>>;
}

/** The clouds this host reaches; absent: not configured (AWS_ACCOUNTS/AWS_REGIONS, GCP_PROJECTS). */
export interface CloudInventory {
  aws?: AwsInventory;
  gcp?: GcpInventory;
}

export type CloudErrorCode =
  | 'NotFound'
  | 'Forbidden'
  | 'InvalidArgument'
  | 'Conflict'
  | 'Throttled'
  | 'Unavailable'
  | 'Timeout'
  | 'Internal';

/** A cloud API refusal in provider-neutral terms; `message` is the provider's, bounded, without credentials. */
export class CloudApiError extends Error {
  override name = 'CloudApiError';
  readonly provider: 'aws' | 'gcp';
  readonly code: CloudErrorCode;
  /** The provider's own error code (UnauthorizedOperation, InvalidInstanceID.NotFound, PERMISSION_DENIED, ...). */
  readonly providerCode?: string;

  constructor(provider: 'aws' | 'gcp', code: CloudErrorCode, message: string, providerCode?: string) {
    super(message);
    this.provider = provider;
    this.code = code;
    if (providerCode !== undefined) this.providerCode = providerCode;
  }
}
