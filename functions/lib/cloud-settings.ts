import type { AwsInventoryOptions } from '../../shared/adapters/aws/aws-inventory-core.ts';
import type { Config } from '../../shared/config/config.ts';
import type { Env } from './host.ts';

/*
 * The settings of the clouds a function reaches, written once for lambdaCloud (functions/lib/cloud.ts:
 * EKS, EC2 and CloudWatch) and lambdaEksCloud (functions/lib/eks-cloud.ts: EKS only). Imports no SDK,
 * so each of those two files decides alone which clients a bundle carries.
 */

/** How a function reaches the clouds: lambdaCloud or lambdaEksCloud for the ones that do; none otherwise. */
export type { CloudFactory } from '../../shared/host/factories.ts';

/**
 * AWS from AWS_ACCOUNTS (roles to assume; none: the function role's own account) and AWS_REGIONS
 * (none: the function's region), with AWS_ENDPOINT_URL for every call; undefined when neither is set.
 * GCP is not built into the AWS functions: GCP_PROJECTS already fails their cold start by name
 * (functions/lib/clusters.ts).
 */
export function awsInventoryOptions(config: Config, env: Env): AwsInventoryOptions | undefined {
  const d = config.clusterDiscovery;
  if (!d || (d.awsAccounts.length === 0 && d.awsRegions.length === 0)) return undefined;
  return {
    accounts: d.awsAccounts.length > 0 ? d.awsAccounts.map((roleArn) => ({ roleArn })) : [{}],
    regions: d.awsRegions.length > 0 ? d.awsRegions : [env.AWS_REGION ?? 'us-east-1'],
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
  };
}
