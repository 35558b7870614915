import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * Google's Cloud Firestore emulator (`gcloud emulators firestore start`, a Java server) on a free
 * loopback port: the Store of `npm run start:gcp` (local/gcp.ts) and of the Firestore tests
 * (test/support/firestore-emulator.ts shares one per test worker). gcloud puts itself and java in a process group of their own; stop() and this
 * process's exit kill that group. A watchdog shell kills it too when this process dies without
 * running its exit hooks (a killed test worker), so no java is left behind.
 *
 * `reset()` deletes every document of `projectId` (the emulator's DELETE .../documents endpoint).
 */
export interface FirestoreEmulator {
  /** 127.0.0.1:<port>, for FIRESTORE_EMULATOR_HOST / the store's emulatorHost. */
  host: string;
  projectId: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The tests' emulator-only project id (`demo-` projects never reach Google). */
const TEST_PROJECT_ID = 'demo-cloudops-test';

const running = new Set<ChildProcess>();
const gcloudPids = new WeakMap<ChildProcess, number>();
process.once('exit', () => {
  for (const child of running) killGroup(child);
});

/**
 * Kills gcloud's process group (gcloud, its launcher script, java) and the watchdog shell's. Before
 * the shell has said gcloud's pid, SIGTERM makes the shell do it (see the script below).
 */
function killGroup(child: ChildProcess): void {
  const gcloud = gcloudPids.get(child);
  for (const [pid, signal] of [
    [gcloud, 'SIGKILL'],
    [child.pid, gcloud === undefined ? 'SIGTERM' : 'SIGKILL'],
  ] as const) {
    if (pid === undefined) continue;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }
}

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

const INSTALL =
  'The Firestore emulator (the GCP tests, npm run start:gcp) needs the Google Cloud CLI with its Firestore emulator and a Java runtime (17+, 21 recommended): ' +
  'install google-cloud-cli and google-cloud-cli-firestore-emulator (apt) or run `gcloud components install cloud-firestore-emulator`, ' +
  'and openjdk-21-jre-headless (or 17).';

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (!addr || typeof addr === 'string') throw new Error('no free port on 127.0.0.1');
  return addr.port;
}

/**
 * Starts the emulator and waits (up to `startMs`) until it answers on its port. Its data is its own
 * (in memory, gone when it stops) whatever `projectId` says: a client pointed at it by
 * FIRESTORE_EMULATOR_HOST never reaches Google.
 */
export async function startFirestoreEmulator(
  startMs = 120_000,
  projectId = TEST_PROJECT_ID,
): Promise<FirestoreEmulator> {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
    throw new Error(`not a Google Cloud project id: ${projectId.slice(0, 40)}`);
  }
  const missing = ['gcloud', 'java'].filter((bin) => !onPath(bin));
  if (missing.length > 0) throw new Error(`${missing.join(' and ')} not found on PATH. ${INSTALL}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  // gcloud puts itself and java in a process group of their own. The shell leads another and kills
  // both groups on SIGTERM (stop, this process's exit) or when this process or gcloud is gone.
  const script =
    `gcloud emulators firestore start --quiet --host-port=${host} & emu=$!; echo "gcloud-pid:$emu"; ` +
    `end() { kill -KILL -$emu $emu 2>/dev/null; kill -KILL 0; }; trap end TERM INT; ` +
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $emu 2>/dev/null; do sleep 1; done; end`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    const pid = /gcloud-pid:(\d+)/.exec(output)?.[1];
    if (pid && !gcloudPids.has(child)) gcloudPids.set(child, Number(pid));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  child.once('exit', () => running.delete(child));

  const deadline = Date.now() + startMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The Firestore emulator exited before answering (code ${child.exitCode}): ${output}\n${INSTALL}`);
    }
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`The Firestore emulator did not answer on ${host} within ${startMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    host,
    projectId,
    async reset() {
      const res = await fetch(`http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, {
        method: 'DELETE',
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`Firestore emulator reset failed: HTTP ${res.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child);
      await exited;
    },
  };
}
