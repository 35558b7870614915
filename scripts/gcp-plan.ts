/**
 * The GCP deployment's function and permission plan, the twin of cdk/tool-functions.ts +
 * cdk/tool-permissions.ts: one Cloud Function per tool (from the toolset bundles of
 * gcp-functions/layout.ts) plus the functions that are not tools, each with the IAM roles, secrets
 * and settings its code needs, read off the same permission rows the AWS stack grants from (a GCP
 * column adds what those rows cannot say). terraform/ deploys exactly terraform/functions.json, which
 * this script writes; docs/gcp.md's per-tool table is generated from the same plan.
 *
 *   node scripts/gcp-plan.ts --write   rewrites terraform/functions.json and docs/gcp.md's table
 *   node scripts/gcp-plan.ts --check   fails when either is stale (npm run docs:check)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { permissionsOf, type ToolWeight, WEIGHTS } from '../cdk/tool-permissions.ts';
import { GCP_FUNCTIONS, GCP_TOOLSETS, type GcpToolset, NOT_ON_GCP, toolsetEntry } from '../gcp-functions/layout.ts';

const ROOT = join(import.meta.dirname, '..');
export const FUNCTIONS_JSON = join(ROOT, 'terraform', 'functions.json');
export const GCP_DOC = join(ROOT, 'docs', 'gcp.md');
export const TOOL_MANIFEST = join(ROOT, 'shared', 'tools', 'manifest.json');

/**
 * Where the Firestore adapter keeps items (FIRESTORE_ITEMS_GROUP / FIRESTORE_TTL_FIELD of
 * shared/adapters/gcp/firestore-store.ts; test/infra/terraform.test.ts compares them): terraform puts
 * the TTL policy on this collection group and field.
 */
export const FIRESTORE = { itemsGroup: 'items', ttlField: 'expireAt' } as const;

/** Predefined roles granted in the deployment's own project. */
const DATASTORE_VIEWER = 'roles/datastore.viewer';
const DATASTORE_USER = 'roles/datastore.user';
const WORKFLOWS_INVOKER = 'roles/workflows.invoker';

/**
 * Custom roles (created by terraform in each project of `gcp_projects`), for the Compute calls of the
 * gcp toolset (shared/adapters/gcp/compute.ts): predefined roles/compute.viewer would read every
 * Compute resource, roles/compute.instanceAdmin.v1 would also delete and reconfigure instances.
 */
export const CUSTOM_ROLES = {
  /** instances.list and instances.aggregatedList. */
  instanceLister: ['compute.instances.list'],
  /** instances.get (the judged state), instances.start, instances.stop. */
  instancePower: ['compute.instances.get', 'compute.instances.start', 'compute.instances.stop'],
} as const satisfies Record<string, readonly string[]>;

/** Read GKE clusters (container.clusters.get/list): discovery, describe; Kubernetes RBAC decides the rest. */
const GKE_VIEWER = 'roles/container.clusterViewer';

/**
 * What AWS rows cannot say: the GCP calls of the gcp toolset (rows absent from cdk/tool-permissions.ts,
 * which only lists what AWS deploys), granted in each project of `gcp_projects`.
 */
export const GCP_TOOL_PERMISSIONS: Record<
  string,
  { target: string[]; store?: 'viewer' | 'user'; weight: ToolWeight; why: string }
> = {
  gcp_compute_instances_list: {
    target: ['custom:instanceLister'],
    weight: 'cluster',
    why: 'instances.aggregatedList / list, paged',
  },
  gcp_compute_instances_start: {
    target: ['custom:instancePower'],
    // An approval for a protected instance: requested (put if absent), then consumed (compare-and-set).
    store: 'user',
    weight: 'change',
    why: 'reads the instance and its labels, judges it, starts it',
  },
  gcp_compute_instances_stop: {
    target: ['custom:instancePower'],
    store: 'user',
    weight: 'change',
    why: 'reads the instance and its labels, judges it, stops it',
  },
  gcp_gke_clusters_describe: { target: [GKE_VIEWER], weight: 'cluster', why: 'the cluster and its node pools' },
  gcp_monitoring_timeseries_query: {
    target: ['roles/monitoring.viewer'],
    weight: 'cluster',
    why: 'timeSeries.list, summarized',
  },
};

