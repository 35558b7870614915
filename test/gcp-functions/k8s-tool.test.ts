/**
 * A k8s tool function on GCP, end to end from the gateway's runner: CloudFunctionToolRunner with a
 * signed ID token -> the k8s bundle's tools and reach on the real functions-framework -> gcpClusters
 * (the kubeconfig read from Secret Manager's fake with the function's own service account) -> the fake
 * Kubernetes API server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpToolFunction } from '../../gcp-functions/lib/tool-function.ts';
import { cloudWorkflows } from '../../gcp-functions/lib/workflows.ts';
import { reach as k8sReach, tools as k8sTools } from '../../gcp-functions/tools/k8s.ts';
import { CloudFunctionToolRunner } from '../../shared/adapters/gcp/cloud-function-tool-runner.ts';
import type { Deps } from '../../shared/app/deps.ts';
import type { ToolInvocation } from '../../shared/ports/tool-runner.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type GcpFunctionHost, startGcpFunctionHost } from '../support/gcp-function-host.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const GATEWAY_SA = 'cloudops-gateway@ops-project.iam.gserviceaccount.com';

const invocation = (tool: string): ToolInvocation => ({
  v: 1,
  tool,
  args: {},
  caller: { subject: 'vera', name: 'vera', roles: ['viewer'], method: 'oauth' },
  requestId: randomUUID(),
});

describe('k8s tool function on GCP: kubeconfig from Secret Manager', () => {
  let host: GcpFunctionHost;
  let kube: FakeKube;
  let users: TestIssuer;
  const served: ServedFunction[] = [];
  let runner: CloudFunctionToolRunner;

  /** Serves the k8s bundle's tools with `settings`; its URL is its audience, the gateway its invoker. */
  async function k8sFunction(settings: Record<string, string>): Promise<string> {
    let handler: ReturnType<typeof createGcpToolFunction> | undefined;
    const fn = await serveHttpFunction((req, res) => handler?.(req, res));
    served.push(fn);
    handler = createGcpToolFunction(k8sTools, {
      env: {
        ...host.env,
        PUBLIC_URL: 'https://mcp.example.run.app/mcp',
        OAUTH_ISSUER: users.issuer,
        OAUTH_JWKS_URL: users.jwksUrl,
        TOOL_NAMES: 'k8s_namespaces_list',
        K8S_TIMEOUT_MS: '5000',
        ...host.oidcEnv(fn.url, GATEWAY_SA),
        ...settings,
      },
      ...k8sReach,
    });
    return fn.url;
  }

  beforeAll(async () => {
    kube = await startFakeKube();
    host = await startGcpFunctionHost({
      collection: `k8s-tool-${randomUUID().slice(0, 8)}`,
      secrets: { kubeconfig: kube.kubeconfigYaml },
    });
    users = await startTestIssuer('unused');
    const functions = {
      k8s_namespaces_list: await k8sFunction({ KUBECONFIG_SECRET: host.secret('kubeconfig') }),
      k8s_events_list: await k8sFunction({
        KUBECONFIG_SECRET: host.secret('missing'),
        TOOL_NAMES: 'k8s_events_list',
      }),
      k8s_api_resources_list: await k8sFunction({ TOOL_NAMES: 'k8s_api_resources_list' }),
    };
    runner = new CloudFunctionToolRunner({
      functions,
      timeoutMs: 15_000,
      idToken: (aud) => host.idToken(aud, GATEWAY_SA),
    });
  });
  afterAll(async () => {
    await Promise.all(served.map((s) => s.close()));
    await users?.close();
    await host?.close();
    await kube?.close();
  });

  it('lists the namespaces of the cluster in the kubeconfig it read from Secret Manager', async () => {
    const result = await runner.run(invocation('k8s_namespaces_list'));
    expect(result.ok).toBe(true);
    const items = (result as { result: { structuredContent?: { items: Array<{ name: string }> } } }).result
      .structuredContent?.items;
    expect(items?.map((n) => n.name)).toContain('default');
  });

  it('a kubeconfig secret that does not exist is a misconfigured function, named only in its log', async () => {
    const result = await runner.run(invocation('k8s_events_list'));
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'unavailable', message: expect.stringMatching(/^The k8s_events_list function is misconfigured/) },
    });
    expect(JSON.stringify(result)).not.toContain('projects/');
  });

  it('without KUBECONFIG_SECRET the tool says how the deployment sets one', async () => {
    const result = await runner.run(invocation('k8s_api_resources_list'));
    expect(JSON.stringify(result)).toMatch(/set KUBECONFIG_SECRET \(a Secret Manager version\)/);
  });
});

describe('cloudWorkflows', () => {
  const depsWith = (rolloutWorkflow?: string) => ({ config: { rolloutWorkflow } }) as unknown as Deps;

  it('is Cloud Workflows with ROLLOUT_WORKFLOW, and refuses without it', async () => {
    expect(cloudWorkflows(depsWith('projects/ops-project/locations/europe-west1/workflows/rollout'), {}).name).toBe(
      'cloudworkflows',
    );
    const none = cloudWorkflows(depsWith(undefined), {});
    expect(none.name).toBe('none');
    await expect(none.describe('x')).rejects.toThrow(/ROLLOUT_WORKFLOW is not set/);
  });
});
