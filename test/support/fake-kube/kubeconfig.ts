// A kubeconfig pointing at the fake server with bearer-token auth.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const FAKE_TOKEN = 'fake-token';

export interface KubeconfigOptions {
  clusterName: string;
  server: string;
  token: string;
  namespace?: string;
}

export function renderKubeconfig(opts: KubeconfigOptions): string {
  const user = `${opts.clusterName}-user`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http:// servers unless TLS verification is explicitly skipped.
    clusters: [{ name: opts.clusterName, cluster: { server: opts.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token: opts.token } }],
    contexts: [
      { name: opts.clusterName, context: { cluster: opts.clusterName, user, namespace: opts.namespace ?? 'default' } },
    ],
    'current-context': opts.clusterName,
    preferences: {},
  });
}

export async function writeKubeconfig(dir: string, yaml: string): Promise<string> {
  const path = join(dir, 'kubeconfig');
  await writeFile(path, yaml, { mode: 0o600 });
  return path;
}
