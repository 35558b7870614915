import { createFirestoreStore, type FirestoreStore } from '../../shared/adapters/gcp/firestore-store.ts';
import { GCP_SECRET_VERSION, SecretManagerSecrets } from '../../shared/adapters/gcp/secret-manager.ts';
import { type Config, ConfigError, isLoopbackHost } from '../../shared/config/config.ts';
import { loadHostConfig, type SettingForm } from '../../shared/host/config.ts';
import type { Env } from '../../shared/host/factories.ts';
import { createLogger, type Logger } from '../../shared/logging/logger.ts';
import type { SecretReader } from '../../shared/ports/secrets.ts';

export { perColdStart } from '../../shared/host/cold-start.ts';
export type { Env, SecretReader };

/*
 * What every Cloud Function (gen2) host shares: its configuration (the shared schema, with the store
 * forced to Firestore and authentication required), its store and its secrets. The twin of
 * functions/lib/host.ts on AWS.
 */

/** Settings a function cannot run without, beyond what loadConfig already insists on. */
export type GcpRequiredSetting =
  | 'PUBLIC_URL'
  | 'FIRESTORE_PROJECT'
  | 'SLACK_SIGNING_SECRET'
  | 'OIDC_INVOKERS'
  | 'OIDC_AUDIENCE';

/** What each function insists on at its cold start; terraform/ sets them (test/infra/terraform.test.ts). */
export const GCP_REQUIRED_SETTINGS = {
  mcp: ['PUBLIC_URL', 'FIRESTORE_PROJECT'],
  toolFunction: ['FIRESTORE_PROJECT', 'OIDC_INVOKERS', 'OIDC_AUDIENCE'],
  workflowStep: ['FIRESTORE_PROJECT', 'OIDC_INVOKERS', 'OIDC_AUDIENCE'],
  scheduledCheck: ['FIRESTORE_PROJECT', 'OIDC_INVOKERS', 'OIDC_AUDIENCE'],
  slackActions: ['FIRESTORE_PROJECT', 'SLACK_SIGNING_SECRET'],
} as const satisfies Record<string, readonly GcpRequiredSetting[]>;

/** A Cloud Workflows workflow name: what ROLLOUT_WORKFLOW is on GCP. */
const WORKFLOW_NAME =
  /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/workflows\/[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const SECRET_WHAT = 'a Secret Manager version name (projects/<project>/secrets/<name>/versions/latest)';

/** What the shared config calls a workflow or a secret is, on GCP, a resource name of the right service. */
const GCP_FORMS: SettingForm[] = [
  {
    name: 'ROLLOUT_WORKFLOW',
    value: (c) => c.rolloutWorkflow,
    form: WORKFLOW_NAME,
    what: 'a Cloud Workflows name (projects/<project>/locations/<region>/workflows/<name>)',
  },
  { name: 'KUBECONFIG_SECRET', value: (c) => c.kubeconfigSecret, form: GCP_SECRET_VERSION, what: SECRET_WHAT },
  {
    name: 'SLACK_SIGNING_SECRET',
    value: (c) => c.slack?.signingSecret,
    form: GCP_SECRET_VERSION,
    what: SECRET_WHAT,
  },
  {
    name: 'SLACK_ALERTS_SECRET',
    value: (_c, env) => env.SLACK_ALERTS_SECRET?.trim() || undefined,
    form: GCP_SECRET_VERSION,
    what: SECRET_WHAT,
  },
];

/**
 * `npm run start:gcp` (local/gcp.ts) only, never a deployed function: the functions run on this
 * machine, so AUTH is what the environment says (default `none`, as `npm start`), and `none` is
 * allowed only when the address the function listens on and every PUBLIC_URL are loopback.
 */
export interface LocalEmulation {
  /** The address the function's server is bound to. */
  listensOn: string;
}

/**
 * Config for a Cloud Function: the shared schema with AUTH forced to `required` (but see
 * LocalEmulation) and the store forced to Firestore (FIRESTORE_PROJECT, or GOOGLE_CLOUD_PROJECT).
 * Fails with the name of every missing or bad setting.
 */
export function loadGcpConfig(
  env: Env,
  required: readonly GcpRequiredSetting[],
  opts: { localEmulation?: LocalEmulation } = {},
): Config {
  const local = opts.localEmulation;
  return loadHostConfig(env, {
    cloud: 'GCP',
    forced: { AUTH: local ? env.AUTH : 'required', STORE: 'firestore' },
    required,
    present: (name) =>
      Boolean(env[name]?.trim()) || (name === 'FIRESTORE_PROJECT' && Boolean(env.GOOGLE_CLOUD_PROJECT?.trim())),
    forms: GCP_FORMS,
    problems: (config) => {
      const beyondLoopback =
        local && !config.authRequired
          ? [local.listensOn, ...config.publicUrls.map((u) => u.hostname)].filter((h) => !isLoopbackHost(h))
          : [];
      return beyondLoopback.length
        ? [`AUTH: required when serving beyond loopback (${beyondLoopback.join(', ').slice(0, 200)})`]
        : [];
    },
  });
}

/** The Firestore store (FIRESTORE_EMULATOR_HOST: the emulator, in tests and `npm run start:gcp`). */
export function gcpStore(config: Config): FirestoreStore {
  if (config.store.kind !== 'firestore')
    throw new ConfigError('Invalid configuration:\n  STORE: must be firestore on GCP');
  return createFirestoreStore(config.store);
}

/** The function's secrets: Secret Manager (SECRET_MANAGER_URL: a loopback fake in tests). */
export function gcpSecrets(env: Env): SecretReader {
  const baseUrl = env.SECRET_MANAGER_URL?.trim();
  return new SecretManagerSecrets(baseUrl ? { baseUrl } : {});
}

/**
 * The host's own logger: the shared (redacting, bounded) pino logger with Cloud Logging's `severity`
 * on every line and the function's name bound.
 */
export function hostLogger(env: Env, fn: string): Logger {
  return createLogger(env.LOG_LEVEL ?? 'info', undefined, { severity: true }).child({ fn });
}
