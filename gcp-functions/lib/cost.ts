import { createBigQueryBillingSource } from '../../shared/adapters/gcp/bigquery-billing.ts';
import { ConfigError } from '../../shared/config/config.ts';
import type { CostSourcesFactory } from '../../shared/host/factories.ts';

/*
 * The spend sources of the Cloud Functions that read cloud cost (the scheduled cost check), apart from
 * deps.ts so only their bundles carry the BigQuery client. The twin of functions/lib/cost.ts.
 */

export type { CostSourcesFactory };

/**
 * GCP_BILLING_TABLE → the Cloud Billing export in BigQuery, with the function's service account
 * (BIGQUERY_URL: a loopback fake in tests). COST_AWS=true fails the cold start by name: the GCP
 * functions carry no AWS credentials to read Cost Explorer.
 */
export const gcpCostSources: CostSourcesFactory = (config, env) => {
  if (config.cost.aws) {
    throw new ConfigError(
      'Invalid configuration:\n  COST_AWS: this server has no AWS Cost Explorer source built in (the GCP functions hold no AWS credentials); unset it',
    );
  }
  const table = config.cost.gcpBillingTable;
  if (!table) return [];
  const endpoint = env.BIGQUERY_URL?.trim();
  try {
    return [createBigQueryBillingSource({ table, ...(endpoint ? { endpoint } : {}) })];
  } catch (err) {
    // The table's form (project.dataset.gcp_billing_export_v1_…) is checked when the source is made.
    throw new ConfigError(`Invalid configuration:\n  GCP_BILLING_TABLE: ${(err as Error).message}`, { cause: err });
  }
};
