/**
 * The cost toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the cost tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { costTools } from '../../shared/tools/cost/toolset.ts';
import { gcpClusters } from '../lib/clusters.ts';
import { gcpCostSources } from '../lib/cost.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The cost tools, in tools/list order. */
export const tools = costTools;

/** What the toolset's functions reach: the clusters and the Cloud Billing export. */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { clusters: gcpClusters, costSources: gcpCostSources };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
