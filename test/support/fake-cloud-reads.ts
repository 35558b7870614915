/*
 * In-memory AwsInventory and GcpInventory for the aws and gcp read tools' tests
 * (test/integration/cloud-read-tools.test.ts). They stand where the adapters
 * (shared/adapters/aws/aws-inventory.ts, shared/adapters/gcp/gcp-inventory.ts) stand and answer in
 * the port's terms, refusing what the services behind those adapters refuse:
 *
 * - EC2 DescribeInstances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html):
 *   MaxResults is 5..1000 (InvalidParameterValue otherwise) and cannot be combined with InstanceIds
 *   (InvalidParameterCombination); a malformed id is InvalidInstanceID.Malformed, an unknown one
 *   InvalidInstanceID.NotFound; a NextToken that is not one EC2 issued is InvalidParameterValue.
 * - EKS DescribeCluster: an unknown name is ResourceNotFoundException.
 * - CloudWatch GetMetricData (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html):
 *   1..500 queries with unique ids (lowercase letter first, [a-zA-Z0-9_]), StartTime before EndTime,
 *   a period of 1, 5, 10, 30 or a multiple of 60 seconds (ValidationError / InvalidParameterValue).
 * - Compute instances.list / aggregatedList (https://cloud.google.com/compute/docs/reference/rest/v1/instances/list):
 *   maxResults 0..500 (0 and 1..500 here: the port asks for 1..500); an unknown zone is 404; a page
 *   token that is not one Compute issued is 400.
 * - Monitoring timeSeries.list (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list):
 *   the filter must name exactly one metric.type (400 INVALID_ARGUMENT otherwise); the interval's
 *   end must not be before its start; an alignment period under 60 s is refused.
 *
 * Where these are simpler (more lenient) than the real services:
 * - EC2 applies filters before paging, so a page is never empty while more follow (the real API can
 *   answer short or empty pages with a NextToken); tag filter values are exact (EC2 treats * and ? as
 *   wildcards); no reservations, no eventual consistency.
 * - CloudWatch aggregates stored one-minute points per period bucket (Average, Sum, Minimum, Maximum,
 *   SampleCount, pNN by nearest rank); no metric math, no high-resolution data, no PartialData.
 * - Monitoring does not align (points are returned as stored); reducers are pointwise over series
 *   with equal timestamps (mean, sum, max, min, count); filters are `key = "value"` clauses joined by
 *   AND (metric.type, resource.type, resource.labels.K, metric.labels.K), anything else is refused
 *   (the real API takes a richer language).
 * - EKS and GKE descriptions are returned as stored, lists cut at `maxItems` for EKS.
 * - Start and stop change the state at once to pending/stopping (EC2) or RUNNING/TERMINATED (Compute).
 */
import {
  type Availability,
  type AwsInventory,
  type AwsScope,
  CloudApiError,
  type Ec2Instance,
  type Ec2ListQuery,
  type EksClusterDescription,
  type GcpInstance,
  type GcpInstanceQuery,
  type GcpInventory,
  type GcpTimeSeriesQuery,
  type GkeClusterDescription,
  type GkeClusterRef,
  type MetricQuery,
  type MetricSeries,
  type Page,
  type PowerResult,
  type TimeSeries,
} from '../../shared/ports/cloud.ts';

const EC2_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const key = (s: AwsScope) => `${s.account}/${s.region}`;
const awsErr = (code: CloudApiError['code'], message: string, providerCode: string) =>
  new CloudApiError('aws', code, message, providerCode);
const gcpErr = (code: CloudApiError['code'], message: string, providerCode: string) =>
  new CloudApiError('gcp', code, message, providerCode);

/** An opaque page token bound to the request that issued it, as the services' tokens are. */
function pageToken(offset: number, request: unknown): string {
  return Buffer.from(JSON.stringify({ o: offset, r: canonical(request) })).toString('base64');
}

/** The request as the services compare it: the same fields and values, whatever order they were set in. */
function canonical(request: unknown): string {
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined && x !== null)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, x]) => [k, sorted(x)]),
        )
      : v;
  return JSON.stringify(sorted(request));
}

