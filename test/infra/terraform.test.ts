// biome-ignore-all lint/suspicious/noTemplateCurlyInString: terraform interpolations (`${...}`) as the HCL parser returns them
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GCP_FUNCTIONS, type GCP_TOOLSETS, toolsetEntry } from '../../gcp-functions/layout.ts';
import {
  bundleFunction,
  FRAMEWORK,
  frameworkVersion,
  registersEntryPoint,
  sourceProblems,
} from '../../scripts/gcp-build.ts';
import {
  FIRESTORE,
  FUNCTIONS_JSON,
  functionsJsonIsCurrent,
  type GcpPlan,
  gcpBundles,
  gcpToolCatalog,
} from '../../scripts/gcp-plan.ts';
import { parseToolFunctions } from '../../shared/adapters/gcp/cloud-function-tool-runner.ts';

/*
 * The GCP deployment, offline: terraform fmt; every .tf parsed with HashiCorp's HCL parser
 * (@cdktf/hcl2json) for the wiring between resources; and the locals that decide what is deployed
 * with which roles, secrets and settings (terraform/plan.tf, which references no resource) evaluated by
 * terraform itself (`terraform console`, no provider needed) for two sets of variables. The
 * assertions are functions returning problems, so the last block can show each one failing on a
 * mutated copy.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const TF = join(ROOT, 'terraform');
const TF_ENV = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };

type Json = Record<string, unknown>;
type Block = Record<string, unknown>;
/** Parsed HCL of every file merged: resource type -> name -> the block. */
type Resources = Record<string, Record<string, Block>>;

interface Evaluated {
  functions: string[];
  env: Record<string, Record<string, string>>;
  secret_accessors: Record<string, string[]>;
  invoker_member: Record<string, string>;
  invoker_email: Record<string, string>;
  project_grants: Record<string, { name: string; role: string }>;
  target_grants: Record<string, { name: string; project: string; role: string }>;
  custom_roles: Record<string, { project: string; role: string; role_id: string; permissions: string[] }>;
  billing_readers: string[];
  check_bodies: Record<string, unknown>;
  sa_id: Record<string, string>;
  sa_email: Record<string, string>;
  scheduler_email: string;
  workflows_email: string;
  url: Record<string, string>;
  bundles: string[];
  firestore_database_name: string;
}

/** Variables of the two evaluated configurations. */
const MINIMAL = { project: 'demo-proj-1' };
const FULL = {
  project: 'demo-proj-1',
  region: 'europe-west1',
  name_prefix: 'abcdefghijkl',
  kubeconfig_read_secret: 'true',
  slack_alerts: 'true',
  slack_actions: 'true',
  drift_check_schedule: '*/5 * * * *',
  cost_check_schedule: '0 */6 * * *',
  usage_sample_schedule: '*/5 * * * *',
  gcp_projects: '["gke-proj-1","other-proj-2"]',
  gcp_billing_table: 'billing-proj-1.billing_ds.gcp_billing_export_v1_0A0A0A_0A0A0A_0A0A0A',
  oauth_issuer: 'https://issuer.example.com',
  oauth_jwks_url: 'https://issuer.example.com/jwks',
  prometheus_url: 'https://prometheus.example.com',
  slack_approvers: '{"U01234567":{"subject":"alice@example.com","name":"alice"}}',
};

const EXPR = `jsonencode({
  functions = local.names, env = local.env, secret_accessors = local.secret_accessors,
  invoker_member = local.invoker_member, invoker_email = local.invoker_email,
  project_grants = local.project_grants, target_grants = local.target_grants, custom_roles = local.custom_roles,
  billing_readers = local.billing_readers, check_bodies = local.check_bodies, sa_id = local.sa_id,
  sa_email = local.sa_email, scheduler_email = local.scheduler_email, workflows_email = local.workflows_email,
  url = local.url, bundles = local.bundles, firestore_database_name = local.firestore_database_name })`.replace(
  /\n\s*/g,
  ' ',
);

let workDir: string;

/** terraform/plan.tf's locals for these variables, as terraform computes them. */
function evaluate(vars: Record<string, string>): Evaluated {
  const args = ['console', ...Object.entries(vars).map(([k, v]) => `-var=${k}=${v}`)];
  const res = spawnSync('terraform', args, { cwd: workDir, input: `${EXPR}\n`, encoding: 'utf8', env: TF_ENV });
  if (res.status !== 0) throw new Error(`terraform console failed: ${res.stderr || res.error}`);
  return JSON.parse(JSON.parse(res.stdout.trim()) as string) as Evaluated;
}

let resources: Resources;
let plan: GcpPlan;
let minimal: Evaluated;
let full: Evaluated;

