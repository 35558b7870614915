import type { AwsInventory } from '../../ports/cloud.ts';
import { cloudWatchPart } from './aws-cloudwatch.ts';
import { ec2Part } from './aws-ec2.ts';
import { type AwsInventoryOptions, createAwsInventoryCore } from './aws-inventory-core.ts';

/*
 * The AwsInventory port over the AWS SDK (issue 13), all of it: the core's accounts, regions, STS and
 * EKS (aws-inventory-core.ts) with EC2 DescribeInstances / StartInstances / StopInstances (aws-ec2.ts)
 * and CloudWatch GetMetricData (aws-cloudwatch.ts). A host whose functions only describe EKS clusters
 * imports createEksInventory from the core instead, so its bundle carries neither client.
 */

export type { AwsInventoryOptions } from './aws-inventory-core.ts';

export function createAwsInventory(opts: AwsInventoryOptions): AwsInventory {
  return createAwsInventoryCore(opts, { ec2: ec2Part, cloudwatch: cloudWatchPart });
}
