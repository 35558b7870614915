/**
 * The k8s toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * k8s tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { k8sApiResourcesListTool } from '../../shared/tools/k8s/api-resources-list.tool.ts';
import { k8sClustersListTool } from '../../shared/tools/k8s/clusters-list.tool.ts';
import { k8sEventsListTool } from '../../shared/tools/k8s/events-list.tool.ts';
import { k8sMetricsTopTool } from '../../shared/tools/k8s/metrics-top.tool.ts';
import { k8sNamespacesListTool } from '../../shared/tools/k8s/namespaces-list.tool.ts';
import { k8sPodsLogsTool } from '../../shared/tools/k8s/pods-logs.tool.ts';
import { k8sResourcesApplyTool } from '../../shared/tools/k8s/resources-apply.tool.ts';
import { k8sResourcesDeleteTool } from '../../shared/tools/k8s/resources-delete.tool.ts';
import { k8sResourcesGetTool } from '../../shared/tools/k8s/resources-get.tool.ts';
import { k8sResourcesListTool } from '../../shared/tools/k8s/resources-list.tool.ts';
import { k8sResourcesPatchTool } from '../../shared/tools/k8s/resources-patch.tool.ts';
import { k8sRolloutsHistoryTool } from '../../shared/tools/k8s/rollouts-history.tool.ts';
import { k8sRolloutsRestartTool } from '../../shared/tools/k8s/rollouts-restart.tool.ts';
import { k8sRolloutsStatusTool } from '../../shared/tools/k8s/rollouts-status.tool.ts';
import { k8sRolloutsUndoTool } from '../../shared/tools/k8s/rollouts-undo.tool.ts';
import { k8sWorkloadsScaleTool } from '../../shared/tools/k8s/workloads-scale.tool.ts';
import { createToolFunctionHandler } from '../lib/tool-function.ts';

/** The k8s tools, in tools/list order. */
export const tools = [
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

export const handler = createToolFunctionHandler(tools);
