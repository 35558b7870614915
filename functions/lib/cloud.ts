import { createAwsInventory } from '../../shared/adapters/aws/aws-inventory.ts';
import { awsInventoryOptions, type CloudFactory } from './cloud-settings.ts';

/*
 * The clouds of the functions that use all of AWS (the aws toolset, the single tool function), apart
 * from deps.ts so the other bundles carry no EC2 or CloudWatch client. The drift functions describe EKS
 * clusters only: functions/lib/eks-cloud.ts.
 */

export type { CloudFactory } from './cloud-settings.ts';

/** AWS (EKS, EC2, CloudWatch) from the settings of awsInventoryOptions (cloud-settings.ts); none when unset. */
export const lambdaCloud: CloudFactory = (config, env) => {
  const opts = awsInventoryOptions(config, env);
  return opts ? { aws: createAwsInventory(opts) } : {};
};
