import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.ts';
import type { Clusters } from '../../ports/kube.ts';
import { KubeconfigClusters, NoClusters } from './kubeconfig-clusters.ts';

/** The cluster registry for a host: the kubeconfig (or in-cluster account) when there is one. */
export function clustersFromConfig(config: Config, env: Record<string, string | undefined>): Clusters {
  const kubeconfig = config.kube.kubeconfig;
  const opts = {
    contexts: config.kube.contexts,
    timeoutMs: config.kube.timeoutMs,
    discoveryTtlMs: config.kube.discoveryTtlMs,
  };
  if (kubeconfig) return new KubeconfigClusters({ ...opts, kubeconfig }, env);
  if (env.KUBERNETES_SERVICE_HOST) return new KubeconfigClusters(opts, env);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return new KubeconfigClusters({ ...opts, kubeconfig: home }, env);
  return new NoClusters('set KUBECONFIG, or create ~/.kube/config');
}
