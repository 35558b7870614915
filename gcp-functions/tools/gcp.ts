/**
 * The gcp toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the gcp tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { gcpTools } from '../../shared/tools/gcp/toolset.ts';
import { gcpCloud } from '../lib/cloud.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The gcp tools, in tools/list order. */
export const tools = gcpTools;

/** What the toolset's functions reach: GCP (GKE, Compute Engine, Cloud Monitoring). */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { cloud: gcpCloud };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
