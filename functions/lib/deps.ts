import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Deps } from '../../shared/app/deps.ts';
import type { Config } from '../../shared/config/config.ts';
import { type HostParts, hostDeps } from '../../shared/host/deps.ts';
import type { ClustersFactory } from '../../shared/host/factories.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { cloudStore, type Env, type SecretReader, secretsManagerReader } from './host.ts';

export { noWorkflows, stepsStartNoWorkflows } from '../../shared/host/deps.ts';
export type { ClustersFactory };

/*
 * The full dependency set (clusters, policy, workflows) for the functions that run tools or workflow
 * steps: the shared host composition (shared/host/deps.ts) over DynamoDB and Secrets Manager. Kept
 * apart from host.ts so the Slack function does not bundle the Kubernetes client.
 */

/** Everything the shared handlers need, built once per cold start. */
export async function lambdaDeps(
  config: Config,
  env: Env,
  log: Logger,
  parts: Omit<HostParts, 'readSecret'> & {
    /** Default: Secrets Manager in the store's region. */
    readSecret?: SecretReader | undefined;
  },
): Promise<Deps> {
  const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
  const readSecret = parts.readSecret ?? secretsManagerReader(new SecretsManagerClient({ region }));
  return hostDeps(config, cloudStore(config), env, log, { ...parts, readSecret });
}
