import type { AnyTool } from '../tool.ts';
import { contentTools, greetTool, missingCapabilityTool, progressTool, streamingElicitationTool } from './content.ts';
import { mrtrTools } from './mrtr.ts';
import { customHeaderTool, jsonSchemaTool } from './schemas.ts';
import {
  confirmDeleteTool,
  failingJobTool,
  multiInputTool,
  protocolErrorJobTool,
  slowComputeTool,
  toolWithTaskTool,
} from './tasks.ts';

/**
 * The fixture tools the MCP conformance suite (@modelcontextprotocol/conformance) calls, served only
 * when MCP_CONFORMANCE_FIXTURES=1 on a loopback host (config refuses the flag elsewhere, and the
 * endpoint refuses it on a host that is not loopback). Test-only: never in `allTools`, so never in
 * the README table or the tool snapshots. See docs/conformance.md.
 */
export const conformanceTools: readonly AnyTool[] = [
  greetTool,
  slowComputeTool,
  failingJobTool,
  protocolErrorJobTool,
  confirmDeleteTool,
  multiInputTool,
  toolWithTaskTool,
  ...contentTools,
  missingCapabilityTool,
  streamingElicitationTool,
  progressTool,
  ...mrtrTools,
  jsonSchemaTool,
  customHeaderTool,
];
