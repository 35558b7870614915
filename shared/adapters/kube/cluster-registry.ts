import { KubeConfig } from '@kubernetes/client-node';
import { closestName } from '../../domain/did-you-mean.ts';
import type { Identity, Role } from '../../domain/identity.ts';
import { quoted } from '../../domain/text.ts';
import type { ClusterCredential, ClusterSource, DiscoveredCluster } from '../../ports/cluster-sources.ts';
import type { ClusterInfo, ClusterSourceReport, Clusters, Impersonation, KubeClient } from '../../ports/kube.ts';
import { UnknownClusterError } from '../../ports/kube.ts';
import { ClientNodeKubeClient } from './kube-client.ts';

export interface ClusterRegistryOptions {
  /** The kubeconfig's contexts (KubeconfigClusters), or NoClusters. */
  kubeconfig: Clusters;
  /** EKS, GKE: discovered on first use, then again after `ttlMs`. */
  sources?: readonly ClusterSource[];
  /** CLUSTER_DISCOVERY_TTL. */
  ttlMs: number;
  /** K8S_TIMEOUT_MS and K8S_DISCOVERY_TTL_MS, for the clients of discovered clusters. */
  timeoutMs: number;
  discoveryTtlMs: number;
  /** K8S_IMPERSONATE: `forCaller` views impersonate the caller. */
  impersonate?: boolean;
  /** How long one source's discovery may take (default 20 s); past it, the source has failed. */
  discoveryTimeoutMs?: number;
  /** GET /version per cluster when listing with `probe` (default 3 s), and how many at once (default 8). */
  probeTimeoutMs?: number;
  probeConcurrency?: number;
  /** A token is replaced this long before it expires (default 60 s). */
  tokenMarginMs?: number;
  now?: () => number;
}

/** What a failed discovery is retried after, at most: a source that was down is asked again soon. */
const RETRY_FAILED_MS = 30_000;
/** Bounds on what a source may hand in: clusters kept per source, and text per error. */
const MAX_CLUSTERS_PER_SOURCE = 1000;
const MAX_ERRORS_PER_SOURCE = 50;
const ERROR_CHARS = 300;
/** A listing's probes take at most this many probe timeouts in all. */
const PROBE_ROUNDS = 4;

type Prefix = 'kube' | 'eks' | 'gke';

/** A cluster reference as a caller writes it: an id with its prefix, or a plain kubeconfig context name. */
export type ClusterRef = { kind: Prefix; rest: string } | { kind: 'plain'; name: string };

/**
 * `kube:<context>`, `eks:<account>/<region>/<name>`, `gke:<project>/<location>/<name>`, or a plain
 * context name. An eks/gke id always names a discovered cluster, never a context that happens to be
 * called so (such a context goes by `kube:<context>`), so a name never changes meaning when
 * discovery finds a cluster.
 */
export function parseClusterRef(ref: string): ClusterRef {
  const m = /^(kube|eks|gke):(.*)$/s.exec(ref);
  if (!m) return { kind: 'plain', name: ref };
  return { kind: m[1] as Prefix, rest: m[2] as string };
}

interface SourceState {
  source: ClusterSource;
  clusters: DiscoveredCluster[];
  errors: Array<{ scope: string; message: string }>;
  /** Last discovery attempt (epoch ms), and whether it failed as a whole. */
  triedAt?: number;
  discoveredAt?: number;
  failed: boolean;
  /** Clusters kept from the last good list (their scope failed this time). */
  staleIds: Set<string>;
}

interface CloudClient {
  token: string;
  expiresAt: number;
  client: ClientNodeKubeClient;
}

/**
 * The one cluster registry (issue 13): the kubeconfig's contexts plus the clusters that EKS and GKE
 * sources discover, under one id scheme. Discovery is lazy, shared by concurrent callers, cached for
 * `ttlMs`; a source that fails keeps its last good list (marked stale) and reports why. Clients of
 * discovered clusters are built from the endpoint, CA and a bearer token, and rebuilt when the
 * source hands out a new token (it refreshes them shortly before they expire).
 */
export class ClusterRegistry implements Clusters {
  private readonly opts: ClusterRegistryOptions;
  private readonly now: () => number;
  private readonly states: SourceState[];
  private pending?: Promise<void>;
  private readonly cloudClients = new Map<string, CloudClient>();

