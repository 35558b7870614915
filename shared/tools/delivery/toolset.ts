import type { AnyTool } from '../tool.ts';
import { deliveryRolloutsAbortTool } from './rollouts-abort.tool.ts';
import { deliveryRolloutsGetTool } from './rollouts-get.tool.ts';
import { deliveryRolloutsPlanTool } from './rollouts-plan.tool.ts';
import { deliveryRolloutsPromoteTool } from './rollouts-promote.tool.ts';
import { deliveryRolloutsStartTool } from './rollouts-start.tool.ts';

/** The delivery toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/delivery.ts) both take them from here. */
export const deliveryTools: readonly AnyTool[] = [
  deliveryRolloutsPlanTool,
  deliveryRolloutsStartTool,
  deliveryRolloutsGetTool,
  deliveryRolloutsPromoteTool,
  deliveryRolloutsAbortTool,
];
