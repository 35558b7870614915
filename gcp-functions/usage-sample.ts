/**
 * The scheduled usage sampler on GCP. A Cloud Scheduler job POSTs `{"check":"usage"}` with an OIDC
 * token of the scheduler's service account (gcp-functions/lib/scheduler.ts has the request's shape).
 * It takes one metrics.k8s.io sample of every cluster the function reaches, a few at a time, within
 * the function's time, and answers 200 with each cluster's status. A cluster without metrics.k8s.io,
 * or one that cannot be read, is a result; the answer is 500 only when no cluster could be sampled.
 */
import { http } from '@google-cloud/functions-framework';
import { scheduledUsageSample } from '../shared/host/scheduled-check.ts';
import { GCP_FUNCTIONS } from './layout.ts';
import { gcpClusters } from './lib/clusters.ts';
import { type GcpCheckOptions, scheduledCheckFunction } from './lib/scheduler.ts';

/** Default: the kubeconfig in KUBECONFIG_SECRET plus the GKE clusters of GCP_PROJECTS. */
export type UsageSampleHandlerOptions = GcpCheckOptions<'clusters'>;

export function createUsageSampleHandler(opts: UsageSampleHandlerOptions) {
  const parts = { clusters: opts.clusters ?? gcpClusters };
  return scheduledCheckFunction(opts, { check: 'usage', fn: 'usage-sample', parts, run: scheduledUsageSample });
}

export const handler = createUsageSampleHandler({ env: process.env });

http(GCP_FUNCTIONS['usage-sample'].entryPoint, handler);
