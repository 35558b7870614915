import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Config, ConfigError } from '../../config/config.ts';
import type { ClusterSource } from '../../ports/cluster-sources.ts';
import type { Clusters } from '../../ports/kube.ts';
import { ClusterRegistry } from './cluster-registry.ts';
import { KubeconfigClusters, NoClusters } from './kubeconfig-clusters.ts';

/** The kubeconfig (or in-cluster account) of a host, when there is one. */
export function kubeconfigFromConfig(config: Config, env: Record<string, string | undefined>): Clusters {
  const kubeconfig = config.kube.kubeconfig;
  const opts = {
    contexts: config.kube.contexts,
    timeoutMs: config.kube.timeoutMs,
    discoveryTtlMs: config.kube.discoveryTtlMs,
  };
  if (kubeconfig) return new KubeconfigClusters({ ...opts, kubeconfig }, env);
  if (env.KUBERNETES_SERVICE_HOST) return new KubeconfigClusters(opts, env);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return new KubeconfigClusters({ ...opts, kubeconfig: home }, env);
  return new NoClusters('set KUBECONFIG, or create ~/.kube/config');
}

/**
 * The cluster registry for a host: the kubeconfig's contexts plus what the cloud sources (EKS, GKE)
 * discover, with `kube:<context>` ids and K8S_IMPERSONATE.
 */
export function clustersFromConfig(
  config: Config,
  env: Record<string, string | undefined>,
  sources: readonly ClusterSource[] = [],
  kubeconfig: Clusters = kubeconfigFromConfig(config, env),
): ClusterRegistry {
  return new ClusterRegistry({
    kubeconfig,
    sources,
    ttlMs: config.clusterDiscovery?.ttlMs ?? 5 * 60_000,
    timeoutMs: config.kube.timeoutMs,
    discoveryTtlMs: config.kube.discoveryTtlMs,
    ...(config.kube.impersonate ? { impersonate: true } : {}),
  });
}

/** Builds a cloud source from the discovery settings; a host passes the ones its build carries. */
export interface ClusterSourceFactories {
  /** AWS_ACCOUNTS (role ARNs) and AWS_REGIONS (default AWS_REGION) → an EksClusterSource. */
  eks?: (settings: { roleArns: string[]; regions: string[] }) => ClusterSource;
  /** GCP_PROJECTS → a GkeClusterSource. */
  gke?: (settings: { projects: string[] }) => ClusterSource;
}

/**
 * The cloud sources the settings ask for. A setting whose source this host cannot build fails the
 * start, named, rather than leaving its clusters silently undiscovered.
 */
export function sourcesFromConfig(
  config: Config,
  env: Record<string, string | undefined>,
  factories: ClusterSourceFactories,
): ClusterSource[] {
  const d = config.clusterDiscovery;
  if (!d) return [];
  const out: ClusterSource[] = [];
  if (d.awsAccounts.length > 0 || d.awsRegions.length > 0) {
    if (!factories.eks) {
      throw new ConfigError(
        'Invalid configuration:\n  AWS_ACCOUNTS/AWS_REGIONS: this server has no EKS discovery built in; unset them',
      );
    }
    const regions = d.awsRegions.length > 0 ? d.awsRegions : [env.AWS_REGION ?? 'us-east-1'];
    out.push(factories.eks({ roleArns: d.awsAccounts, regions }));
  }
  if (d.gcpProjects.length > 0) {
    if (!factories.gke) {
      throw new ConfigError(
        'Invalid configuration:\n  GCP_PROJECTS: this server has no GKE discovery built in; unset it',
      );
    }
    out.push(factories.gke({ projects: d.gcpProjects }));
  }
  return out;
}
