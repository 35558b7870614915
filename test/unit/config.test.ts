import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from '../../shared/config/config.ts';

describe('config', () => {
  it('defaults to loopback, no auth, embedded store', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      authRequired: false,
      store: { kind: 'embedded', dataDir: '.data' },
    });
  });

  it('OAuth implies auth and takes the first public URL as audience', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://mcp.example.com/mcp, https://alt.example.com/mcp',
      OAUTH_ISSUER: 'https://id.example.com',
      OAUTH_JWKS_URL: 'https://id.example.com/jwks',
    });
    expect(c.authRequired).toBe(true);
    expect(c.oauth?.audience).toBe('https://mcp.example.com/mcp');
    expect(c.publicUrls.map(String)).toEqual(['https://mcp.example.com/mcp', 'https://alt.example.com/mcp']);
  });

  it('names every bad setting', () => {
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ PORT: 'x', STORE: 'sqlite', OAUTH_SCOPE_ROLES: '{"a":"root"}' }, ['PORT', 'STORE', 'OAUTH_SCOPE_ROLES']],
      [{ OAUTH_ISSUER: 'https://id.example.com' }, ['OAUTH_JWKS_URL', 'PUBLIC_URL']],
      [
        {
          OAUTH_ISSUER: 'https://id.example.com',
          OAUTH_JWKS_URL: 'http://id.example.com/jwks',
          PUBLIC_URL: 'https://mcp.example.com/mcp',
        },
        ['OAUTH_JWKS_URL: must be an https URL'],
      ],
    ];
    for (const [env, names] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (err) {
        for (const name of names) expect((err as Error).message).toContain(name);
      }
    }
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', 'example.com', '::'].some(isLoopbackHost)).toBe(false);
  });
});
