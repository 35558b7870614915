import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ClassicLevel } from 'classic-level';
import dynalite from 'dynalite';
import { DynamoDbStore } from '../aws/dynamodb-store.ts';

/**
 * DynamoDB for laptops and tests: dynalite (the DynamoDB HTTP API over LevelDB) started in this
 * process on a loopback port. With a data directory its state persists across restarts, and the
 * running endpoint is advertised in `<dir>/embedded-dynamodb.json` so the CLI can share it
 * (LevelDB allows one process per directory).
 *
 * dynalite itself trusts every request (any signature, CORS for any origin), and the store holds the
 * API keys, the audit trail and the approvals, so the port is guarded: a request must sign with this
 * process's random access key id, which only the advert file (mode 0600, in a 0700 directory) tells,
 * and a request from a browser (any Origin header) is refused.
 */
export interface EmbeddedDynamo {
  endpoint: string;
  /** The access key id every request must carry; shared with the CLI through the advert file. */
  accessKeyId: string;
  /** Closing the store also stops dynalite and withdraws the advertisement. */
  store: DynamoDbStore;
}

/** Where a running server advertises its embedded store. */
export interface EmbeddedAdvert {
  endpoint: string;
  accessKeyId: string;
  pid: number;
  table: string;
}

/**
 * A DynamoDB client: for an endpoint (the embedded store, DynamoDB Local) fixed credentials with the
 * given access key id, and connection and request timeouts so a suspended or dead endpoint fails fast.
 * `quick` tunes a one-shot probe: no retries and shorter timeouts.
 */
export function dynamoClient(
  endpoint: string | undefined,
  region: string,
  accessKeyId = 'local',
  opts: { quick?: boolean } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    region,
    ...(endpoint
      ? {
          endpoint,
          // The embedded store checks the access key id; fixed credentials also keep the SDK from
          // searching the machine for real ones.
          credentials: { accessKeyId, secretAccessKey: 'local' },
          requestHandler: opts.quick
            ? { connectionTimeout: 1000, requestTimeout: 3000 }
            : { connectionTimeout: 2000, requestTimeout: 15_000 },
        }
      : {}),
    maxAttempts: opts.quick ? 1 : 3,
  });
}

/** Refused before LevelDB is touched: the directory is in use by another process. */
export class EmbeddedStoreLockedError extends Error {
  override name = 'EmbeddedStoreLockedError';
}

export async function startEmbeddedDynamo(opts: {
  dataDir?: string;
  table: string;
  /** Default: a random one per start. Tests of the Lambda hosts, which sign with fixed credentials, name theirs. */
  accessKeyId?: string;
}): Promise<EmbeddedDynamo> {
  const dir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // dynalite opens LevelDB lazily and throws its lock error where nobody can catch it: take the
    // lock once here first, so a second server or CLI on the same directory gets a clear error.
    const probe = new ClassicLevel(join(dir, 'dynamodb'));
    try {
      await probe.open();
    } catch (err) {
      const locked = (err as { code?: string; cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
      throw new EmbeddedStoreLockedError(
        locked
          ? `the embedded store in ${dir} is in use by another process (another npm start or CLI); stop it or use another DATA_DIR`
          : `cannot open the embedded store in ${dir}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await probe.close().catch(() => {});
    }
  }
  const server: Server = dynalite({
    ...(dir ? { path: join(dir, 'dynamodb') } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const accessKeyId = opts.accessKeyId ?? `cloudops${randomBytes(16).toString('hex')}`;
  guard(server, accessKeyId);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const advert = dir ? join(dir, ADVERT_FILE) : undefined;
  const store = new DynamoDbStore(dynamoClient(endpoint, 'local', accessKeyId), opts.table, {
    kind: 'dynamodb (embedded dynalite)',
    onClose: async () => {
      if (advert) rmSync(advert, { force: true });
      await new Promise<void>((res) => server.close(() => res()));
    },
  });
  await store.ensureTable();
  if (advert) {
    const content: EmbeddedAdvert = { endpoint, accessKeyId, pid: process.pid, table: opts.table };
    writeFileSync(advert, JSON.stringify(content), { mode: 0o600 });
    chmodSync(advert, 0o600);
  }
  return { endpoint, accessKeyId, store };
}

const ADVERT_FILE = 'embedded-dynamodb.json';

/**
 * Puts a check in front of dynalite's request handler: no browser requests (an Origin header, or a
 * CORS preflight), and a SigV4 credential with this process's access key id.
 */
function guard(server: Server, accessKeyId: string): void {
  const [handler] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (!handler) throw new Error('dynalite served no request handler to guard');
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const credential = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (req.headers.origin === undefined && req.method === 'POST' && credential === accessKeyId) {
      handler(req, res);
      return;
    }
    req.resume();
    res.writeHead(403, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(
      JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#UnrecognizedClientException',
        message: 'This embedded store accepts only the cloudops-mcp process that owns it and its CLI.',
      }),
    );
  });
}

/**
 * The advertised embedded store of another live process serving `dataDir`, if any. The pid may
 * have been reused since, so callers verify the endpoint before trusting it (see openLocalStore).
 */
export function runningEmbeddedStore(dataDir: string): EmbeddedAdvert | undefined {
  try {
    const advert = JSON.parse(readFileSync(join(resolve(dataDir), ADVERT_FILE), 'utf8')) as Partial<EmbeddedAdvert>;
    if (typeof advert.endpoint !== 'string' || typeof advert.pid !== 'number') return undefined;
    if (typeof advert.accessKeyId !== 'string') return undefined;
    if (advert.pid === process.pid) return undefined;
    process.kill(advert.pid, 0);
    return advert as EmbeddedAdvert;
  } catch {
    return undefined;
  }
}

/** Removes an advert that no live server stands behind (a crash, a reused pid). */
export function removeStaleAdvert(dataDir: string): void {
  rmSync(join(resolve(dataDir), ADVERT_FILE), { force: true });
}