export type GcpFunctionKind = 'gateway' | 'tool' | 'step' | 'check' | 'slack';

export interface GcpFunctionPlan {
  /** The function's name after the prefix (`<prefix>-<name>`), also the key terraform deploys it by. */
  name: string;
  kind: GcpFunctionKind;
  /** The directory of dist/gcp it is deployed from (one zip each). */
  bundle: string;
  source: string;
  entryPoint: string;
  /** Who may invoke it (roles/run.invoker): `public` = allUsers. */
  caller: 'public' | 'gateway' | 'workflows' | 'scheduler';
  /** The tool it runs (tool functions), else empty. */
  tools: string[];
  /** The tool's toolset (tool functions), else null. */
  toolset: string | null;
  /** Memory comes from terraform's memory_mb[weight]. */
  weight: ToolWeight;
  timeoutSeconds: number;
  /** Roles in the deployment's project. */
  projectRoles: string[];
  /** Roles in each project of gcp_projects (`custom:<name>` = CUSTOM_ROLES), only when that list is set. */
  targetRoles: string[];
  /** Which kubeconfig: `read` = the read-only one when configured, else the write one; `write` = always the write one. */
  kube: 'read' | 'write' | null;
  /** Reads the billing export (GCP_BILLING_TABLE, when set): BigQuery jobs in its project, data on its dataset. */
  billing: boolean;
  /** Sends Slack alerts: reads the Slack alerts secret (when configured). */
  slackAlerts: boolean;
  /** Starts workflow executions (ROLLOUT_WORKFLOW): roles/workflows.invoker. */
  startsWorkflow: boolean;
  /** Queries Prometheus (PROMETHEUS_URL). */
  metrics: boolean;
  /** Told GCP_PROJECTS (GKE discovery, the gcp toolset). */
  gcpProjects: boolean;
  /** Told the gateway's OAuth settings (server_info says how callers sign in). */
  oauth: boolean;
  why: string;
}

export interface GcpPlan {
  generatedBy: string;
  firestore: typeof FIRESTORE;
  customRoles: typeof CUSTOM_ROLES;
  functions: Record<string, GcpFunctionPlan>;
  /** Who reads each secret, computed once here so terraform only filters by what is deployed. */
  secretAccessors: {
    /** The write kubeconfig, when a read-only one is configured too / when it is the only one. */
    kubeconfigWithRead: string[];
    kubeconfigWithoutRead: string[];
    kubeconfigRead: string[];
    slackAlerts: string[];
    slackSigning: string[];
  };
}

const ManifestSchema = z.object({
  tools: z.array(z.object({ name: z.string().min(1).max(128), group: z.string().min(1).max(64) })),
});

export interface GcpTool {
  name: string;
  toolset: GcpToolset;
}

