import type { Toolset } from '../config/config.ts';
import { alertsTools } from './alerts/toolset.ts';
import { awsTools } from './aws/toolset.ts';
import { coreTools } from './core/toolset.ts';
import { costTools } from './cost/toolset.ts';
import { deliveryTools } from './delivery/toolset.ts';
import { driftTools } from './drift/toolset.ts';
import { gcpTools } from './gcp/toolset.ts';
import { k8sTools } from './k8s/toolset.ts';
import { opsTools } from './ops/toolset.ts';
import type { AnyTool } from './tool.ts';
import { selectTools, sortTools } from './toolsets.ts';

/**
 * Every tool the server offers, in tools/list order (toolset, then name). The README table and the
 * tool tests read this list.
 */
export const allTools: readonly AnyTool[] = sortTools([
  ...coreTools,
  ...k8sTools,
  ...deliveryTools,
  ...opsTools,
  ...driftTools,
  ...alertsTools,
  ...costTools,
  ...awsTools,
  ...gcpTools,
]);

/** The tools a host serves: those of the toolsets TOOLSETS names (config.toolsets; absent: DEFAULT_TOOLSETS), in allTools order. */
export function toolsFor(toolsets?: readonly Toolset[]): readonly AnyTool[] {
  return selectTools(allTools, toolsets);
}
