/**
 * The core toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * core tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { adminConfigGetTool } from '../../shared/tools/core/admin-config-get.tool.ts';
import { auditEventsListTool } from '../../shared/tools/core/audit-events-list.tool.ts';
import { serverInfoTool } from '../../shared/tools/core/server-info.tool.ts';
import { createToolFunctionHandler } from '../lib/tool-function.ts';

/** The core tools, in tools/list order. */
export const tools = [serverInfoTool, auditEventsListTool, adminConfigGetTool];

export const handler = createToolFunctionHandler(tools);
