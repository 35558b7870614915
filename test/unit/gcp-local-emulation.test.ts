/**
 * loadGcpConfig's LocalEmulation option (npm run start:gcp only): AUTH as the environment says, but
 * never off beyond loopback; without the option every GCP function has AUTH forced to required.
 */
import { describe, expect, it } from 'vitest';
import { loadGcpConfig } from '../../gcp-functions/lib/host.ts';

const env = { FIRESTORE_PROJECT: 'demo-cloudops-local', PUBLIC_URL: 'http://127.0.0.1:8787/mcp' };

describe('loadGcpConfig and LocalEmulation', () => {
  it('a deployed function has authentication required whatever AUTH says', () => {
    expect(loadGcpConfig({ ...env, AUTH: 'none' }, ['PUBLIC_URL']).authRequired).toBe(true);
  });

  it('the local emulation on loopback is like npm start: off unless AUTH or OAUTH_* ask for it', () => {
    const local = { localEmulation: { listensOn: '127.0.0.1' } };
    expect(loadGcpConfig(env, ['PUBLIC_URL'], local).authRequired).toBe(false);
    expect(loadGcpConfig({ ...env, AUTH: 'required' }, ['PUBLIC_URL'], local).authRequired).toBe(true);
  });

  it('refuses authentication off beyond loopback: the bind address or a PUBLIC_URL elsewhere', () => {
    expect(() => loadGcpConfig(env, ['PUBLIC_URL'], { localEmulation: { listensOn: '0.0.0.0' } })).toThrow(
      /AUTH: required when serving beyond loopback \(0\.0\.0\.0\)/,
    );
    const tunnel = { ...env, PUBLIC_URL: 'https://mcp.example.com/mcp' };
    expect(() => loadGcpConfig(tunnel, ['PUBLIC_URL'], { localEmulation: { listensOn: '127.0.0.1' } })).toThrow(
      /AUTH: required when serving beyond loopback \(mcp\.example\.com\)/,
    );
    // With authentication it may serve beyond loopback, as npm start may.
    const on = loadGcpConfig({ ...tunnel, AUTH: 'required' }, ['PUBLIC_URL'], {
      localEmulation: { listensOn: '0.0.0.0' },
    });
    expect(on.authRequired).toBe(true);
  });
});
