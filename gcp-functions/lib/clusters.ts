import { GkeClusterSource } from '../../shared/adapters/gcp/gke-cluster-source.ts';
import type { ClusterSourceFactories } from '../../shared/adapters/kube/index.ts';
import { clustersFromSecret } from '../../shared/host/clusters.ts';
import type { ClustersFactory } from '../../shared/host/factories.ts';
import type { Env } from './host.ts';

/*
 * The clusters of the Cloud Functions that reach one, apart from deps.ts so the bundles of the others
 * carry no Kubernetes client: the host kit's kubeconfig-in-a-secret (shared/host/clusters.ts) over
 * Secret Manager, with GKE discovery. The twin of functions/lib/clusters.ts.
 */

/** How long one GKE listing or token fetch may take. */
const GKE_TIMEOUT_MS = 15_000;

/**
 * The cloud cluster sources the functions carry: GCP_PROJECTS → GKE with the function's service
 * account (CONTAINER_URL: a loopback fake in tests). EKS is not built into the GCP functions:
 * AWS_ACCOUNTS/AWS_REGIONS set here fail the cold start by name.
 */
export function gcpClusterSources(env: Env): ClusterSourceFactories {
  const apiEndpoint = env.CONTAINER_URL?.trim();
  return {
    gke: ({ projects }) =>
      new GkeClusterSource({ projects, timeoutMs: GKE_TIMEOUT_MS, ...(apiEndpoint ? { apiEndpoint } : {}) }),
  };
}

/** The kubeconfig in Secret Manager (KUBECONFIG_SECRET, a version name) plus the GKE clusters GCP_PROJECTS names. */
export const gcpClusters: ClustersFactory = (config, env, secrets) =>
  clustersFromSecret(config, env, secrets, {
    sources: gcpClusterSources(env),
    noKubeconfig: 'this deployment has no kubeconfig: set KUBECONFIG_SECRET (a Secret Manager version) and redeploy',
  });
