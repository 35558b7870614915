import type { Config } from '../shared/config/config.ts';
import { perColdStart } from '../shared/host/cold-start.ts';
import type { CostSource } from '../shared/ports/cost.ts';

/*
 * The spend sources of the local host (issue 14): AWS Cost Explorer when COST_AWS=true (the local
 * credentials, AWS_ENDPOINT_URL honoured), the Cloud Billing export in BigQuery when
 * GCP_BILLING_TABLE is set (Application Default Credentials). Each adapter is imported on its first
 * call, as the cloud inventory is (./cloud.ts): a server that never reads spend pays nothing for them.
 */

export function lazyCostSource(kind: string, load: () => Promise<CostSource>): CostSource {
  // Loads once; a failed load is that call's error and is retried by the next one.
  const get = perColdStart(load);
  return {
    kind,
    dailySpend: async (query) => (await get()).dailySpend(query),
    forecast: async (period) => (await get()).forecast(period),
  };
}

export function localCostSources(config: Config, env: Record<string, string | undefined>): CostSource[] {
  const sources: CostSource[] = [];
  if (config.cost.aws) {
    sources.push(
      lazyCostSource('aws-cost-explorer', async () => {
        const { createCostExplorerSource } = await import('../shared/adapters/aws/cost-explorer.ts');
        return createCostExplorerSource(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {});
      }),
    );
  }
  const table = config.cost.gcpBillingTable;
  if (table) {
    sources.push(
      lazyCostSource('gcp-bigquery-billing', async () => {
        const { createBigQueryBillingSource } = await import('../shared/adapters/gcp/bigquery-billing.ts');
        return createBigQueryBillingSource({ table });
      }),
    );
  }
  return sources;
}