/** The tools the GCP deployment serves (every toolset but NOT_ON_GCP), in tools/list order. */
export function gcpToolCatalog(path = TOOL_MANIFEST): GcpTool[] {
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: not a tool manifest; run node scripts/tool-manifest.ts --write`);
  const known = new Set<string>(GCP_TOOLSETS);
  return parsed.data.tools
    .filter((t) => !NOT_ON_GCP.has(t.group))
    .map((t) => {
      if (!known.has(t.group)) {
        throw new Error(
          `tool ${t.name}: toolset ${t.group} is neither in GCP_TOOLSETS nor NOT_ON_GCP (gcp-functions/layout.ts)`,
        );
      }
      return { name: t.name, toolset: t.group as GcpToolset };
    });
}

/** `k8s_pods_logs` -> `k8s-pods-logs`: Cloud Run names allow lower-case letters, digits and `-`. */
export const functionName = (tool: string) => tool.replace(/_/g, '-');
export const toolsetBundle = (toolset: string) => `tools-${toolset}`;

const storeRole = (store: 'viewer' | 'user' | undefined) =>
  store === 'user' ? [DATASTORE_USER] : store === 'viewer' ? [DATASTORE_VIEWER] : [];

function toolPlan(t: GcpTool): GcpFunctionPlan {
  const entry = toolsetEntry(t.toolset);
  const base = {
    name: functionName(t.name),
    kind: 'tool' as const,
    bundle: toolsetBundle(t.toolset),
    source: entry.source,
    entryPoint: entry.entryPoint,
    caller: entry.caller,
    tools: [t.name],
    toolset: t.toolset,
  };
  const g = GCP_TOOL_PERMISSIONS[t.name];
  if (t.toolset === 'gcp' || g) {
    if (!g)
      throw new Error(`scripts/gcp-plan.ts: no GCP_TOOL_PERMISSIONS row for ${t.name}; add one before deploying it`);
    return {
      ...base,
      weight: g.weight,
      timeoutSeconds: WEIGHTS[g.weight].timeoutSeconds,
      projectRoles: storeRole(g.store),
      targetRoles: [...g.target],
      kube: null,
      billing: false,
      slackAlerts: false,
      startsWorkflow: false,
      metrics: false,
      gcpProjects: true,
      oauth: false,
      why: g.why,
    };
  }
  const p = permissionsOf(t.name);
  const table = p.table ?? [];
  const writes = table.some((a) => a === 'dynamodb:UpdateItem' || a === 'dynamodb:DeleteItem');
  // EKS describe (cloud baselines) is GKE describe here; a kubeconfig tool finds GKE clusters by discovery.
  const gke = p.kube !== undefined || (p.aws ?? []).some((a) => a.startsWith('eks:'));
  return {
    ...base,
    weight: p.weight,
    timeoutSeconds: WEIGHTS[p.weight].timeoutSeconds,
    projectRoles: [
      ...storeRole(table.length === 0 ? undefined : writes ? 'user' : 'viewer'),
      ...(p.startsRollout ? [WORKFLOWS_INVOKER] : []),
    ],
    targetRoles: gke ? [GKE_VIEWER] : [],
    kube: p.kube ?? null,
    billing: p.costExplorer === true,
    slackAlerts: p.slack === true,
    startsWorkflow: p.startsRollout === true,
    metrics: p.metrics === true,
    gcpProjects: gke,
    oauth: t.name === 'server_info',
    why: p.why,
  };
}

type FixedKey = keyof typeof GCP_FUNCTIONS;
/** The functions that are not tools: what each reads, mirroring their AWS twins (cdk/function-env.ts). */
const FIXED: Record<
  FixedKey,
  Pick<
    GcpFunctionPlan,
    | 'kind'
    | 'weight'
    | 'timeoutSeconds'
    | 'projectRoles'
    | 'targetRoles'
    | 'kube'
    | 'billing'
    | 'slackAlerts'
    | 'metrics'
    | 'gcpProjects'
    | 'why'
  >
> = {
  mcp: {
    kind: 'gateway',
    weight: 'change',
    timeoutSeconds: 60,
    // Audit, API keys, MCP tasks (a task cancel that ends an operation releases its lease). No secret, no cluster, no cloud.
    projectRoles: [DATASTORE_USER],
    targetRoles: [],
    kube: null,
    billing: false,
    slackAlerts: false,
    metrics: false,
    gcpProjects: false,
    why: 'MCP, auth, audit, API keys, tasks; calls each tool function with its own ID token',
  },
  'workflow-step': {
    kind: 'step',
    weight: 'change',
    // The workflow's http.post waits 120 s.
    timeoutSeconds: 120,
    projectRoles: [DATASTORE_USER],
    targetRoles: [GKE_VIEWER],
    kube: 'write',
    billing: false,
    slackAlerts: false,
    metrics: true,
    gcpProjects: true,
    why: 'the rollout steps: applies, gates, rolls back',
  },
  'drift-check': {
    kind: 'check',
    weight: 'cluster',
    timeoutSeconds: 300,
    projectRoles: [DATASTORE_USER],
    targetRoles: [GKE_VIEWER],
    kube: 'read',
    billing: false,
    slackAlerts: true,
    metrics: false,
    gcpProjects: true,
    why: 'compares baselines with the clusters, records findings, alerts',
  },
  'cost-check': {
    kind: 'check',
    weight: 'cluster',
    timeoutSeconds: 300,
    projectRoles: [DATASTORE_USER],
    targetRoles: [GKE_VIEWER],
    kube: 'read',
    billing: true,
    slackAlerts: true,
    metrics: false,
    gcpProjects: true,
    why: 'spend (billing export) and namespace cost against the budgets, alerts',
  },
  'usage-sample': {
    kind: 'check',
    weight: 'cluster',
    timeoutSeconds: 300,
    projectRoles: [DATASTORE_USER],
    targetRoles: [GKE_VIEWER],
    kube: 'read',
    billing: false,
    slackAlerts: false,
    metrics: false,
    gcpProjects: true,
    why: 'samples pod requests and usage for cost allocation',
  },
  'slack-actions': {
    kind: 'slack',
    weight: 'store',
    timeoutSeconds: 10,
    projectRoles: [DATASTORE_USER],
    targetRoles: [],
    kube: null,
    billing: false,
    slackAlerts: false,
    metrics: false,
    gcpProjects: false,
    why: 'approve/reject buttons (signed Slack requests, each once)',
  },
};

export function gcpPlan(tools: readonly GcpTool[] = gcpToolCatalog()): GcpPlan {
  const functions: Record<string, GcpFunctionPlan> = {};
  const add = (f: GcpFunctionPlan) => {
    if (functions[f.name]) throw new Error(`two GCP functions are named ${f.name}`);
    functions[f.name] = f;
  };
  for (const [name, fixed] of Object.entries(FIXED) as Array<[FixedKey, (typeof FIXED)[FixedKey]]>) {
    const e = GCP_FUNCTIONS[name];
    add({
      name,
      bundle: name,
      source: e.source,
      entryPoint: e.entryPoint,
      caller: e.caller,
      tools: [],
      toolset: null,
      ...fixed,
      startsWorkflow: false,
      oauth: false,
    });
  }
  for (const t of tools) add(toolPlan(t));
  const all = Object.values(functions);
  const names = (pred: (f: GcpFunctionPlan) => boolean) => all.filter(pred).map((f) => f.name);
  return {
    generatedBy:
      'node scripts/gcp-plan.ts --write (from shared/tools/manifest.json, cdk/tool-permissions.ts, gcp-functions/layout.ts)',
    firestore: FIRESTORE,
    customRoles: CUSTOM_ROLES,
    functions,
    secretAccessors: {
      kubeconfigWithRead: names((f) => f.kube === 'write'),
      kubeconfigWithoutRead: names((f) => f.kube !== null),
      kubeconfigRead: names((f) => f.kube === 'read'),
      slackAlerts: names((f) => f.slackAlerts),
      slackSigning: names((f) => f.kind === 'slack'),
    },
  };
}

/** The bundles `npm run build:gcp` makes: name -> source and entry point. */
export function gcpBundles(plan: GcpPlan = gcpPlan()): Map<string, { source: string; entryPoint: string }> {
  const out = new Map<string, { source: string; entryPoint: string }>();
  for (const f of Object.values(plan.functions)) out.set(f.bundle, { source: f.source, entryPoint: f.entryPoint });
  return out;
}

export const renderFunctionsJson = (plan: GcpPlan = gcpPlan()) => `${JSON.stringify(plan, null, 2)}\n`;

const BEGIN = '<!-- gcp-functions:begin (generated by node scripts/gcp-plan.ts --write; do not edit) -->';
const END = '<!-- gcp-functions:end -->';

const roleText = (r: string) => (r.startsWith('custom:') ? `\`${r.slice(7)}\` (custom)` : `\`${r}\``);

