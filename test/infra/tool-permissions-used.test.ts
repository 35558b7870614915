/**
 * The permission table against the code: every tool runs in its own tool function (the real handler
 * of its toolset's bundle entry) with exactly the environment the stack gives it (perTool, both
 * kubeconfig credentials), against DynamoDB (embedded, behind a proxy that records each request's
 * action), the fake Kubernetes API server, a Secrets Manager that records which secret is read and a
 * workflow engine that records what is asked of it, and moto_server (behind a proxy that records each
 * AWS API action) for the aws tools and EKS cloud baselines. Each tool must work, and touch nothing
 * its row of cdk/tool-permissions.ts does not grant.
 */

import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironments } from '../../cdk/function-env.ts';
import { readSettings } from '../../cdk/settings.ts';
import { planToolFunctions, toolCatalog } from '../../cdk/tool-functions.ts';
import { TOOL_PERMISSIONS, type ToolPermissions } from '../../cdk/tool-permissions.ts';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import {
  createToolFunctionHandler,
  type ToolFunctionHandler,
  type ToolFunctionOptions,
} from '../../functions/lib/tool-function.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import type { Role } from '../../shared/domain/identity.ts';
import type { ToolRunResult } from '../../shared/ports/tool-runner.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TABLE = 'cloudops-permissions-test';
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const WRITE = SECRET('cloudops/kubeconfig');
const READ = SECRET('cloudops/kubeconfig-read');
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Rollout';

const REGION = 'eu-west-1';
/** The account moto serves for any access key it does not know. */
const MOTO_ACCOUNT = '123456789012';
const AWS_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_REGION: REGION,
};

/**
 * The IAM action of one AWS API request as the service names it: the SigV4 scope's service and the
 * query protocol's Action (EC2, STS), the JSON/CBOR target (CloudWatch), or the REST path (EKS).
 */
function iamAction(method: string, url: string, headers: IncomingHttpHeaders, body: string): string | undefined {
  const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1];
  if (!service) return undefined;
  const prefix = service === 'monitoring' ? 'cloudwatch' : service;
  const query = new URLSearchParams(body).get('Action') ?? new URL(url, 'http://x').searchParams.get('Action');
  if (query) return `${prefix}:${query}`;
  const target = String(headers['x-amz-target'] ?? '').split('.')[1];
  if (target) return `${prefix}:${target}`;
  const op = /\/operation\/(\w+)/.exec(url)?.[1];
  if (op) return `${prefix}:${op}`;
  if (service === 'eks') {
    const path = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
    const rest: Record<string, string> = {
      'GET clusters': 'ListClusters',
      'GET clusters/*': 'DescribeCluster',
      'GET clusters/*/node-groups': 'ListNodegroups',
      'GET clusters/*/node-groups/*': 'DescribeNodegroup',
      'GET clusters/*/addons': 'ListAddons',
      'GET clusters/*/addons/*': 'DescribeAddon',
      'GET clusters/*/insights': 'ListInsights',
      'POST clusters/*/insights': 'ListInsights',
    };
    const shape = path.map((p, i) => (i % 2 === 1 ? '*' : p)).join('/');
    return `eks:${rest[`${method} ${shape}`] ?? `${method} ${shape}`}`;
  }
  return `${prefix}:${method} ${url}`;
}

