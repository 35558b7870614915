import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * moto_server (moto 5.2, a Python package installed on these machines and in CI) on a free loopback
 * port: the AWS APIs that have no local engine of their own (EKS, STS, EC2, CloudWatch, ...). One
 * server answers every service; it picks the service and region from the request's SigV4 scope, and
 * an account from the access key (the keys an AssumeRole hands out belong to the role's account).
 *
 * `reset()` empties every backend (moto's `POST /moto-api/reset`), so tests sharing one server start
 * clean. `stop()` kills the child; so does the worker's exit, for a test that never reaches its hooks.
 */
export interface MotoServer {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL / a client's `endpoint`. */
  url: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The moto_server executable, or a message saying how to get it. */
function motoBinary(): string {
  const bin = process.env.MOTO_SERVER ?? 'moto_server';
  try {
    execFileSync(bin, ['--help'], { stdio: 'ignore', timeout: 30_000 });
    return bin;
  } catch {
    throw new Error(
      `moto_server was not found (tried "${bin}"): the AWS integration tests need moto 5.2 ` +
        '(`pip install "moto[server]==5.2.*"`), or MOTO_SERVER naming its executable',
    );
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Starts moto_server and waits (up to `startMs`) until it answers on its port. */
export async function startMoto(startMs = 60_000): Promise<MotoServer> {
  const bin = motoBinary();
  const port = await freePort();
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + startMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited before answering (code ${child.exitCode}): ${output}`);
    }
    try {
      const res = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${url} within ${startMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