beforeAll(async () => {
  resources = {};
  for (const file of readdirSync(TF).filter((f) => f.endsWith('.tf'))) {
    const json = (await parse(file, readFileSync(join(TF, file), 'utf8'))) as { resource?: Json };
    for (const [type, byName] of Object.entries(json.resource ?? {})) {
      for (const [name, blocks] of Object.entries(byName as Record<string, Block[]>)) {
        resources[type] ??= {};
        if (resources[type][name]) throw new Error(`${type}.${name} is declared twice`);
        resources[type][name] = blocks[0] as Block;
      }
    }
  }
  plan = JSON.parse(readFileSync(FUNCTIONS_JSON, 'utf8')) as GcpPlan;
  workDir = mkdtempSync(join(tmpdir(), 'tf-plan-'));
  for (const f of ['variables.tf', 'plan.tf', 'functions.json']) cpSync(join(TF, f), join(workDir, f));
  minimal = evaluate(MINIMAL);
  full = evaluate(FULL);
}, 60_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function block(res: Resources, type: string, name: string): Block {
  const b = res[type]?.[name];
  if (!b) throw new Error(`no resource ${type}.${name} in terraform/`);
  return b;
}

// ---- assertion helpers: each returns what is wrong ------------------------------------------------

const PRIMITIVE = /roles\/(owner|editor|viewer)\b/;

function primitiveRoleProblems(res: Resources, ev: Evaluated, p: GcpPlan): string[] {
  const out: string[] = [];
  const text = JSON.stringify(res);
  if (PRIMITIVE.test(text)) out.push(`a primitive role in the terraform files: ${PRIMITIVE.exec(text)?.[0]}`);
  for (const f of Object.values(p.functions)) {
    for (const r of [...f.projectRoles, ...f.targetRoles]) if (PRIMITIVE.test(r)) out.push(`${f.name}: ${r}`);
  }
  for (const g of [...Object.values(ev.project_grants), ...Object.values(ev.target_grants)]) {
    if (PRIMITIVE.test(g.role)) out.push(`${g.name}: ${g.role}`);
  }
  return out;
}

function publicProblems(ev: Evaluated): string[] {
  const out: string[] = [];
  for (const [name, member] of Object.entries(ev.invoker_member)) {
    const isPublic = member === 'allUsers' || member === 'allAuthenticatedUsers';
    if (isPublic !== (name === 'mcp' || name === 'slack-actions')) out.push(`${name} is invoked by ${member}`);
  }
  return out;
}

/** Which functions the plan says read each secret, given the toggles and what is deployed. */
function expectedAccessors(
  p: GcpPlan,
  deployed: readonly string[],
  on: { read: boolean; write: boolean; alerts: boolean; signing: boolean },
) {
  const fns = Object.values(p.functions).filter((f) => deployed.includes(f.name));
  const names = (pred: (f: (typeof fns)[number]) => boolean) =>
    fns
      .filter(pred)
      .map((f) => f.name)
      .sort();
  return {
    kubeconfig: on.write ? names((f) => f.kube === 'write' || (f.kube === 'read' && !on.read)) : [],
    'kubeconfig-read': on.read ? names((f) => f.kube === 'read') : [],
    'slack-alerts': on.alerts ? names((f) => f.slackAlerts) : [],
    'slack-signing': on.signing ? names((f) => f.kind === 'slack') : [],
  };
}

function secretProblems(ev: Evaluated, expected: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [secret, names] of Object.entries(expected)) {
    const got = [...(ev.secret_accessors[secret] ?? [])].sort();
    if (JSON.stringify(got) !== JSON.stringify(names)) {
      out.push(`${secret}: read by [${got.join(', ')}], the plan says [${names.join(', ')}]`);
    }
  }
  // The environment names a secret only to a function that may read it.
  for (const [name, env] of Object.entries(ev.env)) {
    for (const [key, value] of Object.entries(env)) {
      const m =
        /^projects\/[^/]+\/secrets\/[a-z0-9-]+?-(kubeconfig-read|kubeconfig|slack-alerts|slack-signing)\/versions\/latest$/.exec(
          value,
        );
      if (m && !(ev.secret_accessors[m[1] as string] ?? []).includes(name))
        out.push(`${name}: ${key} names ${m[1]}, which it may not read`);
    }
  }
  return out;
}

const CLOUD_ROLE = /roles\/(container|compute)\.|custom:/;

function gatewayProblems(ev: Evaluated): string[] {
  const out: string[] = [];
  for (const [secret, names] of Object.entries(ev.secret_accessors))
    if (names.includes('mcp')) out.push(`the gateway reads ${secret}`);
  for (const g of [...Object.values(ev.project_grants), ...Object.values(ev.target_grants)]) {
    if (g.name === 'mcp' && (CLOUD_ROLE.test(g.role) || g.role !== 'roles/datastore.user'))
      out.push(`the gateway holds ${g.role}`);
  }
  if (ev.billing_readers.includes('mcp')) out.push('the gateway reads the billing export');
  const env = ev.env.mcp ?? {};
  for (const key of Object.keys(env))
    if (/SECRET|GCP_PROJECTS|BILLING/.test(key)) out.push(`the gateway is told ${key}`);
  return out;
}

