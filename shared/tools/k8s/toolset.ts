import type { AnyTool } from '../tool.ts';
import { k8sApiResourcesListTool } from './api-resources-list.tool.ts';
import { k8sClustersListTool } from './clusters-list.tool.ts';
import { k8sEventsListTool } from './events-list.tool.ts';
import { k8sMetricsTopTool } from './metrics-top.tool.ts';
import { k8sNamespacesListTool } from './namespaces-list.tool.ts';
import { k8sPodsLogsTool } from './pods-logs.tool.ts';
import { k8sResourcesApplyTool } from './resources-apply.tool.ts';
import { k8sResourcesDeleteTool } from './resources-delete.tool.ts';
import { k8sResourcesGetTool } from './resources-get.tool.ts';
import { k8sResourcesListTool } from './resources-list.tool.ts';
import { k8sResourcesPatchTool } from './resources-patch.tool.ts';
import { k8sRolloutsHistoryTool } from './rollouts-history.tool.ts';
import { k8sRolloutsRestartTool } from './rollouts-restart.tool.ts';
import { k8sRolloutsStatusTool } from './rollouts-status.tool.ts';
import { k8sRolloutsUndoTool } from './rollouts-undo.tool.ts';
import { k8sWorkloadsScaleTool } from './workloads-scale.tool.ts';

/** The k8s toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/k8s.ts) both take them from here. */
export const k8sTools: readonly AnyTool[] = [
  k8sClustersListTool,
  k8sApiResourcesListTool,
  k8sNamespacesListTool,
  k8sResourcesListTool,
  k8sResourcesGetTool,
  k8sResourcesApplyTool,
  k8sResourcesPatchTool,
  k8sResourcesDeleteTool,
  k8sPodsLogsTool,
  k8sEventsListTool,
  k8sMetricsTopTool,
  k8sWorkloadsScaleTool,
  k8sRolloutsStatusTool,
  k8sRolloutsRestartTool,
  k8sRolloutsHistoryTool,
  k8sRolloutsUndoTool,
];