/** docs/gcp.md's per-function table. */
export function gcpFunctionsTable(plan: GcpPlan = gcpPlan()): string {
  const rows = Object.values(plan.functions).map((f) => {
    const kube = f.kube === 'read' ? 'read-only (the write one if none is set)' : f.kube === 'write' ? 'write' : '—';
    const other = [
      ...(f.startsWorkflow ? ['starts the rollout workflow'] : []),
      ...(f.billing
        ? ['BigQuery `roles/bigquery.jobUser` + `roles/bigquery.dataViewer` on the billing export dataset, when set']
        : []),
      ...(f.slackAlerts ? ['the Slack alerts secret, when set'] : []),
      ...(f.kind === 'slack' ? ['the Slack signing secret'] : []),
      ...(f.metrics ? ['Prometheus (network)'] : []),
    ];
    const mem = `${WEIGHTS[f.weight].memoryMb} MB`;
    return `| ${f.tools.length ? `\`${f.tools[0]}\`` : `(${f.name})`} | \`${f.name}\` | ${f.caller === 'public' ? 'allUsers' : f.caller} | ${f.projectRoles.map(roleText).join(', ') || '—'} | ${f.targetRoles.map(roleText).join(', ') || '—'} | ${kube} | ${other.join('; ') || '—'} | ${f.timeoutSeconds} s, ${mem} | ${f.why} |`;
  });
  return [
    BEGIN,
    `${Object.keys(plan.functions).length} functions (${Object.values(plan.functions).filter((f) => f.kind === 'tool').length} tools). Each runs as its own service account (\`<prefix>-<function>\`, shortened with a hash where GCP's 30 characters need it)`,
    'and may be invoked (roles/run.invoker on its Cloud Run service) only by the caller named here.',
    '"project roles" are granted in the deployment project, "in gcp_projects" in each listed project (only when the list is set).',
    '',
    '| tool | function | invoked by | project roles | in gcp_projects | kubeconfig secret | other | timeout, memory (default) | why |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    END,
  ].join('\n');
}