function schedulerProblems(res: Resources, ev: Evaluated): string[] {
  const out: string[] = [];
  const job = res.google_cloud_scheduler_job?.check;
  if (!job) return ['no google_cloud_scheduler_job.check'];
  const target = (job.http_target as Block[])[0] as Block;
  const oidc = (target.oidc_token as Block[] | undefined)?.[0];
  const fnUrl = '${google_cloudfunctions2_function.fn[each.key].url}';
  if (target.uri !== fnUrl) out.push(`the jobs post to ${String(target.uri)}, not their function`);
  if (!oidc) return [...out, 'the jobs send no OIDC token'];
  if (oidc.audience !== fnUrl) out.push(`the token's audience is ${String(oidc.audience)}`);
  if (oidc.service_account_email !== '${google_service_account.scheduler.email}')
    out.push(`the token is ${String(oidc.service_account_email)}'s`);
  const sa = res.google_service_account?.scheduler;
  if (sa?.account_id !== '${var.name_prefix}-scheduler')
    out.push('the scheduler service account id is not <prefix>-scheduler');
  if (
    !/for name, f in local\.functions : name => local\.schedules\[name\] if f\.kind == "check"/.test(
      String(job.for_each),
    )
  ) {
    out.push(`the jobs are not one per deployed check: ${String(job.for_each)}`);
  }
  // The token's account (ev.scheduler_email = <prefix>-scheduler@) is exactly each check's one invoker and accepted invoker.
  for (const name of ev.functions.filter((n) => ['drift-check', 'cost-check', 'usage-sample'].includes(n))) {
    if (ev.invoker_member[name] !== `serviceAccount:${ev.scheduler_email}`)
      out.push(`${name} is invoked by ${ev.invoker_member[name]}`);
    if (ev.env[name]?.OIDC_INVOKERS !== ev.scheduler_email) out.push(`${name} accepts ${ev.env[name]?.OIDC_INVOKERS}`);
  }
  return out;
}

function workflowProblems(res: Resources, ev: Evaluated): string[] {
  const out: string[] = [];
  const wf = res.google_workflows_workflow?.flow;
  if (!wf) return ['no google_workflows_workflow.flow'];
  const vars = wf.user_env_vars as Record<string, string> | undefined;
  if (vars?.WORKFLOW_STEP_URL !== '${google_cloudfunctions2_function.fn["workflow-step"].url}') {
    out.push(`WORKFLOW_STEP_URL is ${vars?.WORKFLOW_STEP_URL}`);
  }
  if (wf.service_account !== '${google_service_account.workflows.id}') out.push('the workflow runs as another account');
  if (res.google_service_account?.workflows?.account_id !== '${var.name_prefix}-workflows') out.push('workflows SA id');
  if (ev.invoker_member['workflow-step'] !== `serviceAccount:${ev.workflows_email}`) {
    out.push(`workflow-step is invoked by ${ev.invoker_member['workflow-step']}`);
  }
  return out;
}

/**
 * Every argument and nested block of the google_* resources that the google provider does not know
 * (test/support/fixtures/google-provider-args.json, extracted from HashiCorp's generated bindings by
 * scripts/tf-provider-args.ts): what `terraform validate` would catch, without the provider. Blocks
 * (arrays of objects in hcl2json's output) are walked; map values (labels, env vars) are not.
 */
const META_ARGUMENTS = new Set(['for_each', 'count', 'depends_on', 'lifecycle', 'provider']);
function unknownArguments(res: Resources, known: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(res)) {
    if (!type.startsWith('google_')) continue;
    const names = new Set(known[type] ?? []);
    if (!known[type]) {
      out.push(`${type}: not a resource of the provider`);
      continue;
    }
    const walk = (block: Block, path: string[]) => {
      for (const [key, value] of Object.entries(block)) {
        if (META_ARGUMENTS.has(key)) continue;
        if (key === 'dynamic') {
          for (const [blockName, dyn] of Object.entries(value as Record<string, Block[]>)) {
            if (!names.has(blockName)) out.push(`${type}.${[...path, blockName].join('.')}`);
            for (const d of dyn)
              for (const c of (d.content as Block[] | undefined) ?? []) walk(c, [...path, blockName]);
          }
          continue;
        }
        if (!names.has(key)) out.push(`${type}.${[...path, key].join('.')}`);
        if (Array.isArray(value))
          for (const v of value) if (v && typeof v === 'object') walk(v as Block, [...path, key]);
      }
    };
    for (const block of Object.values(byName)) walk(block, []);
  }
  return out;
}

/** Every top-level argument a google_* resource requires that one of its blocks does not give. */
function missingRequired(res: Resources, required: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(res)) {
    for (const [name, block] of Object.entries(byName)) {
      const given = new Set([...Object.keys(block), ...Object.keys((block.dynamic as Block | undefined) ?? {})]);
      for (const arg of required[type] ?? []) if (!given.has(arg)) out.push(`${type}.${name}: ${arg}`);
    }
  }
  return out;
}

// ---- the tests ----------------------------------------------------------------------------------

