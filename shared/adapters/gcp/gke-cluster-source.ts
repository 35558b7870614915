import type { ClusterManagerClient, protos } from '@google-cloud/container';
import type { GoogleAuth } from 'google-auth-library';
import type {
  ClusterCredential,
  ClusterSource,
  DiscoveredCluster,
  DiscoveryResult,
} from '../../ports/cluster-sources.ts';
import { createContainerClient } from './container-client.ts';
import { describeGkeCluster, type GkeClusterDescription, type GkeClusterRef } from './gke-describe.ts';
import { defaultGoogleAuth, toGcpApiError, withDeadline } from './google-auth.ts';

/**
 * GKE clusters found through the Container API (issue 13), for the cluster registry: every cluster of
 * every configured project, in all its locations (`projects/<p>/locations/-`), and a bearer token for
 * them from google-auth-library (no gcloud, no gke-gcloud-auth-plugin): an OAuth access token of the
 * runtime's identity with the cloud-platform scope, which GKE's API servers accept and map to the
 * identity's Kubernetes RBAC (the cluster's business; listing needs roles/container.clusterViewer).
 */

export interface GkeClusterSourceOptions {
  /** Project ids (GCP_PROJECTS). */
  projects: string[];
  /** Base URL of the Container API; default https://container.googleapis.com (tests: the fake's URL). */
  apiEndpoint?: string;
  /** Where access tokens come from; default Application Default Credentials with the cloud-platform scope. */
  auth?: GoogleAuth;
  /** Epoch ms, for the token cache; use the clock google-auth-library sees (Date.now, the default). */
  now?: () => number;
  /** Bound of each project's listing and of each token fetch. */
  timeoutMs: number;
  /** Projects listed at once (default 4). */
  concurrency?: number;
}

/** Project ids as GCP allows them (6–30 of a-z 0-9 -, a letter first), with the legacy `domain:` prefix. */
export const GCP_PROJECT_ID = /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION = /^[a-z]+-[a-z]+[0-9]+(?:-[a-z])?$/;
const CLUSTER_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;
const MAX_PROJECTS = 100;
const MAX_CLUSTERS_PER_PROJECT = 500;
const MAX_TIMEOUT_MS = 120_000;
/**
 * A cached token is renewed this long before it expires: google-auth-library's own eager-refresh
 * threshold, so both caches agree, and longer than any call the token is handed to.
 */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** When a credential reports no expiry: well under Google's one-hour access-token lifetime. */
const ASSUMED_TOKEN_LIFETIME_MS = 10 * 60_000;

export class GkeClusterSource implements ClusterSource {
  readonly kind = 'gke' as const;
  private readonly projects: string[];
  private readonly auth: GoogleAuth;
  private readonly client: ClusterManagerClient;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private cached?: ClusterCredential;
  private pending?: Promise<ClusterCredential>;
  private credentials?: Promise<unknown>;

