/**
 * The alerts toolset's tool function bundle (see functions/lib/tool-function.ts): alerts_outbox_list and
 * alerts_channel_test, with Slack and without the Kubernetes client. TOOL_NAMES picks which of them one
 * deployed function serves.
 */

import { alertsTools } from '../../shared/tools/alerts/toolset.ts';
import { lambdaNotifier } from '../lib/notifier.ts';
import { createToolFunctionHandler, type ToolFunctionOptions } from '../lib/tool-function.ts';

/** The alerts tools, in tools/list order. */
export const tools = alertsTools;

/** What the toolset's functions reach: the alert channel (no cluster). */
export const reach: Omit<ToolFunctionOptions, 'env'> = { notifier: lambdaNotifier };

export const handler = createToolFunctionHandler(tools, { env: process.env, ...reach });
