import { createAwsInventory } from '../../shared/adapters/aws/aws-inventory.ts';
import type { Config } from '../../shared/config/config.ts';
import type { CloudInventory } from '../../shared/ports/cloud.ts';
import type { Env } from './host.ts';

/*
 * The clouds of the functions that reach one (the aws toolset, the drift check for cloud baselines),
 * apart from deps.ts so the other bundles carry no EC2 or CloudWatch client.
 */

/** How a function reaches the clouds: lambdaCloud for the ones that do; none otherwise. */
export type CloudFactory = (config: Config, env: Env) => CloudInventory;

/**
 * AWS from AWS_ACCOUNTS (roles to assume; none: the function role's own account) and AWS_REGIONS
 * (none: the function's region), with AWS_ENDPOINT_URL for every call. GCP is not built into the AWS
 * functions: GCP_PROJECTS already fails their cold start by name (functions/lib/clusters.ts).
 */
export const lambdaCloud: CloudFactory = (config, env) => {
  const d = config.clusterDiscovery;
  if (!d || (d.awsAccounts.length === 0 && d.awsRegions.length === 0)) return {};
  return {
    aws: createAwsInventory({
      accounts: d.awsAccounts.length > 0 ? d.awsAccounts.map((roleArn) => ({ roleArn })) : [{}],
      regions: d.awsRegions.length > 0 ? d.awsRegions : [env.AWS_REGION ?? 'us-east-1'],
      ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    }),
  };
};
