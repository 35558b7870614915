import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY_CACHE_TTL_MS } from '../../shared/app/repos/api-keys.ts';
import { runCli, spawnLocalHost } from '../support/local-host.ts';
import { connectClient, structured } from '../support/mcp-client.ts';

describe('restart persistence (embedded DynamoDB under DATA_DIR)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cloudops-restart-'));
  const env = { PORT: '0', DATA_DIR: dataDir, AUTH: 'required' };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a key created before a restart still works after it, and earlier audit records are listed', async () => {
    const created = await runCli(['keys', 'create', '--role', 'approver', '--name', 'release-manager', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const auth = { authorization: `Bearer ${key}` };

    const first = await spawnLocalHost(env);
    let firstRequestIds: string[];
    try {
      const unauth = await fetch(first.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unauth.status).toBe(401);
      const client = await connectClient(first.url, 'modern', auth);
      structured(await client.callTool({ name: 'server_info', arguments: {} }));
      structured(await client.callTool({ name: 'server_info', arguments: {} }));
      const before = structured<{ events: Array<{ requestId: string; tool: string }> }>(
        await client.callTool({ name: 'audit_events_list', arguments: { tool: 'server_info' } }),
      );
      firstRequestIds = before.events.map((e) => e.requestId);
      expect(firstRequestIds).toHaveLength(2);
      await client.close();
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await spawnLocalHost(env);
    try {
      const client = await connectClient(second.url, 'legacy', auth);
      const after = structured<{ events: Array<{ requestId: string; tool: string; caller: { name: string } }> }>(
        await client.callTool({ name: 'audit_events_list', arguments: { limit: 10 } }),
      );
      const ids = after.events.map((e) => e.requestId);
      expect(ids).toEqual(expect.arrayContaining(firstRequestIds));
      expect(after.events.every((e) => e.caller.name === 'release-manager')).toBe(true);
      await client.close();

      const listed = await runCli(['keys', 'list', '--json'], env);
      const [info] = JSON.parse(listed.stdout) as Array<{ name: string; lastUsedAt?: string }>;
      expect(info?.name).toBe('release-manager');
      expect(info?.lastUsedAt).toBeDefined();

      // Revoked through the CLI (another process) while the server runs: the server's key cache
      // (API_KEY_CACHE_TTL_MS) lets the key live at most that long after the revocation is written.
      const revoked = await runCli(['keys', 'revoke', 'release-manager'], env);
      expect(revoked.code, revoked.stderr).toBe(0);
      const revokedAt = Date.now();
      let status = 0;
      while (Date.now() - revokedAt < API_KEY_CACHE_TTL_MS + 10_000) {
        const res = await fetch(second.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: '{}',
        });
        status = res.status;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);
    } finally {
      await second.stop();
    }
  });
});
