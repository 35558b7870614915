/**
 * The scheduled drift check on GCP. A Cloud Scheduler job POSTs `{"check":"drift"}` with an OIDC token
 * of the scheduler's service account (gcp-functions/lib/scheduler.ts has the request's shape). It runs
 * one check over every configured cluster (findings recorded, alerts reconciled, then the alert outbox
 * delivered: this run's alerts and any an earlier run could not send) and answers 200 with the
 * counts. Drift found is a result, not a failure; a check that cannot run answers 500, so the job's
 * run fails (and is retried per its retry config) and the error is in the log.
 */
import { http } from '@google-cloud/functions-framework';
import { scheduledDriftCheck } from '../shared/host/scheduled-check.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpCloud } from './lib/cloud.ts';
import { gcpClusters } from './lib/clusters.ts';
import { gcpNotifier } from './lib/notifier.ts';
import { type GcpCheckOptions, scheduledCheckFunction } from './lib/scheduler.ts';

/** Defaults: the kubeconfig in KUBECONFIG_SECRET and GKE; Slack from SLACK_ALERTS_SECRET; GCP from GCP_PROJECTS. */
export type DriftCheckHandlerOptions = GcpCheckOptions<'clusters' | 'notifier' | 'cloud'>;

export function createDriftCheckHandler(opts: DriftCheckHandlerOptions) {
  const parts = {
    clusters: opts.clusters ?? gcpClusters,
    cloud: opts.cloud ?? gcpCloud,
    notifier: opts.notifier ?? gcpNotifier,
  };
  return scheduledCheckFunction(opts, { check: 'drift', fn: 'drift-check', parts, run: scheduledDriftCheck });
}

export const handler = createDriftCheckHandler({ env: process.env });

http(GCP_FUNCTIONS['drift-check'].entryPoint, handler);
