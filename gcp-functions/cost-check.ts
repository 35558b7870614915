/**
 * The scheduled cost check on GCP. A Cloud Scheduler job POSTs `{"check":"cost"}` with an OIDC token
 * of the scheduler's service account (gcp-functions/lib/scheduler.ts has the request's shape). It runs
 * one check (spend from the Cloud Billing export in BigQuery with GCP_BILLING_TABLE, budgets of the
 * policy, anomalies; alerts reconciled), then delivers the alert outbox, and answers 200 with the
 * counts. A budget crossed is a result, not a failure; a check that cannot run answers 500.
 */
import { http } from '@google-cloud/functions-framework';
import type { ClustersFactory, CostSourcesFactory, NotifierFactory } from '../shared/host/factories.ts';
import { scheduledCostCheck } from '../shared/host/scheduled-check.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpClusters } from './lib/clusters.ts';
import { gcpCostSources } from './lib/cost.ts';
import type { Env, SecretReader } from './lib/host.ts';
import { gcpNotifier } from './lib/notifier.ts';
import { scheduledCheckFunction } from './lib/scheduler.ts';

export interface CostCheckHandlerOptions {
  env: Env;
  /** Default: Secret Manager (SECRET_MANAGER_URL in tests). */
  readSecret?: SecretReader;
  /** Default: the kubeconfig in KUBECONFIG_SECRET: the clusters whose usage samples price namespace budgets. */
  clusters?: ClustersFactory;
  /** Default: Slack from SLACK_ALERTS_SECRET, or none. */
  notifier?: NotifierFactory;
  /** Default: the BigQuery billing export with GCP_BILLING_TABLE (gcp-functions/lib/cost.ts). */
  costSources?: CostSourcesFactory;
  now?: () => number;
}

export function createCostCheckHandler(opts: CostCheckHandlerOptions) {
  return scheduledCheckFunction({
    check: 'cost',
    fn: 'cost-check',
    env: opts.env,
    parts: {
      readSecret: opts.readSecret,
      clusters: opts.clusters ?? gcpClusters,
      notifier: opts.notifier ?? gcpNotifier,
      costSources: opts.costSources ?? gcpCostSources,
    },
    run: scheduledCostCheck,
    now: opts.now,
  });
}

http(GCP_FUNCTIONS['cost-check'].entryPoint, createCostCheckHandler({ env: process.env }));
