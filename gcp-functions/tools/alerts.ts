/**
 * The alerts toolset's tool function bundle on GCP (see gcp-functions/lib/tool-function.ts): it imports
 * only the alerts tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks
 * which of them one deployed function serves; the entry point is `tool` (gcp-functions/layout.ts).
 */
import { http } from '@google-cloud/functions-framework';
import { alertsTools } from '../../shared/tools/alerts/toolset.ts';
import { gcpNotifier } from '../lib/notifier.ts';
import { createGcpToolFunction, type GcpToolFunctionOptions } from '../lib/tool-function.ts';

/** The alerts tools, in tools/list order. */
export const tools = alertsTools;

/** What the toolset's functions reach: Slack. */
export const reach: Omit<GcpToolFunctionOptions, 'env'> = { notifier: gcpNotifier };

export const handler = createGcpToolFunction(tools, { env: process.env, ...reach });
http('tool', handler);
