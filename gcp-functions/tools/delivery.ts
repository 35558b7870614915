/**
 * The delivery toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the delivery tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { deliveryTools } from '../../shared/tools/delivery/toolset.ts';
import { gcpClusters } from '../lib/clusters.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';
import { cloudWorkflows } from '../lib/workflows.ts';

/** The delivery tools, in tools/list order. */
export const tools = deliveryTools;

/** What the toolset's functions reach: the clusters, and Cloud Workflows (delivery_rollouts_start). */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { clusters: gcpClusters, workflows: cloudWorkflows };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
