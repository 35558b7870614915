/**
 * The scheduled drift check on GCP. A Cloud Scheduler job POSTs `{"check":"drift"}` with an OIDC token
 * of the scheduler's service account (gcp-functions/lib/scheduler.ts has the request's shape). It runs
 * one check over every configured cluster (findings recorded, alerts reconciled, then the alert outbox
 * delivered: this run's alerts and any an earlier run could not send) and answers 200 with the
 * counts. Drift found is a result, not a failure; a check that cannot run answers 500, so the job's
 * run fails (and is retried per its retry config) and the error is in the log.
 */
import { http } from '@google-cloud/functions-framework';
import type { CloudFactory, ClustersFactory, NotifierFactory } from '../shared/host/factories.ts';
import { scheduledDriftCheck } from '../shared/host/scheduled-check.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpCloud } from './lib/cloud.ts';
import { gcpClusters } from './lib/clusters.ts';
import type { Env, SecretReader } from './lib/host.ts';
import { gcpNotifier } from './lib/notifier.ts';
import { scheduledCheckFunction } from './lib/scheduler.ts';

export interface DriftCheckHandlerOptions {
  env: Env;
  /** Default: Secret Manager (SECRET_MANAGER_URL in tests). */
  readSecret?: SecretReader;
  /** Default: the kubeconfig in KUBECONFIG_SECRET plus the GKE clusters of GCP_PROJECTS. */
  clusters?: ClustersFactory;
  /** Default: Slack from SLACK_ALERTS_SECRET, or none. */
  notifier?: NotifierFactory;
  /** Default: GCP from GCP_PROJECTS (cloud baselines of GKE clusters), or none. */
  cloud?: CloudFactory;
  now?: () => number;
}

export function createDriftCheckHandler(opts: DriftCheckHandlerOptions) {
  return scheduledCheckFunction({
    check: 'drift',
    fn: 'drift-check',
    env: opts.env,
    parts: {
      readSecret: opts.readSecret,
      clusters: opts.clusters ?? gcpClusters,
      cloud: opts.cloud ?? gcpCloud,
      notifier: opts.notifier ?? gcpNotifier,
    },
    run: scheduledDriftCheck,
    now: opts.now,
  });
}

http(GCP_FUNCTIONS['drift-check'].entryPoint, createDriftCheckHandler({ env: process.env }));