/** One month-to-date GetCostAndUsage answer (moto returns queued results in order). */
async function seedCostExplorer(endpoint: string): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  const res = await fetch(`${endpoint}/moto-api/static/ce/cost-and-usage-results`, {
    method: 'POST',
    body: JSON.stringify({
      results: [
        {
          ResultsByTime: [
            {
              TimePeriod: { Start: day, End: day },
              Total: {},
              Groups: [
                {
                  Keys: ['Amazon Elastic Compute Cloud - Compute'],
                  Metrics: { UnblendedCost: { Amount: '12.5', Unit: 'USD' } },
                },
              ],
              Estimated: true,
            },
          ],
        },
      ],
    }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`seeding Cost Explorer: HTTP ${res.status}`);
}

/** Two instances (one protected by env=prod), a metric for one, an EKS cluster with a node group. */
async function seedAws(endpoint: string): Promise<{ plain: string; prod: string }> {
  const credentials = {
    accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY as string,
  };
  const ec2 = new EC2Client({ region: REGION, endpoint, credentials });
  const run = async (tags: Record<string, string>) =>
    (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [
            { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          ],
        }),
      )
    ).Instances?.[0]?.InstanceId as string;
  const plain = await run({ Name: 'batch', env: 'dev' });
  const prod = await run({ Name: 'web', env: 'prod' });
  const cw = new CloudWatchClient({ region: REGION, endpoint, credentials });
  await cw.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/EC2',
      MetricData: [
        {
          MetricName: 'CPUUtilization',
          Dimensions: [{ Name: 'InstanceId', Value: plain }],
          Value: 42,
          Timestamp: new Date(),
        },
      ],
    }),
  );
  const eks = new EKSClient({ region: REGION, endpoint, credentials });
  await eks.send(
    new CreateClusterCommand({
      name: 'prod',
      version: '1.31',
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
      resourcesVpcConfig: { subnetIds: ['subnet-1'] },
    }),
  );
  await eks.send(
    new CreateNodegroupCommand({
      clusterName: 'prod',
      nodegroupName: 'general',
      instanceTypes: ['m6i.large'],
      scalingConfig: { minSize: 1, maxSize: 4, desiredSize: 2 },
      subnets: ['subnet-1'],
      nodeRole: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-node`,
    }),
  );
  return { plain, prod };
}

const row = (tool: string) => (TOOL_PERMISSIONS as Record<string, ToolPermissions>)[tool] as ToolPermissions;

describe('each tool, in its own function, touches only what its permission row grants', () => {
  let dynamo: EmbeddedDynamo;
  let proxy: Server;
  let kube: FakeKube;
  let secrets: FakeSecretsManager;
  /** What the current call did: DynamoDB actions, secrets read, Step Functions actions, API server requests. */
  const seen = {
    table: new Set<string>(),
    secrets: new Set<string>(),
    states: new Set<string>(),
    aws: new Set<string>(),
  };
  const used = new Map<string, { table: string[]; secrets: string[]; states: string[]; aws: string[]; kube: number }>();
  let moto: MotoServer;
  let awsProxy: Server;
  const savedEnv: Record<string, string | undefined> = {};
  const handlers = new Map<string, ToolFunctionHandler>();

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    const target = new URL(dynamo.endpoint);
    // DynamoDB's JSON protocol names the action in X-Amz-Target (DynamoDB_20120810.GetItem): the IAM action.
    proxy = createServer((req, res) => {
      const action = String(req.headers['x-amz-target'] ?? '').split('.')[1];
      if (action) seen.table.add(`dynamodb:${action}`);
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    kube = await startFakeKube({ readyDelayMs: 50 });
    // AWS: moto behind a proxy that names each request's IAM action (service from the SigV4 scope).
    moto = await startMoto();
    const motoUrl = new URL(moto.url);
    awsProxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const action = iamAction(req.method ?? 'GET', req.url ?? '/', req.headers, body.toString('utf8'));
        if (action) seen.aws.add(action);
        const up = request(
          { host: motoUrl.hostname, port: motoUrl.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.end(body);
      });
    });
    await new Promise<void>((r) => awsProxy.listen(0, '127.0.0.1', r));
    for (const [k, v] of Object.entries(AWS_ENV)) {
      savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
    secrets = await startFakeSecretsManager({ [WRITE]: kube.kubeconfigYaml, [READ]: kube.kubeconfigYaml });
    const reader = secretsManagerReader(secrets.client);

    const settings = readSettings(
      (k) =>
        ({
          kubeconfigSecretArn: WRITE,
          kubeconfigReadSecretArn: READ,
          functionLayout: 'perTool',
          awsRegions: REGION,
          costAws: 'true',
        })[k],
      ROOT,
    );
    const plans = planToolFunctions(toolCatalog(), 'perTool', { read: true, write: true });
    const envs = functionEnvironments(
      settings,
      {
        table: TABLE,
        apiEndpoint: 'https://abc123def4.execute-api.eu-west-1.amazonaws.com',
        machineArns: { ROLLOUT_WORKFLOW: MACHINE },
        toolFunctions: {},
      },
      plans,
    );
    const recordingEngine: WorkflowEngine = {
      name: 'recording',
      start: async (_flow, name) => {
        seen.states.add('states:StartExecution');
        return { executionId: `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`, alreadyStarted: false };
      },
      describe: async () => {
        seen.states.add('states:DescribeExecution');
        return { status: 'RUNNING' };
      },
      stop: async () => {
        seen.states.add('states:StopExecution');
      },
    };
    for (const plan of plans) {
      // The entry's own reach (clusters, workflows): a tool run in a bundle that lacks what it needs fails here.
      const { tools, reach } = (await import(join(ROOT, plan.entry))) as {
        tools: AnyTool[];
        reach?: Omit<ToolFunctionOptions, 'env'>;
      };
      const env = {
        ...envs.tools[plan.id],
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        AWS_REGION: 'eu-west-1',
        K8S_TIMEOUT_MS: '5000',
        LOG_LEVEL: 'silent',
        AWS_ENDPOINT_URL: `http://127.0.0.1:${(awsProxy.address() as AddressInfo).port}`,
      };
      const handler = createToolFunctionHandler(tools, {
        ...reach,
        env,
        readSecret: {
          read: (id) => {
            seen.secrets.add(id);
            return reader.read(id);
          },
        },
        workflows: () => recordingEngine,
      });
      for (const t of plan.tools) handlers.set(t.name, handler);
    }
  }, 60_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await new Promise((r) => awsProxy?.close(r));
    await moto?.stop();
    await secrets?.close();
    await kube?.close();
    await new Promise((r) => proxy?.close(r));
    await dynamo?.store.close();
  });

  let n = 0;
  /** Runs one call in the tool's function; records what it touched under the tool's name. */
  async function call(
    tool: string,
    args: Record<string, unknown> = {},
    as: { subject: string; roles: Role[] } = { subject: 'alice', roles: ['admin'] },
  ): Promise<ToolRunResult & { data: Record<string, unknown> }> {
    const handler = handlers.get(tool);
    if (!handler) throw new Error(`no function for ${tool}`);
    for (const s of Object.values(seen)) s.clear();
    const kubeBefore = kube.requests.length;
    const r = await handler({
      v: 1,
      tool,
      args,
      caller: { subject: as.subject, name: as.subject, roles: as.roles, method: 'oauth' },
      requestId: `req-${++n}`,
    });
    const prev = used.get(tool) ?? { table: [], secrets: [], states: [], aws: [], kube: 0 };
    used.set(tool, {
      aws: [...new Set([...prev.aws, ...seen.aws])].sort(),
      table: [...new Set([...prev.table, ...seen.table])].sort(),
      secrets: [...new Set([...prev.secrets, ...seen.secrets])].sort(),
      states: [...new Set([...prev.states, ...seen.states])].sort(),
      kube: prev.kube + (kube.requests.length - kubeBefore),
    });
    return { ...r, data: (r.ok ? r.result.structuredContent : undefined) ?? {} };
  }
  const ok = async (tool: string, args: Record<string, unknown> = {}, as?: { subject: string; roles: Role[] }) => {
    const r = await call(tool, args, as);
    expect(r.ok && !r.result.isError, `${tool}: ${JSON.stringify(r).slice(0, 600)}`).toBe(true);
    return r.data;
  };

  it('runs every tool through a scenario', async () => {
    // Cluster reads and writes.
    await ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod }\n' });
    await ok('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.26.0', { replicas: 2 }) });
    await ok('k8s_resources_apply', { manifest: deploymentYaml('api', 'nginx:1.26.0', { namespace: 'prod' }) });
    await ok('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.26.0', { namespace: 'prod' }) });
    await ok('k8s_resources_apply', {
      manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: scratch, namespace: default }\ndata: { a: "1" }\n',
    });
    await new Promise((r) => setTimeout(r, 600));
    await ok('server_info');
    await ok('k8s_clusters_list');
    await ok('k8s_api_resources_list');
    await ok('k8s_namespaces_list');
    const pods = await ok('k8s_resources_list', { kind: 'Pod' });
    await ok('k8s_resources_get', { kind: 'Deployment', name: 'web' });
    const pod = JSON.stringify(pods).match(/"name":"(web-[^"]+)"/)?.[1];
    expect(pod, JSON.stringify(pods).slice(0, 400)).toBeDefined();
    await ok('k8s_pods_logs', { name: pod });
    await ok('k8s_events_list');
    await ok('k8s_metrics_top');
    await ok('k8s_rollouts_status', { name: 'web' });
    await ok('k8s_resources_patch', { kind: 'ConfigMap', name: 'scratch', patch: '{"data":{"a":"2"}}' });
    await ok('k8s_workloads_scale', { name: 'web', replicas: 3 });
    await ok('k8s_rollouts_restart', { name: 'web' });
    await new Promise((r) => setTimeout(r, 400));
    await ok('k8s_rollouts_history', { name: 'web' });
    await ok('k8s_rollouts_undo', { name: 'web' });
    await ok('k8s_resources_delete', { kind: 'ConfigMap', name: 'scratch' });

    // A rollout that needs approval (namespace prod*), decided by someone else, then one cancelled before it.
    await ok('delivery_rollouts_plan', { name: 'web', image: 'nginx:1.27.0' });
    const first = await ok('delivery_rollouts_start', { name: 'api', namespace: 'prod', image: 'nginx:1.27.0' });
    expect(first).toMatchObject({ approvalRequired: true });
    const operationId = first.operationId as string;
    await ok('delivery_rollouts_get', { operationId });
    await ok('ops_operations_get', { operationId });
    await ok('ops_operations_list');
    await ok('ops_approvals_list');
    await ok(
      'ops_approvals_decide',
      { operationId, decision: 'approve', reason: 'looks right', changeHash: first.changeHash },
      { subject: 'bob', roles: ['approver'] },
    );
    // Not paused: refused, after reading the record.
    const promote = await call('delivery_rollouts_promote', { operationId });
    expect(promote.ok && promote.result.isError).toBe(true);
    await ok('delivery_rollouts_abort', { operationId, reason: 'test' });
    const second = await ok('delivery_rollouts_start', { name: 'web', namespace: 'prod', image: 'nginx:1.27.1' });
    await ok('ops_operations_cancel', { operationId: second.operationId, reason: 'test' });
    await ok('audit_events_list');
    await ok('admin_config_get');

    // Drift: adopt (a dry run, then for real), check, list; alerts (no channel here: recorded, the test refused).
    await ok('drift_baselines_adopt', { namespace: 'prod', kinds: ['Service'], dryRun: true });
    await ok('drift_baselines_adopt', { namespace: 'prod', kinds: ['ConfigMap'] });
    await ok('drift_checks_run', { namespace: 'prod' });
    await ok('drift_findings_list');
    await ok('alerts_outbox_list');
    const test = await call('alerts_channel_test');
    expect(test.ok && test.result.isError).toBe(true);

    // AWS (after the drift check, so the clusters it discovered hold no EKS cluster): EC2 and
    // CloudWatch in moto, an EKS cluster described and adopted as a cloud baseline.
    const seeded = await seedAws(moto.url);
    await ok('aws_ec2_instances_list');
    await ok('aws_ec2_instances_stop', { instanceIds: [seeded.plain], dryRun: true });
    await ok('aws_ec2_instances_stop', { instanceIds: [seeded.plain] });
    await ok('aws_ec2_instances_start', { instanceIds: [seeded.plain] });
    // A protected instance (env=prod): an approval first, decided by someone else, then the stop.
    const asked = await ok('aws_ec2_instances_stop', { instanceIds: [seeded.prod] });
    expect(asked).toMatchObject({ status: 'approval_required' });
    await ok(
      'ops_approvals_decide',
      {
        operationId: asked.approvalId,
        decision: 'approve',
        reason: 'maintenance window',
        changeHash: asked.changeHash,
      },
      { subject: 'bob', roles: ['approver'] },
    );
    expect(
      await ok('aws_ec2_instances_stop', { instanceIds: [seeded.prod], approvalId: asked.approvalId }),
    ).toMatchObject({ status: 'done' });
    await ok('aws_cloudwatch_metrics_get', {
      queries: [{ namespace: 'AWS/EC2', metric: 'CPUUtilization', dimensions: { InstanceId: seeded.plain } }],
    });
    await ok('aws_eks_clusters_describe', { name: 'prod' });
    await ok('drift_baselines_adopt', { cloudCluster: `eks:${MOTO_ACCOUNT}/${REGION}/prod` });

    // Cost: spend from Cost Explorer (moto hands out the queued result; its missing GetCostForecast
    // makes the forecast computed), then again from the table's cache; samples, workloads, budgets.
    await seedCostExplorer(moto.url);
    await ok('cost_reports_get');
    await ok('cost_reports_get');
    await ok('cost_budgets_list');
    await ok('cost_workloads_list');
    await ok('cost_recommendations_list');

    expect([...used.keys()].sort()).toEqual(
      toolCatalog()
        .map((t) => t.name)
        .sort(),
    );
  }, 120_000);

  it('and touched nothing its row does not grant', () => {
    for (const [tool, u] of used) {
      const p = row(tool);
      for (const action of u.table) expect(p.table ?? [], `${tool} used ${action}`).toContain(action);
      expect(u.states, tool).toEqual(p.startsRollout ? ['states:StartExecution'] : []);
      const credential = p.kube === 'read' ? READ : p.kube === 'write' ? WRITE : undefined;
      expect(u.secrets, tool).toEqual(credential ? [credential] : []);
      if (!p.kube) expect(u.kube, `${tool} talked to the API server`).toBe(0);
      // AWS: the row's actions; a function that reaches clusters also discovers EKS clusters
      // (grantDiscovery); GetCallerIdentity needs no permission.
      const allowed = new Set<string>([...(p.aws ?? []), 'sts:GetCallerIdentity']);
      if (p.kube) for (const a of ['eks:ListClusters', 'eks:DescribeCluster']) allowed.add(a);
      if (p.costExplorer) for (const a of ['ce:GetCostAndUsage', 'ce:GetCostForecast']) allowed.add(a);
      for (const action of u.aws) expect([...allowed], `${tool} called ${action}`).toContain(action);
    }
    // The aws rows are not wider than the calls either (GetCallerIdentity: the own account's id, no permission).
    const awsOf = (tool: string) => used.get(tool)?.aws.filter((a) => a !== 'sts:GetCallerIdentity');
    expect(awsOf('aws_ec2_instances_stop')).toEqual(['ec2:DescribeInstances', 'ec2:StopInstances']);
    expect(awsOf('aws_ec2_instances_list')).toEqual(['ec2:DescribeInstances']);
    expect(awsOf('aws_cloudwatch_metrics_get')).toEqual(['cloudwatch:GetMetricData']);
    expect(awsOf('cost_reports_get')).toEqual(['ce:GetCostAndUsage', 'ce:GetCostForecast']);
    // Discovery aside (a kube row lists the EKS clusters), the samples come from the table alone.
    expect(awsOf('cost_workloads_list')?.filter((a) => !a.startsWith('eks:'))).toEqual([]);
    expect(awsOf('aws_eks_clusters_describe')).toEqual(
      expect.arrayContaining(['eks:DescribeCluster', 'eks:DescribeNodegroup', 'eks:ListNodegroups']),
    );
    // The rows are not wider than the code either, where a scenario shows it.
    expect(used.get('delivery_rollouts_start')?.table).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(used.get('ops_operations_cancel')?.table).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(used.get('k8s_resources_apply')?.table).toEqual(['dynamodb:UpdateItem']);
  });
});
