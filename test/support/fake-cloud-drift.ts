import {
  type Availability,
  type AwsInventory,
  type AwsScope,
  CloudApiError,
  type CloudInventory,
  type EksClusterDescription,
  type GcpInventory,
  type GkeClusterDescription,
  type GkeClusterRef,
} from '../../shared/ports/cloud.ts';

/**
 * An in-memory CloudInventory for the cloud drift tests: EKS and GKE cluster descriptions a test
 * sets and changes between checks. Only the describe calls (and the configured scopes) exist; the
 * instance, power and metric calls throw, so a use case that strays into them fails loudly.
 *
 * Refusals copied from the real services (through the adapters' CloudApiError mapping):
 * - EKS DescribeCluster of a name the region lacks: ResourceNotFoundException
 *   "No cluster found for name: <name>." (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html)
 *   → NotFound.
 * - GKE projects.locations.clusters.get of an unknown cluster: 404 NOT_FOUND "Not found: projects/…/clusters/<name>."
 *   → NotFound; a project the principal cannot see: 403 PERMISSION_DENIED → Forbidden
 *   (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters/get).
 * - An account or region outside the configured ones: refused before any call (InvalidArgument),
 *   as an adapter that only holds credentials for the configured accounts must.
 * - A list past `maxItems` comes back cut with `truncated: true`, as the adapter pages it.
 * Kinder than the real thing: no throttling and no eventual consistency; a describe answers at once
 * unless the test makes it fail or hang (a hung call ends only when its signal aborts).
 */
export class FakeCloudDrift implements CloudInventory {
  readonly aws: AwsInventory;
  readonly gcp: GcpInventory;
  /** By `account/region/name`. */
  readonly eks = new Map<string, EksClusterDescription>();
  /** By `project/location/name`. */
  readonly gke = new Map<string, GkeClusterDescription>();
  /** Describe calls made, and the most at once. */
  describes = 0;
  maxInFlight = 0;
  private inFlight = 0;

  /** Describe calls running now. */
  get running(): number {
    return this.inFlight;
  }
  private readonly failures = new Map<string, Error | 'hang'>();
  /** Called as each describe answers (a test advances its clock here, as a slow provider would). */
  onDescribe: (id: string) => void = () => {};

  constructor(opts: { accounts: string[]; regions: string[]; projects: string[] }) {
    const unsupported = (what: string) => async (): Promise<never> => {
      throw new Error(`FakeCloudDrift has no ${what}: it covers the cluster descriptions drift checks read`);
    };
    this.aws = {
      scopes: async () => ({ accounts: [...opts.accounts], regions: [...opts.regions] }),
      describeEksCluster: (scope, name, o) => this.describeEks(scope, name, o?.maxItems ?? 100, o?.signal, opts),
      listInstances: unsupported('EC2'),
      getInstances: unsupported('EC2'),
      powerInstances: unsupported('EC2'),
      getMetricData: unsupported('CloudWatch'),
    };
    this.gcp = {
      projects: () => [...opts.projects],
      describeGkeCluster: (ref, signal) => this.describeGke(ref, signal, opts.projects),
      listInstances: unsupported('Compute'),
      getInstance: unsupported('Compute'),
      powerInstance: unsupported('Compute'),
      queryTimeSeries: unsupported('Monitoring'),
    };
  }

  /** The next describes of this cloud id (`eks:…`/`gke:…`) fail with `err`, or hang until aborted; `undefined` clears. */
  failWith(id: string, err: Error | 'hang' | undefined): void {
    if (err === undefined) this.failures.delete(id);
    else this.failures.set(id, err);
  }

