import type { Config } from '../shared/config/config.ts';
import { perColdStart } from '../shared/host/cold-start.ts';
import type { AwsInventory, CloudInventory, GcpInventory } from '../shared/ports/cloud.ts';

/*
 * The clouds the local host reaches (the aws and gcp toolsets, cloud drift): AWS when AWS_REGIONS or
 * AWS_ACCOUNTS is set (the local credentials, each AWS_ACCOUNTS role assumed from them, with
 * AWS_ENDPOINT_URL for every call), GCP when GCP_PROJECTS is set (Application Default Credentials).
 * Each adapter is imported on its first call, as the cluster sources are: a server that never calls
 * a cloud tool pays nothing for the SDKs.
 */

export function lazyAwsInventory(load: () => Promise<AwsInventory>): AwsInventory {
  // Loads once; a failed load is that call's error and is retried by the next one.
  const get = perColdStart(load);
  return {
    scopes: async (signal) => (await get()).scopes(signal),
    describeEksCluster: async (scope, name, opts) => (await get()).describeEksCluster(scope, name, opts),
    listInstances: async (query) => (await get()).listInstances(query),
    getInstances: async (scope, ids, signal) => (await get()).getInstances(scope, ids, signal),
    powerInstances: async (scope, action, ids, opts) => (await get()).powerInstances(scope, action, ids, opts),
    getMetricData: async (scope, query) => (await get()).getMetricData(scope, query),
  };
}

export function lazyGcpInventory(projects: readonly string[], load: () => Promise<GcpInventory>): GcpInventory {
  // Loads once; a failed load is that call's error and is retried by the next one.
  const get = perColdStart(load);
  return {
    projects: () => [...projects],
    describeGkeCluster: async (ref, signal) => (await get()).describeGkeCluster(ref, signal),
    listInstances: async (query) => (await get()).listInstances(query),
    getInstance: async (project, zone, name, signal) => (await get()).getInstance(project, zone, name, signal),
    powerInstance: async (project, zone, name, action, signal) =>
      (await get()).powerInstance(project, zone, name, action, signal),
    queryTimeSeries: async (query) => (await get()).queryTimeSeries(query),
  };
}

/** The inventory of each configured cloud; none configured: `{}` (the cloud tools then say what to set). */
export function localCloud(config: Config, env: Record<string, string | undefined>): CloudInventory {
  const d = config.clusterDiscovery;
  if (!d) return {};
  const cloud: CloudInventory = {};
  if (d.awsAccounts.length > 0 || d.awsRegions.length > 0) {
    const regions = d.awsRegions.length > 0 ? d.awsRegions : [env.AWS_REGION ?? 'us-east-1'];
    cloud.aws = lazyAwsInventory(async () => {
      const { createAwsInventory } = await import('../shared/adapters/aws/aws-inventory.ts');
      return createAwsInventory({
        accounts: d.awsAccounts.length > 0 ? d.awsAccounts.map((roleArn) => ({ roleArn })) : [{}],
        regions,
        ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
      });
    });
  }
  if (d.gcpProjects.length > 0) {
    const projects = d.gcpProjects;
    cloud.gcp = lazyGcpInventory(projects, async () => {
      const { createGcpInventory } = await import('../shared/adapters/gcp/gcp-inventory.ts');
      return createGcpInventory({ projects: [...projects] });
    });
  }
  return cloud;
}
