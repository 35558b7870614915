/**
 * The alerts toolset's tool function bundle (see functions/lib/tool-function.ts): alerts_outbox_list and
 * alerts_channel_test, with Slack and without the Kubernetes client. TOOL_NAMES picks which of them one
 * deployed function serves.
 */

import { alertsTools } from '../../shared/tools/alerts/toolset.ts';
import { lambdaNotifier } from '../lib/notifier.ts';
import { createToolFunctionHandler } from '../lib/tool-function.ts';

/** The alerts tools, in tools/list order. */
export const tools = alertsTools;

export const handler = createToolFunctionHandler(tools, { env: process.env, notifier: lambdaNotifier });
