import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import type { Role } from '../../shared/config/config.ts';
import { canAccess } from '../../shared/domain/identity.ts';
import { allTools } from '../../shared/tools/index.ts';
import { freePort } from '../support/local-host.ts';
import { connectClient, type Era, structured } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const SCOPES: Record<Role, string> = {
  viewer: 'cloudops:read',
  operator: 'cloudops:write',
  approver: 'cloudops:approve',
  admin: 'cloudops:admin',
};

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

describe('auth matrix: OAuth 2.1 resource server and API keys', () => {
  let server: LocalServer;
  let issuer: TestIssuer;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    issuer = await startTestIssuer(url);
    server = await startLocalServer({
      PORT: String(port),
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: url,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
      MAX_BODY_BYTES: String(1024 * 1024),
      // Every toolset (drift and alerts are not served by default), so every tool's role is checked.
      TOOLSETS: [...new Set(allTools.map((t) => t.group))].join(','),
    });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  const forbiddenFor: Record<Role, string | undefined> = {
    viewer: 'admin_config_get',
    operator: 'admin_config_get',
    approver: 'admin_config_get',
    admin: undefined,
  };

  for (const role of ['viewer', 'operator', 'approver', 'admin'] as Role[]) {
    for (const era of ['modern', 'legacy'] as Era[]) {
      it(`${role} (${era}): sees exactly the tools its role allows and is refused the others`, async () => {
        const token = await issuer.token({
          sub: `user-${role}`,
          scope: `openid ${SCOPES[role]}`,
          name: `${role} user`,
        });
        const client = await connectClient(url, era, { authorization: `Bearer ${token}` });
        try {
          const { tools } = await client.listTools();
          const expected = allTools.filter((t) => canAccess([role], t.access)).map((t) => t.name);
          expect(tools.map((t) => t.name).sort()).toEqual([...expected].sort());
          const info = structured<{ caller: { name: string; roles: string[]; method: string } }>(
            await client.callTool({ name: 'server_info', arguments: {} }),
          );
          expect(info.caller).toEqual({ name: `${role} user`, roles: [role], method: 'oauth' });
          const forbidden = forbiddenFor[role];
          if (forbidden) {
            await expect(client.callTool({ name: forbidden, arguments: {} })).rejects.toThrow(
              /needs the admin role; you have/,
            );
            const audit = structured<{ events: Array<{ tool: string; outcome: string }> }>(
              await client.callTool({ name: 'audit_events_list', arguments: { limit: 1, tool: forbidden } }),
            );
            expect(audit.events[0]).toMatchObject({ tool: forbidden, outcome: 'denied' });
          } else {
            // Nothing is forbidden to an admin; a tool that does not exist is still refused.
            await expect(client.callTool({ name: 'kubectl_exec', arguments: {} })).rejects.toThrow(/not found/i);
          }
        } finally {
          await client.close();
        }
      });
    }
  }

  it('no token: 401 with the protected resource metadata URL, which serves RFC 9728 metadata', async () => {
    const res = await post(url, initialize);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    const prm = `http://127.0.0.1:${new URL(url).port}/.well-known/oauth-protected-resource/mcp`;
    expect(challenge).toBe(`Bearer resource_metadata="${prm}"`);
    for (const path of [prm, prm.replace(/\/mcp$/, '')]) {
      const meta = await fetch(path);
      expect(meta.status).toBe(200);
      expect(await meta.json()).toMatchObject({
        resource: url,
        authorization_servers: [issuer.issuer],
        scopes_supported: Object.values(SCOPES),
        bearer_methods_supported: ['header'],
      });
    }
  });

  it('wrong audience, expiry, foreign signature and garbage tokens: 401 invalid_token', async () => {
    const cases = {
      audience: await issuer.token({ sub: 'u', scope: SCOPES.admin, aud: 'https://other.example/mcp' }),
      expired: await issuer.token({ sub: 'u', scope: SCOPES.admin, expiresIn: '-5m' }),
      signature: await issuer.token({ sub: 'u', scope: SCOPES.admin, foreignKey: true }),
      garbage: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await post(url, initialize, { authorization: `Bearer ${token}` });
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate'), name).toContain('error="invalid_token"');
      expect(res.headers.get('www-authenticate'), name).toContain('resource_metadata=');
    }
    const aud = await post(url, initialize, { authorization: `Bearer ${cases.audience}` });
    expect(((await aud.json()) as { error_description: string }).error_description).toMatch(/audience/);
  });

  it('a valid token without any mapped scope: 403 insufficient_scope', async () => {
    const token = await issuer.token({ sub: 'u', scope: 'openid profile' });
    const res = await post(url, initialize, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('roles come from mapped scopes or the roles claim, never from a scope spelled like a role', async () => {
    const port = await freePort();
    const url2 = `http://127.0.0.1:${port}/mcp`;
    const withClaim = await startLocalServer({
      PORT: String(port),
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      PUBLIC_URL: url2,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
      OAUTH_ROLES_CLAIM: 'groups',
    });
    const rolesOf = async (claims: Record<string, unknown>) => {
      const token = await issuer.token({ sub: 'u', aud: url2, ...claims });
      const res = await post(url2, initialize, { authorization: `Bearer ${token}` });
      if (res.status !== 200) return res.status;
      const client = await connectClient(url2, 'modern', { authorization: `Bearer ${token}` });
      try {
        return structured<{ caller: { roles: string[] } }>(
          await client.callTool({ name: 'server_info', arguments: {} }),
        ).caller.roles;
      } finally {
        await client.close();
      }
    };
    try {
      expect(await rolesOf({ scope: `${SCOPES.viewer} admin`, groups: [] })).toEqual(['viewer']);
      expect(await rolesOf({ scope: 'admin operator' })).toBe(403);
      expect(await rolesOf({ scope: 'openid', groups: ['admin'] })).toEqual(['admin']);
      expect(await rolesOf({ scope: 'openid', groups: 'approver' })).toEqual(['approver']);
      expect(await rolesOf({ scope: 'openid', groups: [SCOPES.operator] })).toEqual(['operator']);
      // Names of Object.prototype members are just unknown scopes: 403, not a 500.
      expect(await rolesOf({ scope: 'constructor __proto__ toString' })).toBe(403);
      expect(await rolesOf({ scope: 'openid', groups: ['constructor', 'hasOwnProperty'] })).toBe(403);
    } finally {
      await withClaim.close();
    }
  });

  it('a malformed 2026-07-28 call gets the wire error (400) even for a tool the caller may not use', async () => {
    const token = await issuer.token({ sub: 'wire-viewer', scope: SCOPES.viewer, name: 'wire viewer' });
    const call = (headers: Record<string, string>, protocolVersion = '2026-07-28') =>
      post(
        url,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name: 'admin_config_get',
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': protocolVersion,
              'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
        { authorization: `Bearer ${token}`, 'mcp-protocol-version': protocolVersion, ...headers },
      );
    // Well-formed: our role check answers (200, the role needed).
    const denied = await call({ 'mcp-method': 'tools/call', 'mcp-name': 'admin_config_get' });
    expect(denied.status).toBe(200);
    expect(await denied.json()).toMatchObject({ error: { code: -32602, data: { requiredRole: 'admin' } } });
    // A header naming another tool, or an unknown protocol version: the wire error comes first.
    const mismatch = await call({ 'mcp-method': 'tools/call', 'mcp-name': 'zzz' });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ error: { code: -32020 } });
    const version = await call({ 'mcp-method': 'tools/call', 'mcp-name': 'admin_config_get' }, '2099-01-01');
    expect(version.status).toBe(400);
    // Each refused call is audited with the wire error's own message, not just its HTTP status.
    const { events } = await server.deps.audit.list({ caller: 'wire-viewer', limit: 5 });
    expect(events.map((e) => e.outcome)).toEqual(['error', 'error', 'denied']);
    for (const e of events.slice(0, 2)) expect(e.error).not.toMatch(/^HTTP \d+$/);
  });

  it('JSON-RPC batches are refused before anything runs; a tools/call notification is not audited', async () => {
    const token = await issuer.token({ sub: 'batcher', scope: SCOPES.admin, name: 'batcher' });
    const auth = { authorization: `Bearer ${token}` };
    const call = (id: number | undefined) =>
      JSON.stringify({
        jsonrpc: '2.0',
        ...(id === undefined ? {} : { id }),
        method: 'tools/call',
        params: { name: 'server_info', arguments: {} },
      });
    for (const headers of [{}, { 'mcp-protocol-version': '2025-11-25' }] as Record<string, string>[]) {
      const res = await post(url, `[${call(1)},${call(2)}]`, { ...auth, ...headers });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/batch/) } });
    }
    await post(url, call(undefined), { ...auth, 'mcp-protocol-version': '2025-11-25' });
    // The one call that ran, as a request with an id, is the one record.
    expect((await post(url, call(3), { ...auth, 'mcp-protocol-version': '2025-11-25' })).status).toBe(200);
    const { events } = await server.deps.audit.list({ caller: 'batcher', limit: 10 });
    expect(events.map((e) => [e.tool, e.outcome])).toEqual([['server_info', 'ok']]);
  });

  it('API keys: a key works with its role; a revoked or forged key gets 401', async () => {
    const { key, info } = await server.deps.apiKeys.create({ role: 'operator', name: 'ci-bot' });
    const client = await connectClient(url, 'modern', { authorization: `Bearer ${key}` });
    const who = structured<{ caller: { name: string; roles: string[]; method: string } }>(
      await client.callTool({ name: 'server_info', arguments: {} }),
    );
    expect(who.caller).toEqual({ name: 'ci-bot', roles: ['operator'], method: 'apiKey' });
    await client.close();
    const viaHeader = await post(url, initialize, { 'x-api-key': key });
    expect(viaHeader.status).toBe(200);
    const forged = `${key.slice(0, -4)}AAAA`;
    expect((await post(url, initialize, { authorization: `Bearer ${forged}` })).status).toBe(401);
    await server.deps.apiKeys.revoke(info.id);
    expect((await post(url, initialize, { authorization: `Bearer ${key}` })).status).toBe(401);
  });

  describe('HTTP edge', () => {
    let admin: Record<string, string>;
    beforeAll(async () => {
      admin = { authorization: `Bearer ${await issuer.token({ sub: 'a', scope: SCOPES.admin })}` };
    });

    it('a foreign Origin is refused with 403 before anything else', async () => {
      const res = await post(url, initialize, { ...admin, origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      const ok = await post(url, initialize, { ...admin, origin: `http://127.0.0.1:${new URL(url).port}` });
      expect(ok.status).toBe(200);
    });

    it('a foreign Host header is refused with 403 (DNS rebinding)', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const u = new URL(url);
        const req = httpRequest(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: 'POST',
            headers: { host: 'evil.example', 'content-type': 'application/json', ...admin },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(initialize);
      });
      expect(status).toBe(403);
    });

    it('GET and DELETE: 405', async () => {
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(url, { method, headers: { ...admin, accept: 'text/event-stream' } });
        expect(res.status, method).toBe(405);
        expect(res.headers.get('allow'), method).toBe('POST');
      }
    });

    it('a 5 MB body: 413, and the server keeps serving', async () => {
      const huge = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'server_info', arguments: { pad: 'x'.repeat(5 * 1024 * 1024) } },
      });
      const res = await post(url, huge, admin);
      expect(res.status).toBe(413);
      const after = await post(url, initialize, admin);
      expect(after.status).toBe(200);
    });

    it('malformed JSON: JSON-RPC parse error', async () => {
      const res = await post(url, '{"jsonrpc": "2.0", "id": 1, "method": ', admin);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    });

    it('a wrong content type: 415', async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'text/plain' },
        body: initialize,
      });
      expect(res.status).toBe(415);
    });
  });
});
