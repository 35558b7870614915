import type { Toolset } from '../config/config.ts';
import { adminConfigGetTool } from './core/admin-config-get.tool.ts';
import { auditEventsListTool } from './core/audit-events-list.tool.ts';
import { serverInfoTool } from './core/server-info.tool.ts';
import { deliveryRolloutsAbortTool } from './delivery/rollouts-abort.tool.ts';
import { deliveryRolloutsGetTool } from './delivery/rollouts-get.tool.ts';
import { deliveryRolloutsPlanTool } from './delivery/rollouts-plan.tool.ts';
import { deliveryRolloutsPromoteTool } from './delivery/rollouts-promote.tool.ts';
import { deliveryRolloutsStartTool } from './delivery/rollouts-start.tool.ts';
import { k8sApiResourcesListTool } from './k8s/api-resources-list.tool.ts';
import { k8sClustersListTool } from './k8s/clusters-list.tool.ts';
import { k8sEventsListTool } from './k8s/events-list.tool.ts';
import { k8sMetricsTopTool } from './k8s/metrics-top.tool.ts';
import { k8sNamespacesListTool } from './k8s/namespaces-list.tool.ts';
import { k8sPodsLogsTool } from './k8s/pods-logs.tool.ts';
import { k8sResourcesApplyTool } from './k8s/resources-apply.tool.ts';
import { k8sResourcesDeleteTool } from './k8s/resources-delete.tool.ts';
import { k8sResourcesGetTool } from './k8s/resources-get.tool.ts';
import { k8sResourcesListTool } from './k8s/resources-list.tool.ts';
import { k8sResourcesPatchTool } from './k8s/resources-patch.tool.ts';
import { k8sRolloutsHistoryTool } from './k8s/rollouts-history.tool.ts';
import { k8sRolloutsRestartTool } from './k8s/rollouts-restart.tool.ts';
import { k8sRolloutsStatusTool } from './k8s/rollouts-status.tool.ts';
import { k8sRolloutsUndoTool } from './k8s/rollouts-undo.tool.ts';
import { k8sWorkloadsScaleTool } from './k8s/workloads-scale.tool.ts';
import { opsApprovalsDecideTool } from './ops/approvals-decide.tool.ts';
import { opsApprovalsListTool } from './ops/approvals-list.tool.ts';
import { opsOperationsCancelTool } from './ops/operations-cancel.tool.ts';
import { opsOperationsGetTool } from './ops/operations-get.tool.ts';
import { opsOperationsListTool } from './ops/operations-list.tool.ts';
import type { AnyTool } from './tool.ts';
import { selectTools } from './toolsets.ts';

/**
 * Every tool the server offers, in tools/list order (toolset, then name). The README table and the
 * tool tests read this list.
 */
export const allTools: readonly AnyTool[] = selectTools([
  serverInfoTool,
  auditEventsListTool,
  adminConfigGetTool,
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
  deliveryRolloutsPlanTool,
  deliveryRolloutsStartTool,
  deliveryRolloutsGetTool,
  deliveryRolloutsPromoteTool,
  deliveryRolloutsAbortTool,
  opsOperationsListTool,
  opsOperationsGetTool,
  opsOperationsCancelTool,
  opsApprovalsListTool,
  opsApprovalsDecideTool,
]);

/** The tools a host serves: those of the toolsets TOOLSETS names (config.toolsets; absent: all), in allTools order. */
export function toolsFor(toolsets?: readonly Toolset[]): readonly AnyTool[] {
  return toolsets ? selectTools(allTools, toolsets) : allTools;
}
