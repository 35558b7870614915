import type { AnyTool } from '../mcp/tool.ts';
import { adminConfigGetTool } from './core/admin-config-get.tool.ts';
import { auditEventsListTool } from './core/audit-events-list.tool.ts';
import { serverInfoTool } from './core/server-info.tool.ts';

/** Every tool the server offers. The README table and the tool tests read this list. */
export const allTools: readonly AnyTool[] = [serverInfoTool, auditEventsListTool, adminConfigGetTool];
