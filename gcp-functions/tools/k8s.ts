/**
 * The k8s toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the k8s tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { k8sTools } from '../../shared/tools/k8s/toolset.ts';
import { gcpClusters } from '../lib/clusters.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The k8s tools, in tools/list order. */
export const tools = k8sTools;

/** What the toolset's functions reach: the clusters. */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { clusters: gcpClusters };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
