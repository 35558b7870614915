import { createGcpInventory } from '../../shared/adapters/gcp/gcp-inventory.ts';
import { ConfigError } from '../../shared/config/config.ts';
import type { CloudFactory } from '../../shared/host/factories.ts';

/*
 * The cloud of the Cloud Functions that use GCP's APIs beyond GKE listing (the gcp toolset), apart
 * from deps.ts so the other bundles carry no Compute or Monitoring client. The twin of
 * functions/lib/cloud.ts; there is no AWS here (a GCP function holds no AWS credentials).
 */

export type { CloudFactory };

/**
 * GCP_PROJECTS → the GCP inventory (GKE, Compute Engine, Cloud Monitoring) with the function's service
 * account (CONTAINER_URL, COMPUTE_URL, MONITORING_URL: loopback fakes in tests); none when unset.
 * AWS_ACCOUNTS/AWS_REGIONS fail the cold start by name.
 */
export const gcpCloud: CloudFactory = (config, env) => {
  const d = config.clusterDiscovery;
  if (d && (d.awsAccounts.length > 0 || d.awsRegions.length > 0)) {
    throw new ConfigError(
      'Invalid configuration:\n  AWS_ACCOUNTS/AWS_REGIONS: the GCP functions hold no AWS credentials; unset them',
    );
  }
  if (!d || d.gcpProjects.length === 0) return {};
  const url = (name: string) => env[name]?.trim() || undefined;
  const endpoints = {
    ...(url('CONTAINER_URL') ? { container: url('CONTAINER_URL') } : {}),
    ...(url('COMPUTE_URL') ? { compute: url('COMPUTE_URL') } : {}),
    ...(url('MONITORING_URL') ? { monitoring: url('MONITORING_URL') } : {}),
  };
  try {
    return { gcp: createGcpInventory({ projects: [...d.gcpProjects], endpoints }) };
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`, { cause: err });
  }
};
