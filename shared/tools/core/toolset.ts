import type { AnyTool } from '../tool.ts';
import { adminConfigGetTool } from './admin-config-get.tool.ts';
import { auditEventsListTool } from './audit-events-list.tool.ts';
import { serverInfoTool } from './server-info.tool.ts';

/** The core toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/core.ts) both take them from here. */
export const coreTools: readonly AnyTool[] = [serverInfoTool, auditEventsListTool, adminConfigGetTool];
