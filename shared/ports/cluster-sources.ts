/*
 * Cloud cluster discovery (issue 13): EKS and GKE clusters found through the cloud APIs instead of
 * listed in a kubeconfig, with short-lived bearer tokens made without any CLI (no `aws eks
 * get-token`, no `gcloud`). The cluster registry (shared/adapters/kube) merges them with the
 * kubeconfig's contexts under one id scheme and caches both.
 */

/** A cluster a cloud source found. */
export interface DiscoveredCluster {
  /** Registry id: `eks:<account>/<region>/<name>` or `gke:<project>/<location>/<name>`. */
  id: string;
  source: 'eks' | 'gke';
  name: string;
  /** AWS account id, or GCP project id. */
  owner: string;
  /** AWS region, or GKE location (region or zone). */
  location: string;
  /** The API server's https URL; absent while the cluster is being created. */
  endpoint?: string;
  /** The cluster CA bundle, base64 of the PEM (as EKS and GKE return it). */
  caData?: string;
  /** Kubernetes version as the cloud reports it (e.g. `1.31`, `1.31.2-gke.1000`). */
  version?: string;
  /** The cloud's status word (EKS `ACTIVE`, GKE `RUNNING`, ...). */
  status: string;
}

export interface ClusterCredential {
  /** Bearer token for the API server. */
  token: string;
  /** Epoch ms after which it must not be used (callers refresh shortly before). */
  expiresAt: number;
}

export interface DiscoveryResult {
  clusters: DiscoveredCluster[];
  /** Scopes (an account/region, a project) that could not be listed, with why: reported, never thrown. */
  errors: Array<{ scope: string; message: string }>;
}

export interface ClusterSource {
  readonly kind: 'eks' | 'gke';
  /** Every cluster of every configured account/region or project, each scope bounded in time. */
  discover(signal?: AbortSignal): Promise<DiscoveryResult>;
  /** A bearer token for one discovered cluster (cached by the source until shortly before expiry). */
  token(cluster: DiscoveredCluster, signal?: AbortSignal): Promise<ClusterCredential>;
}
