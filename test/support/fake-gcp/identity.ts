import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The access tokens of the fake GCP services: the metadata server issues them, the API fakes check
 * them, as Google's token info does for the real ones. A token names its principal (a service
 * account email), its scopes and its expiry; an unknown or expired token is refused by whoever checks it.
 * Time is `Date.now()`, so tests that fake `Date` move token lifetimes with it.
 */

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface IssuedToken {
  principal: string;
  scopes: string[];
  /** Epoch ms. */
  expiresAt: number;
}

export class FakeGoogleTokens {
  private readonly tokens = new Map<string, IssuedToken>();
  /** How many tokens were issued, for tests of caching. */
  issued = 0;

  issue(principal: string, scopes: string[], lifetimeS: number): { token: string; expiresIn: number } {
    // Real access tokens start `ya29.`; the rest is opaque.
    const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { principal, scopes, expiresAt: Date.now() + lifetimeS * 1000 });
    this.issued++;
    return { token, expiresIn: lifetimeS };
  }

  /** The token's grant while it is valid; undefined for unknown or expired tokens. */
  check(token: string): IssuedToken | undefined {
    const grant = this.tokens.get(token);
    return grant && grant.expiresAt > Date.now() ? grant : undefined;
  }
}

/** Google's JSON error body (https://cloud.google.com/apis/design/errors#http_mapping). */
export function googleError(code: number, status: string, message: string, reason?: string, domain?: string): string {
  const body: { error: Record<string, unknown> } = { error: { code, message, status } };
  if (reason) {
    body.error.details = [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: domain ?? 'googleapis.com' },
    ];
  }
  return JSON.stringify(body);
}

/**
 * A fake's HTTP server on a free loopback port: its address, and a close that also ends kept-alive
 * connections (the client libraries keep theirs open), so a test's teardown never waits on them.
 */
export async function listenLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
