/**
 * The GCP deployment end to end, every part the real entry point on functions-framework (loopback):
 * the MCP SDK client (both protocol eras) -> the gateway (gcp-functions/mcp.ts, Firestore emulator)
 * -> CloudFunctionToolRunner with the gateway's ID tokens -> the k8s and delivery tool functions
 * (each verifying those tokens, reading the kubeconfig from Secret Manager's fake) -> the fake
 * Kubernetes API server. A rollout's delivery function starts it with the real CloudWorkflowsEngine
 * on the Workflow Executions fake, whose execution runs the generated rollout YAML and http.posts
 * each step, with the workflows service account's ID token, to the real workflow-step function.
 * Then the audit trail, read from Firestore, holds one record per call, with its caller.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpStore, loadGcpConfig } from '../../gcp-functions/lib/host.ts';
import { createGcpToolFunction } from '../../gcp-functions/lib/tool-function.ts';
import { createGcpMcpHandler } from '../../gcp-functions/mcp.ts';
import { reach as deliveryReach, tools as deliveryTools } from '../../gcp-functions/tools/delivery.ts';
import { reach as k8sReach, tools as k8sTools } from '../../gcp-functions/tools/k8s.ts';
import { createWorkflowStepHandler } from '../../gcp-functions/workflow-step.ts';
import type { FirestoreStore } from '../../shared/adapters/gcp/firestore-store.ts';
import { OPERATION_LABEL, operationLabel } from '../../shared/adapters/gcp/workflows-engine.ts';
import { type FakeWorkflowExecutions, startFakeWorkflowExecutions } from '../support/fake-gcp/workflows.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { FUNCTION_SA, type GcpFunctionHost, startGcpFunctionHost, WORKFLOWS_SA } from '../support/gcp-function-host.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { connectClient, type Era, structured } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const GATEWAY_SA = 'cloudops-gateway@ops-project.iam.gserviceaccount.com';
const ROLLOUT_WORKFLOW = 'projects/ops-project/locations/europe-west1/workflows/cloudops-rollout';
const K8S_TOOLS = ['k8s_namespaces_list', 'k8s_resources_apply', 'k8s_rollouts_status'];
const DELIVERY_TOOLS = ['delivery_rollouts_start', 'delivery_rollouts_get'];
/** Generous bounds for a busy machine: each wait ends as soon as its condition holds. */
const ROLLOUT_MS = 45_000;

type Handler = Parameters<typeof serveHttpFunction>[0];

/** A function served before its handler exists: the handler's env names the served URL (its OIDC audience). */
async function serveLate(): Promise<ServedFunction & { use(h: Handler): void }> {
  let handler: Handler | undefined;
  const served = await serveHttpFunction((req, res) => handler?.(req, res));
  return { ...served, use: (h) => (handler = h) };
}

interface AuditData {
  tool: string;
  outcome: string;
  caller: { name: string };
}

