/**
 * The Cloud Functions (gen2) the GCP deployment runs, in one place: `npm run build:gcp` bundles each
 * `source` into its own directory, terraform/ deploys one function per entry (and one per tool from
 * the toolset bundles), and the tests check that each bundle registers its `entryPoint` with the
 * functions framework. Every function is HTTP-triggered and private (roles/run.invoker only for its
 * caller) except the gateway and Slack actions, which the internet reaches.
 */

/** The toolsets deployed on GCP: every one but `aws` (a GCP function holds no AWS credentials). */
export const GCP_TOOLSETS = ['core', 'k8s', 'delivery', 'ops', 'drift', 'alerts', 'cost', 'gcp'] as const;
export type GcpToolset = (typeof GCP_TOOLSETS)[number];
/** Toolsets not deployed on GCP. */
export const NOT_ON_GCP: ReadonlySet<string> = new Set(['aws']);

export interface GcpFunctionEntry {
  /** The bundle's source, relative to the project root. */
  source: string;
  /** The name the bundle registers with functions-framework (`http(entryPoint, handler)`): gen2's entry_point. */
  entryPoint: string;
  /** Who calls it: `public` (the internet; the function authenticates itself), or the caller whose OIDC token it accepts. */
  caller: 'public' | 'gateway' | 'workflows' | 'scheduler';
}

/** The functions that are not tools. */
export const GCP_FUNCTIONS = {
  mcp: { source: 'gcp-functions/mcp.ts', entryPoint: 'mcp', caller: 'public' },
  'workflow-step': { source: 'gcp-functions/workflow-step.ts', entryPoint: 'workflowStep', caller: 'workflows' },
  'drift-check': { source: 'gcp-functions/drift-check.ts', entryPoint: 'driftCheck', caller: 'scheduler' },
  'cost-check': { source: 'gcp-functions/cost-check.ts', entryPoint: 'costCheck', caller: 'scheduler' },
  'usage-sample': { source: 'gcp-functions/usage-sample.ts', entryPoint: 'usageSample', caller: 'scheduler' },
  'slack-actions': { source: 'gcp-functions/slack-actions.ts', entryPoint: 'slackActions', caller: 'public' },
} as const satisfies Record<string, GcpFunctionEntry>;

/** Each toolset's bundle; one function per tool is deployed from it, TOOL_NAMES naming the tool. */
export function toolsetEntry(toolset: GcpToolset): GcpFunctionEntry {
  return { source: `gcp-functions/tools/${toolset}.ts`, entryPoint: 'tool', caller: 'gateway' };
}