export function renderGcpDoc(doc: string, plan?: GcpPlan): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/gcp.md has no ${BEGIN} … ${END} section`);
  return doc.slice(0, start) + gcpFunctionsTable(plan) + doc.slice(end + END.length);
}

/** The committed plan says the same as the generated one (compared as data: biome formats the file). */
export function functionsJsonIsCurrent(text: string, plan: GcpPlan = gcpPlan()): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(plan);
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const plan = gcpPlan();
  const write = process.argv.includes('--write');
  const stale: string[] = [];
  if (!functionsJsonIsCurrent(readOr(FUNCTIONS_JSON), plan)) {
    stale.push(FUNCTIONS_JSON);
    if (write) {
      writeFileSync(FUNCTIONS_JSON, renderFunctionsJson(plan));
      // The repository's formatter owns the layout of committed JSON (npm run lint checks it).
      spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', FUNCTIONS_JSON], {
        stdio: 'ignore',
      });
    }
  }
  const doc = readOr(GCP_DOC);
  const nextDoc = renderGcpDoc(doc, plan);
  if (doc !== nextDoc) {
    stale.push(GCP_DOC);
    if (write) writeFileSync(GCP_DOC, nextDoc);
  }
  if (write) for (const path of stale) console.log(`${path} updated`);
  else if (stale.length > 0) {
    for (const path of stale) console.error(`${path} is stale: run \`node scripts/gcp-plan.ts --write\``);
    process.exit(1);
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