  constructor(opts: GkeClusterSourceOptions) {
    const projects = [...new Set(opts.projects)];
    if (projects.length === 0) throw new Error('GCP_PROJECTS: name at least one project id');
    if (projects.length > MAX_PROJECTS) throw new Error(`GCP_PROJECTS: at most ${MAX_PROJECTS} projects`);
    const bad = projects.filter((p) => !GCP_PROJECT_ID.test(p));
    if (bad.length) {
      throw new Error(
        `GCP_PROJECTS: not project ids (6-30 lowercase letters, digits or hyphens, a letter first): ${bad.slice(0, 5).join(', ')}`,
      );
    }
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1 || opts.timeoutMs > MAX_TIMEOUT_MS) {
      throw new Error(`GKE timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`);
    }
    this.projects = projects;
    this.auth = opts.auth ?? defaultGoogleAuth();
    this.client = createContainerClient(this.auth, opts.apiEndpoint);
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs;
    this.concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, 16));
  }

  async discover(signal?: AbortSignal): Promise<DiscoveryResult> {
    const result: DiscoveryResult = { clusters: [], errors: [] };
    // Finding the credentials (ADC: env, gcloud's file, the metadata server) is bounded once, not
    // charged to the first project; a failure is every project's error, and the next call tries again.
    try {
      this.credentials ??= this.auth.getClient();
      await withDeadline(this.credentials, this.timeoutMs, 'finding Google credentials', signal);
    } catch (err) {
      this.credentials = undefined;
      const message = toGcpApiError(err, 'finding Google credentials').message;
      return { clusters: [], errors: this.projects.map((p) => ({ scope: `gke:${p}`, message })) };
    }
    const queue = [...this.projects];
    const worker = async () => {
      for (let project = queue.shift(); project !== undefined; project = queue.shift()) {
        const one = await this.listProject(project, signal);
        result.clusters.push(...one.clusters);
        result.errors.push(...one.errors);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    result.clusters.sort((a, b) => a.id.localeCompare(b.id));
    result.errors.sort((a, b) => a.scope.localeCompare(b.scope));
    return result;
  }

  async token(cluster: DiscoveredCluster, signal?: AbortSignal): Promise<ClusterCredential> {
    if (cluster.source !== 'gke') throw new Error(`GkeClusterSource cannot make a token for ${cluster.id}`);
    const cached = this.cached;
    if (cached && this.now() < cached.expiresAt - TOKEN_REFRESH_MARGIN_MS) return cached;
    // One fetch at a time, whoever asks: a burst of calls after expiry shares it.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return withDeadline(this.pending, this.timeoutMs, 'GKE access token', signal);
  }

  /** Version and node pools of one cluster (for gcp_gke_clusters_describe). */
  describe(ref: GkeClusterRef, signal?: AbortSignal): Promise<GkeClusterDescription> {
    return describeGkeCluster(this.client, ref, { timeoutMs: this.timeoutMs, signal });
  }

  private async fetchToken(): Promise<ClusterCredential> {
    try {
      const client = await this.auth.getClient();
      const { token } = await client.getAccessToken();
      if (!token) throw new Error('the Google credentials gave no access token');
      const expiry = client.credentials.expiry_date;
      const expiresAt = typeof expiry === 'number' && expiry > 0 ? expiry : this.now() + ASSUMED_TOKEN_LIFETIME_MS;
      this.cached = { token, expiresAt };
      return this.cached;
    } catch (err) {
      throw toGcpApiError(err, 'GKE access token');
    }
  }

  private async listProject(project: string, signal?: AbortSignal): Promise<DiscoveryResult> {
    const scope = `gke:${project}`;
    const errors: DiscoveryResult['errors'] = [];
    let listed: protos.google.container.v1.ICluster[];
    let missingZones: string[];
    try {
      const call = this.client.listClusters(
        { parent: `projects/${project}/locations/-` },
        { timeout: this.timeoutMs, maxRetries: 2 },
      );
      const [response] = await withDeadline(call, this.timeoutMs, `listing GKE clusters of ${project}`, signal);
      listed = response.clusters ?? [];
      missingZones = response.missingZones ?? [];
    } catch (err) {
      return {
        clusters: [],
        errors: [{ scope, message: toGcpApiError(err, `listing GKE clusters of ${project}`).message }],
      };
    }
    if (missingZones.length) {
      errors.push({
        scope,
        message: `GKE could not reach zones ${missingZones.slice(0, 20).join(', ')} of ${project}: clusters there may be missing from the list`,
      });
    }
    if (listed.length > MAX_CLUSTERS_PER_PROJECT) {
      errors.push({
        scope,
        message: `${project} has ${listed.length} clusters; only the first ${MAX_CLUSTERS_PER_PROJECT} are used`,
      });
    }
    const clusters: DiscoveredCluster[] = [];
    for (const c of listed.slice(0, MAX_CLUSTERS_PER_PROJECT)) {
      const name = c.name ?? '';
      const location = c.location ?? '';
      if (!CLUSTER_NAME.test(name) || !LOCATION.test(location)) {
        errors.push({ scope, message: `skipped a cluster of ${project} with an unexpected name or location` });
        continue;
      }
      clusters.push({
        id: `gke:${project}/${location}/${name}`,
        source: 'gke',
        name,
        owner: project,
        location,
        ...(c.endpoint ? { endpoint: `https://${c.endpoint}` } : {}),
        ...(c.masterAuth?.clusterCaCertificate ? { caData: c.masterAuth.clusterCaCertificate } : {}),
        ...(c.currentMasterVersion ? { version: c.currentMasterVersion } : {}),
        status: statusName(c.status),
      });
    }
    return { clusters, errors };
  }
}

/** The client decodes enums to their names; a number (a newer server's value) stays readable. */
function statusName(status: unknown): string {
  if (typeof status === 'string' && status !== '') return status;
  if (typeof status === 'number') return `STATUS_${status}`;
  return 'STATUS_UNSPECIFIED';
}
