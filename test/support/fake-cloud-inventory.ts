/*
 * In-memory AwsInventory and GcpInventory (shared/ports/cloud.ts) for the instance start/stop use case
 * and tools, refusing what EC2 and Compute Engine refuse, in the port's provider-neutral terms (the
 * codes and messages the adapters pass on), and counting every call so a test can see that a refused
 * write never reached the provider.
 *
 * EC2 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html, StartInstances,
 * DescribeInstances, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
 * - an unknown id: InvalidInstanceID.NotFound ("The instance ID 'i-…' does not exist"), the whole
 *   request refused; a malformed one: InvalidInstanceID.Malformed;
 * - StopInstances on a shutting-down or terminated instance, StartInstances on a stopping,
 *   shutting-down or terminated one: IncorrectInstanceState, nothing changed;
 * - stopping a stopped (or stopping) instance and starting a running (or pending) one succeed and
 *   report the state unchanged; otherwise running|pending -> stopping, stopped -> pending;
 * - DryRun: DryRunOperation when permitted (the adapter answers {dryRun: true, changes: []}),
 *   UnauthorizedOperation when not (`permitted = false`); the same for the real call.
 * Compute Engine (https://cloud.google.com/compute/docs/reference/rest/v1/instances/stop, /start, /get,
 * https://cloud.google.com/compute/docs/instances/instance-life-cycle):
 * - an unknown instance: 404 notFound ("The resource 'projects/…/instances/…' was not found");
 * - a principal without compute.instances.start|stop on an instance (IAM conditions can be per
 *   instance): 403 forbidden; `forbidden` holds such names;
 * - start of a RUNNING instance and stop of a TERMINATED one succeed without change; otherwise
 *   TERMINATED -> PROVISIONING, RUNNING|PROVISIONING|STAGING -> STOPPING. Each answer is an operation.
 *
 * More lenient than the real services: no throttling, no eventual consistency (a change is read back
 * at once), no per-region or per-zone quotas, Compute's start of a SUSPENDED instance is not refused
 * (the use case never sends it), instances never move on by themselves (`settle()` does it), and the
 * EKS, metrics and GKE methods are not faked (they throw).
 */
import type {
  AwsInventory,
  AwsScope,
  Ec2Instance,
  Ec2ListQuery,
  GcpInstance,
  GcpInstanceQuery,
  GcpInventory,
  InstanceStateChange,
  Page,
  PowerResult,
} from '../../shared/ports/cloud.ts';
import { CloudApiError } from '../../shared/ports/cloud.ts';

const notFaked = (what: string) => new Error(`the fake cloud inventory does not fake ${what}`);

export class FakeAwsInventory implements AwsInventory {
  readonly accounts: string[];
  readonly regions: string[];
  /** By `account/region`, then id. */
  private readonly instances = new Map<string, Map<string, Ec2Instance>>();
  /** Whether the server's role may start and stop instances (DryRun and the real call alike). */
  permitted = true;
  readonly calls = { getInstances: 0, power: 0, dryRun: 0 };
  /** Every change the real (not dry-run) calls made, in order. */
  readonly changes: InstanceStateChange[] = [];

  constructor(accounts: string[], regions: string[]) {
    this.accounts = accounts;
    this.regions = regions;
  }

  add(scope: AwsScope, i: Partial<Ec2Instance> & { id: string; state: string }): Ec2Instance {
    const full: Ec2Instance = { type: 't3.micro', tags: {}, ...i };
    const key = `${scope.account}/${scope.region}`;
    const m = this.instances.get(key) ?? new Map<string, Ec2Instance>();
    m.set(i.id, full);
    this.instances.set(key, m);
    return full;
  }

  state(scope: AwsScope, id: string): string | undefined {
    return this.instances.get(`${scope.account}/${scope.region}`)?.get(id)?.state;
  }

  /** Moves transitional states on (stopping -> stopped, pending -> running), as EC2 does in time. */
  settle(): void {
    for (const m of this.instances.values())
      for (const i of m.values())
        i.state = i.state === 'stopping' ? 'stopped' : i.state === 'pending' ? 'running' : i.state;
  }

  async scopes(): Promise<{ accounts: string[]; regions: string[] }> {
    return { accounts: [...this.accounts], regions: [...this.regions] };
  }

  async describeEksCluster(): Promise<never> {
    throw notFaked('describeEksCluster');
  }

  async getMetricData(): Promise<never> {
    throw notFaked('getMetricData');
  }

  async listInstances(q: Ec2ListQuery): Promise<Page<Ec2Instance>> {
    const all = [...(this.instances.get(`${q.scope.account}/${q.scope.region}`)?.values() ?? [])].filter(
      (i) =>
        (!q.ids || q.ids.includes(i.id)) &&
        (!q.states || q.states.includes(i.state)) &&
        Object.entries(q.tags ?? {}).every(([k, v]) => i.tags[k] === v),
    );
    const from = q.nextToken ? Number(q.nextToken) : 0;
    const end = from + q.limit;
    return {
      items: all.slice(from, end).map((i) => structuredClone(i)),
      ...(end < all.length ? { nextToken: String(end) } : {}),
    };
  }

  async getInstances(scope: AwsScope, ids: string[]): Promise<Ec2Instance[]> {
    this.calls.getInstances++;
    await tick();
    return this.find(scope, ids).map((i) => structuredClone(i));
  }

