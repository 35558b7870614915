/**
 * The scheduled cost check on GCP. A Cloud Scheduler job POSTs `{"check":"cost"}` with an OIDC token
 * of the scheduler's service account (gcp-functions/lib/scheduler.ts has the request's shape). It runs
 * one check (spend from the Cloud Billing export in BigQuery with GCP_BILLING_TABLE, budgets of the
 * policy, anomalies; alerts reconciled), then delivers the alert outbox, and answers 200 with the
 * counts. A budget crossed is a result, not a failure; a check that cannot run answers 500.
 */
import { http } from '@google-cloud/functions-framework';
import { scheduledCostCheck } from '../shared/host/scheduled-check.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpClusters } from './lib/clusters.ts';
import { gcpCostSources } from './lib/cost.ts';
import { gcpNotifier } from './lib/notifier.ts';
import { type GcpCheckOptions, scheduledCheckFunction } from './lib/scheduler.ts';

/**
 * Defaults: the kubeconfig in KUBECONFIG_SECRET (the clusters whose usage samples price namespace
 * budgets); Slack from SLACK_ALERTS_SECRET; the BigQuery billing export of GCP_BILLING_TABLE.
 */
export type CostCheckHandlerOptions = GcpCheckOptions<'clusters' | 'notifier' | 'costSources'>;

export function createCostCheckHandler(opts: CostCheckHandlerOptions) {
  const parts = {
    clusters: opts.clusters ?? gcpClusters,
    notifier: opts.notifier ?? gcpNotifier,
    costSources: opts.costSources ?? gcpCostSources,
  };
  return scheduledCheckFunction(opts, { check: 'cost', fn: 'cost-check', parts, run: scheduledCostCheck });
}

export const handler = createCostCheckHandler({ env: process.env });

http(GCP_FUNCTIONS['cost-check'].entryPoint, handler);
