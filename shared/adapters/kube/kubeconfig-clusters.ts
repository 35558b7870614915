import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../../config/config.ts';
import type { ClusterInfo, Clusters, KubeClient } from '../../ports/kube.ts';
import { UnknownClusterError } from '../../ports/kube.ts';
import { ClientNodeKubeClient } from './kube-client.ts';

export interface KubeconfigClustersOptions {
  /** A kubeconfig path list (like KUBECONFIG); default: KUBECONFIG, ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  /** Only these contexts (empty: all). */
  contexts?: string[];
  timeoutMs: number;
  discoveryTtlMs: number;
}

/**
 * Clusters from a kubeconfig: every context is a cluster, named by its context name; the current
 * context is the default. In a pod without a kubeconfig, the in-cluster service account is one
 * cluster named `in-cluster`. EKS and GKE discovery will add registries of their own.
 */
export class KubeconfigClusters implements Clusters {
  private readonly base: KubeConfig;
  private readonly infos: Array<ClusterInfo & { context: string }>;
  private readonly clients = new Map<string, KubeClient>();
  private readonly opts: KubeconfigClustersOptions;
  /** Files of a KUBECONFIG list that do not exist and were skipped (like kubectl), for the host to log. */
  readonly skipped: string[] = [];

  constructor(opts: KubeconfigClustersOptions, env: Record<string, string | undefined> = process.env) {
    this.opts = opts;
    this.base = new KubeConfig();
    const inCluster = !opts.kubeconfig && !env.KUBECONFIG && env.KUBERNETES_SERVICE_HOST;
    if (opts.kubeconfig) {
      // Several files, like KUBECONFIG: the first file's current context wins. Like kubectl, files
      // of the list that do not exist are skipped, as long as one does.
      const files = opts.kubeconfig.split(delimiter).filter(Boolean);
      const present = files.filter((f) => existsSync(f));
      this.skipped.push(...files.filter((f) => !present.includes(f)));
      if (present.length === 0) {
        throw new ConfigError(
          files.length === 1
            ? `KUBECONFIG: the kubeconfig file ${files[0]} does not exist`
            : `KUBECONFIG: none of the kubeconfig files exists: ${files.join(', ')}`,
        );
      }
      const [first, ...rest] = present.map(loadKubeconfigFile);
      this.base = first as KubeConfig;
      for (const more of rest) this.base.mergeConfig(withoutNamesIn(this.base, more), true);
    } else if (inCluster) {
      this.base.loadFromCluster();
    } else {
      this.base.loadFromDefault();
    }
    const allow = new Set(opts.contexts ?? []);
    const current = this.base.getCurrentContext();
    this.infos = this.base
      .getContexts()
      .filter((c) => allow.size === 0 || allow.has(c.name))
      .flatMap((c) => {
        const cluster = this.base.getCluster(c.cluster);
        if (!cluster) return [];
        const name = inCluster ? 'in-cluster' : kubeconfigName(c.name);
        return [
          {
            name,
            id: inCluster ? 'kube:in-cluster' : `kube:${c.name}`,
            context: c.name,
            server: cluster.server,
            source: inCluster ? 'in-cluster' : 'kubeconfig',
            isDefault: c.name === current,
            namespace: c.namespace ?? 'default',
          } satisfies ClusterInfo & { context: string },
        ];
      });
    if (!this.infos.some((i) => i.isDefault) && this.infos[0]) this.infos[0].isDefault = true;
  }

  async list(): Promise<ClusterInfo[]> {
    return this.infos.map(({ context: _, ...i }) => i);
  }

  async defaultCluster(): Promise<string | undefined> {
    return this.defaultName();
  }

  private defaultName(): string | undefined {
    return this.infos.find((i) => i.isDefault)?.name;
  }

  async client(name?: string): Promise<KubeClient> {
    const target = name ?? this.defaultName();
    const info = this.infos.find((i) => i.name === target || i.id === target);
    if (!target || !info) {
      const known = this.infos.map((i) => i.name).join(', ') || 'none configured';
      throw new UnknownClusterError(
        target
          ? `unknown cluster "${target}"; known clusters: ${known}`
          : 'no Kubernetes cluster is configured (set KUBECONFIG)',
      );
    }
    let client = this.clients.get(info.name);
    if (!client) {
      const kc = new KubeConfig();
      kc.loadFromString(this.base.exportConfig());
      if (info.source !== 'in-cluster') kc.setCurrentContext(info.context);
      client = new ClientNodeKubeClient({
        cluster: info.name,
        kubeConfig: kc,
        timeoutMs: this.opts.timeoutMs,
        discoveryTtlMs: this.opts.discoveryTtlMs,
      });
      this.clients.set(info.name, client);
    }
    return client;
  }
}

/**
 * The name a context goes by: its own, unless it reads like a registry id (`kube:…`, `eks:…`,
 * `gke:…`), which would name another cluster; such a context goes by `kube:<context>` only.
 */
export function kubeconfigName(context: string): string {
  return /^(kube|eks|gke):/.test(context) ? `kube:${context}` : context;
}

function loadKubeconfigFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`KUBECONFIG: cannot load the kubeconfig file ${file}: ${why}`);
  }
  return kc;
}

/** A registry with no clusters, for hosts started without any kubeconfig. */
export class NoClusters implements Clusters {
  private readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
  async list(): Promise<ClusterInfo[]> {
    return [];
  }
  async defaultCluster(): Promise<string | undefined> {
    return undefined;
  }
  async client(): Promise<KubeClient> {
    throw new UnknownClusterError(`no Kubernetes cluster is configured: ${this.why}`);
  }
}

/**
 * The clusters, users and contexts of `more` whose names `base` does not already have. Like kubectl,
 * the first file that names one wins; client-node's mergeConfig would throw on the duplicate, and
 * kubeadm gives every cluster the same names (`kubernetes`, `kubernetes-admin`).
 */
function withoutNamesIn(base: KubeConfig, more: KubeConfig): KubeConfig {
  const taken = (names: Array<{ name: string }>) => new Set(names.map((n) => n.name));
  const clusters = taken(base.getClusters());
  const users = taken(base.getUsers());
  const contexts = taken(base.getContexts());
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: more.getClusters().filter((c) => !clusters.has(c.name)),
    users: more.getUsers().filter((u) => !users.has(u.name)),
    contexts: more.getContexts().filter((c) => !contexts.has(c.name)),
    currentContext: base.getCurrentContext(),
  });
  return out;
}
