/**
 * The delivery toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * delivery tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { deliveryTools } from '../../shared/tools/delivery/toolset.ts';
import { lambdaClusters } from '../lib/clusters.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';
import { stepFunctionsWorkflows } from '../lib/workflows.ts';

/** The delivery tools, in tools/list order. */
export const tools = deliveryTools;

/** What the toolset's functions reach: the clusters, and Step Functions (delivery_rollouts_start). */
export const reach: Omit<ToolFunctionOptions, 'env'> = { clusters: lambdaClusters, workflows: stepFunctionsWorkflows };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
