/**
 * The ops toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * ops tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { opsApprovalsDecideTool } from '../../shared/tools/ops/approvals-decide.tool.ts';
import { opsApprovalsListTool } from '../../shared/tools/ops/approvals-list.tool.ts';
import { opsOperationsCancelTool } from '../../shared/tools/ops/operations-cancel.tool.ts';
import { opsOperationsGetTool } from '../../shared/tools/ops/operations-get.tool.ts';
import { opsOperationsListTool } from '../../shared/tools/ops/operations-list.tool.ts';
import { createToolFunctionHandler } from '../lib/tool-function.ts';

/** The ops tools, in tools/list order. */
export const tools = [
  opsOperationsListTool,
  opsOperationsGetTool,
  opsOperationsCancelTool,
  opsApprovalsListTool,
  opsApprovalsDecideTool,
];

export const handler = createToolFunctionHandler(tools);
