import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDbStore } from '../aws/dynamodb-store.ts';

/**
 * DynamoDB for laptops and tests: dynalite (the DynamoDB HTTP API over LevelDB) started in this
 * process on a loopback port. With a data directory its state persists across restarts, and the
 * running endpoint is advertised in `<dir>/embedded-dynamodb.json` so the CLI can share it
 * (LevelDB allows one process per directory).
 */
export interface EmbeddedDynamo {
  endpoint: string;
  /** Closing the store also stops dynalite and withdraws the advertisement. */
  store: DynamoDbStore;
}

export function dynamoClient(endpoint: string | undefined, region: string): DynamoDBClient {
  return new DynamoDBClient({
    region,
    ...(endpoint
      ? {
          endpoint,
          // dynalite ignores credentials; fixed ones keep the SDK from searching the machine for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: 3,
  });
}

export async function startEmbeddedDynamo(opts: { dataDir?: string; table: string }): Promise<EmbeddedDynamo> {
  const dir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const server: Server = dynalite({
    ...(dir ? { path: join(dir, 'dynamodb') } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const advert = dir ? join(dir, 'embedded-dynamodb.json') : undefined;
  const store = new DynamoDbStore(dynamoClient(endpoint, 'local'), opts.table, {
    kind: 'dynamodb (embedded dynalite)',
    onClose: async () => {
      if (advert) rmSync(advert, { force: true });
      await new Promise<void>((res) => server.close(() => res()));
    },
  });
  await store.ensureTable();
  if (advert) writeFileSync(advert, JSON.stringify({ endpoint, pid: process.pid, table: opts.table }));
  return { endpoint, store };
}

/** The endpoint of an embedded DynamoDB that another live process serves from `dataDir`, if any. */
export function runningEmbeddedEndpoint(dataDir: string): string | undefined {
  try {
    const advert = JSON.parse(readFileSync(join(resolve(dataDir), 'embedded-dynamodb.json'), 'utf8')) as {
      endpoint: string;
      pid: number;
    };
    if (advert.pid === process.pid) return undefined;
    process.kill(advert.pid, 0);
    return advert.endpoint;
  } catch {
    return undefined;
  }
}