describe('terraform/ (GCP deployment)', () => {
  it('is terraform fmt clean', () => {
    const res = spawnSync('terraform', ['fmt', '-check', '-recursive', 'terraform'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: TF_ENV,
    });
    expect(res.error, 'terraform is not installed').toBeUndefined();
    expect(res.stdout.trim(), 'files terraform fmt would change').toBe('');
    expect(res.status).toBe(0);
  });

  it('deploys terraform/functions.json as generated from the plan (node scripts/gcp-plan.ts --write)', () => {
    expect(functionsJsonIsCurrent(readFileSync(FUNCTIONS_JSON, 'utf8')), 'terraform/functions.json is stale').toBe(
      true,
    );
    const tools = gcpToolCatalog();
    expect(tools.some((t) => (t.toolset as string) === 'aws')).toBe(false);
    expect(tools.filter((t) => t.toolset === 'gcp').length).toBeGreaterThan(0);
    // One function per tool and the six that are not tools, all deployed with every toggle on.
    expect(full.functions.sort()).toEqual(Object.keys(plan.functions).sort());
    expect(Object.keys(plan.functions)).toHaveLength(tools.length + Object.keys(GCP_FUNCTIONS).length);
    // Without schedules and Slack: no checks, no slack-actions.
    expect(minimal.functions.sort()).toEqual(
      Object.keys(plan.functions)
        .filter((n) => !['drift-check', 'cost-check', 'usage-sample', 'slack-actions'].includes(n))
        .sort(),
    );
  });

  it('builds every function from a bundle of the build plan, with its entry point', () => {
    const bundles = gcpBundles(plan);
    const fn = block(resources, 'google_cloudfunctions2_function', 'fn');
    const build = (fn.build_config as Block[])[0] as Block;
    expect(build.entry_point).toBe('${each.value.entryPoint}');
    expect(build.runtime).toBe('nodejs22');
    const storage = (((build.source as Block[])[0] as Block).storage_source as Block[])[0] as Block;
    expect(storage.object).toBe('${google_storage_bucket_object.bundle[each.value.bundle].name}');
    expect(new Set(full.bundles)).toEqual(new Set(bundles.keys()));
    for (const f of Object.values(plan.functions)) {
      const expected =
        f.kind === 'tool'
          ? toolsetEntry(f.toolset as (typeof GCP_TOOLSETS)[number])
          : GCP_FUNCTIONS[f.name as keyof typeof GCP_FUNCTIONS];
      expect({ source: f.source, entryPoint: f.entryPoint }).toEqual({
        source: expected.source,
        entryPoint: expected.entryPoint,
      });
      expect(bundles.get(f.bundle)).toEqual({ source: f.source, entryPoint: f.entryPoint });
    }
    // The sources (written alongside): each one present registers its entry point.
    for (const [bundle, { source, entryPoint }] of bundles) {
      const path = join(ROOT, source);
      if (existsSync(path))
        expect(registersEntryPoint(readFileSync(path, 'utf8'), entryPoint), `${bundle}: ${source}`).toBe(true);
    }
  });

  it('recognizes how a source registers its entry point', () => {
    expect(registersEntryPoint("http('mcp', handler);", 'mcp')).toBe(true);
    expect(registersEntryPoint("http(GCP_FUNCTIONS['workflow-step'].entryPoint, h);", 'workflowStep')).toBe(true);
    expect(registersEntryPoint('http(GCP_FUNCTIONS.mcp.entryPoint, h);', 'mcp')).toBe(true);
    expect(registersEntryPoint("http(toolsetEntry('k8s').entryPoint, h);", 'tool')).toBe(true);
    expect(registersEntryPoint("http('mcpx', handler);", 'mcp')).toBe(false);
    expect(registersEntryPoint("http(GCP_FUNCTIONS['drift-check'].entryPoint, h);", 'workflowStep')).toBe(false);
    expect(registersEntryPoint("cloudEvent('mcp', handler);", 'mcp')).toBe(false);
  });

  it('names within GCP limits: functions within 49 characters, service accounts unique within 30', () => {
    for (const ev of [minimal, full]) {
      const ids = Object.values(ev.sa_id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
      for (const url of Object.values(ev.url)) expect(url.split('/').pop()?.length ?? 99).toBeLessThanOrEqual(49);
    }
    expect(full.sa_id['gcp-monitoring-timeseries-query']).toMatch(/^abcdefghijkl-gcp-monitori-[0-9a-f]{4}$/);
  });

  it('uses no primitive role anywhere', () => {
    expect(primitiveRoleProblems(resources, full, plan)).toEqual([]);
    expect(primitiveRoleProblems(resources, minimal, plan)).toEqual([]);
  });

  it('makes only mcp and slack-actions public; every other function has its one caller', () => {
    expect(publicProblems(full)).toEqual([]);
    expect(publicProblems(minimal)).toEqual([]);
    const inv = resources.google_cloud_run_service_iam_member?.invoker as Block;
    expect(inv).toMatchObject({
      role: 'roles/run.invoker',
      member: '${local.invoker_member[each.key]}',
      for_each: '${local.functions}',
    });
    // Besides each function's one caller, only the scheduler's rollback reconciler job on workflow-step.
    expect(Object.keys(resources.google_cloud_run_service_iam_member ?? {}).sort()).toEqual(['invoker', 'reconciler']);
    expect(resources.google_cloud_run_service_iam_member?.reconciler).toMatchObject({
      service: '${google_cloudfunctions2_function.fn["workflow-step"].name}',
      role: 'roles/run.invoker',
      member: 'serviceAccount:${local.scheduler_email}',
    });
    for (const name of full.functions) {
      const f = plan.functions[name];
      if (f?.caller === 'gateway') expect(full.invoker_member[name]).toBe(`serviceAccount:${full.sa_email.mcp}`);
    }
    expect(JSON.stringify(resources).match(/allUsers|allAuthenticatedUsers/g) ?? []).toEqual([]);
  });

  it('lets each secret be read by exactly the functions whose plan row needs it', () => {
    expect(
      secretProblems(
        full,
        expectedAccessors(plan, full.functions, { read: true, write: true, alerts: true, signing: true }),
      ),
    ).toEqual([]);
    expect(
      secretProblems(
        minimal,
        expectedAccessors(plan, minimal.functions, { read: false, write: true, alerts: false, signing: false }),
      ),
    ).toEqual([]);
    // Hand-written, so the plan itself is checked: the read-only credential for reads and checks, the write one for writes.
    expect(full.secret_accessors.kubeconfig).toContain('k8s-resources-apply');
    expect(full.secret_accessors.kubeconfig).toContain('delivery-rollouts-plan');
    expect(full.secret_accessors.kubeconfig).toContain('workflow-step');
    expect(full.secret_accessors.kubeconfig).not.toContain('k8s-pods-logs');
    expect(full.secret_accessors['kubeconfig-read']).toEqual(
      expect.arrayContaining(['k8s-pods-logs', 'drift-check', 'cost-check', 'usage-sample']),
    );
    expect(minimal.secret_accessors.kubeconfig).toContain('k8s-pods-logs');
    expect(full.secret_accessors['slack-signing']).toEqual(['slack-actions']);
    expect(full.env['drift-check']?.KUBECONFIG_SECRET).toMatch(/kubeconfig-read\/versions\/latest$/);
    expect(full.env['k8s-pods-logs']).toMatchObject({ KUBECONFIG_READ_TOOLS: 'k8s_pods_logs' });
    const accessor = resources.google_secret_manager_secret_iam_member?.accessor as Block;
    expect(String(accessor.for_each)).toContain('local.secret_accessors');
    expect(accessor.member).toBe('serviceAccount:${google_service_account.fn[each.value.name].email}');
    expect(Object.keys(resources.google_secret_manager_secret_iam_member ?? {})).toEqual(['accessor']);
  });

  it('gives the gateway no secret and no cluster or cloud role', () => {
    expect(gatewayProblems(full)).toEqual([]);
    expect(gatewayProblems(minimal)).toEqual([]);
  });

  it('grants the gcp toolset exactly its calls, in each gcp_projects project', () => {
    const roles = (name: string) =>
      Object.values(full.target_grants)
        .filter((g) => g.name === name && g.project === 'gke-proj-1')
        .map((g) => g.role);
    expect(roles('gcp-compute-instances-start')).toEqual(['custom:instancePower']);
    expect(roles('gcp-gke-clusters-describe')).toEqual(['roles/container.clusterViewer']);
    expect(roles('gcp-monitoring-timeseries-query')).toEqual(['roles/monitoring.viewer']);
    expect(full.custom_roles['gke-proj-1 instancePower']?.permissions).toEqual([
      'compute.instances.get',
      'compute.instances.start',
      'compute.instances.stop',
    ]);
    expect(Object.keys(minimal.target_grants)).toEqual([]);
    expect(full.billing_readers.sort()).toEqual(['cost-budgets-list', 'cost-check', 'cost-reports-get']);
    // The store: readers view, writers use.
    const grant = (name: string) =>
      Object.values(full.project_grants)
        .filter((g) => g.name === name)
        .map((g) => g.role);
    expect(grant('ops-operations-get')).toEqual(['roles/datastore.viewer']);
    expect(grant('ops-approvals-decide')).toEqual(['roles/datastore.user']);
    expect(grant('delivery-rollouts-start').sort()).toEqual(['roles/datastore.user', 'roles/workflows.invoker']);
    expect(grant('k8s-pods-logs')).toEqual([]);
    expect(
      Object.values(full.project_grants)
        .filter((g) => g.role === 'roles/workflows.invoker')
        .map((g) => g.name),
    ).toEqual(['delivery-rollouts-start']);
  });

  it('limits the Firestore roles to the deployment database', () => {
    const grant = block(resources, 'google_project_iam_member', 'fn');
    const condition = grant.dynamic as {
      condition: Array<{ for_each: string; content: Array<{ expression: string }> }>;
    };
    expect(condition.condition[0]?.for_each).toContain('startswith(each.value.role, "roles/datastore.")');
    expect(condition.condition[0]?.content[0]?.expression).toBe('resource.name == "${condition.value}"');
    expect(full.firestore_database_name).toBe('projects/demo-proj-1/databases/cloudops-mcp');
  });

  it('schedules each check with an OIDC token of the one account that may invoke it, and the body it expects', () => {
    expect(schedulerProblems(resources, full)).toEqual([]);
    expect(full.check_bodies).toEqual({
      'drift-check': { check: 'drift' },
      'cost-check': { check: 'cost' },
      'usage-sample': { check: 'usage' },
    });
    const target = (block(resources, 'google_cloud_scheduler_job', 'check').http_target as Block[])[0] as Block;
    expect(target.body).toBe('${base64encode(jsonencode(local.check_bodies[each.key]))}');
  });

  it("points the workflow's WORKFLOW_STEP_URL at the workflow-step function, which the workflows account invokes (and the rollback reconciler job)", () => {
    expect(workflowProblems(resources, full)).toEqual([]);
    expect(full.env['delivery-rollouts-start']?.ROLLOUT_WORKFLOW).toBe(
      'projects/demo-proj-1/locations/europe-west1/workflows/abcdefghijkl-rollout',
    );
    expect(full.env['workflow-step']).toMatchObject({
      OIDC_INVOKERS: `${full.workflows_email},${full.scheduler_email}`,
      OIDC_TRUST_CLOUD_RUN_IAM: 'true',
    });
    // Every other private function accepts exactly its one caller.
    for (const name of full.functions.filter((n) => n !== 'workflow-step')) {
      const inv = full.env[name]?.OIDC_INVOKERS;
      if (inv !== undefined) expect(inv.split(','), name).toHaveLength(1);
    }
  });

  it('runs the rollback reconciler on workflow-step every 5 minutes with the scheduler account, as AWS does', () => {
    const job = block(resources, 'google_cloud_scheduler_job', 'rollback_reconciler');
    expect(job.schedule).toBe('${var.rollback_reconcile_schedule}');
    const target = (job.http_target as Block[])[0] as Block;
    expect(target.uri).toBe('${google_cloudfunctions2_function.fn["workflow-step"].url}');
    expect(target.body).toBe('${base64encode(jsonencode({ step = "rollbacks.reconcile", input = {} }))}');
    const oidc = (target.oidc_token as Block[])[0] as Block;
    expect(oidc).toEqual({
      service_account_email: '${google_service_account.scheduler.email}',
      audience: '${google_cloudfunctions2_function.fn["workflow-step"].url}',
    });
  });

  it('uses only arguments and blocks the google provider knows, and gives the ones it requires (its schema, extracted offline)', () => {
    const fixture = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'support', 'fixtures', 'google-provider-args.json'), 'utf8'),
    ) as { provider: string; resources: Record<string, string[]>; required: Record<string, string[]> };
    expect(fixture.provider).toMatch(/^hashicorp\/google 6\./);
    // Every google_* resource type in terraform/ is in the extract (re-run scripts/tf-provider-args.ts when adding one).
    const types = Object.keys(resources).filter((t) => t.startsWith('google_'));
    expect(types.filter((t) => !fixture.resources[t])).toEqual([]);
    expect(unknownArguments(resources, fixture.resources)).toEqual([]);
    expect(missingRequired(resources, fixture.required)).toEqual([]);
    // The check can fail: a misspelled argument, an unknown block inside a block, an unknown dynamic block.
    const job = block(resources, 'google_cloud_scheduler_job', 'check');
    const target = (job.http_target as Block[])[0] as Block;
    const mutated: Resources = {
      google_cloud_scheduler_job: {
        check: { ...job, attempt_deadlin: '320s', http_target: [{ ...target, oidc: [{}] }] },
      },
      google_project_iam_member: { fn: { role: 'r', dynamic: { conditions: [{ content: [{ title: 't' }] }] } } },
    };
    const { name: _dropped, ...unnamed } = job;
    expect(missingRequired({ google_cloud_scheduler_job: { check: unnamed } }, fixture.required)).toEqual([
      'google_cloud_scheduler_job.check: name',
    ]);
    expect(unknownArguments(mutated, fixture.resources).sort()).toEqual([
      'google_cloud_scheduler_job.attempt_deadlin',
      'google_cloud_scheduler_job.http_target.oidc',
      'google_project_iam_member.conditions',
    ]);
  });

  it('keeps the Store in Firestore native mode with the TTL policy on the items group', () => {
    expect(resources.google_firestore_database?.store).toMatchObject({ type: 'FIRESTORE_NATIVE' });
    expect(resources.google_firestore_field?.ttl).toMatchObject({
      collection: '${local.plan.firestore.itemsGroup}',
      field: '${local.plan.firestore.ttlField}',
      ttl_config: [{}],
    });
    const adapter = join(ROOT, 'shared', 'adapters', 'gcp', 'firestore-store.ts');
    if (existsSync(adapter)) {
      const text = readFileSync(adapter, 'utf8');
      expect(/FIRESTORE_ITEMS_GROUP\s*=\s*['"]([^'"]+)['"]/.exec(text)?.[1]).toBe(FIRESTORE.itemsGroup);
      expect(/FIRESTORE_TTL_FIELD\s*=\s*['"]([^'"]+)['"]/.exec(text)?.[1]).toBe(FIRESTORE.ttlField);
    }
    for (const env of Object.values(full.env))
      expect(env).toMatchObject({ FIRESTORE_PROJECT: 'demo-proj-1', FIRESTORE_DATABASE: 'cloudops-mcp' });
  });

  it('outputs the MCP endpoint and the Slack actions URL', async () => {
    const out = (await parse('outputs.tf', readFileSync(join(TF, 'outputs.tf'), 'utf8'))) as {
      output: Record<string, Block[]>;
    };
    expect(out.output.mcp_url?.[0]?.value).toBe('${google_cloudfunctions2_function.fn["mcp"].url}/mcp');
    expect(String(out.output.slack_actions_url?.[0]?.value)).toContain(
      'google_cloudfunctions2_function.fn["slack-actions"].url',
    );
    expect(full.env.mcp?.PUBLIC_URL).toBe('https://europe-west1-demo-proj-1.cloudfunctions.net/abcdefghijkl-mcp/mcp');
    const toolFunctions = JSON.parse(full.env.mcp?.TOOL_FUNCTIONS ?? '{}') as Record<string, string>;
    expect(Object.keys(toolFunctions).sort()).toEqual(
      gcpToolCatalog()
        .map((t) => t.name)
        .sort(),
    );
    expect(toolFunctions.k8s_pods_logs).toBe(full.env['k8s-pods-logs']?.OIDC_AUDIENCE);
    // The gateway's own parser accepts it.
    expect(parseToolFunctions(full.env.mcp?.TOOL_FUNCTIONS ?? '')).toEqual(toolFunctions);
  });

  it('documents every variable in docs/gcp.md', async () => {
    const vars = (await parse('variables.tf', readFileSync(join(TF, 'variables.tf'), 'utf8'))) as { variable: Json };
    const doc = readFileSync(join(ROOT, 'docs', 'gcp.md'), 'utf8');
    const settings = doc.slice(doc.indexOf('## Settings'), doc.indexOf('## Cost'));
    const missing = Object.keys(vars.variable).filter((v) => !settings.includes(`\`${v}\``));
    expect(missing, 'variables missing from the settings table of docs/gcp.md').toEqual([]);
  });

  const hostReady = [
    'gcp-functions/lib/host.ts',
    'gcp-functions/lib/oidc.ts',
    'shared/adapters/gcp/firestore-store.ts',
  ].every((f) => existsSync(join(ROOT, f)));
  it.runIf(hostReady)("gives every function an environment its host's config loader accepts", async () => {
    const { GCP_REQUIRED_SETTINGS, loadGcpConfig } = await import('../../gcp-functions/lib/host.ts');
    const { oidcVerifierFromEnv } = await import('../../gcp-functions/lib/oidc.ts');
    const { functionTimeoutMs, schedulerCall } = await import('../../gcp-functions/lib/scheduler.ts');
    const kinds = {
      gateway: 'mcp',
      tool: 'toolFunction',
      step: 'workflowStep',
      check: 'scheduledCheck',
      slack: 'slackActions',
    } as const;
    for (const ev of [minimal, full]) {
      for (const [name, env] of Object.entries(ev.env)) {
        const f = plan.functions[name];
        if (!f) throw new Error(`${name} is not in the plan`);
        expect(() => loadGcpConfig(env, GCP_REQUIRED_SETTINGS[kinds[f.kind]]), name).not.toThrow();
        if (f.caller !== 'public') expect(() => oidcVerifierFromEnv(env), name).not.toThrow();
        expect(functionTimeoutMs(env), name).toBe(f.timeoutSeconds * 1000);
      }
    }
    // Each job's request, as terraform configures it, is accepted by its check and refused by the others.
    const job = block(resources, 'google_cloud_scheduler_job', 'check');
    const headers = ((job.http_target as Block[])[0] as Block).headers as Record<string, string>;
    const request = (body: unknown) =>
      ({
        method: 'POST',
        rawBody: Buffer.from(JSON.stringify(body)),
        get: (h: string) =>
          ({
            ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
            'x-cloudscheduler': 'true',
            'x-cloudscheduler-jobname': 'projects/demo-proj-1/locations/europe-west1/jobs/abcdefghijkl-drift-check',
          })[h.toLowerCase()],
      }) as unknown as Parameters<typeof schedulerCall>[0];
    const names = { 'drift-check': 'drift', 'cost-check': 'cost', 'usage-sample': 'usage' } as const;
    for (const [fn, check] of Object.entries(names)) {
      expect(schedulerCall(request(full.check_bodies[fn]), check, 0).check).toBe(check);
      const other = Object.values(names).find((c) => c !== check) as (typeof names)[keyof typeof names];
      expect(() => schedulerCall(request(full.check_bodies[fn]), other, 0)).toThrow(/the job asked for/);
    }
  });
});