describe('GCP end to end: gateway -> tool functions -> Cloud Workflows -> workflow step, on functions-framework', () => {
  let kube: FakeKube;
  let host: GcpFunctionHost;
  let users: TestIssuer;
  let workflows: FakeWorkflowExecutions;
  let store: FirestoreStore;
  let gatewayUrl: string;
  const served: ServedFunction[] = [];
  const collection = `gcp-e2e-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 50, clusterName: 'prod' });
    host = await startGcpFunctionHost({ collection, secrets: { kubeconfig: kube.kubeconfigYaml } });
    users = await startTestIssuer('unused');
    const kubeconfig = { KUBECONFIG_SECRET: host.secret('kubeconfig'), K8S_TIMEOUT_MS: '10000' };

    // The workflow-step function, invoked only by the workflows service account.
    const step = await serveLate();
    step.use(
      createWorkflowStepHandler({ env: { ...host.env, ...host.oidcEnv(step.url, WORKFLOWS_SA), ...kubeconfig } }),
    );
    // Cloud Workflows: the deployed rollout workflow (the generated YAML, WORKFLOW_STEP_URL = the step
    // function), which only the functions' service account may start.
    workflows = await startFakeWorkflowExecutions({
      tokens: host.tokens,
      waitMs: 50,
      workflows: [
        {
          name: ROLLOUT_WORKFLOW,
          flow: 'rollout',
          invokers: [FUNCTION_SA],
          steps: { http: { stepUrl: step.url, idToken: (aud) => host.idToken(aud, WORKFLOWS_SA) } },
        },
      ],
    });

    // One function per toolset, as TOOL_NAMES says which of its tools it serves; the gateway its only invoker.
    const toolEnv = (url: string, names: string[]) => ({
      ...host.env,
      ...host.oidcEnv(url, GATEWAY_SA),
      ...kubeconfig,
      TOOL_NAMES: names.join(','),
    });
    const k8s = await serveLate();
    k8s.use(createGcpToolFunction(k8sTools, { env: toolEnv(k8s.url, K8S_TOOLS), ...k8sReach }));
    const delivery = await serveLate();
    delivery.use(
      createGcpToolFunction(deliveryTools, {
        env: { ...toolEnv(delivery.url, DELIVERY_TOOLS), ROLLOUT_WORKFLOW, WORKFLOWS_URL: workflows.url },
        ...deliveryReach,
      }),
    );

    const gateway = await serveLate();
    gatewayUrl = `${gateway.url}/mcp`;
    const gatewayEnv = {
      ...host.env,
      PUBLIC_URL: gatewayUrl,
      OAUTH_ISSUER: users.issuer,
      OAUTH_JWKS_URL: users.jwksUrl,
      TOOL_FUNCTIONS: JSON.stringify({
        ...Object.fromEntries(K8S_TOOLS.map((t) => [t, k8s.url])),
        ...Object.fromEntries(DELIVERY_TOOLS.map((t) => [t, delivery.url])),
      }),
      TOOL_TIMEOUT_MS: '20000',
    };
    gateway.use(createGcpMcpHandler({ env: gatewayEnv, idToken: (aud) => host.idToken(aud, GATEWAY_SA) }));
    served.push(step, k8s, delivery, gateway);
    store = gcpStore(loadGcpConfig(gatewayEnv, []));
  }, 120_000);

  afterAll(async () => {
    await workflows?.stop();
    await Promise.all(served.map((s) => s.close()));
    await store?.close();
    await users?.close();
    await host?.close();
    await kube?.close();
  });

  /** Calls a tool, counting the call; a tool error fails the test with its text. */
  function caller(client: Client, calls: Map<string, number>) {
    return async <T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return structured<T>(await client.callTool({ name, arguments: args }));
    };
  }

  async function auditOf(callerName: string): Promise<Map<string, number>> {
    const day = new Date().toISOString().slice(0, 10);
    const { items } = await store.query({ pk: `audit#${day}`, limit: 500 });
    const counts = new Map<string, number>();
    for (const { data } of items) {
      const a = data as unknown as AuditData;
      if (a.caller?.name === callerName) counts.set(a.tool, (counts.get(a.tool) ?? 0) + 1);
    }
    return counts;
  }

  for (const era of ['modern', 'legacy'] as Era[]) {
    it(`${era === 'modern' ? '2026-07-28' : '2025-11-25'} era: tools/list, a k8s call, a rollout to completion, one audit record per call`, async () => {
      const name = `web-${era}`;
      const who = `vera-${era}`;
      const token = await users.token({ sub: who, name: who, scope: 'cloudops:write', aud: gatewayUrl });
      const client = await connectClient(gatewayUrl, era, { authorization: `Bearer ${token}` });
      const calls = new Map<string, number>();
      const call = caller(client, calls);
      let operationId = '';
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual([...K8S_TOOLS, ...DELIVERY_TOOLS].sort());
        expect(tools.filter((t) => t.name.startsWith('aws_'))).toEqual([]);

        // k8s: the function reads its kubeconfig from Secret Manager and writes to the fake API server.
        const namespaces = await call<{ items: Array<{ name: string }> }>('k8s_namespaces_list', {});
        expect(namespaces.items.map((n) => n.name)).toContain('default');
        await call('k8s_resources_apply', { manifest: deploymentYaml(name, 'nginx:1.25.3', { replicas: 2 }) });
        await call('k8s_rollouts_status', { name, namespace: 'default', waitSeconds: 20 });

        // The rollout: started by the delivery function on Cloud Workflows, run step by step by the step function.
        const started = await call<{ operationId: string; approvalRequired: boolean }>('delivery_rollouts_start', {
          name,
          image: 'nginx:1.27.0',
        });
        expect(started.approvalRequired).toBe(false);
        operationId = started.operationId;
        const deadline = Date.now() + ROLLOUT_MS;
        let op: { status: string; statusMessage?: string } = { status: 'unknown' };
        while (Date.now() < deadline) {
          op = await call('delivery_rollouts_get', { operationId: started.operationId });
          if (['completed', 'failed', 'cancelled'].includes(op.status)) break;
          await sleep(200);
        }
        expect(op, op.statusMessage).toMatchObject({ status: 'completed' });
      } finally {
        await client.close();
      }
      const deployment = kube.store.get('deployments.apps', 'default', name) as unknown as {
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      };
      expect(deployment.spec.template.spec.containers[0]?.image).toBe('nginx:1.27.0');
      // One execution ran on the Workflow Executions fake; it returns (succeeds) just after its last step.
      const executions = [...workflows.executions.values()].filter(
        (e) => e.labels[OPERATION_LABEL] === operationLabel(operationId),
      );
      expect(executions).toHaveLength(1);
      await Promise.race([executions[0]?.done, sleep(10_000)]);
      expect(executions[0]?.state).toBe('SUCCEEDED');
      // One audit record per call, each naming the caller.
      expect(Object.fromEntries(await auditOf(who))).toEqual(Object.fromEntries(calls));
    });
  }
});
