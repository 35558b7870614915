/**
 * The gateway (functions/mcp.ts, API Gateway events in) invoking tool functions
 * (functions/lib/tool-function.ts) through a loopback stand-in that speaks Lambda's Invoke REST
 * shapes, with the real @aws-sdk/client-lambda in between: a round trip, a function error, a
 * timeout, throttling and a tool function refusing a role the gateway let through; every call leaves
 * exactly one audit record in DynamoDB.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FetchLike } from '@modelcontextprotocol/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaClusters } from '../../functions/lib/clusters.ts';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { createToolFunctionHandler } from '../../functions/lib/tool-function.ts';
import { createMcpHandler } from '../../functions/mcp.ts';
import { tools as k8sTools } from '../../functions/tools/k8s.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import type { ToolManifest } from '../../shared/mcp/catalog.ts';
import manifestJson from '../../shared/tools/manifest.json' with { type: 'json' };
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { apiGatewayFetch } from '../support/lambda.ts';
import { type LambdaInvokeStandIn, standIn, startLambdaInvokeStandIn } from '../support/lambda-invoke.ts';
import { structured } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const PUBLIC_URL = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/mcp';
const KUBECONFIG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123';
const READ_KUBECONFIG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-read-XyZ789';
/** A write credential that does not exist: a read tool given a read credential never reads it. */
const MISSING_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/missing-QwE456';
const TABLE = 'cloudops-tool-gateway-test';
/** The deadline of the gateway the timeout test uses; the others allow a cold tool function 10 s. */
const TOOL_TIMEOUT_MS = 600;

/** Each tool the gateway routes, and the function name it invokes for it (perTool layout). */
const FUNCTIONS = {
  k8s_namespaces_list: 'cloudops-tool-k8s-namespaces-list',
  k8s_events_list: 'cloudops-tool-k8s-events-list',
  k8s_pods_logs: 'cloudops-tool-k8s-pods-logs',
  k8s_resources_get: 'cloudops-tool-k8s-resources-get',
  k8s_workloads_scale: 'cloudops-tool-k8s-workloads-scale',
  k8s_resources_apply: 'cloudops-tool-k8s-resources-apply',
  // Named in TOOL_FUNCTIONS but not deployed (a stack half-updated): Lambda answers 404.
  k8s_rollouts_status: 'cloudops-tool-k8s-rollouts-status',
  k8s_metrics_top: 'cloudops-tool-k8s-metrics-top',
};

interface AuditData {
  tool: string;
  args: unknown;
  outcome: string;
  error?: string;
  caller: { name: string };
}

