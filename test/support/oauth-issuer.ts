import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  /** Signs a token with the issuer's published key unless `foreignKey` is set. */
  token(
    claims: {
      sub: string;
      scope?: string;
      aud?: string;
      expiresIn?: string;
      name?: string;
      foreignKey?: boolean;
    } & Record<string, unknown>,
  ): Promise<string>;
  close(): Promise<void>;
}

/** A real OAuth issuer's JWKS endpoint on loopback, with an RS256 key made for the test run. */
export async function startTestIssuer(defaultAudience: string): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUrl: `${base}/jwks`,
    async token({ sub, scope, aud, expiresIn, foreignKey, ...rest }) {
      const jwt = new SignJWT({ ...(scope !== undefined ? { scope } : {}), ...rest })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setSubject(sub)
        .setIssuer(base)
        .setAudience(aud ?? defaultAudience)
        .setIssuedAt()
        .setExpirationTime(expiresIn ?? '10m');
      return jwt.sign(foreignKey ? other.privateKey : privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
