import type { Client } from '@modelcontextprotocol/client';
import { type InProcessEngineFactory, type LocalServer, startLocalServer } from '../../local/server.ts';
import type { CloudInventory } from '../../shared/ports/cloud.ts';
import { type FakeKube, startFakeKube } from './fake-kube/index.ts';
import { freePort } from './local-host.ts';
import { connectClient, type Era } from './mcp-client.ts';
import { startTestIssuer, type TestIssuer } from './oauth-issuer.ts';

export interface Caller {
  client: Client;
  call(
    name: string,
    args?: Record<string, unknown>,
  ): Promise<{ isError: boolean; text: string; data: Record<string, unknown> }>;
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T & { _text: string }>;
}

export interface Harness extends Caller {
  kube: FakeKube;
  server: LocalServer;
  issuer?: TestIssuer;
  /** Every tool response text and structured content seen, for searching leaked secrets. */
  transcript: string[];
  /** With `auth: true`: a client for another user, e.g. as('bob', 'cloudops:approve'). */
  as(subject: string, scope: string, era?: Era): Promise<Caller>;
  close(): Promise<void>;
}

/** SDK v2 client -> local host (in-process HTTP) -> fake Kubernetes API server. */
export async function startHarness(
  env: Record<string, string> = {},
  opts: { readyDelayMs?: number; auth?: boolean; workflows?: InProcessEngineFactory; cloud?: CloudInventory } = {},
): Promise<Harness> {
  const kube = await startFakeKube({ readyDelayMs: opts.readyDelayMs ?? 100 });
  let issuer: TestIssuer | undefined;
  const authEnv: Record<string, string> = {};
  if (opts.auth) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    issuer = await startTestIssuer(url);
    Object.assign(authEnv, {
      PORT: String(port),
      PUBLIC_URL: url,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
    });
  }
  const server = await startLocalServer(
    {
      PORT: '0',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      KUBECONFIG: kube.kubeconfigPath,
      // Generous: a loaded CI machine must not turn a slow fake into a failure. Timeout tests set their own.
      K8S_TIMEOUT_MS: '20000',
      ...authEnv,
      ...env,
    },
    { ...(opts.workflows ? { workflows: opts.workflows } : {}), ...(opts.cloud ? { cloud: opts.cloud } : {}) },
  );
  const transcript: string[] = [];
  const clients: Client[] = [];
  const caller = async (headers: Record<string, string>, era: Era = 'modern'): Promise<Caller> => {
    const client = await connectClient(server.url, era, headers);
    clients.push(client);
    const call: Caller['call'] = async (name, args = {}) => {
      const r = (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        content?: Array<{ type: string; text?: string }>;
        structuredContent?: Record<string, unknown>;
      };
      const text = (r.content ?? []).map((c) => c.text ?? '').join('\n');
      transcript.push(text, JSON.stringify(r.structuredContent ?? {}));
      return { isError: r.isError === true, text, data: r.structuredContent ?? {} };
    };
    return {
      client,
      call,
      async ok(name, args = {}) {
        const r = await call(name, args);
        if (r.isError) throw new Error(`${name} failed: ${r.text}`);
        return { ...r.data, _text: r.text } as never;
      },
    };
  };
  const token = async (subject: string, scope: string) => {
    if (!issuer) throw new Error('startHarness({ auth: true }) for other users');
    return { authorization: `Bearer ${await issuer.token({ sub: subject, scope, name: subject })}` };
  };
  const main = await caller(issuer ? await token('alice', 'cloudops:write cloudops:read') : {});
  return {
    kube,
    server,
    ...(issuer ? { issuer } : {}),
    transcript,
    ...main,
    async as(subject, scope, era = 'modern') {
      return caller(await token(subject, scope), era);
    },
    async close() {
      for (const c of clients) await c.close().catch(() => {});
      await server.close();
      await kube.close();
      await issuer?.close();
    },
  };
}

export const deploymentYaml = (
  name: string,
  image: string,
  opts: { namespace?: string; replicas?: number; extra?: string } = {},
) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${opts.namespace ?? 'default'}
  labels: { app: ${name} }
spec:
  replicas: ${opts.replicas ?? 3}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: ${image}
          resources:
            requests: { cpu: 100m, memory: 64Mi }
            limits: { memory: 128Mi }
${opts.extra ?? ''}`;
