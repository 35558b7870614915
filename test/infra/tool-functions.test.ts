import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { LAMBDA_ENV_BYTES } from '../../cdk/function-env.ts';
import { APP_CONTEXT, readSettings } from '../../cdk/settings.ts';
import { StatefulStack } from '../../cdk/stateful-stack.ts';
import { StatelessStack } from '../../cdk/stateless-stack.ts';
import { FUNCTION_LAYOUTS, type FunctionLayout, NOT_ON_AWS } from '../../cdk/tool-functions.ts';
import { TOOL_PERMISSIONS, type ToolPermissions, WEIGHTS } from '../../cdk/tool-permissions.ts';
import { allTools as everyTool } from '../../shared/tools/index.ts';

/** The tools the AWS deployment serves (the gcp toolset is the GCP deployment's). */
const allTools = everyTool.filter((t) => !NOT_ON_AWS.has(t.group));

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const WRITE = SECRET('cloudops/kubeconfig');
const READ = SECRET('cloudops/kubeconfig-read');
const CONTEXT = {
  publicUrl: 'https://mcp.example.com/mcp',
  oauthIssuer: 'https://auth.example.com/',
  oauthJwksUrl: 'https://auth.example.com/.well-known/jwks.json',
  kubeconfigSecretArn: WRITE,
  kubeconfigReadSecretArn: READ,
  prometheusUrl: 'http://prometheus.monitoring:9090',
};

type Statement = { Action: string | string[]; Resource: unknown };
type Resource = { Type: string; Properties: Record<string, unknown> };
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const row = (tool: string) => (TOOL_PERMISSIONS as Record<string, ToolPermissions>)[tool] as ToolPermissions;
const toolsets = [...new Set(allTools.map((t) => t.group))];

interface Synth {
  stack: StatelessStack;
  resources: Record<string, Resource>;
  outdir: string;
}
const outdirs: string[] = [];
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

/** One layout's stack with every setting that matters here; bundling is covered by stacks.test.ts. */
function synth(layout: FunctionLayout, ctx: Record<string, unknown> = CONTEXT): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-tools-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const settings = readSettings((k) => ({ ...ctx, functionLayout: layout })[k], ROOT);
  const stateful = new StatefulStack(app, 'CloudopsMcpStateful');
  const stack = new StatelessStack(app, 'CloudopsMcpStateless', { table: stateful.table, settings, repoRoot: ROOT });
  return { stack, resources: Template.fromStack(stack).toJSON().Resources as Record<string, Resource>, outdir };
}

