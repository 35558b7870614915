// A ClusterSource test double (shared/ports/cluster-sources.ts): the clusters, scope errors and
// tokens a test sets, with a count of discoveries, and failures on demand. Endpoints point at the
// fake API server (test/support/fake-kube), whose tokens decide what a token is good for.
import type {
  ClusterCredential,
  ClusterSource,
  DiscoveredCluster,
  DiscoveryResult,
} from '../../shared/ports/cluster-sources.ts';

export class FakeClusterSource implements ClusterSource {
  readonly kind: 'eks' | 'gke';
  clusters: DiscoveredCluster[] = [];
  scopeErrors: DiscoveryResult['errors'] = [];
  /** Set: the next discoveries reject with it. */
  failWith?: Error;
  /** Resolved by the test to let a pending discovery finish (concurrency tests). */
  gate?: Promise<void>;
  discoveries = 0;
  tokenCalls = 0;
  /** The token handed out, by cluster id; default FAKE_TOKEN-like `token` for all. */
  credential: (c: DiscoveredCluster) => ClusterCredential;

  constructor(kind: 'eks' | 'gke', token: string) {
    this.kind = kind;
    this.credential = () => ({ token, expiresAt: Date.now() + 15 * 60_000 });
  }

  add(name: string, endpoint: string | undefined, extra: Partial<DiscoveredCluster> = {}): DiscoveredCluster {
    const owner = this.kind === 'eks' ? '123456789012' : 'demo-project';
    const location = this.kind === 'eks' ? 'eu-west-1' : 'europe-west1';
    const c: DiscoveredCluster = {
      id: `${this.kind}:${owner}/${location}/${name}`,
      source: this.kind,
      name,
      owner,
      location,
      ...(endpoint ? { endpoint } : {}),
      version: this.kind === 'eks' ? '1.31' : '1.31.2-gke.1000',
      status: this.kind === 'eks' ? 'ACTIVE' : 'RUNNING',
      ...extra,
    };
    this.clusters.push(c);
    return c;
  }

  async discover(): Promise<DiscoveryResult> {
    this.discoveries++;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    return { clusters: this.clusters.map((c) => ({ ...c })), errors: [...this.scopeErrors] };
  }

  async token(cluster: DiscoveredCluster): Promise<ClusterCredential> {
    this.tokenCalls++;
    return this.credential(cluster);
  }
}
