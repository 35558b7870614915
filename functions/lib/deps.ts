import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { alertSettingsFromEnv } from '../../shared/config/alerts.ts';
import type { Config } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { type Clusters, UnknownClusterError } from '../../shared/ports/kube.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import type { CloudFactory } from './cloud.ts';
import type { CostSourcesFactory } from './cost.ts';
import { cloudStore, type Env, type SecretReader, secretsManagerReader } from './host.ts';
import type { NotifierFactory } from './notifier.ts';

/** How a function reaches its clusters: lambdaClusters (functions/lib/clusters.ts) for the ones that do. */
export type ClustersFactory = (config: Config, env: Env, secrets: SecretReader) => Promise<Clusters>;

/** The registry of a function that reaches no cluster (the ops toolset): nothing listed, every client refused. */
const noClusters: Clusters = {
  list: async () => [],
  defaultCluster: async () => undefined,
  client: async () => {
    throw new UnknownClusterError('this function reaches no Kubernetes cluster');
  },
};

/*
 * The full dependency set (clusters, policy, workflows) for the functions that run tools or workflow
 * steps. Kept apart from host.ts so the Slack function does not bundle the Kubernetes client.
 */

/** Everything the shared handlers need, built once per cold start. */
export async function lambdaDeps(
  config: Config,
  env: Env,
  log: Logger,
  parts: {
    /** Default: Secrets Manager in the store's region. */
    readSecret?: SecretReader | undefined;
    /** Default: an engine that refuses (noWorkflows). */
    workflows?: ((deps: Deps) => WorkflowEngine) | undefined;
    /** The clusters the function reaches (functions/lib/clusters.ts); none when absent, so its bundle has no Kubernetes client. */
    clusters?: ClustersFactory | undefined;
    /** Where alerts go (lambdaNotifier, functions/lib/notifier.ts); none when absent, so its bundle has no Slack client. */
    notifier?: NotifierFactory | undefined;
    /** The clouds the function reaches (functions/lib/cloud.ts); none when absent, so its bundle has no EC2 or CloudWatch client. */
    cloud?: CloudFactory | undefined;
    /** Its spend sources (functions/lib/cost.ts); none when absent, so its bundle has no Cost Explorer client. */
    costSources?: CostSourcesFactory | undefined;
  },
): Promise<Deps> {
  const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
  const readSecret = parts.readSecret ?? secretsManagerReader(new SecretsManagerClient({ region }));
  const clusters = parts.clusters ? await parts.clusters(config, env, readSecret) : noClusters;
  const notifier = parts.notifier ? await parts.notifier(env, readSecret) : undefined;
  const policy = loadPolicy(config.policyFile);
  return buildDeps(config, cloudStore(config), log, {
    metrics: new PrometheusSource(config.prometheusUrl),
    clusters,
    ...(parts.cloud ? { cloud: parts.cloud(config, env) } : {}),
    ...(parts.costSources ? { costSources: parts.costSources(config, env) } : {}),
    policy,
    workflows: parts.workflows ?? (() => noWorkflows),
    alertSettings: alertSettingsFromEnv(env),
    ...(notifier ? { notifier } : {}),
  });
}

const refuse = () => Promise.reject(new Error('this tool function has no workflow (ROLLOUT_WORKFLOW is not set)'));

/** An engine that refuses: what a tool function has without ROLLOUT_WORKFLOW, or outside the delivery toolset. */
export const noWorkflows: WorkflowEngine = { name: 'none', start: refuse, describe: refuse, stop: refuse };

/**
 * The engine a workflow step sees: steps never start, inspect or stop workflows (the state machine
 * ARN cannot even be given to the step function: the state machine's definition names the
 * function, so the reverse reference would be a cycle).
 */
export const stepsStartNoWorkflows: WorkflowEngine = {
  name: 'none',
  start: () => Promise.reject(new Error('a workflow step cannot start a workflow')),
  describe: () => Promise.reject(new Error('a workflow step cannot inspect workflows')),
  stop: () => Promise.reject(new Error('a workflow step cannot stop workflows')),
};
