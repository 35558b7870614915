/**
 * The core toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * core tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { coreTools } from '../../shared/tools/core/toolset.ts';
import { lambdaClusters } from '../lib/clusters.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The core tools, in tools/list order. */
export const tools = coreTools;

/** What the toolset's functions reach: the clusters. */
export const reach: Omit<ToolFunctionOptions, 'env'> = { clusters: lambdaClusters };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