describe('gateway -> Lambda Invoke -> tool functions', () => {
  let dynamo: EmbeddedDynamo;
  let kube: FakeKube;
  let issuer: TestIssuer;
  let secrets: FakeSecretsManager;
  let lambda: LambdaInvokeStandIn;
  let env: Record<string, string>;
  let gateway: FetchLike;
  let staleGateway: FetchLike;
  let hastyGateway: FetchLike;

  async function connect(via: FetchLike, scope: string, sub: string): Promise<Client> {
    const client = new Client(
      { name: 'tool-gateway-test', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    const headers = { authorization: `Bearer ${await issuer.token({ sub, scope, name: sub })}` };
    await client.connect(
      new StreamableHTTPClientTransport(new URL(PUBLIC_URL), { fetch: via, requestInit: { headers } }),
    );
    return client;
  }

  async function auditOf(tool: string): Promise<AuditData[]> {
    const day = new Date().toISOString().slice(0, 10);
    const { items } = await dynamo.store.query({ pk: `audit#${day}`, limit: 200 });
    return items.map((i) => i.data as unknown as AuditData).filter((d) => d.tool === tool);
  }

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    kube = await startFakeKube({ readyDelayMs: 50 });
    issuer = await startTestIssuer(PUBLIC_URL);
    secrets = await startFakeSecretsManager({
      [KUBECONFIG_ARN]: kube.kubeconfigYaml,
      [READ_KUBECONFIG_ARN]: kube.kubeconfigYaml,
    });
    env = {
      PUBLIC_URL,
      DYNAMODB_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      ROLLOUT_WORKFLOW: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Rollout',
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
      K8S_TIMEOUT_MS: '3000',
      LOG_LEVEL: 'silent',
    };
    // A tool function's environment: its tool, the cluster credential; the gateway's has neither.
    const toolFunction = (tool: string, credentials: Record<string, string> = { KUBECONFIG_SECRET: KUBECONFIG_ARN }) =>
      standIn(
        createToolFunctionHandler(k8sTools, {
          env: { ...env, TOOL_NAMES: tool, ...credentials },
          readSecret: secretsManagerReader(secrets.client),
          clusters: lambdaClusters,
        }),
      );
    lambda = await startLambdaInvokeStandIn(
      {
        [FUNCTIONS.k8s_namespaces_list]: toolFunction('k8s_namespaces_list', {
          KUBECONFIG_SECRET: MISSING_ARN,
          KUBECONFIG_READ_SECRET: READ_KUBECONFIG_ARN,
          KUBECONFIG_READ_TOOLS: 'k8s_namespaces_list',
        }),
        [FUNCTIONS.k8s_events_list]: async () => {
          throw new TypeError('Cannot read properties of undefined (reading "items")');
        },
        [FUNCTIONS.k8s_pods_logs]: async (payload) => {
          await sleep(TOOL_TIMEOUT_MS * 3);
          return toolFunction('k8s_pods_logs')(payload, { awsRequestId: 'late' });
        },
        [FUNCTIONS.k8s_resources_get]: toolFunction('k8s_resources_get'),
        // A function whose answer Lambda refuses to return (over 6 MB).
        [FUNCTIONS.k8s_metrics_top]: async () => ({
          v: 1,
          ok: true,
          result: { content: [{ type: 'text', text: 'x'.repeat(7 * 1024 * 1024) }] },
        }),
        [FUNCTIONS.k8s_workloads_scale]: toolFunction('k8s_workloads_scale'),
        [FUNCTIONS.k8s_resources_apply]: toolFunction('k8s_resources_apply'),
      },
      { retryAfterSeconds: 3 },
    );
    lambda.throttled.add(FUNCTIONS.k8s_resources_get);
    const gatewayEnv = { ...env, TOOL_FUNCTIONS: JSON.stringify(FUNCTIONS), TOOL_TIMEOUT_MS: '10000' };
    gateway = apiGatewayFetch({ mcp: createMcpHandler({ env: gatewayEnv, lambda: lambda.client }) });
    hastyGateway = apiGatewayFetch({
      mcp: createMcpHandler({
        env: { ...gatewayEnv, TOOL_TIMEOUT_MS: String(TOOL_TIMEOUT_MS) },
        lambda: lambda.client,
      }),
    });
    // A gateway whose manifest is stale: it believes the scale tool is a read tool.
    const stale: ToolManifest = {
      tools: (manifestJson as unknown as ToolManifest).tools.map((t) =>
        t.name === 'k8s_workloads_scale' ? { ...t, access: 'read' as const } : t,
      ),
    };
    staleGateway = apiGatewayFetch({
      mcp: createMcpHandler({ env: gatewayEnv, lambda: lambda.client, manifest: stale }),
    });
  });
  afterAll(async () => {
    await lambda?.close();
    await secrets?.close();
    await issuer?.close();
    await kube?.close();
    await dynamo?.store.close();
  });

  it('tools/list shows only the tools deployed with a function, from the manifest', async () => {
    const client = await connect(gateway, 'cloudops:read cloudops:write', 'alice');
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(FUNCTIONS).sort());
      const manifest = (manifestJson as unknown as ToolManifest).tools.find((t) => t.name === 'k8s_pods_logs');
      expect(tools.find((t) => t.name === 'k8s_pods_logs')?.inputSchema).toEqual(manifest?.inputSchema);
    } finally {
      await client.close();
    }
  });

  it('TOOLSETS narrows what the gateway lists to the toolsets it names, among the deployed tools', async () => {
    const narrowed = apiGatewayFetch({
      mcp: createMcpHandler({
        env: {
          ...env,
          TOOL_FUNCTIONS: JSON.stringify({ ...FUNCTIONS, server_info: 'cloudops-tool-server-info' }),
          TOOLSETS: 'core',
        },
        lambda: lambda.client,
      }),
    });
    const client = await connect(narrowed, 'cloudops:read cloudops:write', 'alice');
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['server_info']);
    } finally {
      await client.close();
    }
  });

  it('a read tool round trip over the read-only credential: one RequestResponse Invoke with the caller, request id and arguments', async () => {
    const client = await connect(gateway, 'cloudops:read', 'vera');
    try {
      const before = lambda.invocations.length;
      const result = await client.callTool({ name: 'k8s_namespaces_list', arguments: {} });
      expect(result.isError).toBeFalsy();
      const names = structured<{ items: Array<{ name: string }> }>(result).items.map((n) => n.name);
      expect(names).toContain('default');
      const sent = lambda.invocations.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        functionName: FUNCTIONS.k8s_namespaces_list,
        invocationType: 'RequestResponse',
        payload: {
          v: 1,
          tool: 'k8s_namespaces_list',
          args: {},
          caller: { subject: 'vera', name: 'vera', roles: ['viewer'], method: 'oauth' },
        },
      });
      const payload = sent[0]?.payload as { requestId: string; deadlineMs: number };
      expect(payload.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(payload.deadlineMs).toBeGreaterThan(Date.now() - 5_000);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_namespaces_list')).toMatchObject([{ outcome: 'ok', caller: { name: 'vera' } }]);
  });

  it('a function error (X-Amz-Function-Error: Unhandled) is a tool error naming no internals, audited', async () => {
    const client = await connect(gateway, 'cloudops:read', 'vera');
    try {
      const result = await client.callTool({ name: 'k8s_events_list', arguments: {} });
      expect(result.isError).toBe(true);
      const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
      expect(text).toMatch(/^k8s_events_list failed: its function failed \(Unhandled: TypeError\)/);
      expect(text).not.toContain('reading "items"');
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_events_list')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^internal: its function failed/) },
    ]);
  });

  it('a function slower than the deadline is a timeout tool error, audited', async () => {
    const client = await connect(hastyGateway, 'cloudops:read', 'vera');
    try {
      const started = performance.now();
      const result = await client.callTool({
        name: 'k8s_pods_logs',
        arguments: { namespace: 'default', name: 'web-0' },
      });
      expect(performance.now() - started).toBeLessThan(TOOL_TIMEOUT_MS * 2.5);
      expect(result.isError).toBe(true);
      const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
      expect(text).toMatch(/^k8s_pods_logs did not answer in time: no answer within \d+ ms/);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_pods_logs')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^timeout: /) },
    ]);
  });

  it("throttling (429 TooManyRequestsException) is a tool error with Lambda's retry advice, audited", async () => {
    const client = await connect(gateway, 'cloudops:read', 'vera');
    try {
      const before = lambda.invocations.length;
      const result = await client.callTool({
        name: 'k8s_resources_get',
        arguments: { kind: 'Deployment', namespace: 'default', name: 'web' },
      });
      expect(result.isError).toBe(true);
      const text = (result.content as Array<{ text: string }>)[0]?.text ?? '';
      expect(text).toMatch(/^k8s_resources_get is busy \(its function is throttled\): .* Retry in 3 s\./);
      // One attempt: the gateway does not multiply load on a throttled function.
      expect(lambda.invocations.length - before).toBe(1);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_resources_get')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^throttled: /) },
    ]);
  });

  it("a function Lambda does not know (404 ResourceNotFoundException) and an answer over Lambda's 6 MB are clear tool errors, audited", async () => {
    const client = await connect(gateway, 'cloudops:read', 'vera');
    try {
      const missing = await client.callTool({
        name: 'k8s_rollouts_status',
        arguments: { kind: 'Deployment', namespace: 'default', name: 'web' },
      });
      expect(missing.isError).toBe(true);
      expect((missing.content as Array<{ text: string }>)[0]?.text).toMatch(
        /^k8s_rollouts_status .*its function could not be invoked \(ResourceNotFoundException\)/,
      );
      const huge = await client.callTool({ name: 'k8s_metrics_top', arguments: {} });
      expect(huge.isError).toBe(true);
      const text = (huge.content as Array<{ text: string }>)[0]?.text ?? '';
      expect(text).toMatch(/its function failed \(Unhandled: Function.ResponseSizeTooLarge\)/);
      expect(text.length).toBeLessThan(2000);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_rollouts_status')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^unavailable: .*ResourceNotFoundException/) },
    ]);
    expect(await auditOf('k8s_metrics_top')).toMatchObject([
      { outcome: 'error', error: expect.stringMatching(/^internal: .*ResponseSizeTooLarge/) },
    ]);
  });

  it('a tool function checks the role again: a viewer let through by a stale manifest is refused and audited denied', async () => {
    const client = await connect(staleGateway, 'cloudops:read', 'vera');
    try {
      const before = lambda.invocations.length;
      const refused = await client
        .callTool({
          name: 'k8s_workloads_scale',
          arguments: { kind: 'Deployment', namespace: 'default', name: 'web', replicas: 5 },
        })
        .then(
          () => undefined,
          (err: unknown) => err as { code?: number; message: string },
        );
      expect(refused?.code).toBe(-32602);
      expect(refused?.message).toMatch(/Tool k8s_workloads_scale needs the operator role; you have viewer/);
      expect(lambda.invocations.length - before).toBe(1);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_workloads_scale')).toMatchObject([{ outcome: 'denied', caller: { name: 'vera' } }]);
    // The function refused before its handler ran: it never reached the cluster.
    expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('a call the gateway refuses before any function runs records only the argument names of a tool that redacts its own; its function redacts a call it runs', async () => {
    const client = await connect(gateway, 'cloudops:read', 'vera');
    const manifest =
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  note: plain-words-do-not-log\n';
    try {
      const before = lambda.invocations.length;
      const refused = await client.callTool({ name: 'k8s_resources_apply', arguments: { manifest } }).then(
        () => undefined,
        (err: unknown) => err as { code?: number; message: string },
      );
      expect(refused?.message).toMatch(/needs the operator role/);
      expect(lambda.invocations.length - before).toBe(0);
    } finally {
      await client.close();
    }
    expect(await auditOf('k8s_resources_apply')).toMatchObject([{ outcome: 'denied', args: { names: ['manifest'] } }]);
    // A call that reaches the function: the function redacts with the tool's own hook, the gateway records that.
    const operator = await connect(gateway, 'cloudops:read cloudops:write', 'otto');
    try {
      const result = await operator.callTool({ name: 'k8s_resources_apply', arguments: { manifest, dryRun: true } });
      expect(result.isError).toBeFalsy();
    } finally {
      await operator.close();
    }
    const records = await auditOf('k8s_resources_apply');
    expect(records).toHaveLength(2);
    expect(records.find((r) => r.caller.name === 'otto')).toMatchObject({
      outcome: 'ok',
      args: { dryRun: true, manifest: expect.stringContaining('note: "<redacted') },
    });
    expect(JSON.stringify(records)).not.toContain('plain-words-do-not-log');
  });
});

describe('tool function bundles and their handler', () => {
  it('each toolset bundle holds exactly its toolset, and together they hold every tool once', async () => {
    const bundles = {
      core: await import('../../functions/tools/core.ts'),
      k8s: await import('../../functions/tools/k8s.ts'),
      delivery: await import('../../functions/tools/delivery.ts'),
      ops: await import('../../functions/tools/ops.ts'),
      drift: await import('../../functions/tools/drift.ts'),
      alerts: await import('../../functions/tools/alerts.ts'),
      aws: await import('../../functions/tools/aws.ts'),
      cost: await import('../../functions/tools/cost.ts'),
    };
    const { NOT_ON_AWS } = await import('../../cdk/tool-functions.ts');
    const allTools = (await import('../../shared/tools/index.ts')).allTools.filter((t) => !NOT_ON_AWS.has(t.group));
    for (const [group, bundle] of Object.entries(bundles)) {
      expect(
        bundle.tools.map((t) => t.name).sort(),
        `functions/tools/${group}.ts must import exactly the ${group} tools`,
      ).toEqual(
        allTools
          .filter((t) => t.group === group)
          .map((t) => t.name)
          .sort(),
      );
    }
    const bundled = Object.values(bundles).flatMap((b) => b.tools.map((t) => t.name));
    expect(bundled.sort()).toEqual(allTools.map((t) => t.name).sort());
  });

  it('refuses a tool outside TOOL_NAMES, a malformed payload and a TOOL_NAMES the bundle does not hold', async () => {
    const env = { DYNAMODB_TABLE: 'unused', AWS_REGION: 'eu-west-1', LOG_LEVEL: 'silent' };
    const handler = createToolFunctionHandler(k8sTools, { env: { ...env, TOOL_NAMES: 'k8s_namespaces_list' } });
    const inv = {
      v: 1,
      tool: 'k8s_resources_delete',
      args: {},
      caller: { subject: 'admin', name: 'admin', roles: ['admin'], method: 'oauth' },
      requestId: 'r-1',
    };
    expect(await handler(inv)).toMatchObject({ ok: false, error: { kind: 'unknown_tool' } });
    expect(await handler({ ...inv, caller: { ...inv.caller, roles: ['root'] } })).toMatchObject({
      ok: false,
      error: { kind: 'internal', message: 'The tool function received a malformed invocation.' },
    });
    const wrong = createToolFunctionHandler(k8sTools, { env: { ...env, TOOL_NAMES: 'server_info' } });
    expect(await wrong({ ...inv, tool: 'server_info' })).toMatchObject({ ok: false, error: { kind: 'unavailable' } });
    // A read credential without the tools that use it, or naming a tool it does not serve: misconfigured.
    for (const extra of [
      { KUBECONFIG_READ_SECRET: READ_KUBECONFIG_ARN },
      { KUBECONFIG_READ_SECRET: READ_KUBECONFIG_ARN, KUBECONFIG_READ_TOOLS: 'k8s_resources_list' },
    ]) {
      const misread = createToolFunctionHandler(k8sTools, {
        env: { ...env, TOOL_NAMES: 'k8s_namespaces_list', ...extra },
      });
      expect(await misread({ ...inv, tool: 'k8s_namespaces_list' })).toMatchObject({
        ok: false,
        error: { kind: 'unavailable', message: expect.stringMatching(/misconfigured/) },
      });
    }
  });
});
