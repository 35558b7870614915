import type { AnyTool } from '../tool.ts';
import { alertsChannelTestTool } from './channel-test.tool.ts';
import { alertsOutboxListTool } from './outbox-list.tool.ts';

/** The alerts toolset's tools (drift and cost alerts share them), in tools/list order: the registry and
 * the toolset's function bundle (functions/tools/alerts.ts) both take them from here. */
export const alertsTools: readonly AnyTool[] = [alertsChannelTestTool, alertsOutboxListTool];
