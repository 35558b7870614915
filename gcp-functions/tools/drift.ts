/**
 * The drift toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the drift tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { driftTools } from '../../shared/tools/drift/toolset.ts';
import { gcpCloud } from '../lib/cloud.ts';
import { gcpClusters } from '../lib/clusters.ts';
import { gcpNotifier } from '../lib/notifier.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The drift tools, in tools/list order. */
export const tools = driftTools;

/** What the toolset's functions reach: the clusters, GCP (cloud drift of GKE clusters) and Slack. */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = {
  clusters: gcpClusters,
  cloud: gcpCloud,
  notifier: gcpNotifier,
};

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