function readToken(token: string, request: unknown): number | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown; r?: unknown };
    return typeof v.o === 'number' && v.r === canonical(request) ? v.o : undefined;
  } catch {
    return undefined;
  }
}

/** One stored CloudWatch metric: one-minute points, oldest first. */
export interface StoredMetric {
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  points: Array<{ t: number; v: number }>;
}

export class FakeAws implements AwsInventory {
  readonly accounts: string[];
  readonly regions: string[];
  /** Instances per `account/region`, in the order EC2 lists them. */
  readonly instances = new Map<string, Ec2Instance[]>();
  readonly clusters = new Map<string, EksClusterDescription>();
  readonly metrics = new Map<string, StoredMetric[]>();
  /** Every listInstances and getInstances call, for tests that count provider calls. */
  readonly calls: string[] = [];

  constructor(accounts: string[], regions: string[]) {
    this.accounts = accounts;
    this.regions = regions;
  }

  async scopes() {
    return { accounts: [...this.accounts], regions: [...this.regions] };
  }

  async describeEksCluster(
    scope: AwsScope,
    name: string,
    opts: { maxItems?: number } = {},
  ): Promise<EksClusterDescription> {
    const c = this.clusters.get(`${key(scope)}/${name}`);
    if (!c) throw awsErr('NotFound', `No cluster found for name: ${name}.`, 'ResourceNotFoundException');
    const max = opts.maxItems ?? 100;
    const cut = <T>(list: Availability<T>): Availability<T> =>
      list.available && list.items.length > max ? { ...list, items: list.items.slice(0, max), truncated: true } : list;
    return structuredClone({
      ...c,
      nodegroups: cut(c.nodegroups),
      addons: cut(c.addons),
      insights: cut(c.insights),
    });
  }

  async listInstances(q: Ec2ListQuery): Promise<Page<Ec2Instance>> {
    this.calls.push(`list:${q.limit}`);
    if (q.ids?.length) {
      throw awsErr(
        'InvalidArgument',
        'The parameter instancesSet cannot be used with the parameter maxResults',
        'InvalidParameterCombination',
      );
    }
    if (!Number.isInteger(q.limit) || q.limit < 5 || q.limit > 1000) {
      throw awsErr(
        'InvalidArgument',
        `Value ( ${q.limit} ) for parameter maxResults is invalid. Expecting a value greater than 5.`,
        'InvalidParameterValue',
      );
    }
    const request = { scope: key(q.scope), states: q.states ?? null, tags: q.tags ?? null };
    const from = q.nextToken === undefined ? 0 : readToken(q.nextToken, request);
    if (from === undefined) throw awsErr('InvalidArgument', 'Invalid value for NextToken', 'InvalidParameterValue');
    const all = (this.instances.get(key(q.scope)) ?? []).filter(
      (i) =>
        (!q.states || q.states.includes(i.state)) && Object.entries(q.tags ?? {}).every(([k, v]) => i.tags[k] === v),
    );
    const end = from + q.limit;
    return {
      items: structuredClone(all.slice(from, end)),
      ...(end < all.length ? { nextToken: pageToken(end, request) } : {}),
    };
  }

  async getInstances(scope: AwsScope, ids: string[]): Promise<Ec2Instance[]> {
    this.calls.push(`get:${ids.length}`);
    const malformed = ids.find((id) => !EC2_ID.test(id));
    if (malformed) {
      throw awsErr('InvalidArgument', `Invalid id: "${malformed}"`, 'InvalidInstanceID.Malformed');
    }
    const all = this.instances.get(key(scope)) ?? [];
    const missing = ids.filter((id) => !all.some((i) => i.id === id));
    if (missing.length) {
      throw awsErr(
        'NotFound',
        missing.length === 1
          ? `The instance ID '${missing[0]}' does not exist`
          : `The instance IDs '${missing.join(', ')}' do not exist`,
        'InvalidInstanceID.NotFound',
      );
    }
    return structuredClone(all.filter((i) => ids.includes(i.id)));
  }

