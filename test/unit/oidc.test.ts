import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvokerRejectedError, oidcVerifierFromEnv } from '../../gcp-functions/lib/oidc.ts';
import { ConfigError } from '../../shared/config/config.ts';
import { googleIdToken, oidcTestEnv } from '../support/gcp-functions.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const AUD = 'https://tool-k8s-pods-list-abc-uc.a.run.app';
const GATEWAY = 'gateway@proj-1234.iam.gserviceaccount.com';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer(AUD);
});
afterAll(() => issuer.close());

const env = (extra: Record<string, string> = {}) => ({ ...oidcTestEnv(issuer, AUD, [GATEWAY]), ...extra });
const bearer = (t: string) => `Bearer ${t}`;

async function refusal(p: Promise<unknown>): Promise<InvokerRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvokerRejectedError);
  return err as InvokerRejectedError;
}

/** The token as Cloud Run hands it to the container after its IAM check: the signature replaced. */
const signatureRemoved = (token: string) => `${token.split('.').slice(0, 2).join('.')}.SIGNATURE_REMOVED_BY_GOOGLE`;

describe('oidcVerifierFromEnv', () => {
  it('accepts a Google-shaped ID token for this function from an allowed, verified invoker', async () => {
    const v = oidcVerifierFromEnv(env());
    const token = await googleIdToken(issuer, { aud: AUD, email: GATEWAY });
    await expect(v.verify(bearer(token))).resolves.toEqual({ email: GATEWAY });
  });

  it('refuses no token, a non-bearer scheme and garbage with 401', async () => {
    const v = oidcVerifierFromEnv(env());
    for (const header of [undefined, '', 'Basic abc', 'Bearer', 'Bearer not a token', 'Bearer a.b.c']) {
      expect((await refusal(v.verify(header))).status).toBe(401);
    }
  });

  it('refuses a token for another audience, from another issuer, expired or signed by another key with 401', async () => {
    const v = oidcVerifierFromEnv(env());
    const wrongAud = await googleIdToken(issuer, { aud: 'https://other-fn.a.run.app', email: GATEWAY });
    expect(await refusal(v.verify(bearer(wrongAud)))).toMatchObject({
      status: 401,
      message: expect.stringMatching(/audience/),
    });
    const expired = await googleIdToken(issuer, { aud: AUD, email: GATEWAY, expiresIn: '-5m' });
    expect(await refusal(v.verify(bearer(expired)))).toMatchObject({ status: 401, message: 'expired token' });
    const forged = await googleIdToken(issuer, { aud: AUD, email: GATEWAY, foreignKey: true });
    expect((await refusal(v.verify(bearer(forged)))).status).toBe(401);
    // The issuer's keys, but the verifier expects Google's issuer.
    const google = oidcVerifierFromEnv(env({ OIDC_ISSUER: 'https://accounts.google.com' }));
    const good = await googleIdToken(issuer, { aud: AUD, email: GATEWAY });
    expect(await refusal(google.verify(bearer(good)))).toMatchObject({ status: 401, message: 'wrong token issuer' });
  });

  it('refuses a valid token of someone not allowed, or of an unverified email, with 403', async () => {
    const v = oidcVerifierFromEnv(env());
    const other = await googleIdToken(issuer, { aud: AUD, email: 'intruder@proj-1234.iam.gserviceaccount.com' });
    expect(await refusal(v.verify(bearer(other)))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/may not invoke/),
    });
    const unverified = await googleIdToken(issuer, { aud: AUD, email: GATEWAY, email_verified: false });
    expect((await refusal(v.verify(bearer(unverified)))).status).toBe(403);
  });

  it('refuses a token whose signature Cloud Run removed unless OIDC_TRUST_CLOUD_RUN_IAM says Cloud Run checked it', async () => {
    const token = signatureRemoved(await googleIdToken(issuer, { aud: AUD, email: GATEWAY }));
    expect((await refusal(oidcVerifierFromEnv(env()).verify(bearer(token)))).status).toBe(401);
    const behindIam = oidcVerifierFromEnv(env({ OIDC_TRUST_CLOUD_RUN_IAM: 'true' }));
    await expect(behindIam.verify(bearer(token))).resolves.toEqual({ email: GATEWAY });
    // The claims are still checked, and a token that still has a signature must verify.
    const wrongAud = signatureRemoved(await googleIdToken(issuer, { aud: 'https://other.a.run.app', email: GATEWAY }));
    expect((await refusal(behindIam.verify(bearer(wrongAud)))).status).toBe(401);
    const expired = signatureRemoved(await googleIdToken(issuer, { aud: AUD, email: GATEWAY, expiresIn: '-5m' }));
    expect((await refusal(behindIam.verify(bearer(expired)))).status).toBe(401);
    const stranger = signatureRemoved(await googleIdToken(issuer, { aud: AUD, email: 'x@y.iam.gserviceaccount.com' }));
    expect((await refusal(behindIam.verify(bearer(stranger)))).status).toBe(403);
    const forged = await googleIdToken(issuer, { aud: AUD, email: GATEWAY, foreignKey: true });
    expect((await refusal(behindIam.verify(bearer(forged)))).status).toBe(401);
  });

  it('fails with a plain error (not a refusal of the caller) when the issuer keys cannot be read', async () => {
    const v = oidcVerifierFromEnv(env({ OIDC_JWKS_URL: 'http://127.0.0.1:9/jwks' }));
    const token = await googleIdToken(issuer, { aud: AUD, email: GATEWAY });
    const err = await v.verify(bearer(token)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(InvokerRejectedError);
  });

  it('names every missing or bad setting', () => {
    expect(() => oidcVerifierFromEnv({})).toThrow(ConfigError);
    expect(() => oidcVerifierFromEnv({})).toThrow(/OIDC_AUDIENCE[\s\S]*OIDC_INVOKERS/);
    expect(() => oidcVerifierFromEnv(env({ OIDC_JWKS_URL: 'http://keys.example.com/jwks' }))).toThrow(
      /OIDC_JWKS_URL: must be https/,
    );
    expect(() => oidcVerifierFromEnv(env({ OIDC_INVOKERS: 'not-an-email' }))).toThrow(/OIDC_INVOKERS: not emails/);
    expect(() => oidcVerifierFromEnv(env({ OIDC_TRUST_CLOUD_RUN_IAM: 'yes' }))).toThrow(/OIDC_TRUST_CLOUD_RUN_IAM/);
  });
});
