import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../shared/tools/index.ts';
import { runCli, type SpawnedHost, spawnLocalHost } from '../support/local-host.ts';
import { connectClient, type Era, structured } from '../support/mcp-client.ts';

describe('local host over HTTP (npm start), official SDK v2 client', () => {
  let host: SpawnedHost;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudops-e2e-'));
    host = await spawnLocalHost({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await host?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the endpoint URL on one line', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(host.output()).toContain(`MCP endpoint: ${host.url}\n`);
  });

  for (const era of ['modern', 'legacy'] as Era[]) {
    it(`${era} era: lists tools, calls server_info, finds the call in audit_events_list`, async () => {
      const client = await connectClient(host.url, era);
      try {
        expect(client.getNegotiatedProtocolVersion?.()).toBe(era === 'modern' ? '2026-07-28' : '2025-11-25');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());
        const info = structured<{ store: string; protocolVersions: string[]; caller: { roles: string[] } }>(
          await client.callTool({ name: 'server_info', arguments: {} }),
        );
        expect(info.store).toContain('dynamodb');
        expect(info.protocolVersions).toEqual(expect.arrayContaining(['2026-07-28', '2025-11-25', '2025-06-18']));
        expect(info.caller.roles).toEqual(['admin']);

        const bad = await client.callTool({ name: 'audit_events_list', arguments: { limit: 'many' } });
        expect(bad.isError).toBe(true);

        const audit = structured<{ events: Array<{ tool: string; outcome: string; caller: { subject: string } }> }>(
          await client.callTool({ name: 'audit_events_list', arguments: { limit: 5 } }),
        );
        // Newest first: the invalid call, then server_info; each left one record.
        expect(audit.events.slice(0, 2).map((e) => [e.tool, e.outcome])).toEqual([
          ['audit_events_list', 'error'],
          ['server_info', 'ok'],
        ]);
        expect(audit.events[1]?.caller.subject).toBe('local');
      } finally {
        await client.close();
      }
    });
  }

  it('2026-07-28 tools/list carries a private 5-minute cache hint', async () => {
    const res = await fetch(host.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    const body = (await res.json()) as { result: { ttlMs: number; cacheScope: string; tools: unknown[] } };
    expect(body.result).toMatchObject({ ttlMs: 300_000, cacheScope: 'private' });
    expect(body.result.tools).toHaveLength(allTools.length);
  });

  it('writes structured logs only: every line but the endpoint line is JSON, requests with id and caller', async () => {
    const client = await connectClient(host.url, 'modern');
    try {
      await client.callTool({ name: 'server_info', arguments: {} });
    } finally {
      await client.close();
    }
    const parse = () =>
      host
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('MCP endpoint: '))
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; requestId?: string; caller?: string; rpc?: string };
          } catch {
            throw new Error(`not a JSON log line: ${l}`);
          }
        });
    // The child's output arrives through a pipe: give the request line a moment to come through.
    const deadline = Date.now() + 3000;
    let calls = parse().filter((r) => r.msg === 'request' && r.rpc === 'tools/call');
    while (calls.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      calls = parse().filter((r) => r.msg === 'request' && r.rpc === 'tools/call');
    }
    expect(calls.length).toBeGreaterThan(0);
    for (const r of calls) expect(r).toMatchObject({ requestId: expect.any(String), caller: 'root' });
  });

  it('keys created by the CLI while the server runs are stored through the running server', async () => {
    const created = await runCli(['keys', 'create', '--role', 'viewer', '--name', 'while-running', '--json'], {
      DATA_DIR: dataDir,
    });
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { key: string; role: string };
    expect(key.role).toBe('viewer');
    const listed = await runCli(['keys', 'list', '--json'], { DATA_DIR: dataDir });
    const keys = JSON.parse(listed.stdout) as Array<{ name: string; hash?: string }>;
    expect(keys.map((k) => k.name)).toContain('while-running');
    expect(listed.stdout).not.toContain(key.key);
    expect(keys.every((k) => k.hash === undefined)).toBe(true);
  });
});

describe('local host safety', () => {
  it('refuses to listen on a non-loopback address without authentication', async () => {
    const r = await runCli(['serve'], { HOST: '0.0.0.0', PORT: '0', STORE: 'memory' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Refusing to listen on 0.0.0.0 without authentication');
  });

  it('refuses a non-loopback PUBLIC_URL without authentication (a tunnel would expose the local admin)', async () => {
    const r = await runCli(['serve'], {
      HOST: '127.0.0.1',
      PORT: '0',
      STORE: 'memory',
      PUBLIC_URL: 'https://my-tunnel.example.com/mcp',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Refusing to serve PUBLIC_URL https://my-tunnel.example.com/mcp without authentication');
  });

  it('names a bad setting and exits', async () => {
    const r = await runCli(['serve'], { PORT: 'eighty', STORE: 'memory' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PORT: .*number/);
  });
});
