import { GCP_SECRET_VERSION } from '../../shared/adapters/gcp/secret-manager.ts';
import type { NotifierFactory } from '../../shared/host/factories.ts';
import { secretSlackNotifier } from '../../shared/host/notifier.ts';

/*
 * Where alerts go from a Cloud Function: Slack, with the webhook URL or bot token in Secret Manager
 * (SLACK_ALERTS_SECRET, set by terraform). Apart from deps.ts so only the functions that
 * send alerts bundle the Slack client. The twin of functions/lib/notifier.ts.
 */

export type { NotifierFactory };

/** SLACK_ALERTS_SECRET is a Secret Manager version name; without it, no notifier. */
export const gcpNotifier: NotifierFactory = secretSlackNotifier({
  host: 'GCP',
  store: 'Secret Manager',
  form: GCP_SECRET_VERSION,
  what: 'a Secret Manager version name (projects/<project>/secrets/<name>/versions/latest)',
  setBy: 'a version name terraform grants the function',
});