  async powerInstances(
    scope: AwsScope,
    action: 'start' | 'stop',
    ids: string[],
    opts: { dryRun: boolean },
  ): Promise<PowerResult> {
    if (opts.dryRun) this.calls.dryRun++;
    else this.calls.power++;
    await tick();
    const found = this.find(scope, ids);
    if (!this.permitted)
      throw new CloudApiError(
        'aws',
        'Forbidden',
        'You are not authorized to perform this operation.',
        'UnauthorizedOperation',
      );
    const refused = action === 'stop' ? ['shutting-down', 'terminated'] : ['stopping', 'shutting-down', 'terminated'];
    const wrong = found.find((i) => refused.includes(i.state));
    if (wrong) {
      const verb = action === 'stop' ? 'stopped' : 'started';
      throw new CloudApiError(
        'aws',
        'Conflict',
        `The instance '${wrong.id}' is not in a state from which it can be ${verb}.`,
        'IncorrectInstanceState',
      );
    }
    if (opts.dryRun) return { dryRun: true, changes: [] };
    const changes = found.map((i) => {
      const previous = i.state;
      if (action === 'stop' && (previous === 'running' || previous === 'pending')) i.state = 'stopping';
      if (action === 'start' && previous === 'stopped') i.state = 'pending';
      return { id: i.id, previous, current: i.state };
    });
    this.changes.push(...changes);
    return { dryRun: false, changes };
  }

  private find(scope: AwsScope, ids: string[]): Ec2Instance[] {
    const bad = ids.find((id) => !/^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(id));
    if (bad) throw new CloudApiError('aws', 'InvalidArgument', `Invalid id: "${bad}"`, 'InvalidInstanceID.Malformed');
    const m = this.instances.get(`${scope.account}/${scope.region}`);
    const missing = ids.filter((id) => !m?.has(id));
    if (missing.length > 0) {
      const message =
        missing.length === 1
          ? `The instance ID '${missing[0]}' does not exist`
          : `The instance IDs '${missing.join(', ')}' do not exist`;
      throw new CloudApiError('aws', 'NotFound', message, 'InvalidInstanceID.NotFound');
    }
    return ids.map((id) => m?.get(id) as Ec2Instance);
  }
}

export class FakeGcpInventory implements GcpInventory {
  private readonly configured: string[];
  /** By `project/zone/name`. */
  private readonly instances = new Map<string, GcpInstance & { project: string }>();
  /** Instances the server's service account may not start or stop (per-instance IAM conditions). */
  readonly forbidden = new Set<string>();
  readonly calls = { getInstance: 0, power: 0 };
  private ops = 0;

  constructor(projects: string[]) {
    this.configured = projects;
  }

  add(project: string, i: Partial<GcpInstance> & { name: string; zone: string; status: string }): GcpInstance {
    const full = { id: String(1000 + this.instances.size), machineType: 'e2-medium', labels: {}, ...i, project };
    this.instances.set(`${project}/${i.zone}/${i.name}`, full);
    return full;
  }

  status(project: string, zone: string, name: string): string | undefined {
    return this.instances.get(`${project}/${zone}/${name}`)?.status;
  }

  projects(): string[] {
    return [...this.configured];
  }

  async describeGkeCluster(): Promise<never> {
    throw notFaked('describeGkeCluster');
  }

  async queryTimeSeries(): Promise<never> {
    throw notFaked('queryTimeSeries');
  }

  async listInstances(q: GcpInstanceQuery): Promise<Page<GcpInstance>> {
    const all = [...this.instances.values()].filter(
      (i) =>
        i.project === q.project &&
        (!q.zone || i.zone === q.zone) &&
        (!q.statuses || q.statuses.includes(i.status)) &&
        Object.entries(q.labels ?? {}).every(([k, v]) => i.labels[k] === v),
    );
    const from = q.nextToken ? Number(q.nextToken) : 0;
    const end = from + q.limit;
    return { items: all.slice(from, end).map(strip), ...(end < all.length ? { nextToken: String(end) } : {}) };
  }

  async getInstance(project: string, zone: string, name: string): Promise<GcpInstance> {
    this.calls.getInstance++;
    await tick();
    return strip(this.find(project, zone, name));
  }

  async powerInstance(
    project: string,
    zone: string,
    name: string,
    action: 'start' | 'stop',
  ): Promise<{ operation: string; status: string }> {
    this.calls.power++;
    await tick();
    const i = this.find(project, zone, name);
    if (this.forbidden.has(name)) {
      throw new CloudApiError(
        'gcp',
        'Forbidden',
        `Required 'compute.instances.${action}' permission for 'projects/${project}/zones/${zone}/instances/${name}'`,
        'forbidden',
      );
    }
    if (action === 'stop' && ['RUNNING', 'PROVISIONING', 'STAGING'].includes(i.status)) i.status = 'STOPPING';
    if (action === 'start' && (i.status === 'TERMINATED' || i.status === 'STOPPED')) i.status = 'PROVISIONING';
    return { operation: `operation-${++this.ops}`, status: 'RUNNING' };
  }

  private find(project: string, zone: string, name: string): GcpInstance & { project: string } {
    const i = this.instances.get(`${project}/${zone}/${name}`);
    if (!i)
      throw new CloudApiError(
        'gcp',
        'NotFound',
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`,
        'notFound',
      );
    return i;
  }
}

function strip(i: GcpInstance & { project?: string }): GcpInstance {
  const { project: _project, ...rest } = structuredClone(i);
  return rest;
}

/** A real turn of the event loop, as a network call takes: concurrent callers interleave here. */
const tick = () => new Promise<void>((r) => setImmediate(r));