  constructor(opts: ClusterRegistryOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.states = (opts.sources ?? []).map((source) => ({
      source,
      clusters: [],
      errors: [],
      failed: false,
      staleIds: new Set(),
    }));
  }

  /** Discovers every source whose list is older than the TTL; concurrent callers share one run. */
  private async fresh(): Promise<void> {
    const due = this.states.filter((s) => this.isDue(s));
    if (due.length === 0) return this.pending;
    if (!this.pending) {
      const run: Promise<void> = Promise.all(due.map((s) => this.discover(s))).then(() => {
        if (this.pending === run) this.pending = undefined;
      });
      this.pending = run;
    }
    return this.pending;
  }

  private isDue(s: SourceState): boolean {
    if (s.triedAt === undefined) return true;
    const age = this.now() - s.triedAt;
    return age >= (s.failed ? Math.min(this.opts.ttlMs, RETRY_FAILED_MS) : this.opts.ttlMs);
  }

  private async discover(s: SourceState): Promise<void> {
    const bound = this.opts.discoveryTimeoutMs ?? 20_000;
    const signal = AbortSignal.timeout(bound);
    try {
      const found = await within(s.source.discover(signal), bound, `discovery timed out after ${bound} ms`);
      const clusters = found.clusters.filter((c) => c.source === s.source.kind).slice(0, MAX_CLUSTERS_PER_SOURCE);
      const errors = found.errors.slice(0, MAX_ERRORS_PER_SOURCE).map((e) => ({
        scope: quoted(e.scope, 120),
        message: quoted(e.message, ERROR_CHARS),
      }));
      // A scope that failed this time may hold clusters of the last good list: kept, marked stale,
      // rather than dropped as if they were gone. With no failed scope, a missing cluster is gone.
      const ids = new Set(clusters.map((c) => c.id));
      const kept = errors.length > 0 ? s.clusters.filter((c) => !ids.has(c.id)) : [];
      s.clusters = [...clusters, ...kept];
      s.staleIds = new Set(kept.map((c) => c.id));
      s.errors = errors;
      s.failed = false;
      s.discoveredAt = this.now();
    } catch (err) {
      s.failed = true;
      s.staleIds = new Set(s.clusters.map((c) => c.id));
      s.errors = [
        { scope: s.source.kind, message: quoted(err instanceof Error ? err.message : String(err), ERROR_CHARS) },
      ];
    } finally {
      s.triedAt = this.now();
    }
    for (const id of this.cloudClients.keys()) {
      if (!this.states.some((st) => st.clusters.some((c) => c.id === id))) this.cloudClients.delete(id);
    }
  }

  /** The kubeconfig's clusters alone (the host logs the kubeconfig files it skipped). */
  get kubeconfig(): Clusters {
    return this.opts.kubeconfig;
  }

  async list(opts: { probe?: boolean } = {}): Promise<ClusterInfo[]> {
    await this.fresh();
    const local = await this.opts.kubeconfig.list();
    const anyDefault = local.some((c) => c.isDefault);
    const cloud = this.states.flatMap((s) => s.clusters.map((c): ClusterInfo => cloudInfo(c, s.staleIds.has(c.id))));
    const defaultCloud = !anyDefault && cloud.length === 1 ? cloud[0] : undefined;
    if (defaultCloud) defaultCloud.isDefault = true;
    const all = [...local, ...cloud];
    if (opts.probe) await this.probe(all);
    return all;
  }

  async sources(): Promise<ClusterSourceReport[]> {
    await this.fresh();
    const local = await this.opts.kubeconfig.list();
    const inCluster = local.some((c) => c.source === 'in-cluster');
    return [
      { source: inCluster ? 'in-cluster' : 'kubeconfig', clusters: local.length, stale: false, errors: [] },
      ...this.states.map(
        (s): ClusterSourceReport => ({
          source: s.source.kind,
          clusters: s.clusters.length,
          ...(s.discoveredAt !== undefined ? { discoveredAt: new Date(s.discoveredAt).toISOString() } : {}),
          stale: s.failed || s.staleIds.size > 0,
          errors: s.errors,
        }),
      ),
    ];
  }

