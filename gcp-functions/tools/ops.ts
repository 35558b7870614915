/**
 * The ops toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the ops tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { opsTools } from '../../shared/tools/ops/toolset.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The ops tools, in tools/list order. */
export const tools = opsTools;

/** What the toolset's functions reach: nothing beyond the store (no cluster, no cloud). */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = {};

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
