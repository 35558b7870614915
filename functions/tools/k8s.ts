/**
 * The k8s toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * k8s tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { k8sTools } from '../../shared/tools/k8s/toolset.ts';
import { lambdaClusters } from '../lib/clusters.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The k8s tools, in tools/list order. */
export const tools = k8sTools;

/** What the toolset's functions reach: the clusters. */
export const reach: Omit<ToolFunctionOptions, 'env'> = { clusters: lambdaClusters };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
