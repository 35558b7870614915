/**
 * The drift toolset's tool function bundle (see functions/lib/tool-function.ts): the drift tools, the
 * Kubernetes client (checks and adoption read the cluster), AWS (cloud baselines: EKS clusters only,
 * functions/lib/eks-cloud.ts, so no EC2 or CloudWatch client) and Slack (a check sends its alerts).
 * TOOL_NAMES picks which of them one deployed function serves.
 */

import { driftTools } from '../../shared/tools/drift/toolset.ts';
import { lambdaClusters } from '../lib/clusters.ts';
import { lambdaEksCloud } from '../lib/eks-cloud.ts';
import { lambdaNotifier } from '../lib/notifier.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The drift tools, in tools/list order. */
export const tools = driftTools;

/** What the toolset's functions reach: the clusters, the clouds (EKS) and the alert channel. */
export const reach: Omit<ToolFunctionOptions, 'env'> = {
  clusters: lambdaClusters,
  cloud: lambdaEksCloud,
  notifier: lambdaNotifier,
};

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
