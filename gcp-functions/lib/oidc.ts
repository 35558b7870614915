import { createRemoteJWKSet, decodeJwt, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { ConfigError } from '../../shared/config/config.ts';
import type { Env } from './host.ts';

/**
 * Who may call a private Cloud Function (a tool function, a workflow step, a scheduled check): a
 * Google-signed ID token whose audience is the function's own URL (OIDC_AUDIENCE), whose `email` is
 * one of OIDC_INVOKERS and is verified. Cloud Run's IAM check (roles/run.invoker) runs first in
 * production; this is the function's own check, so a wrong IAM binding alone lets nobody in.
 *
 * Cloud Run and the signature: when Cloud Run authenticates a request with the token in
 * `Authorization`, it passes the token on with its signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE`
 * (Cloud Run troubleshooting, "signature-removed"); when the token comes in `X-Serverless-Authorization`,
 * Cloud Run checks and strips that header's signature and leaves `Authorization` as the caller sent it.
 * So the gateway (CloudFunctionToolRunner) sends its token in both: Cloud Run checks one, this checks
 * the other's signature. Callers we do not write (Cloud Workflows' and Cloud Scheduler's OIDC auth)
 * send only `Authorization`; their functions set OIDC_TRUST_CLOUD_RUN_IAM=true, and then a token
 * whose signature Cloud Run removed is accepted on its claims alone (Cloud Run verified that signature;
 * the function must not allow unauthenticated invocations). A real signature is always verified.
 */

export interface OidcInvoker {
  email: string;
}

export interface OidcVerifier {
  /**
   * The caller, or InvokerRejectedError (401: no or bad token; 403: a good token of someone not
   * allowed); any other error means the issuer's keys could not be read (answer 503).
   */
  verify(authorization: string | undefined): Promise<OidcInvoker>;
}

export class InvokerRejectedError extends Error {
  override name = 'InvokerRejectedError';
  readonly status: 401 | 403;
  constructor(status: 401 | 403, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
/** What Cloud Run puts where the signature was (see above). */
const REMOVED_SIGNATURE = 'SIGNATURE_REMOVED_BY_GOOGLE';
/** An ID token is about 1 KB; anything far larger is not one. */
const MAX_TOKEN_CHARS = 8192;
const CLOCK_TOLERANCE_S = 30;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const EMAIL = /^[^\s@,]{1,128}@[^\s@,]{1,128}$/;

function settingsFromEnv(env: Env) {
  const problems: string[] = [];
  const audience = env.OIDC_AUDIENCE?.trim();
  if (!audience) problems.push('OIDC_AUDIENCE: required (the function URL its callers name as the audience)');
  const invokers = (env.OIDC_INVOKERS ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  if (!invokers.length) problems.push('OIDC_INVOKERS: required (comma-separated service account emails)');
  const badEmails = invokers.filter((e) => !EMAIL.test(e));
  if (badEmails.length) problems.push(`OIDC_INVOKERS: not emails: ${badEmails.join(', ').slice(0, 200)}`);
  const issuer = env.OIDC_ISSUER?.trim();
  const jwksUrl = env.OIDC_JWKS_URL?.trim() || GOOGLE_JWKS_URL;
  let jwks: URL | undefined;
  try {
    jwks = new URL(jwksUrl);
    if (jwks.protocol !== 'https:' && !(jwks.protocol === 'http:' && LOOPBACK.has(jwks.hostname))) {
      problems.push('OIDC_JWKS_URL: must be https (plain http only on loopback)');
    }
  } catch {
    problems.push('OIDC_JWKS_URL: not a URL');
  }
  const trust = env.OIDC_TRUST_CLOUD_RUN_IAM?.trim() || 'false';
  if (trust !== 'true' && trust !== 'false') problems.push('OIDC_TRUST_CLOUD_RUN_IAM: true or false');
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    audience: audience as string,
    invokers: new Set(invokers),
    issuers: issuer ? [issuer] : GOOGLE_ISSUERS,
    jwks: jwks as URL,
    trustCloudRunIam: trust === 'true',
  };
}

/** The verifier of a function's callers, from OIDC_AUDIENCE, OIDC_INVOKERS (and the overrides above); a bad setting throws ConfigError. */
export function oidcVerifierFromEnv(env: Env, opts: { now?: () => number } = {}): OidcVerifier {
  const s = settingsFromEnv(env);
  const keys = createRemoteJWKSet(s.jwks, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  const now = opts.now ?? Date.now;
  const unauthorized = (message: string, cause?: unknown) =>
    new InvokerRejectedError(401, message, cause === undefined ? undefined : { cause });

  /** The claims of a token Cloud Run already verified: the same checks jwtVerify makes, minus the signature. */
  const unsignedClaims = (token: string): JWTPayload => {
    const claims = decodeJwt(token);
    const nowS = Math.floor(now() / 1000);
    if (typeof claims.iss !== 'string' || !s.issuers.includes(claims.iss)) throw unauthorized('wrong token issuer');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(s.audience)) throw unauthorized('the token is not for this function (audience)');
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_TOLERANCE_S <= nowS) throw unauthorized('expired token');
    return claims;
  };

  return {
    async verify(authorization) {
      const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization?.trim() ?? '');
      const token = match?.[1];
      if (!token) throw unauthorized('no bearer token');
      if (token.length > MAX_TOKEN_CHARS) throw unauthorized('the token is too long');
      let claims: JWTPayload;
      if (s.trustCloudRunIam && token.endsWith(`.${REMOVED_SIGNATURE}`)) {
        try {
          claims = unsignedClaims(token);
        } catch (err) {
          if (err instanceof InvokerRejectedError) throw err;
          throw unauthorized('malformed token', err);
        }
      } else {
        try {
          ({ payload: claims } = await jwtVerify(token, keys, {
            issuer: s.issuers,
            audience: s.audience,
            algorithms: ['RS256'],
            clockTolerance: CLOCK_TOLERANCE_S,
            currentDate: new Date(now()),
            requiredClaims: ['exp', 'iat'],
          }));
        } catch (err) {
          if (keysUnreadable(err)) throw new Error('the ID token issuer keys could not be read', { cause: err });
          throw unauthorized(rejection(err), err);
        }
      }
      const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
      if (!email) throw new InvokerRejectedError(403, 'the token names no email');
      if (claims.email_verified !== true) throw new InvokerRejectedError(403, `${email} is not a verified email`);
      if (!s.invokers.has(email)) throw new InvokerRejectedError(403, `${email} may not invoke this function`);
      return { email };
    },
  };
}

/** Why jose refused a token, in words safe to log (never the token). */
function rejection(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired token';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is not for this function (audience)';
    if (err.claim === 'iss') return 'wrong token issuer';
    return `token claim ${err.claim} refused`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad token signature';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'the token is not signed by a key of the issuer';
  return 'malformed token';
}

/** The issuer's keys could not be fetched: the function's trouble, not the caller's (a 5xx, not a 401). */
function keysUnreadable(err: unknown): boolean {
  if (!(err instanceof joseErrors.JOSEError)) return true;
  return (
    err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC'
  );
}
