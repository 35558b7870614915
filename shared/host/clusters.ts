import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClusterSourceFactories,
  clustersFromConfig,
  kubeconfigFromConfig,
  sourcesFromConfig,
} from '../adapters/kube/index.ts';
import { NoClusters } from '../adapters/kube/kubeconfig-clusters.ts';
import { type Config, ConfigError } from '../config/config.ts';
import type { Clusters } from '../ports/kube.ts';
import { SecretReadError, type SecretReader } from '../ports/secrets.ts';
import type { Env } from './factories.ts';

/*
 * The clusters of a cloud function that reaches one (the core, k8s and delivery toolsets, the
 * workflow step), on every host: the kubeconfig in the host's secret store plus the clusters the
 * settings ask to discover through the cloud sources the host carries. Apart from deps.ts so the
 * bundles of the other functions carry no Kubernetes client (client-node and its undici are about
 * 1.1 MB of a bundle).
 */

export interface SecretClustersOptions {
  /** The cloud cluster sources the host carries (EKS on AWS, GKE on GCP); a setting for another fails by name. */
  sources: ClusterSourceFactories;
  /** What the caller is told when the deployment names no kubeconfig (how this host's deployment sets one). */
  noKubeconfig: string;
}

/**
 * The kubeconfig stored in the secret KUBECONFIG_SECRET, written once per cold start to a private
 * file under the temp dir, plus the discovered clusters. Exec-plugin credentials (`aws eks
 * get-token`, `gke-gcloud-auth-plugin`) cannot run in a function: the kubeconfig must carry a token or
 * a client certificate; discovered clusters get tokens from their source.
 */
export async function clustersFromSecret(
  config: Config,
  env: Env,
  secrets: SecretReader,
  opts: SecretClustersOptions,
): Promise<Clusters> {
  const sources = sourcesFromConfig(config, env, opts.sources);
  if (!config.kubeconfigSecret) {
    const none = new NoClusters(opts.noKubeconfig);
    return sources.length > 0 ? clustersFromConfig(config, env, sources, none) : none;
  }
  let yaml: string;
  try {
    yaml = await secrets.read(config.kubeconfigSecret);
  } catch (err) {
    // A missing or forbidden secret stays so on retry (a redeploy fixes it); anything else may pass.
    if (err instanceof SecretReadError) {
      throw new ConfigError(`Invalid configuration:\n  KUBECONFIG_SECRET: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, yaml, { mode: 0o600 });
  try {
    const kubeconfig = kubeconfigFromConfig(
      { ...config, kube: { ...config.kube, kubeconfig: path } },
      { ...env, KUBECONFIG: path },
    );
    return clustersFromConfig(config, env, sources, kubeconfig);
  } catch (err) {
    // Parsing is local and deterministic: a secret that is not a usable kubeconfig stays one on retry.
    throw new ConfigError(
      `Invalid configuration:\n  KUBECONFIG_SECRET: the secret's value is not a usable kubeconfig (${(err as Error).message})`,
    );
  }
}