/** What one function may do, read back from the template: its role's statements, grouped. */
function grants(s: Synth, fnLogicalId: string) {
  const fn = s.resources[fnLogicalId] as Resource;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements = Object.values(s.resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const of = (prefix: string) =>
    statements.filter((st) => asList(st.Action).some((a) => a.startsWith(prefix))).flatMap((st) => asList(st.Action));
  const resourcesOf = (action: string) =>
    statements.filter((st) => asList(st.Action).includes(action)).flatMap((st) => asList(st.Resource));
  return {
    roleId,
    actions: statements.flatMap((st) => asList(st.Action)).sort(),
    table: of('dynamodb:').sort(),
    secrets: resourcesOf('secretsmanager:GetSecretValue').map(String).sort(),
    states: of('states:'),
    statesResources: resourcesOf('states:StartExecution'),
    invokes: resourcesOf('lambda:InvokeFunction'),
    env: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    timeout: fn.Properties.Timeout as number,
    memory: fn.Properties.MemorySize as number,
  };
}

/**
 * The grants a function serving `tools` should hold, from the permission table's rows. Which
 * kubeconfig: each tool its row's (`read`: the read secret, named in KUBECONFIG_READ_TOOLS).
 */
function expected(tools: readonly string[]) {
  const rows = tools.map((t) => ({ name: t, p: row(t) }));
  const read = rows.some((r) => r.p.kube === 'read');
  const write = rows.some((r) => r.p.kube === 'write') || (!read && rows.some((r) => r.p.kube === 'read'));
  return {
    table: [...new Set(rows.flatMap((r) => r.p.table ?? []))].sort(),
    secrets: [...(read ? [READ] : []), ...(write ? [WRITE] : [])].sort(),
    readTools: read ? rows.filter((r) => r.p.kube === 'read').map((r) => r.name) : [],
    states: rows.some((r) => r.p.startsRollout) ? ['states:StartExecution'] : [],
    timeout: Math.max(...rows.map((r) => WEIGHTS[r.p.weight].timeoutSeconds)),
    memory: Math.max(...rows.map((r) => WEIGHTS[r.p.weight].memoryMb)),
  };
}

describe('the permission table', () => {
  it('has one row per tool, and none for a tool that does not exist', () => {
    expect(Object.keys(TOOL_PERMISSIONS).sort()).toEqual(allTools.map((t) => t.name).sort());
  });

  it('says what the code needs (hand-written, so the table itself is checked)', () => {
    // Reads list and get with the read credential; writes need the write one.
    expect(row('k8s_resources_list')).toMatchObject({ kube: 'read' });
    expect(row('k8s_resources_list').table).toBeUndefined();
    expect(row('k8s_resources_apply')).toMatchObject({ kube: 'write', table: ['dynamodb:UpdateItem'] });
    // The plan's server-side dry run is a PATCH: RBAC gives it only to the write credential.
    expect(row('delivery_rollouts_plan').kube).toBe('write');
    // Listing approvals writes nothing.
    expect(row('ops_approvals_list').table).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    // Only starting a rollout talks to Step Functions.
    const starters = allTools.filter((t) => row(t.name).startsRollout).map((t) => t.name);
    expect(starters).toEqual(['delivery_rollouts_start']);
    // Store-only tools read no kubeconfig.
    for (const t of ['audit_events_list', 'ops_operations_get', 'delivery_rollouts_abort', 'ops_approvals_decide']) {
      expect(row(t).kube, t).toBeUndefined();
    }
  });
});

/** Synthesized once, on first use, so a layout that cannot synthesize fails its own tests only. */
function layoutSynth(layout: FunctionLayout) {
  let memo: ReturnType<typeof build> | undefined;
  const build = () => {
    const s = synth(layout);
    const logicalIdOf = (construct: { node: { defaultChild?: unknown } } | undefined) =>
      s.stack.getLogicalId(construct?.node.defaultChild as never);
    return {
      s,
      logicalIdOf,
      fns: Object.entries(s.resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'),
      gatewayId: logicalIdOf(s.stack.functions.mcp),
      toolFns: Object.entries(s.stack.toolFunctions).map(([id, fn]) => ({
        id,
        logicalId: logicalIdOf(fn),
        tools: String(grants(s, logicalIdOf(fn)).env.TOOL_NAMES).split(','),
      })),
    };
  };
  return () => {
    memo ??= build();
    return memo;
  };
}

describe.each(FUNCTION_LAYOUTS)('functionLayout %s', (layout) => {
  const get = layoutSynth(layout);

  it('deploys the gateway, the workflow-step function and the tool functions of the layout', () => {
    const { fns, toolFns } = get();
    const count = { perTool: allTools.length, perToolset: toolsets.length, single: 1 }[layout];
    expect(toolFns).toHaveLength(count);
    expect(fns).toHaveLength(2 + count);
    // Every tool is served by exactly one function.
    expect(toolFns.flatMap((f) => f.tools).sort()).toEqual(allTools.map((t) => t.name).sort());
  });

  it('the gateway holds no secret, no Step Functions and no cluster setting; it invokes exactly the tool functions', () => {
    const { s, gatewayId, toolFns } = get();
    const g = grants(s, gatewayId);
    expect(g.actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('states:'))).toEqual([]);
    expect(g.actions.filter((a) => !/^(dynamodb|logs|lambda):/.test(a))).toEqual([]);
    expect(g.invokes).toHaveLength(toolFns.length);
    expect(new Set(g.invokes.map((r) => JSON.stringify(r)))).toEqual(
      new Set(toolFns.map((f) => JSON.stringify({ 'Fn::GetAtt': [f.logicalId, 'Arn'] }))),
    );
    expect(Object.keys(g.env).filter((k) => /KUBECONFIG|K8S_|PROMETHEUS/.test(k))).toEqual([]);
    // TOOL_FUNCTIONS names each tool's function: resolve its Fn::Join with each Ref as the logical id.
    const parts = (g.env.TOOL_FUNCTIONS as { 'Fn::Join': [string, Array<string | { Ref: string }>] })['Fn::Join'][1];
    const map = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : p.Ref)).join('')) as Record<string, string>;
    expect(map).toEqual(Object.fromEntries(toolFns.flatMap((f) => f.tools.map((t) => [t, f.logicalId]))));
  });

  it("each tool function holds exactly its tools' rows of the permission table", () => {
    const { s, gatewayId, toolFns, logicalIdOf } = get();
    const rollout = { Ref: logicalIdOf(s.stack.stateMachines.rollout) };
    for (const f of toolFns) {
      const g = grants(s, f.logicalId);
      const want = expected(f.tools);
      expect(g.table, f.id).toEqual(want.table);
      expect(g.secrets, f.id).toEqual(want.secrets);
      expect(g.states, f.id).toEqual(want.states);
      if (want.states.length) expect(g.statesResources, f.id).toEqual([rollout]);
      // Nothing else: its log group, and no invoke of anything.
      const other = g.actions.filter((a) => !/^(dynamodb|secretsmanager|states):/.test(a));
      expect(other.sort(), f.id).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(g.env.TOOL_NAMES, f.id).toBe(f.tools.join(','));
      expect(g.env.KUBECONFIG_SECRET, f.id).toBe(want.secrets.includes(WRITE) ? WRITE : undefined);
      expect(g.env.KUBECONFIG_READ_SECRET, f.id).toBe(want.secrets.includes(READ) ? READ : undefined);
      // Each tool runs over its row's credential: the function is told which tools use the read one.
      expect(g.env.KUBECONFIG_READ_TOOLS, f.id).toBe(want.readTools.length ? want.readTools.join(',') : undefined);
      expect(g.env.ROLLOUT_WORKFLOW === undefined, f.id).toBe(want.states.length === 0);
      expect([g.timeout, g.memory], f.id).toEqual([want.timeout, want.memory]);
      // The gateway waits for the tool: a tool function always times out first.
      expect(g.timeout, f.id).toBeLessThan(grants(s, gatewayId).timeout);
    }
  });

  it('only the gateway may invoke a tool function: a resource policy for its role, no route, no function URL', () => {
    const { s, gatewayId, toolFns } = get();
    const gatewayRole = { 'Fn::GetAtt': [grants(s, gatewayId).roleId, 'Arn'] };
    const perms = Object.values(s.resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    for (const f of toolFns) {
      const mine = perms.filter((p) => JSON.stringify(p.Properties.FunctionName).includes(`"${f.logicalId}"`));
      expect(
        mine.map((p) => [p.Properties.Action, p.Properties.Principal]),
        f.id,
      ).toEqual([['lambda:InvokeFunction', gatewayRole]]);
    }
    expect(Object.values(s.resources).filter((r) => r.Type === 'AWS::Lambda::Url')).toEqual([]);
    const integrations = Object.values(s.resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Integration');
    for (const i of integrations) {
      for (const f of toolFns) expect(JSON.stringify(i.Properties.IntegrationUri)).not.toContain(f.logicalId);
    }
  });
});