  private async run<T>(id: string, signal: AbortSignal | undefined, answer: () => T): Promise<T> {
    this.describes++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // A turn of the event loop, so concurrent calls overlap as real ones do.
      await new Promise((r) => setImmediate(r));
      const failure = this.failures.get(id);
      if (failure === 'hang') {
        await new Promise<never>((_, reject) => {
          const abort = () => reject(new CloudApiError(id.startsWith('eks:') ? 'aws' : 'gcp', 'Timeout', 'aborted'));
          if (signal?.aborted) abort();
          signal?.addEventListener('abort', abort, { once: true });
        });
      }
      if (failure) throw failure;
      this.onDescribe(id);
      return structuredClone(answer());
    } finally {
      this.inFlight--;
    }
  }

  private describeEks(
    scope: AwsScope,
    name: string,
    maxItems: number,
    signal: AbortSignal | undefined,
    opts: { accounts: string[]; regions: string[] },
  ): Promise<EksClusterDescription> {
    return this.run(`eks:${scope.account}/${scope.region}/${name}`, signal, () => {
      if (!opts.accounts.includes(scope.account) || !opts.regions.includes(scope.region))
        throw new CloudApiError(
          'aws',
          'InvalidArgument',
          `account ${scope.account} / region ${scope.region} is not configured`,
        );
      const d = this.eks.get(`${scope.account}/${scope.region}/${name}`);
      if (!d)
        throw new CloudApiError('aws', 'NotFound', `No cluster found for name: ${name}.`, 'ResourceNotFoundException');
      return { ...d, nodegroups: cutList(d.nodegroups, maxItems), addons: cutList(d.addons, maxItems) };
    });
  }

  private describeGke(ref: GkeClusterRef, signal: AbortSignal | undefined, projects: string[]) {
    return this.run(`gke:${ref.project}/${ref.location}/${ref.name}`, signal, () => {
      const full = `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
      if (!projects.includes(ref.project))
        throw new CloudApiError(
          'gcp',
          'Forbidden',
          `Permission denied on resource project ${ref.project}.`,
          'PERMISSION_DENIED',
        );
      const d = this.gke.get(`${ref.project}/${ref.location}/${ref.name}`);
      if (!d) throw new CloudApiError('gcp', 'NotFound', `Not found: ${full}.`, 'NOT_FOUND');
      return d;
    });
  }
}

function cutList<T>(l: Availability<T>, max: number): Availability<T> {
  return l.available && l.items.length > max ? { ...l, items: l.items.slice(0, max), truncated: true } : l;
}

/** An EKS cluster as the adapter describes it: two node groups and two add-ons. */
export function eksCluster(name: string): EksClusterDescription {
  return {
    name,
    status: 'ACTIVE',
    version: '1.30',
    platformVersion: 'eks.8',
    nodegroups: {
      available: true,
      truncated: false,
      items: [
        {
          name: 'ng-a',
          status: 'ACTIVE',
          instanceTypes: ['m5.large'],
          scaling: { min: 1, max: 5, desired: 3 },
          version: '1.30',
          capacityType: 'ON_DEMAND',
        },
        {
          name: 'ng-b',
          status: 'ACTIVE',
          instanceTypes: ['c6i.xlarge', 'c5.xlarge'],
          scaling: { min: 0, max: 10, desired: 2 },
          version: '1.30',
          capacityType: 'SPOT',
        },
      ],
    },
    addons: {
      available: true,
      truncated: false,
      items: [
        { name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', status: 'ACTIVE' },
        { name: 'coredns', version: 'v1.11.1-eksbuild.9', status: 'ACTIVE' },
      ],
    },
    insights: { available: true, truncated: false, items: [] },
  };
}

/** A GKE Standard cluster as the adapter describes it: one autoscaled pool, one fixed pool, one auto-provisioned. */
export function gkeCluster(project: string, location: string, name: string): GkeClusterDescription {
  return {
    id: `gke:${project}/${location}/${name}`,
    project,
    location,
    name,
    status: 'RUNNING',
    version: '1.30.5-gke.1014001',
    nodeVersion: '1.30.5-gke.1014001',
    releaseChannel: 'REGULAR',
    autopilot: false,
    currentNodeCount: 7,
    nodePools: [
      {
        name: 'default-pool',
        machineType: 'e2-standard-4',
        version: '1.30.5-gke.1014001',
        status: 'RUNNING',
        autoscaling: { minNodeCount: 1, maxNodeCount: 5, locationPolicy: 'BALANCED' },
        initialNodeCountPerZone: 1,
        zones: [`${location}-b`, `${location}-a`],
      },
      {
        name: 'batch',
        machineType: 'n2-highmem-8',
        version: '1.30.5-gke.1014001',
        status: 'RUNNING',
        initialNodeCountPerZone: 2,
        zones: [`${location}-a`],
      },
      {
        name: 'nap-e2-standard-2-1kwag2qv',
        machineType: 'e2-standard-2',
        version: '1.30.5-gke.1014001',
        status: 'RUNNING',
        autoscaling: { minNodeCount: 0, maxNodeCount: 1000 },
        initialNodeCountPerZone: 1,
        zones: [`${location}-c`],
      },
    ],
    nodePoolsOmitted: 0,
  };
}
