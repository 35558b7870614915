import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EksClusterSource } from '../../shared/adapters/aws/eks-source.ts';
import {
  type ClusterSourceFactories,
  clustersFromConfig,
  kubeconfigFromConfig,
  sourcesFromConfig,
} from '../../shared/adapters/kube/index.ts';
import { NoClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { type Config, ConfigError } from '../../shared/config/config.ts';
import type { Clusters } from '../../shared/ports/kube.ts';
import { SecretReadError } from '../../shared/ports/secrets.ts';
import type { Env, SecretReader } from './host.ts';

/*
 * The clusters of the functions that reach one (the core, k8s and delivery toolsets, the workflow
 * step), apart from deps.ts so the bundles of the others carry no Kubernetes client (client-node and
 * its undici are about 1.1 MB of a bundle).
 */

/**
 * The cloud cluster sources the functions carry: AWS_ACCOUNTS (roles to assume; none: the function
 * role's own account) and AWS_REGIONS → EKS, with AWS_ENDPOINT_URL for the EKS and STS calls. GKE is
 * not built into the AWS functions: GCP_PROJECTS set here fails the cold start by name.
 */
export function lambdaClusterSources(env: Env): ClusterSourceFactories {
  return {
    eks: ({ roleArns, regions }) =>
      new EksClusterSource({
        accounts: roleArns.length > 0 ? roleArns.map((roleArn) => ({ roleArn })) : [{}],
        regions,
        ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
      }),
  };
}

/**
 * The clusters a function can reach: the kubeconfig stored in Secrets Manager (KUBECONFIG_SECRET),
 * written once per cold start to a private file under /tmp, plus the EKS (and GKE) clusters the
 * settings ask to discover. Exec-plugin credentials (`aws eks get-token`) cannot run on Lambda: the
 * kubeconfig must carry a token or a client certificate; discovered clusters get tokens from their source.
 */
export async function lambdaClusters(
  config: Config,
  env: Env,
  secrets: SecretReader,
  factories: ClusterSourceFactories = lambdaClusterSources(env),
): Promise<Clusters> {
  const sources = sourcesFromConfig(config, env, factories);
  if (!config.kubeconfigSecret) {
    const none = new NoClusters('this deployment has no kubeconfig: set the kubeconfigSecretArn context and redeploy');
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