describe('hand-written expectations per function', () => {
  const perTool = layoutSynth('perTool')().s;
  const toolFn = (s: Synth, id: string) =>
    grants(s, s.stack.getLogicalId(s.stack.toolFunctions[id]?.node.defaultChild as never));

  it('perTool: reads use the read credential only, writes the write credential only', () => {
    expect(toolFn(perTool, 'ToolK8sResourcesList').secrets).toEqual([READ]);
    expect(toolFn(perTool, 'ToolK8sResourcesList').table).toEqual([]);
    expect(toolFn(perTool, 'ToolK8sResourcesApply').secrets).toEqual([WRITE]);
    expect(toolFn(perTool, 'ToolK8sResourcesApply').table).toEqual(['dynamodb:UpdateItem']);
    expect(toolFn(perTool, 'ToolDeliveryRolloutsPlan').secrets).toEqual([WRITE]);
    expect(toolFn(perTool, 'ToolOpsApprovalsList').table).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(toolFn(perTool, 'ToolOpsApprovalsList').secrets).toEqual([]);
    expect(toolFn(perTool, 'ToolOpsOperationsCancel').states).toEqual([]);
    expect(toolFn(perTool, 'ToolDeliveryRolloutsStart').states).toEqual(['states:StartExecution']);
    expect(toolFn(perTool, 'ToolAuditEventsList')).toMatchObject({ timeout: 10, memory: 512, secrets: [] });
  });

  it('perTool without a read credential: the read tools use the write one', () => {
    const s = synth('perTool', { ...CONTEXT, kubeconfigReadSecretArn: undefined });
    expect(toolFn(s, 'ToolK8sResourcesList').secrets).toEqual([WRITE]);
    expect(toolFn(s, 'ToolK8sResourcesList').env.KUBECONFIG_READ_SECRET).toBeUndefined();
  });

  it('perToolset: k8s holds both credentials, its reads on the read one; delivery only the write one (its plan dry-runs); drift only the read one', () => {
    const s = synth('perToolset');
    expect(toolFn(s, 'ToolsetK8s').secrets).toEqual([READ, WRITE].sort());
    expect(String(toolFn(s, 'ToolsetK8s').env.KUBECONFIG_READ_TOOLS).split(',')).toContain('k8s_resources_list');
    expect(String(toolFn(s, 'ToolsetK8s').env.KUBECONFIG_READ_TOOLS)).not.toContain('k8s_resources_apply');
    expect(toolFn(s, 'ToolsetDelivery').secrets).toEqual([WRITE]);
    expect(toolFn(s, 'ToolsetDrift').secrets).toEqual([READ]);
    expect(toolFn(s, 'ToolsetOps').secrets).toEqual([]);
    expect(toolFn(s, 'ToolsetOps').states).toEqual([]);
  });
});

