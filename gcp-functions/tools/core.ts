/**
 * The core toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the core tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { coreTools } from '../../shared/tools/core/toolset.ts';
import { gcpClusters } from '../lib/clusters.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The core tools, in tools/list order. */
export const tools = coreTools;

/** What the toolset's functions reach: the clusters. */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { clusters: gcpClusters };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
