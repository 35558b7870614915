import type { AnyTool } from '../tool.ts';
import { opsApprovalsDecideTool } from './approvals-decide.tool.ts';
import { opsApprovalsListTool } from './approvals-list.tool.ts';
import { opsOperationsCancelTool } from './operations-cancel.tool.ts';
import { opsOperationsGetTool } from './operations-get.tool.ts';
import { opsOperationsListTool } from './operations-list.tool.ts';

/** The ops toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/ops.ts) both take them from here. */
export const opsTools: readonly AnyTool[] = [
  opsOperationsListTool,
  opsOperationsGetTool,
  opsOperationsCancelTool,
  opsApprovalsListTool,
  opsApprovalsDecideTool,
];
