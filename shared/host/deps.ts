import { PrometheusSource } from '../adapters/prometheus.ts';
import { buildDeps, type Deps } from '../app/deps.ts';
import { alertSettingsFromEnv } from '../config/alerts.ts';
import type { Config } from '../config/config.ts';
import { loadPolicy } from '../config/policy-file.ts';
import type { Logger } from '../logging/logger.ts';
import { type Clusters, UnknownClusterError } from '../ports/kube.ts';
import type { SecretReader } from '../ports/secrets.ts';
import type { Store } from '../ports/store.ts';
import type { WorkflowEngine } from '../ports/workflow.ts';
import type { CloudFactory, ClustersFactory, CostSourcesFactory, Env, NotifierFactory } from './factories.ts';

/** The registry of a function that reaches no cluster (the ops toolset): nothing listed, every client refused. */
const noClusters: Clusters = {
  list: async () => [],
  defaultCluster: async () => undefined,
  client: async () => {
    throw new UnknownClusterError('this function reaches no Kubernetes cluster');
  },
};

const refuse = () => Promise.reject(new Error('this tool function has no workflow (ROLLOUT_WORKFLOW is not set)'));

/** An engine that refuses: what a tool function has without ROLLOUT_WORKFLOW, or outside the delivery toolset. */
export const noWorkflows: WorkflowEngine = { name: 'none', start: refuse, describe: refuse, stop: refuse };

/**
 * The engine a workflow step sees: steps never start, inspect or stop workflows (the workflow's
 * definition names the step function, so the reverse reference would be a cycle).
 */
export const stepsStartNoWorkflows: WorkflowEngine = {
  name: 'none',
  start: () => Promise.reject(new Error('a workflow step cannot start a workflow')),
  describe: () => Promise.reject(new Error('a workflow step cannot inspect workflows')),
  stop: () => Promise.reject(new Error('a workflow step cannot stop workflows')),
};

/** What a cloud function reaches, each part built only when the function's bundle passes it. */
export interface HostParts {
  /** The host's secret store (Secrets Manager, Secret Manager). */
  readSecret: SecretReader;
  /** Default: an engine that refuses (noWorkflows). */
  workflows?: ((deps: Deps) => WorkflowEngine) | undefined;
  /** The clusters the function reaches; none when absent, so its bundle has no Kubernetes client. */
  clusters?: ClustersFactory | undefined;
  /** Where alerts go; none when absent, so its bundle has no Slack client. */
  notifier?: NotifierFactory | undefined;
  /** The clouds the function reaches; none when absent, so its bundle has no cloud inventory client. */
  cloud?: CloudFactory | undefined;
  /** Its spend sources; none when absent, so its bundle has no billing client. */
  costSources?: CostSourcesFactory | undefined;
}

/**
 * Everything the shared handlers need in a cloud function, built once per cold start over the
 * host's store and secret store: the same composition on Lambda and on Cloud Functions.
 */
export async function hostDeps(config: Config, store: Store, env: Env, log: Logger, parts: HostParts): Promise<Deps> {
  const clusters = parts.clusters ? await parts.clusters(config, env, parts.readSecret) : noClusters;
  const notifier = parts.notifier ? await parts.notifier(env, parts.readSecret) : undefined;
  return buildDeps(config, store, log, {
    metrics: new PrometheusSource(config.prometheusUrl),
    clusters,
    ...(parts.cloud ? { cloud: parts.cloud(config, env) } : {}),
    ...(parts.costSources ? { costSources: parts.costSources(config, env) } : {}),
    policy: loadPolicy(config.policyFile),
    workflows: parts.workflows ?? (() => noWorkflows),
    alertSettings: alertSettingsFromEnv(env),
    ...(notifier ? { notifier } : {}),
  });
}
