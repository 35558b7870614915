import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePort } from './moto.ts';

/**
 * Google's Cloud Firestore emulator (`gcloud emulators firestore start`, a Java server) on a free
 * loopback port. gcloud puts itself and java in a process group of their own; stop() and this
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

/** An emulator-only project id (`demo-` projects never reach Google). */
const PROJECT_ID = 'demo-cloudops-test';

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
  'The Firestore tests need the Google Cloud CLI with its Firestore emulator and a Java runtime (17+, 21 recommended): ' +
  'install google-cloud-cli and google-cloud-cli-firestore-emulator (apt) or run `gcloud components install cloud-firestore-emulator`, ' +
  'and openjdk-21-jre-headless (or 17).';

/** Starts the emulator and waits (up to `startMs`) until it answers on its port. */
export async function startFirestoreEmulator(startMs = 120_000): Promise<FirestoreEmulator> {
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
    projectId: PROJECT_ID,
    async reset() {
      const res = await fetch(`http://${host}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`, {
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

let shared: Promise<FirestoreEmulator> | undefined;

/**
 * One emulator per test worker (vitest runs files of a worker in one module graph), started on first
 * use and stopped when the worker exits. Files sharing it use their own collections.
 */
export function sharedFirestoreEmulator(): Promise<FirestoreEmulator> {
  if (!shared) {
    // Stopping is left to the worker's exit: one file must not stop the emulator of the next.
    shared = startFirestoreEmulator().then((emulator) => ({ ...emulator, stop: async () => {} }));
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}