describe('the terraform assertions fail on a broken deployment', () => {
  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  it('catch a public tool, a primitive role, a secret read by the gateway, a foreign scheduler token, a wrong step URL, a stale plan', () => {
    const ev = clone(full);
    ev.invoker_member['k8s-pods-logs'] = 'allUsers';
    expect(publicProblems(ev)).toEqual(['k8s-pods-logs is invoked by allUsers']);

    const granted = clone(full);
    granted.project_grants['mcp roles/editor'] = { name: 'mcp', role: 'roles/editor' };
    expect(primitiveRoleProblems(resources, granted, plan)).toEqual(['mcp: roles/editor']);
    expect(gatewayProblems(granted)).toEqual(['the gateway holds roles/editor']);

    const leaked = clone(full);
    leaked.secret_accessors.kubeconfig?.push('mcp');
    const expected = expectedAccessors(plan, full.functions, { read: true, write: true, alerts: true, signing: true });
    expect(secretProblems(leaked, expected)).toHaveLength(1);
    expect(gatewayProblems(leaked)).toEqual(['the gateway reads kubeconfig']);
    const told = clone(full);
    (told.env['k8s-pods-logs'] as Record<string, string>).KUBECONFIG_SECRET =
      'projects/p/secrets/abcdefghijkl-kubeconfig/versions/latest';
    expect(secretProblems(told, expected)).toEqual([
      'k8s-pods-logs: KUBECONFIG_SECRET names kubeconfig, which it may not read',
    ]);

    const res = clone(resources);
    const job = block(res, 'google_cloud_scheduler_job', 'check');
    (((job.http_target as Block[])[0] as Block).oidc_token as Block[])[0] = {
      service_account_email: '${google_service_account.fn["mcp"].email}',
      audience: '${google_cloudfunctions2_function.fn[each.key].url}',
    };
    expect(schedulerProblems(res, full)).toEqual(['the token is ${google_service_account.fn["mcp"].email}\'s']);
    const invoked = clone(full);
    invoked.invoker_member['drift-check'] = `serviceAccount:${full.sa_email.mcp}`;
    expect(schedulerProblems(resources, invoked)).toHaveLength(1);

    (res.google_workflows_workflow?.flow as Block).user_env_vars = {
      WORKFLOW_STEP_URL: '${google_cloudfunctions2_function.fn["mcp"].url}',
    };
    expect(workflowProblems(res, full)).toHaveLength(1);

    const stale = clone(plan);
    stale.functions['k8s-pods-logs']?.projectRoles.push('roles/datastore.user');
    expect(functionsJsonIsCurrent(JSON.stringify(stale))).toBe(false);
    expect(functionsJsonIsCurrent(JSON.stringify(plan))).toBe(true);
  });
});

