import { createEksInventory } from '../../shared/adapters/aws/aws-inventory-core.ts';
import { awsInventoryOptions, type CloudFactory } from './cloud-settings.ts';

/*
 * The clouds of the functions that only describe EKS clusters (the drift tools and the scheduled drift
 * check, for cloud baselines): apart from functions/lib/cloud.ts so their bundles carry no EC2 or
 * CloudWatch client (about 560 KB of EC2 alone). test/unit/bundle-reach.test.ts holds them to it.
 */

/**
 * AWS (EKS only) from the same settings as lambdaCloud (awsInventoryOptions, cloud-settings.ts); none
 * when unset. Its EC2 and CloudWatch operations refuse (Forbidden): nothing in these functions calls them.
 */
export const lambdaEksCloud: CloudFactory = (config, env) => {
  const opts = awsInventoryOptions(config, env);
  return opts ? { aws: createEksInventory(opts) } : {};
};