  async powerInstances(
    scope: AwsScope,
    action: 'start' | 'stop',
    ids: string[],
    opts: { dryRun: boolean },
  ): Promise<PowerResult> {
    const found = await this.getInstances(scope, ids);
    if (opts.dryRun) return { dryRun: true, changes: [] };
    const current = action === 'start' ? 'pending' : 'stopping';
    for (const i of this.instances.get(key(scope)) ?? []) if (ids.includes(i.id)) i.state = current;
    return { dryRun: false, changes: found.map((i) => ({ id: i.id, previous: i.state, current })) };
  }

  async getMetricData(
    scope: AwsScope,
    q: { queries: MetricQuery[]; start: Date; end: Date; maxPoints: number },
  ): Promise<MetricSeries[]> {
    if (q.queries.length < 1 || q.queries.length > 500) {
      throw awsErr(
        'InvalidArgument',
        'The collection MetricDataQueries must not be empty or over 500',
        'ValidationError',
      );
    }
    const ids = q.queries.map((m) => m.id);
    if (new Set(ids).size !== ids.length || ids.some((id) => !/^[a-z][a-zA-Z0-9_]*$/.test(id))) {
      throw awsErr(
        'InvalidArgument',
        'The values for parameter id in MetricDataQueries are not unique or valid',
        'ValidationError',
      );
    }
    if (q.start.getTime() >= q.end.getTime()) {
      throw awsErr(
        'InvalidArgument',
        'The parameter StartTime must be less than the parameter EndTime.',
        'ValidationError',
      );
    }
    for (const m of q.queries) {
      const p = m.periodSeconds;
      if (!(p >= 60 ? p % 60 === 0 : [1, 5, 10, 30].includes(p))) {
        throw awsErr(
          'InvalidArgument',
          `The parameter Period must be a multiple of 60; got ${p}`,
          'InvalidParameterValue',
        );
      }
      if (!/^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/.test(m.stat)) {
        throw awsErr('InvalidArgument', `Invalid statistic ${m.stat}`, 'InvalidParameterValue');
      }
    }
    const stored = this.metrics.get(key(scope)) ?? [];
    return q.queries.map((m) => {
      const found = stored.find(
        (s) =>
          s.namespace === m.namespace &&
          s.metric === m.metric &&
          JSON.stringify(Object.entries(s.dimensions).sort()) === JSON.stringify(Object.entries(m.dimensions).sort()),
      );
      const periodMs = m.periodSeconds * 1000;
      const buckets = new Map<number, number[]>();
      for (const p of found?.points ?? []) {
        if (p.t < q.start.getTime() || p.t >= q.end.getTime()) continue;
        const b = Math.floor(p.t / periodMs) * periodMs;
        buckets.set(b, [...(buckets.get(b) ?? []), p.v]);
      }
      const times = [...buckets.keys()].sort((a, b) => a - b).slice(-q.maxPoints);
      return {
        id: m.id,
        label: m.metric,
        timestamps: times.map((t) => new Date(t).toISOString()),
        values: times.map((t) => stat(m.stat, buckets.get(t) as number[])),
        status: 'Complete',
      };
    });
  }
}

function stat(name: string, vs: number[]): number {
  const sorted = [...vs].sort((a, b) => a - b);
  switch (name) {
    case 'Sum':
      return vs.reduce((s, v) => s + v, 0);
    case 'Minimum':
      return sorted[0] as number;
    case 'Maximum':
      return sorted[sorted.length - 1] as number;
    case 'SampleCount':
      return vs.length;
    case 'Average':
      return vs.reduce((s, v) => s + v, 0) / vs.length;
    default: {
      const p = Number(name.slice(1));
      return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
    }
  }
}

/** One stored Monitoring series: labels as the port gives them (resource ones prefixed `resource.`). */
export type StoredSeries = TimeSeries;

