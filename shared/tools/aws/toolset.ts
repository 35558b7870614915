import type { AnyTool } from '../tool.ts';
import { awsCloudwatchMetricsGetTool } from './cloudwatch-metrics-get.tool.ts';
import { awsEc2InstancesListTool } from './ec2-instances-list.tool.ts';
import { awsEc2InstancesStartTool } from './ec2-instances-start.tool.ts';
import { awsEc2InstancesStopTool } from './ec2-instances-stop.tool.ts';
import { awsEksClustersDescribeTool } from './eks-clusters-describe.tool.ts';

/** The aws toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/aws.ts) both take them from here. */
export const awsTools: readonly AnyTool[] = [
  awsCloudwatchMetricsGetTool,
  awsEc2InstancesListTool,
  awsEc2InstancesStartTool,
  awsEc2InstancesStopTool,
  awsEksClustersDescribeTool,
];
