import type { AnyTool } from '../tool.ts';
import { gcpComputeInstancesListTool } from './compute-instances-list.tool.ts';
import { gcpComputeInstancesStartTool } from './compute-instances-start.tool.ts';
import { gcpComputeInstancesStopTool } from './compute-instances-stop.tool.ts';
import { gcpGkeClustersDescribeTool } from './gke-clusters-describe.tool.ts';
import { gcpMonitoringTimeseriesQueryTool } from './monitoring-timeseries-query.tool.ts';

/** The gcp toolset's tools, in tools/list order: the registry (shared/tools/index.ts) takes them from
 * here. The AWS deployment serves none of them (GCP_PROJECTS is refused on Lambda); the local host does. */
export const gcpTools: readonly AnyTool[] = [
  gcpComputeInstancesListTool,
  gcpComputeInstancesStartTool,
  gcpComputeInstancesStopTool,
  gcpGkeClustersDescribeTool,
  gcpMonitoringTimeseriesQueryTool,
];
