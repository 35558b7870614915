/**
 * The delivery toolset's tool function bundle (see functions/lib/tool-function.ts): it imports only the
 * delivery tools, so a function of this toolset carries no other tool's code. TOOL_NAMES picks which of
 * them one deployed function serves (perTool: one; perToolset: all of them).
 */

import { deliveryRolloutsAbortTool } from '../../shared/tools/delivery/rollouts-abort.tool.ts';
import { deliveryRolloutsGetTool } from '../../shared/tools/delivery/rollouts-get.tool.ts';
import { deliveryRolloutsPlanTool } from '../../shared/tools/delivery/rollouts-plan.tool.ts';
import { deliveryRolloutsPromoteTool } from '../../shared/tools/delivery/rollouts-promote.tool.ts';
import { deliveryRolloutsStartTool } from '../../shared/tools/delivery/rollouts-start.tool.ts';
import { createToolFunctionHandler } from '../lib/tool-function.ts';

/** The delivery tools, in tools/list order. */
export const tools = [
  deliveryRolloutsPlanTool,
  deliveryRolloutsStartTool,
  deliveryRolloutsGetTool,
  deliveryRolloutsPromoteTool,
  deliveryRolloutsAbortTool,
];

export const handler = createToolFunctionHandler(tools);
