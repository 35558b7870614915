import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { Access } from '../shared/domain/identity.ts';
import { AWS_ACTION_RESOURCES, type AwsAction, permissionsOf, type TableAction, WEIGHTS } from './tool-permissions.ts';

/*
 * Which Lambda functions run the tools, and what each may touch: planned here from the tool
 * definitions (name, toolset, access) and the permission table, so the stack, the environment
 * check and docs/aws.md all read the same plan.
 */

export const FUNCTION_LAYOUTS = ['perTool', 'perToolset', 'single'] as const;
/** perTool: one function per tool (most isolation); perToolset: one per toolset; single: one for all (fewest cold starts). */
export type FunctionLayout = (typeof FUNCTION_LAYOUTS)[number];

export interface ToolInfo {
  name: string;
  toolset: string;
  access: Access;
}

/** The part of shared/tools/manifest.json the stack reads. */
const AccessSchema = z.enum(['read', 'write', 'approve', 'admin']) satisfies z.ZodType<Access>;
const ManifestSchema = z.object({
  tools: z.array(
    z.object({ name: z.string().min(1).max(128), group: z.string().min(1).max(64), access: AccessSchema }),
  ),
});

export const TOOL_MANIFEST = join(import.meta.dirname, '..', 'shared', 'tools', 'manifest.json');

/**
 * Every tool the AWS deployment offers (all but the NOT_ON_AWS toolsets), in tools/list order, from the build-time manifest the gateway lists
 * tools from (generated from the definitions and compared with them by a test): the stack deploys a
 * function for exactly the tools the gateway shows, without loading any tool's implementation.
 */
export function toolCatalog(path = TOOL_MANIFEST): ToolInfo[] {
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${path}: not a tool manifest (${parsed.error.issues[0]?.message}); run node scripts/tool-manifest.ts --write`,
    );
  }
  return parsed.data.tools
    .filter((t) => !NOT_ON_AWS.has(t.group))
    .map((t) => ({ name: t.name, toolset: t.group, access: t.access }));
}

/**
 * Toolsets the AWS deployment does not serve: the gcp tools need Google credentials, which the AWS
 * functions do not carry (GCP_PROJECTS fails their cold start); the GCP deployment serves them.
 */
export const NOT_ON_AWS: ReadonlySet<string> = new Set(['gcp']);

/** The bundle entry of a toolset's tool functions (helper A's host): it imports that toolset's tools only. */
export const toolsetEntry = (toolset: string) => `functions/tools/${toolset}.ts`;
/** The entry that serves every tool (layout `single`). */
export const ALL_TOOLS_ENTRY = 'functions/tool.ts';

export interface ToolFunctionPlan {
  /** Construct id: `Tool<Name>`, `Toolset<Name>` or `Tools`. */
  id: string;
  /** What it serves, for people: the tool's name, `<toolset> toolset` or `all tools`. */
  label: string;
  entry: string;
  tools: ToolInfo[];
  /** Which kubeconfig secrets it may read (and is told about). */
  secrets: { read: boolean; write: boolean };
  /** Some of its tools reach a cluster (a `kube` row): it gets the cluster settings and, with discovery, the EKS grants. */
  reachesClusters: boolean;
  /** The tools that run over the read-only credential (KUBECONFIG_READ_TOOLS): those whose row says `kube: 'read'`, when it is granted. */
  readTools: string[];
  table: TableAction[];
  startsRollout: boolean;
  metrics: boolean;
  /** Reads the Slack alerts secret and is told about it (SLACK_ALERTS_SECRET, SLACK_CHANNEL). */
  slack: boolean;
  /** AWS API actions its tools call (their rows' `aws`), in AWS_ACTION_ORDER; it gets the AWS settings with any. */
  awsActions: AwsAction[];
  /** Some of its tools read cloud spend (a `costExplorer` row): the cost settings, and Cost Explorer with costAws. */
  readsCost: boolean;
  timeoutSeconds: number;
  memoryMb: number;
}

const pascal = (s: string) => s.replace(/(^|[^A-Za-z0-9])([a-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

const AWS_ACTION_ORDER = Object.keys(AWS_ACTION_RESOURCES) as AwsAction[];

/** A stable order for action lists (the tests compare them sorted too). */
const TABLE_ORDER: TableAction[] = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * One function's grants: the union of its tools' rows. Which kubeconfig a tool runs over is its row's
 * `kube`, told to the function by name (KUBECONFIG_READ_TOOLS): the read-only credential for `read`
 * rows when the deployment has one, the write credential for `write` rows (and for `read` rows when
 * there is no read-only one). A function serving both kinds holds both.
 */
function grantsOf(
  tools: ToolInfo[],
  configured: { read: boolean; write: boolean },
): Omit<ToolFunctionPlan, 'id' | 'label' | 'entry' | 'tools'> {
  const rows = tools.map((t) => ({ tool: t, p: permissionsOf(t.name) }));
  const readWanted = rows.some((r) => r.p.kube === 'read');
  const read = configured.read && readWanted;
  const write = configured.write && (rows.some((r) => r.p.kube === 'write') || (readWanted && !read));
  const table = new Set(rows.flatMap((r) => r.p.table ?? []));
  const weights = rows.map((r) => WEIGHTS[r.p.weight]);
  return {
    secrets: { read, write },
    reachesClusters: rows.some((r) => r.p.kube !== undefined),
    readTools: read ? rows.filter((r) => r.p.kube === 'read').map((r) => r.tool.name) : [],
    table: TABLE_ORDER.filter((a) => table.has(a)),
    startsRollout: rows.some((r) => r.p.startsRollout === true),
    metrics: rows.some((r) => r.p.metrics === true),
    slack: rows.some((r) => r.p.slack === true),
    awsActions: AWS_ACTION_ORDER.filter((a) => rows.some((r) => r.p.aws?.includes(a))),
    readsCost: rows.some((r) => r.p.costExplorer === true),
    timeoutSeconds: Math.max(...weights.map((w) => w.timeoutSeconds)),
    memoryMb: Math.max(...weights.map((w) => w.memoryMb)),
  };
}

/**
 * The tool functions of a layout. `configured` says which kubeconfig secrets the deployment has
 * (kubeconfigReadSecretArn, kubeconfigSecretArn).
 */
export function planToolFunctions(
  tools: readonly ToolInfo[],
  layout: FunctionLayout,
  configured: { read: boolean; write: boolean },
): ToolFunctionPlan[] {
  if (tools.length === 0) return [];
  const names = new Set<string>();
  for (const t of tools) {
    if (names.has(t.name)) throw new Error(`tool ${t.name} is defined twice`);
    names.add(t.name);
  }
  if (layout === 'single') {
    return [
      {
        id: 'Tools',
        label: 'all tools',
        entry: ALL_TOOLS_ENTRY,
        tools: [...tools],
        ...grantsOf([...tools], configured),
      },
    ];
  }
  if (layout === 'perToolset') {
    const sets = [...new Set(tools.map((t) => t.toolset))];
    return sets.map((toolset) => {
      const served = tools.filter((t) => t.toolset === toolset);
      return {
        id: `Toolset${pascal(toolset)}`,
        label: `${toolset} toolset`,
        entry: toolsetEntry(toolset),
        tools: served,
        ...grantsOf(served, configured),
      };
    });
  }
  return tools.map((t) => ({
    id: `Tool${pascal(t.name)}`,
    label: t.name,
    entry: toolsetEntry(t.toolset),
    tools: [t],
    ...grantsOf([t], configured),
  }));
}