describe('settings', () => {
  const read = (ctx: Record<string, unknown>) => () => readSettings((k) => ctx[k], ROOT);

  it('functionLayout is one of the three, perTool by default', () => {
    expect(read({})().functionLayout).toBe('perTool');
    expect(read({ functionLayout: 'perToolset' })().functionLayout).toBe('perToolset');
    expect(read({ functionLayout: 'perFunction' })).toThrow(/functionLayout: one of perTool, perToolset, single/);
  });

  it('kubeconfigReadSecretArn is a complete secret ARN, and not the write credential', () => {
    expect(read({ kubeconfigReadSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:r' })).toThrow(
      /kubeconfigReadSecretArn: must be the complete secret ARN/,
    );
    expect(read({ kubeconfigSecretArn: WRITE, kubeconfigReadSecretArn: WRITE })).toThrow(
      /kubeconfigReadSecretArn: is the write credential/,
    );
    expect(read({ kubeconfigReadSecretArn: READ })().kubeconfigReadSecretArn).toBe(READ);
  });

  it("every function's environment fits Lambda's 4 KB, the gateway's TOOL_FUNCTIONS included", () => {
    // readSettings runs the check with the longest names CloudFormation can generate.
    for (const layout of FUNCTION_LAYOUTS) expect(read({ ...CONTEXT, functionLayout: layout })).not.toThrow();
    expect(LAMBDA_ENV_BYTES).toBe(4096);
    // 1,400 bytes of origins on top of TOOL_FUNCTIONS' ~2.7 KB: synth refuses what Lambda would.
    const origins = Array.from({ length: 100 }, (_, i) => `app${i}.example.com`).join(',');
    expect(read({ ...CONTEXT, allowedOrigins: origins })).toThrow(
      /mcp function: its environment would take \d+ bytes, over Lambda's 4096 \(TOOL_FUNCTIONS names every tool function/,
    );
  });
});
