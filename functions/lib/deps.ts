import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clustersFromConfig } from '../../shared/adapters/kube/index.ts';
import { NoClusters } from '../../shared/adapters/kube/kubeconfig-clusters.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { type Config, ConfigError } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { Clusters } from '../../shared/ports/kube.ts';
import { SecretReadError } from '../../shared/ports/secrets.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import { cloudStore, type Env, type SecretReader } from './host.ts';

/*
 * The full dependency set (clusters, policy, workflows) for the functions that run tools or workflow
 * steps. Kept apart from host.ts so the Slack function does not bundle the Kubernetes client.
 */

/**
 * The clusters a function can reach: the kubeconfig stored in Secrets Manager (KUBECONFIG_SECRET),
 * written once per cold start to a private file under /tmp, or none. Exec-plugin credentials
 * (`aws eks get-token`) cannot run on Lambda: the kubeconfig must carry a token or a client certificate.
 */
export async function lambdaClusters(config: Config, env: Env, secrets: SecretReader): Promise<Clusters> {
  if (!config.kubeconfigSecret) {
    return new NoClusters('this deployment has no kubeconfig: set the kubeconfigSecretArn context and redeploy');
  }
  let yaml: string;
  try {
    yaml = await secrets.read(config.kubeconfigSecret);
  } catch (err) {
    // A missing or forbidden secret stays so on retry (a redeploy fixes it); anything else may pass.
    if (err instanceof SecretReadError) {
      throw new ConfigError(`Invalid configuration:\n  KUBECONFIG_SECRET: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cloudops-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, yaml, { mode: 0o600 });
  try {
    return clustersFromConfig({ ...config, kube: { ...config.kube, kubeconfig: path } }, { ...env, KUBECONFIG: path });
  } catch (err) {
    // Parsing is local and deterministic: a secret that is not a usable kubeconfig stays one on retry.
    throw new ConfigError(
      `Invalid configuration:\n  KUBECONFIG_SECRET: the secret's value is not a usable kubeconfig (${(err as Error).message})`,
    );
  }
}

/** Everything the shared handlers need, built once per cold start. */
export async function lambdaDeps(
  config: Config,
  env: Env,
  log: Logger,
  parts: { readSecret: SecretReader; workflows: (deps: Deps) => WorkflowEngine },
): Promise<Deps> {
  const clusters = await lambdaClusters(config, env, parts.readSecret);
  const policy = loadPolicy(config.policyFile);
  return buildDeps(config, cloudStore(config), log, {
    metrics: new PrometheusSource(config.prometheusUrl),
    clusters,
    policy,
    workflows: parts.workflows,
  });
}

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
