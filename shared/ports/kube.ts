/**
 * The Kubernetes port: what tools and workflows need from a cluster's API server, in wire
 * shapes (plain JSON objects). The adapter in shared/adapters/kube speaks to real clusters
 * through @kubernetes/client-node; tests run it against the fake API server in test/support.
 */
import type { Identity } from '../domain/identity.ts';
import type { KubeMeta, KubeObject, ResourceInfo } from '../domain/k8s/model.ts';

export type { KubeMeta, KubeObject, ResourceInfo };

export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: KubeObject[];
  continue?: string;
  remainingItemCount?: number;
  resourceVersion?: string;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/**
 * Pins a write to the state of the object it was judged on. A write whose object has changed since
 * (another resourceVersion, or another object of the same name) is refused by the API server with
 * 409 Conflict and changes nothing.
 */
export interface Precondition {
  /** The resourceVersion the judged state was read (or dry-run) at. */
  resourceVersion: string;
  /** The object's uid: delete checks it too, so a recreated object of the same name is not deleted. */
  uid?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  /**
   * Apply the write only to the object as it was at this resourceVersion. Carried as the API server
   * expects it: metadata.resourceVersion in a merge/strategic patch, an applied configuration or a
   * Scale; a replace of /metadata/resourceVersion in a JSON patch; DeleteOptions.preconditions on delete.
   */
  precondition?: Precondition;
}

export interface LogOptions {
  container?: string;
  tailLines?: number;
  sinceSeconds?: number;
  previous?: boolean;
  limitBytes?: number;
  timestamps?: boolean;
}

export interface KubeClient {
  readonly cluster: string;
  /** Discovery, cached per client for a short time. */
  resources(opts?: { refresh?: boolean }): Promise<ResourceInfo[]>;
  /** Finds a resource by kind (case-insensitive), plural, singular or short name; apiVersion narrows it. */
  resolve(kindOrName: string, apiVersion?: string): Promise<ResourceInfo>;
  list(res: ResourceInfo, opts?: ListOptions): Promise<ListResult>;
  get(res: ResourceInfo, name: string, namespace?: string): Promise<KubeObject>;
  create(res: ResourceInfo, obj: KubeObject, opts?: WriteOptions): Promise<KubeObject>;
  /** Server-side apply with this server's field manager. */
  apply(res: ResourceInfo, obj: KubeObject, opts?: WriteOptions & { force?: boolean }): Promise<KubeObject>;
  patch(
    res: ResourceInfo,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    opts?: WriteOptions & { subresource?: string },
  ): Promise<KubeObject>;
  replace(res: ResourceInfo, obj: KubeObject, opts?: WriteOptions): Promise<KubeObject>;
  delete(
    res: ResourceInfo,
    name: string,
    namespace: string | undefined,
    opts?: WriteOptions & { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' },
  ): Promise<KubeObject>;
  getSubresource(res: ResourceInfo, name: string, namespace: string | undefined, sub: string): Promise<KubeObject>;
  podLogs(namespace: string, pod: string, opts?: LogOptions): Promise<string>;
  /** A GET on any API path (metrics.k8s.io, /version). */
  getPath(path: string, query?: Record<string, string>): Promise<KubeObject>;
}

export interface ClusterInfo {
  /**
   * The name tools take and record (audit, operations, drift, policy `clusters:`): a kubeconfig
   * context's name, or the registry id of a discovered cluster (`eks:…`, `gke:…`).
   */
  name: string;
  /** Registry id: `kube:<context>`, `eks:<account>/<region>/<name>`, `gke:<project>/<location>/<name>`. */
  id?: string;
  /** The API server URL; empty while a discovered cluster has no endpoint yet. */
  server: string;
  source: 'kubeconfig' | 'in-cluster' | 'eks' | 'gke';
  isDefault: boolean;
  /** Default namespace of the context. */
  namespace: string;
  /** Kubernetes version: the cloud's word for discovered clusters, or what GET /version answered (probe). */
  version?: string;
  /** The cloud's status word (EKS ACTIVE, GKE RUNNING); absent for kubeconfig contexts. */
  status?: string;
  /** Whether GET /version answered within the probe's timeout (only when listed with `probe`). */
  reachable?: boolean;
  /** Why the probe failed (bounded, no credentials). */
  unreachableReason?: string;
  /** From the last good discovery of a source that has since failed. */
  stale?: boolean;
}

/** How one source of clusters (the kubeconfig, EKS, GKE) fared at its last discovery. */
export interface ClusterSourceReport {
  source: 'kubeconfig' | 'in-cluster' | 'eks' | 'gke';
  clusters: number;
  /** ISO time of the last successful discovery (absent for the kubeconfig, read once at start). */
  discoveredAt?: string;
  /** The source failed its last discovery: its clusters are the last good list. */
  stale: boolean;
  /** Scopes (an account/region, a project, or the whole source) that could not be listed, and why. */
  errors: Array<{ scope: string; message: string }>;
}

/** Who a cluster request acts as, when the server impersonates its callers (K8S_IMPERSONATE). */
export interface Impersonation {
  user: string;
  groups: string[];
}

/**
 * The clusters this server can reach. Async: a registry may discover clusters (EKS, GKE) and
 * refresh short-lived credentials before handing out a client.
 */
export interface Clusters {
  /** With `probe`, each cluster's GET /version is tried (bounded in time and concurrency) to fill `reachable`. */
  list(opts?: { probe?: boolean }): Promise<ClusterInfo[]>;
  /**
   * The client for a cluster; the default cluster when name is omitted. A name is a ClusterInfo name
   * or id (`kube:<context>` too). Rejects with UnknownClusterError.
   */
  client(name?: string): Promise<KubeClient>;
  defaultCluster(): Promise<string | undefined>;
  /** How each source fared at its last discovery (a registry of several sources has this). */
  sources?(): Promise<ClusterSourceReport[]>;
  /**
   * The clusters as seen by one caller: with K8S_IMPERSONATE, its clients impersonate the caller;
   * otherwise the same registry. The tool runner hands tools this view.
   */
  forCaller?(caller: Identity): Clusters;
}

export class UnknownClusterError extends Error {
  override name = 'UnknownClusterError';
}

/** A failed API call: which cluster, which call, the API server's status and reason. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly cluster: string;
  readonly call: string;
  /** HTTP status; 0 when the server could not be reached or timed out. */
  readonly status: number;
  readonly reason: string;
  readonly details?: unknown;
  constructor(opts: {
    cluster: string;
    call: string;
    status: number;
    reason: string;
    message: string;
    details?: unknown;
  }) {
    super(`${opts.call} on cluster ${opts.cluster}: ${opts.message}`);
    this.cluster = opts.cluster;
    this.call = opts.call;
    this.status = opts.status;
    this.reason = opts.reason;
    if (opts.details !== undefined) this.details = opts.details;
  }
}
