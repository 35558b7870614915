import type { Client } from '@modelcontextprotocol/client';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { type FakeKube, startFakeKube } from './fake-kube/index.ts';
import { connectClient } from './mcp-client.ts';

export interface Harness {
  kube: FakeKube;
  server: LocalServer;
  client: Client;
  /** Every tool response text and structured content seen, for searching leaked secrets. */
  transcript: string[];
  call(
    name: string,
    args?: Record<string, unknown>,
  ): Promise<{ isError: boolean; text: string; data: Record<string, unknown> }>;
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T & { _text: string }>;
  close(): Promise<void>;
}

/** SDK v2 client -> local host (in-process HTTP) -> fake Kubernetes API server. */
export async function startHarness(
  env: Record<string, string> = {},
  kubeOpts: { readyDelayMs?: number } = {},
): Promise<Harness> {
  const kube = await startFakeKube({ readyDelayMs: kubeOpts.readyDelayMs ?? 100 });
  const server = await startLocalServer({
    PORT: '0',
    STORE: 'memory',
    LOG_LEVEL: 'silent',
    KUBECONFIG: kube.kubeconfigPath,
    K8S_TIMEOUT_MS: '3000',
    ...env,
  });
  const client = await connectClient(server.url, 'modern');
  const transcript: string[] = [];
  const call: Harness['call'] = async (name, args = {}) => {
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
    kube,
    server,
    client,
    transcript,
    call,
    async ok(name, args = {}) {
      const r = await call(name, args);
      if (r.isError) throw new Error(`${name} failed: ${r.text}`);
      return { ...r.data, _text: r.text } as never;
    },
    async close() {
      await client.close().catch(() => {});
      await server.close();
      await kube.close();
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
