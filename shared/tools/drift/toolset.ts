import type { AnyTool } from '../tool.ts';
import { driftBaselinesAdoptTool } from './baselines-adopt.tool.ts';
import { driftChecksRunTool } from './checks-run.tool.ts';
import { driftFindingsListTool } from './findings-list.tool.ts';

/** The drift toolset's tools, in tools/list order: the registry (shared/tools/index.ts) and the toolset's
 * function bundle (functions/tools/drift.ts) both take them from here. */
export const driftTools: readonly AnyTool[] = [driftBaselinesAdoptTool, driftChecksRunTool, driftFindingsListTool];