  async defaultCluster(): Promise<string | undefined> {
    const local = await this.opts.kubeconfig.defaultCluster();
    if (local !== undefined || this.states.length === 0) return local;
    return (await this.list()).find((c) => c.isDefault)?.name;
  }

  async client(name?: string): Promise<KubeClient> {
    return this.clientAs(name, undefined);
  }

  forCaller(caller: Identity): Clusters {
    if (!this.opts.impersonate) return this;
    const who = impersonationOf(caller);
    return {
      list: (opts) => this.list(opts),
      sources: () => this.sources(),
      defaultCluster: () => this.defaultCluster(),
      client: (name) => this.clientAs(name, who),
    };
  }

  private async clientAs(name: string | undefined, who: Impersonation | undefined): Promise<KubeClient> {
    const ref = name === undefined ? undefined : parseClusterRef(name);
    let client: KubeClient;
    if (ref === undefined) {
      const target = await this.defaultCluster();
      if (target === undefined) return this.opts.kubeconfig.client(); // its own "none configured" error
      return this.clientAs(target, who);
    }
    if (ref.kind === 'eks' || ref.kind === 'gke') {
      await this.fresh();
      const found = this.findCloud(name as string);
      if (!found) throw await this.unknown(name as string);
      client = await this.cloudClient(found.state, found.cluster);
    } else {
      const local = await this.opts.kubeconfig.list();
      const known = local.find((c) => c.name === name || c.id === name);
      if (!known) throw await this.unknown(name as string);
      client = await this.opts.kubeconfig.client(known.name);
    }
    if (!who) return client;
    if (!(client instanceof ClientNodeKubeClient)) {
      throw new Error(`cluster ${client.cluster}: its client cannot impersonate (K8S_IMPERSONATE)`);
    }
    return client.impersonating(who);
  }

  private findCloud(id: string): { state: SourceState; cluster: DiscoveredCluster } | undefined {
    for (const state of this.states) {
      const cluster = state.clusters.find((c) => c.id === id);
      if (cluster) return { state, cluster };
    }
    return undefined;
  }

