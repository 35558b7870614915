/**
 * The ops toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * ops tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { opsTools } from '../../shared/tools/ops/toolset.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The ops tools, in tools/list order. */
export const tools = opsTools;

/** What the toolset's functions reach: nothing but the table (no cluster, no workflow engine). */
export const reach: Omit<ToolFunctionOptions, 'env'> = {};

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
