import type { Toolset } from '../config/config.ts';
import { coreTools } from './core/toolset.ts';
import { deliveryTools } from './delivery/toolset.ts';
import { k8sTools } from './k8s/toolset.ts';
import { opsTools } from './ops/toolset.ts';
import type { AnyTool } from './tool.ts';
import { selectTools } from './toolsets.ts';

/**
 * Every tool the server offers, in tools/list order (toolset, then name). The README table and the
 * tool tests read this list.
 */
export const allTools: readonly AnyTool[] = selectTools([...coreTools, ...k8sTools, ...deliveryTools, ...opsTools]);

/** The tools a host serves: those of the toolsets TOOLSETS names (config.toolsets; absent: all), in allTools order. */
export function toolsFor(toolsets?: readonly Toolset[]): readonly AnyTool[] {
  return toolsets ? selectTools(allTools, toolsets) : allTools;
}