describe('npm run build:gcp', () => {
  it('refuses a missing source or one that does not register its entry point, naming each', () => {
    const problems = sourceProblems(
      new Map([
        ['nope', { source: 'gcp-functions/does-not-exist.ts', entryPoint: 'nope' }],
        ['layout', { source: 'gcp-functions/layout.ts', entryPoint: 'mcp' }],
      ]),
    );
    expect(problems).toEqual([
      'nope: gcp-functions/does-not-exist.ts does not exist',
      `layout: gcp-functions/layout.ts does not register http('mcp', ...) with ${FRAMEWORK}`,
    ]);
  });

  it('makes a bundle the functions framework serves as the buildpack runs it (framework outside, the rest inside)', async () => {
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    // Under the project, so the bundle resolves the framework from node_modules as it does after npm install.
    const dir = mkdtempSync(join(ROOT, 'dist', '.probe-'));
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const source = join(dir, 'probe.ts');
      writeFileSync(
        source,
        [
          "import { http } from '@google-cloud/functions-framework';",
          "import * as z from 'zod';",
          "http('probe', (req, res) => { res.json({ check: z.object({ check: z.string() }).parse(req.body).check }); });",
        ].join('\n'),
      );
      const out = join(dir, 'out');
      const { bytes, dependencies } = await bundleFunction(source, out, 'probe');
      expect(bytes).toBeGreaterThan(10_000); // zod is inside
      expect(dependencies).toEqual({ [FRAMEWORK]: frameworkVersion() });
      const js = readFileSync(join(out, 'index.js'), 'utf8');
      expect(js).toMatch(/from\s*"@google-cloud\/functions-framework"/);
      expect(js).not.toMatch(/from\s*"zod"/);
      expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))).toEqual({
        name: 'cloudops-mcp-probe',
        private: true,
        type: 'module',
        main: 'index.js',
        engines: { node: '22' },
        dependencies: { [FRAMEWORK]: frameworkVersion() },
      });
      const port = await freePort();
      const cli = join(ROOT, 'node_modules', FRAMEWORK, 'build', 'src', 'main.js');
      child = spawn(process.execPath, [cli, '--target=probe', `--source=${out}`, `--port=${port}`], {
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: 'ignore',
      });
      const answer = await until(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ check: 'drift' }),
        });
        return { status: res.status, body: await res.json() };
      });
      expect(answer).toEqual({ status: 200, body: { check: 'drift' } });
    } finally {
      child?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the gateway bundle', () => {
  it.runIf(existsSync(join(ROOT, GCP_FUNCTIONS.mcp.source)))(
    'loads in the functions framework as deployed and answers, without its settings, a JSON-RPC error naming none of them',
    async () => {
      mkdirSync(join(ROOT, 'dist'), { recursive: true });
      const dir = mkdtempSync(join(ROOT, 'dist', '.mcp-'));
      let child: ReturnType<typeof spawn> | undefined;
      try {
        const { dependencies } = await bundleFunction(join(ROOT, GCP_FUNCTIONS.mcp.source), dir, 'mcp');
        // The gax-based clients read their descriptors from their own directory: installed, not bundled.
        expect(Object.keys(dependencies)).toContain('@google-cloud/firestore');
        expect(readFileSync(join(dir, 'index.js'), 'utf8')).not.toMatch(/build","protos"|build\/protos/);
        const port = await freePort();
        const cli = join(ROOT, 'node_modules', FRAMEWORK, 'build', 'src', 'main.js');
        let stderr = '';
        child = spawn(
          process.execPath,
          [cli, `--target=${GCP_FUNCTIONS.mcp.entryPoint}`, `--source=${dir}`, `--port=${port}`],
          {
            // No FIRESTORE_PROJECT, PUBLIC_URL, TOOL_FUNCTIONS: the cold start must fail as a configuration error.
            env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), NODE_ENV: 'production' },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const answer = await until(async () => {
          const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
          });
          return { status: res.status, body: await res.text() };
        });
        expect(stderr).not.toMatch(/is not defined in the provided module|__dirname/);
        expect(answer.status).toBe(500);
        expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32603 } });
        expect(answer.body).not.toMatch(/FIRESTORE|PUBLIC_URL|TOOL_FUNCTIONS/);
      } finally {
        child?.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Retries `fn` until it resolves (the server is starting), up to 30 s. */
async function until<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('npm run deploy:gcp', () => {
  const script = join(ROOT, 'scripts', 'gcp-deploy.ts');
  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 30_000 });

  it('stops before building when terraform is missing, saying so', () => {
    const res = run({ PATH: '/nonexistent', HOME: tmpdir() });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/terraform is not installed/);
    expect(res.stdout).not.toMatch(/built/);
  });

  it('stops before building when there are no Google credentials, saying how to get them', () => {
    const home = mkdtempSync(join(tmpdir(), 'no-gcloud-'));
    try {
      const res = run({
        PATH: process.env.PATH ?? '',
        HOME: home,
        TF_CLI_CONFIG_FILE: '/dev/null',
        CHECKPOINT_DISABLE: '1',
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/no Google credentials: run `gcloud auth application-default login`/);
      expect(res.stdout).not.toMatch(/built/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a variables file that does not exist', () => {
    const res = run({ PATH: process.env.PATH ?? '', HOME: tmpdir() }, ['--var-file=does-not-exist.tfvars']);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/--var-file does-not-exist\.tfvars: no such file/);
  });
});
