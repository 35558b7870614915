import type { AnyTool } from '../tool.ts';
import { costBudgetsListTool } from './budgets-list.tool.ts';
import { costRecommendationsListTool } from './recommendations-list.tool.ts';
import { costReportsGetTool } from './reports-get.tool.ts';
import { costWorkloadsListTool } from './workloads-list.tool.ts';

/** The cost toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/cost.ts) both take them from here. */
export const costTools: readonly AnyTool[] = [
  costBudgetsListTool,
  costRecommendationsListTool,
  costReportsGetTool,
  costWorkloadsListTool,
];
