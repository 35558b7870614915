/**
 * `npm run start:gcp` (local/gcp.ts) as a real child process: it starts the Firestore emulator itself,
 * serves the GCP gateway and one tool function per toolset on functions-framework, prints the
 * endpoint line as `npm start` does, answers tools/list and k8s tool calls (through the tool
 * functions, with their locally signed ID tokens) against KUBECONFIG, runs a rollout to completion on
 * the in-process engine of the delivery function, and on SIGINT or SIGTERM exits 0
 * leaving no process behind (the emulator's gcloud and java included).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { freePort } from '../support/local-host.ts';
import { connectClient, structured } from '../support/mcp-client.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** The emulator's first start on a busy machine (gcloud, then java) takes a while. */
const START_MS = 110_000;

interface Started {
  proc: ChildProcess;
  url: string;
  output(): string;
}

const children = new Set<ChildProcess>();

/** Runs what `npm run start:gcp` runs, with a clean Google environment, and waits for the endpoint line. */
async function startGcp(env: Record<string, string>): Promise<Started> {
  const clean = { ...process.env };
  for (const k of ['FIRESTORE_EMULATOR_HOST', 'FIRESTORE_PROJECT', 'GOOGLE_CLOUD_PROJECT', 'KUBECONFIG_SECRET'])
    delete clean[k];
  const proc = spawn(process.execPath, [join(ROOT, 'local', 'gcp.ts')], {
    cwd: ROOT,
    env: { ...clean, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no endpoint line within ${START_MS} ms:\n${out}`)), START_MS);
    proc.stdout.on('data', () => {
      const m = /MCP endpoint: (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start:gcp exited with ${code} before serving:\n${out}`));
    });
  });
  return { proc, url, output: () => out };
}

/** Every process descended from `pid` (the emulator's shell, gcloud, java), from `ps`. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [p, pp] of rows) {
      if (pp === parent) {
        found.push(p);
        walk(p);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Sends `signal`, expects exit code 0, and that every process it had started is gone (bounded wait). */
async function stopAndCheck(started: Started, signal: NodeJS.Signals): Promise<void> {
  const tree = descendants(started.proc.pid as number);
  const javas = tree.filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('java');
    } catch {
      return false;
    }
  });
  expect(javas.length, `the emulator's java among ${tree.join(' ')}`).toBeGreaterThan(0);
  const exited = once(started.proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  started.proc.kill(signal);
  const [code] = await exited;
  expect(code, started.output()).toBe(0);
  const deadline = Date.now() + 15_000;
  while (tree.some(alive) && Date.now() < deadline) await sleep(100);
  expect(tree.filter(alive)).toEqual([]);
}

describe('npm run start:gcp', () => {
  let kube: FakeKube;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 50 });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await kube?.close();
  });

  it('is the script package.json names', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start:gcp']).toBe('node local/gcp.ts');
  });

  it('serves the GCP gateway on PORT with the emulator it started: tools/list, k8s calls over KUBECONFIG, a rollout on the local engine; SIGINT stops everything', async () => {
    const port = await freePort();
    const started = await startGcp({
      PORT: String(port),
      KUBECONFIG: kube.kubeconfigPath,
      LOCAL_WORKFLOW_WAIT_MS: '50',
    });
    expect(started.url).toBe(`http://127.0.0.1:${port}/mcp`);
    // Auth as `npm start` on loopback: no credentials needed.
    const client = await connectClient(started.url, 'modern');
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['server_info', 'k8s_namespaces_list', 'delivery_rollouts_start']));
      expect(names.filter((n) => n.startsWith('aws_'))).toEqual([]);
      const before = kube.requests.length;
      const namespaces = structured<{ items: Array<{ name: string }> }>(
        await client.callTool({ name: 'k8s_namespaces_list', arguments: {} }),
      );
      expect(namespaces.items.map((n) => n.name)).toContain('default');
      expect(kube.requests.slice(before).some((r) => r.path === '/api/v1/namespaces')).toBe(true);

      // A rollout on the local engine inside the delivery function, followed to completion.
      const call = async (name: string, args: Record<string, unknown>) =>
        structured<{ operationId: string; status: string; statusMessage?: string }>(
          await client.callTool({ name, arguments: args }),
        );
      await call('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.25.3', { replicas: 2 }) });
      await call('k8s_rollouts_status', { name: 'web', namespace: 'default', waitSeconds: 20 });
      const { operationId } = await call('delivery_rollouts_start', { name: 'web', image: 'nginx:1.27.0' });
      const deadline = Date.now() + 45_000;
      let op = await call('delivery_rollouts_get', { operationId });
      while (!['completed', 'failed', 'cancelled'].includes(op.status) && Date.now() < deadline) {
        await sleep(200);
        op = await call('delivery_rollouts_get', { operationId });
      }
      expect(op, op.statusMessage).toMatchObject({ status: 'completed' });
      const dep = kube.store.get('deployments.apps', 'default', 'web') as unknown as {
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      };
      expect(dep.spec.template.spec.containers[0]?.image).toBe('nginx:1.27.0');
    } finally {
      await client.close();
    }
    await stopAndCheck(started, 'SIGINT');
  });

  it('SIGTERM stops it too, the emulator with it', async () => {
    const started = await startGcp({ PORT: '0', KUBECONFIG: kube.kubeconfigPath });
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    // Bound to loopback, the gateway takes the localhost names `npm start` takes, and nothing else.
    // (node:http, since fetch does not let a caller set Host)
    const ping = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          started.url,
          {
            method: 'POST',
            headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
      });
    const port = new URL(started.url).port;
    expect(await ping(`localhost:${port}`)).toBe(200);
    expect(await ping(`evil.example.com:${port}`)).toBe(403);
    await stopAndCheck(started, 'SIGTERM');
  });

  it('refuses to serve beyond loopback without authentication, before starting anything', async () => {
    const proc = spawn(process.execPath, [join(ROOT, 'local', 'gcp.ts')], {
      cwd: ROOT,
      env: { ...process.env, PUBLIC_URL: 'https://tunnel.example.com/mcp', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(proc);
    let err = '';
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(err).toContain('AUTH: required when serving beyond loopback (tunnel.example.com)');
  });
});