export class FakeGcp implements GcpInventory {
  readonly configured: string[];
  readonly zones: string[];
  readonly instances = new Map<string, GcpInstance[]>();
  readonly clusters = new Map<string, GkeClusterDescription>();
  readonly series = new Map<string, StoredSeries[]>();
  /** Every queryTimeSeries request, for tests that check what the tool asked. */
  readonly queries: GcpTimeSeriesQuery[] = [];

  constructor(projects: string[], zones: string[]) {
    this.configured = projects;
    this.zones = zones;
  }

  projects(): string[] {
    return [...this.configured];
  }

  async describeGkeCluster(ref: GkeClusterRef): Promise<GkeClusterDescription> {
    const name = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
    const c = this.clusters.get(`${ref.project}/${ref.location}/${ref.name}`);
    if (!c) throw gcpErr('NotFound', `Not found: ${name}.`, 'NOT_FOUND');
    return structuredClone(c);
  }

  async listInstances(q: GcpInstanceQuery): Promise<Page<GcpInstance>> {
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 500) {
      throw gcpErr(
        'InvalidArgument',
        `Invalid value for field 'maxResults': '${q.limit}'. Must be in the range [0, 500].`,
        'INVALID_ARGUMENT',
      );
    }
    if (q.zone !== undefined && !this.zones.includes(q.zone)) {
      throw gcpErr('NotFound', `The resource 'projects/${q.project}/zones/${q.zone}' was not found`, 'NOT_FOUND');
    }
    const request = {
      project: q.project,
      zone: q.zone ?? null,
      statuses: q.statuses ?? null,
      labels: q.labels ?? null,
    };
    const from = q.nextToken === undefined ? 0 : readToken(q.nextToken, request);
    if (from === undefined) throw gcpErr('InvalidArgument', "Invalid value for field 'pageToken'", 'INVALID_ARGUMENT');
    const all = (this.instances.get(q.project) ?? []).filter(
      (i) =>
        (q.zone === undefined || i.zone === q.zone) &&
        (!q.statuses || q.statuses.includes(i.status)) &&
        Object.entries(q.labels ?? {}).every(([k, v]) => i.labels[k] === v),
    );
    const end = from + q.limit;
    return {
      items: structuredClone(all.slice(from, end)),
      ...(end < all.length ? { nextToken: pageToken(end, request) } : {}),
    };
  }

  async getInstance(project: string, zone: string, name: string): Promise<GcpInstance> {
    const i = (this.instances.get(project) ?? []).find((x) => x.zone === zone && x.name === name);
    if (!i) {
      throw gcpErr(
        'NotFound',
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
        'NOT_FOUND',
      );
    }
    return structuredClone(i);
  }

  async powerInstance(project: string, zone: string, name: string, action: 'start' | 'stop') {
    await this.getInstance(project, zone, name);
    const i = (this.instances.get(project) ?? []).find((x) => x.zone === zone && x.name === name) as GcpInstance;
    i.status = action === 'start' ? 'STAGING' : 'STOPPING';
    return { operation: `operation-${action}-${name}`, status: 'RUNNING' };
  }

  async queryTimeSeries(q: GcpTimeSeriesQuery): Promise<Page<TimeSeries>> {
    this.queries.push(q);
    const clauses = parseFilter(q.filter);
    const types = clauses.filter((c) => c.field === 'metric.type');
    if (types.length !== 1) {
      throw gcpErr(
        'InvalidArgument',
        `Field filter had an invalid value of "${q.filter.slice(0, 200)}": a filter must specify exactly one metric.type`,
        'INVALID_ARGUMENT',
      );
    }
    if (q.end.getTime() < q.start.getTime()) {
      throw gcpErr('InvalidArgument', 'The end time must not be earlier than the start time.', 'INVALID_ARGUMENT');
    }
    if (q.alignmentPeriodSeconds < 60) {
      throw gcpErr('InvalidArgument', 'The alignment period must be at least 60 seconds.', 'INVALID_ARGUMENT');
    }
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000) {
      throw gcpErr('InvalidArgument', `Invalid page size ${q.limit}`, 'INVALID_ARGUMENT');
    }
    const request = { ...q, nextToken: null, signal: null, start: q.start.getTime(), end: q.end.getTime() };
    const from = q.nextToken === undefined ? 0 : readToken(q.nextToken, request);
    if (from === undefined) throw gcpErr('InvalidArgument', 'Invalid page token', 'INVALID_ARGUMENT');
    const matching = (this.series.get(q.project) ?? [])
      .filter((s) => clauses.every((c) => fieldOf(s, c.field) === c.value))
      .map((s) => ({
        ...s,
        points: s.points.filter((p) => {
          const t = Date.parse(p.time);
          return t >= q.start.getTime() && t <= q.end.getTime();
        }),
      }));
    const all = q.reducer ? reduce(matching, q.reducer, q.groupBy ?? []) : matching;
    const end = from + q.limit;
    return {
      items: structuredClone(all.slice(from, end)),
      ...(end < all.length ? { nextToken: pageToken(end, request) } : {}),
    };
  }
}

