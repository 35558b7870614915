import { createCostExplorerSource } from '../../shared/adapters/aws/cost-explorer.ts';
import { ConfigError } from '../../shared/config/config.ts';
import type { CostSourcesFactory } from '../../shared/host/factories.ts';

/*
 * The spend sources of the AWS functions that read cloud cost (the scheduled cost check), apart from
 * deps.ts so only their bundles carry the Cost Explorer client.
 */

/** How a function builds its spend sources (Deps.costSources). */
export type { CostSourcesFactory };

/**
 * COST_AWS=true → AWS Cost Explorer (its one endpoint, us-east-1; AWS_ENDPOINT_URL for every call),
 * with the function role's credentials. GCP_BILLING_TABLE fails the cold start by name, as
 * GCP_PROJECTS does: the AWS functions carry no Google credentials to read the billing export.
 */
export const lambdaCostSources: CostSourcesFactory = (config, env) => {
  if (config.cost.gcpBillingTable) {
    throw new ConfigError(
      'Invalid configuration:\n  GCP_BILLING_TABLE: this server has no GCP billing source built in (the AWS functions hold no Google credentials); unset it',
    );
  }
  return config.cost.aws
    ? [
        createCostExplorerSource({
          region: 'us-east-1',
          ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
        }),
      ]
    : [];
};
