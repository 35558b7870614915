/**
 * The cost toolset's tool function bundle (see functions/lib/tool-function.ts): the cost tools, the
 * Kubernetes client (right-sizing reads replicas and HPAs; the clusters are listed) and Cost
 * Explorer (COST_AWS). TOOL_NAMES picks which of them one deployed function serves.
 */

import { costTools } from '../../shared/tools/cost/toolset.ts';
import { lambdaClusters } from '../lib/clusters.ts';
import { lambdaCostSources } from '../lib/cost.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The cost tools, in tools/list order. */
export const tools = costTools;

/** What the toolset's functions reach: the clusters and the spend sources. */
export const reach: Omit<ToolFunctionOptions, 'env'> = { clusters: lambdaClusters, costSources: lambdaCostSources };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
