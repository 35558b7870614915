import type { Deps } from '../../shared/app/deps.ts';
import type { Config } from '../../shared/config/config.ts';
import { type HostParts, hostDeps } from '../../shared/host/deps.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { type Env, gcpSecrets, gcpStore, type SecretReader } from './host.ts';

/**
 * Everything the shared handlers need in a Cloud Function, built once per cold start: the shared host
 * composition (shared/host/deps.ts) over Firestore and Secret Manager. The twin of lambdaDeps.
 */
export function gcpDeps(
  config: Config,
  env: Env,
  parts: Omit<HostParts, 'readSecret'> & {
    /** Default: Secret Manager (SECRET_MANAGER_URL in tests). */
    readSecret?: SecretReader | undefined;
  },
): Promise<Deps> {
  const log = createLogger(config.logLevel, undefined, { severity: true });
  return hostDeps(config, gcpStore(config), env, log, { ...parts, readSecret: parts.readSecret ?? gcpSecrets(env) });
}
