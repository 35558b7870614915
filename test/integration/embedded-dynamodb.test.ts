import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { freePort, runCli, spawnLocalHost } from '../support/local-host.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cloudops-embedded-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the embedded store guards its port', () => {
  it('refuses requests without its access key id, and any request from a browser', async () => {
    const dataDir = join(tempDir(), 'data');
    const embedded = await startEmbeddedDynamo({ dataDir, table: 'guarded' });
    try {
      await embedded.store.put({ pk: 'apikey', sk: 'x', data: { role: 'admin' } });
      // The owner (and the CLI, through the advert) gets in.
      const owner = dynamoClient(embedded.endpoint, 'local', embedded.accessKeyId);
      const got = await owner.send(
        new GetItemCommand({ TableName: 'guarded', Key: { pk: { S: 'apikey' }, sk: { S: 'x' } } }),
      );
      expect(got.Item).toBeDefined();
      owner.destroy();
      // Anyone else on loopback does not, whatever they sign with.
      const stranger = dynamoClient(embedded.endpoint, 'local', 'local');
      await expect(
        stranger.send(new GetItemCommand({ TableName: 'guarded', Key: { pk: { S: 'apikey' }, sk: { S: 'x' } } })),
      ).rejects.toThrow(/accepts only the cloudops-mcp process/);
      stranger.destroy();
      // A web page: the CORS preflight and a request with an Origin are refused.
      const preflight = await fetch(embedded.endpoint, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const withOrigin = await fetch(embedded.endpoint, {
        method: 'POST',
        headers: {
          origin: 'https://evil.example',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'content-type': 'application/x-amz-json-1.0',
          authorization: `AWS4-HMAC-SHA256 Credential=${embedded.accessKeyId}/20261205/local/dynamodb/aws4_request, SignedHeaders=host, Signature=00`,
        },
        body: '{}',
      });
      expect(withOrigin.status).toBe(403);
      // Only the owner can read where the store is and how to sign.
      const advert = join(dataDir, 'embedded-dynamodb.json');
      expect(statSync(advert).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(JSON.parse(readFileSync(advert, 'utf8'))).toMatchObject({ accessKeyId: embedded.accessKeyId });
    } finally {
      await embedded.store.close();
    }
  });
});

describe('one server per data directory; the CLI follows the live one', () => {
  it('a second server on the same DATA_DIR is refused with the pid of the first', async () => {
    const dataDir = tempDir();
    const first = await spawnLocalHost({ PORT: '0', DATA_DIR: dataDir, STORE: 'embedded' });
    try {
      const second = await runCli(['serve'], { PORT: String(await freePort()), DATA_DIR: dataDir, STORE: 'embedded' });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`is in use by a running cloudops-mcp server (pid ${first.proc.pid})`);
      expect(second.stderr).not.toContain('    at ');
      // The CLI still shares the running server's store.
      const created = await runCli(['keys', 'create', '--role', 'viewer', '--name', 'shared', '--json'], {
        DATA_DIR: dataDir,
      });
      expect(created.code, created.stderr).toBe(0);
    } finally {
      await first.stop();
    }
    const listed = await runCli(['keys', 'list', '--json'], { DATA_DIR: dataDir });
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name)).toEqual(['shared']);
  });

  it('an advert left by a crash, whose pid now belongs to another process, is ignored and removed', async () => {
    const dataDir = tempDir();
    const created = await runCli(['keys', 'create', '--role', 'viewer', '--name', 'before', '--json'], {
      DATA_DIR: dataDir,
    });
    expect(created.code, created.stderr).toBe(0);
    // A live process that is not a cloudops-mcp server, and an endpoint nobody answers on.
    const bystander: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const advert = join(dataDir, 'embedded-dynamodb.json');
    try {
      writeFileSync(
        advert,
        JSON.stringify({
          endpoint: `http://127.0.0.1:${await freePort()}`,
          accessKeyId: 'cloudopsstale',
          pid: bystander.pid,
          table: 'cloudops-mcp',
        }),
      );
      const started = Date.now();
      const listed = await runCli(['keys', 'list', '--json'], { DATA_DIR: dataDir });
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((k) => k.name)).toEqual(['before']);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(() => statSync(advert)).toThrow();
    } finally {
      bystander.kill();
    }
  });
});
