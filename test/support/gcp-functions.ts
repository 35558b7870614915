import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type HttpFunction, http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { TestIssuer } from './oauth-issuer.ts';

/*
 * Cloud Functions (gen2) in tests: each handler is served by the real functions-framework (its
 * Express app, body parsers with rawBody, routing, error handling) on a free loopback port, and
 * callers present Google-shaped ID tokens signed by a loopback issuer (test/support/oauth-issuer.ts)
 * that the functions are pointed at with OIDC_ISSUER/OIDC_JWKS_URL.
 */

export interface ServedFunction {
  /** `http://127.0.0.1:<port>`: the function's URL (and, in tests, its OIDC audience). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` with functions-framework on 127.0.0.1:0: registered under a unique name with
 * `http(name, handler)` and served by `getTestServer(name)`, the framework's own server for a
 * registered function. Pass an entry point's handler (`getFunction('tool')` after importing its
 * bundle) to serve a real bundle.
 */
export async function serveHttpFunction(
  handler: (req: Parameters<HttpFunction>[0], res: Parameters<HttpFunction>[1]) => unknown | Promise<unknown>,
): Promise<ServedFunction> {
  const name = `test-${randomUUID()}`;
  http(name, handler as HttpFunction);
  const server = getTestServer(name);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface IdTokenClaims {
  /** The function URL the token is for. */
  aud: string;
  /** The caller's service account. */
  email: string;
  /** Default true, as Google sets it for service accounts. */
  email_verified?: boolean;
  /** Default the email's numeric-looking stand-in; Google puts the account's unique id here. */
  sub?: string;
  /** jose time span, default '10m'; e.g. '-1m' for an expired token. */
  expiresIn?: string;
  /** Sign with a key the issuer does not publish. */
  foreignKey?: boolean;
}

/** A Google-shaped ID token (`iss aud email email_verified exp iat sub`) signed by the test issuer's key. */
export function googleIdToken(issuer: TestIssuer, claims: IdTokenClaims): Promise<string> {
  return issuer.token({
    sub: claims.sub ?? `1${Buffer.from(claims.email).toString('hex').slice(0, 20)}`,
    aud: claims.aud,
    email: claims.email,
    email_verified: claims.email_verified ?? true,
    expiresIn: claims.expiresIn ?? '10m',
    ...(claims.foreignKey ? { foreignKey: true } : {}),
  });
}

/** The env a private function needs to accept ID tokens from `issuer` for `audience`, from `invokers`. */
export function oidcTestEnv(issuer: TestIssuer, audience: string, invokers: readonly string[]): Record<string, string> {
  return {
    OIDC_ISSUER: issuer.issuer,
    OIDC_JWKS_URL: issuer.jwksUrl,
    OIDC_AUDIENCE: audience,
    OIDC_INVOKERS: invokers.join(','),
  };
}
