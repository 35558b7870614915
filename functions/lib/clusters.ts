import { EksClusterSource } from '../../shared/adapters/aws/eks-source.ts';
import type { ClusterSourceFactories } from '../../shared/adapters/kube/index.ts';
import type { Config } from '../../shared/config/config.ts';
import { clustersFromSecret } from '../../shared/host/clusters.ts';
import type { Clusters } from '../../shared/ports/kube.ts';
import type { Env, SecretReader } from './host.ts';

/*
 * The clusters of the Lambda functions that reach one, apart from deps.ts so the bundles of the
 * others carry no Kubernetes client: the host kit's kubeconfig-in-a-secret (shared/host/clusters.ts)
 * over Secrets Manager, with EKS discovery.
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
 * The clusters a function can reach: the kubeconfig stored in Secrets Manager (KUBECONFIG_SECRET) plus
 * the EKS clusters the settings ask to discover.
 */
export function lambdaClusters(
  config: Config,
  env: Env,
  secrets: SecretReader,
  factories: ClusterSourceFactories = lambdaClusterSources(env),
): Promise<Clusters> {
  return clustersFromSecret(config, env, secrets, {
    sources: factories,
    noKubeconfig: 'this deployment has no kubeconfig: set the kubeconfigSecretArn context and redeploy',
  });
}
