import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.ts';
import { toolsFor } from '../../shared/tools/index.ts';
import { startFakeKube } from '../support/fake-kube/index.ts';
import { FAKE_TOKEN, renderKubeconfig, writeKubeconfig } from '../support/fake-kube/kubeconfig.ts';
import { runCli, type SpawnedHost, spawnLocalHost } from '../support/local-host.ts';
import { connectClient, type Era, structured } from '../support/mcp-client.ts';

/** What a host serves with TOOLSETS unset. */
const allTools = toolsFor(loadConfig({}).toolsets);

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

        // A wrong argument is the caller's mistake: -32602 (Invalid params), still audited.
        await expect(
          client.callTool({ name: 'audit_events_list', arguments: { limit: 'many' } }),
        ).rejects.toMatchObject({
          code: -32602,
        });

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

  it('keys create: a blank name gets the generated one; a name a key in use has is refused', async () => {
    const blank = await runCli(['keys', 'create', '--role', 'viewer', '--name', '   ', '--json'], {
      DATA_DIR: dataDir,
    });
    expect(blank.code, blank.stderr).toBe(0);
    const info = JSON.parse(blank.stdout) as { id: string; name: string };
    expect(info.name).toBe(`key-${info.id}`);

    const first = await runCli(['keys', 'create', '--role', 'viewer', '--name', 'twice', '--json'], {
      DATA_DIR: dataDir,
    });
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(['keys', 'create', '--role', 'admin', '--name', ' twice '], { DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('An API key named "twice" already exists');
    expect(again.stdout).not.toContain('cmk_');
  });
});

describe('local host: graceful stop', () => {
  it('on SIGTERM a tools/call in flight completes and leaves its audit record; new connections are refused', async () => {
    const kube = await startFakeKube({ readyDelayMs: 50 });
    // A Kubernetes API that holds the namespace list until the test lets it go: the call is in
    // flight when SIGTERM arrives, and stays in flight until the host is seen refusing connections.
    let listing!: () => void;
    const listingStarted = new Promise<void>((r) => {
      listing = r;
    });
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const slow = createServer(async (req, res) => {
      if (/\/namespaces(\?|$)/.test(req.url ?? '')) {
        listing();
        await released;
      }
      const r = await fetch(`${kube.url}${req.url}`, {
        headers: { authorization: req.headers.authorization ?? '', accept: req.headers.accept ?? '*/*' },
      });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const dir = mkdtempSync(join(tmpdir(), 'cloudops-e2e-stop-'));
    const env = {
      PORT: '0',
      DATA_DIR: join(dir, 'data'),
      KUBECONFIG: await writeKubeconfig(
        dir,
        renderKubeconfig({
          clusterName: 'slow',
          server: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
          token: FAKE_TOKEN,
        }),
      ),
    };
    let host: SpawnedHost | undefined;
    try {
      host = await spawnLocalHost(env);
      const client = await connectClient(host.url, 'modern');
      const call = client.callTool({ name: 'k8s_namespaces_list', arguments: {} });
      await listingStarted;
      const exited = once(host.proc, 'exit') as Promise<[number | null]>;
      host.proc.kill('SIGTERM');
      // Stopping: no new connection is accepted while the call finishes. Waits on the condition
      // (bounded), not on a guess of how long the host takes to close its listener.
      const refusedBy = Date.now() + 20_000;
      let refused = false;
      while (!refused && Date.now() < refusedBy) {
        refused = await fetch(host.url, { method: 'POST', body: '{}' }).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 25));
      }
      expect(refused).toBe(true);
      release();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result.structuredContent)).toContain('kube-system');
      const [code] = await exited;
      expect(code).toBe(0);
      await client.close().catch(() => {});
      expect(existsSync(join(env.DATA_DIR, 'embedded-dynamodb.json'))).toBe(false);

      host = await spawnLocalHost(env);
      const again = await connectClient(host.url, 'modern');
      try {
        const audit = structured<{ events: Array<{ tool: string; outcome: string }> }>(
          await again.callTool({ name: 'audit_events_list', arguments: { tool: 'k8s_namespaces_list', limit: 5 } }),
        );
        expect(audit.events.map((e) => [e.tool, e.outcome])).toEqual([['k8s_namespaces_list', 'ok']]);
      } finally {
        await again.close();
      }
    } finally {
      await host?.stop();
      await new Promise<void>((r) => slow.close(() => r()));
      slow.closeAllConnections();
      await kube.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
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

  it('refuses a wildcard HOST without PUBLIC_URL: no client could name the host it reaches', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const r = await runCli(['serve'], { HOST: host, PORT: '0', STORE: 'memory', AUTH: 'required' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`PUBLIC_URL is required when HOST is ${host} (every interface)`);
    }
  });

  it('the keys commands refuse STORE=memory: a key would be printed but never kept', async () => {
    const r = await runCli(['keys', 'create', '--role', 'admin'], { STORE: 'memory' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STORE=memory: the keys commands need a store that outlives them');
    expect(r.stdout).not.toContain('cmk_');
    expect((await runCli(['keys', 'list'], { STORE: 'memory' })).code).toBe(1);
  });

  it('names KUBECONFIG and the file when the kubeconfig is missing', async () => {
    const missing = join(tmpdir(), 'cloudops-no-such-kubeconfig');
    const r = await runCli(['serve'], { PORT: '0', STORE: 'memory', KUBECONFIG: missing });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`KUBECONFIG: the kubeconfig file ${missing} does not exist`);
  });

  it('a PORT in use is named, and the embedded store is closed (no advert file left)', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'cloudops-e2e-port-'));
    try {
      const r = await runCli(['serve'], { PORT: String(port), DATA_DIR: dataDir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`PORT ${port} on 127.0.0.1 is already in use`);
      expect(existsSync(join(dataDir, 'embedded-dynamodb.json'))).toBe(false);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names a bad setting and exits', async () => {
    const r = await runCli(['serve'], { PORT: 'eighty', STORE: 'memory' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PORT: .*number/);
  });
});
