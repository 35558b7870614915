import { useFakeAdc } from './fake-gcp/adc.ts';
import { FakeGoogleTokens } from './fake-gcp/identity.ts';
import { type FakeMetadataServer, startFakeMetadataServer } from './fake-gcp/metadata.ts';
import { type FakeSecretManager, startFakeSecretManager } from './fake-gcp/secret-manager.ts';
import { sharedFirestoreEmulator } from './firestore-emulator.ts';
import { googleIdToken, oidcTestEnv } from './gcp-functions.ts';
import { startTestIssuer, type TestIssuer } from './oauth-issuer.ts';

/*
 * What a Cloud Function finds around it in these tests, as on gen2: its service account's access
 * tokens from the metadata server (google-auth-library's ADC finds the fake through GCE_METADATA_HOST),
 * its secrets in Secret Manager (the loopback fake, SECRET_MANAGER_URL), Firestore (the emulator, one
 * collection per test file) and callers holding Google-shaped ID tokens (a loopback issuer, which the
 * functions trust through OIDC_ISSUER/OIDC_JWKS_URL).
 */

/** The functions' own service account (the one the metadata server issues tokens for). */
export const FUNCTION_SA = 'cloudops-fn@ops-project.iam.gserviceaccount.com';
/** Cloud Workflows' and Cloud Scheduler's service accounts: the private functions' invokers. */
export const WORKFLOWS_SA = 'cloudops-workflows@ops-project.iam.gserviceaccount.com';
export const SCHEDULER_SA = 'cloudops-scheduler@ops-project.iam.gserviceaccount.com';
export const PROJECT = 'ops-project';

export interface GcpFunctionHost {
  /** The access tokens the metadata server issues: other fakes (BigQuery, GKE) check them. */
  tokens: FakeGoogleTokens;
  secretManager: FakeSecretManager;
  issuer: TestIssuer;
  /** `projects/ops-project/secrets/<id>/versions/latest`. */
  secret(id: string): string;
  /** The settings every function here gets: Firestore (its own collection), Secret Manager, the log level. */
  env: Record<string, string>;
  /** The OIDC settings of a private function whose URL (audience) is `audience`, invoked by `invoker`. */
  oidcEnv(audience: string, invoker: string): Record<string, string>;
  /** A Google-shaped ID token of `email` for `audience`. */
  idToken(audience: string, email: string, over?: { expiresIn?: string; foreignKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** Starts the surroundings; `secrets` (id → value) are granted to the functions' service account. */
export async function startGcpFunctionHost(opts: {
  collection: string;
  secrets: Record<string, string>;
}): Promise<GcpFunctionHost> {
  const tokens = new FakeGoogleTokens();
  const firestore = await sharedFirestoreEmulator();
  const metadata: FakeMetadataServer = await startFakeMetadataServer(tokens, {
    serviceAccount: FUNCTION_SA,
    projectId: PROJECT,
  });
  const secretManager = await startFakeSecretManager(tokens, [
    {
      id: PROJECT,
      number: '123456789012',
      secrets: Object.fromEntries(
        Object.entries(opts.secrets).map(([id, data]) => [id, { versions: [{ data }], accessors: [FUNCTION_SA] }]),
      ),
    },
  ]);
  const issuer = await startTestIssuer('unused');
  const restoreAdc = useFakeAdc(metadata.host, PROJECT);
  return {
    tokens,
    secretManager,
    issuer,
    secret: (id) => secretManager.latest(PROJECT, id),
    env: {
      FIRESTORE_PROJECT: firestore.projectId,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      FIRESTORE_COLLECTION: opts.collection,
      SECRET_MANAGER_URL: secretManager.url,
      LOG_LEVEL: 'silent',
    },
    oidcEnv: (audience, invoker) => oidcTestEnv(issuer, audience, [invoker]),
    idToken: (audience, email, over = {}) => googleIdToken(issuer, { aud: audience, email, ...over }),
    async close() {
      restoreAdc();
      await Promise.all([secretManager.close(), metadata.close(), issuer.close()]);
    },
  };
}