interface Clause {
  field: string;
  value: string;
}

function parseFilter(filter: string): Clause[] {
  return filter
    .replace(/[()]/g, ' ')
    .split(/\s+AND\s+/)
    .map((part) => {
      const m = /^\s*(metric\.type|resource\.type|(?:resource|metric)\.labels?\.\w+)\s*=\s*"([^"]*)"\s*$/.exec(part);
      if (!m) {
        throw gcpErr(
          'InvalidArgument',
          `The fake supports key = "value" clauses only: ${part.trim().slice(0, 100)}`,
          'INVALID_ARGUMENT',
        );
      }
      return { field: m[1] as string, value: m[2] as string };
    });
}

/** A filter or groupBy field of a series: its type, or a label (resource ones prefixed `resource.`). */
function fieldOf(s: TimeSeries, field: string): string | undefined {
  if (field === 'metric.type') return s.metricType;
  if (field === 'resource.type') return s.resourceType;
  const m = /^(resource|metric)\.labels?\.(\w+)$/.exec(field);
  if (!m) return undefined;
  return s.labels[m[1] === 'resource' ? `resource.${m[2]}` : (m[2] as string)];
}

function reduce(series: TimeSeries[], reducer: string, groupBy: string[]): TimeSeries[] {
  const groups = new Map<string, TimeSeries[]>();
  for (const s of series) {
    const k = JSON.stringify(groupBy.map((g) => fieldOf(s, g) ?? ''));
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const fn: Record<string, (vs: number[]) => number> = {
    REDUCE_MEAN: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
    REDUCE_SUM: (vs) => vs.reduce((a, b) => a + b, 0),
    REDUCE_MAX: (vs) => Math.max(...vs),
    REDUCE_MIN: (vs) => Math.min(...vs),
    REDUCE_COUNT: (vs) => vs.length,
  };
  const f = fn[reducer];
  if (!f) throw gcpErr('InvalidArgument', `The fake does not implement ${reducer}`, 'INVALID_ARGUMENT');
  return [...groups.values()].map((members) => {
    const first = members[0] as TimeSeries;
    const byTime = new Map<string, number[]>();
    for (const s of members) for (const p of s.points) byTime.set(p.time, [...(byTime.get(p.time) ?? []), p.value]);
    const labels: Record<string, string> = {};
    for (const g of groupBy) {
      const m = /^(resource|metric)\.labels?\.(\w+)$/.exec(g);
      const name = m ? (m[1] === 'resource' ? `resource.${m[2]}` : (m[2] as string)) : g;
      const v = fieldOf(first, g);
      if (v !== undefined) labels[name] = v;
    }
    return {
      metricType: first.metricType,
      resourceType: first.resourceType,
      labels,
      ...(first.unit ? { unit: first.unit } : {}),
      points: [...byTime.entries()]
        .sort(([a], [b]) => Date.parse(a) - Date.parse(b))
        .map(([time, vs]) => ({ time, value: f(vs) })),
    };
  });
}