  private async cloudClient(state: SourceState, c: DiscoveredCluster): Promise<ClientNodeKubeClient> {
    if (!c.endpoint) {
      throw new UnknownClusterError(
        `cluster ${c.id} has no API endpoint yet (status ${quoted(c.status, 40)}); try again when it is running`,
      );
    }
    const bound = this.opts.discoveryTimeoutMs ?? 20_000;
    const token = () =>
      within(
        state.source.token(c, AbortSignal.timeout(bound)),
        bound,
        `no token for cluster ${c.id} within ${bound} ms`,
      );
    let cred: ClusterCredential = await token();
    if (cred.expiresAt - (this.opts.tokenMarginMs ?? 60_000) <= this.now()) {
      // The source's cache handed out a token about to expire: one more ask, then use what it gives.
      cred = await token();
    }
    const cached = this.cloudClients.get(c.id);
    if (cached && cached.token === cred.token) return cached.client;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: c.id,
          server: c.endpoint,
          // https endpoints are verified against the cluster's CA. A plain-http loopback endpoint (a
          // local API server, the tests' fake) has no TLS to verify; client-node refuses http without this.
          skipTLSVerify: isHttpLoopback(c.endpoint),
          ...(c.caData ? { caData: c.caData } : {}),
        },
      ],
      users: [{ name: c.id, token: cred.token }],
      contexts: [{ name: c.id, cluster: c.id, user: c.id }],
      currentContext: c.id,
    });
    const client = new ClientNodeKubeClient({
      cluster: c.id,
      kubeConfig: kc,
      timeoutMs: this.opts.timeoutMs,
      discoveryTtlMs: this.opts.discoveryTtlMs,
      now: this.now,
    });
    this.cloudClients.set(c.id, { token: cred.token, expiresAt: cred.expiresAt, client });
    return client;
  }

  /** GET /version on every cluster, `probeConcurrency` at a time, each within `probeTimeoutMs`. */
  private async probe(all: ClusterInfo[]): Promise<void> {
    const timeoutMs = Math.min(this.opts.probeTimeoutMs ?? 3000, this.opts.timeoutMs);
    // However many clusters there are, the listing answers within a few probe timeouts: clusters not
    // yet probed when that runs out are left unknown, and say so.
    const deadline = this.now() + timeoutMs * PROBE_ROUNDS;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < all.length; i = next++) {
        const info = all[i] as ClusterInfo;
        if (this.now() >= deadline) {
          info.unreachableReason = 'not probed: the listing ran out of time; list again';
          continue;
        }
        const outcome = await this.probeOne(info, timeoutMs);
        info.reachable = outcome.ok;
        if (outcome.ok) info.version ??= outcome.version;
        else info.unreachableReason = quoted(outcome.reason, 200);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.probeConcurrency ?? 8, all.length) }, worker));
  }

  private async probeOne(
    info: ClusterInfo,
    timeoutMs: number,
  ): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
    if (!info.server) return { ok: false, reason: 'no API endpoint yet' };
    try {
      // Getting the client may mean getting a token (AssumeRole, a metadata server): bounded too.
      const client = await within(this.client(info.name), timeoutMs, `no credentials within ${timeoutMs} ms`);
      if (!(client instanceof ClientNodeKubeClient)) return { ok: false, reason: 'cannot be probed' };
      return await client.version(timeoutMs);
    } catch (err) {
      // A token that could not be made (a role that cannot be assumed) makes the cluster unreachable too.
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  private async unknown(name: string): Promise<UnknownClusterError> {
    const all = await this.list();
    const keys = new Map<string, string>();
    for (const c of all) {
      keys.set(c.name, c.name);
      if (c.id) keys.set(c.id, c.id);
      // A discovered cluster's bare name points at its id.
      if (c.source === 'eks' || c.source === 'gke') keys.set(c.name.slice(c.name.lastIndexOf('/') + 1), c.name);
    }
    // `kube:x` when only a context literally named `kube:x` exists: that context is `kube:kube:x`.
    const close = keys.has(`kube:${name}`) ? `kube:${name}` : closestName(name, [...keys.keys()]);
    const names = all.map((c) => c.name);
    const known =
      names.length === 0
        ? 'no cluster is configured or discovered'
        : `known clusters: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more (k8s_clusters_list)` : ''}`;
    const hint = close ? `; did you mean "${keys.get(close)}"?` : '';
    const ref = parseClusterRef(name);
    const failed = this.states.filter((s) => s.failed || s.errors.length > 0).map((s) => s.source.kind);
    const cloudNote =
      (ref.kind === 'eks' || ref.kind === 'gke') && failed.includes(ref.kind)
        ? ` (${ref.kind} discovery failed in part or whole; k8s_clusters_list says why)`
        : '';
    return new UnknownClusterError(`unknown cluster "${quoted(name, 120)}"; ${known}${hint}${cloudNote}`);
  }
}

/** The promise, or a rejection with `message` after `ms` (the work itself is left to finish or fail). */
function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function cloudInfo(c: DiscoveredCluster, stale: boolean): ClusterInfo {
  return {
    name: c.id,
    id: c.id,
    server: c.endpoint ?? '',
    source: c.source,
    isDefault: false,
    namespace: 'default',
    status: c.status,
    ...(c.version ? { version: c.version } : {}),
    ...(stale ? { stale: true } : {}),
  };
}

/** The strongest of a caller's roles towards clusters; approving is not a cluster permission. */
const CLUSTER_ROLE_ORDER: readonly Role[] = ['admin', 'operator', 'viewer', 'approver'];

/**
 * Who requests act as under K8S_IMPERSONATE: the caller's subject as the user, and one group,
 * `cloudops:<role>` for the caller's strongest role (admin, then operator, then viewer; an approver
 * only reads clusters, so `cloudops:viewer`). The cluster's RBAC binds these groups (or users) to its
 * roles. One group because one header line carries one group (see ClientNodeKubeClient).
 */
export function impersonationOf(caller: Identity): Impersonation {
  const strongest = CLUSTER_ROLE_ORDER.find((r) => caller.roles.includes(r));
  const role = strongest === 'approver' ? 'viewer' : strongest;
  return { user: caller.subject, groups: role ? [`cloudops:${role}`] : [] };
}

function isHttpLoopback(endpoint: string): boolean {
  try {
    const u = new URL(endpoint);
    return (
      u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]')
    );
  } catch {
    return false;
  }
}
