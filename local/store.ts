import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../shared/adapters/aws/dynamodb-store.ts';
import {
  dynamoClient,
  type EmbeddedAdvert,
  EmbeddedStoreLockedError,
  removeStaleAdvert,
  runningEmbeddedStore,
  startEmbeddedDynamo,
} from '../shared/adapters/local/embedded-dynamodb.ts';
import { MemoryStore } from '../shared/adapters/local/memory-store.ts';
import { type Config, ConfigError } from '../shared/config/config.ts';
import type { Store } from '../shared/ports/store.ts';

/**
 * The Store for a local process. `embedded` starts dynalite under the data directory, or, when
 * a running server already serves that directory, shares its endpoint (the CLI uses this while
 * `npm start` runs). A server never shares: a second `npm start` on the same directory is refused
 * with the pid of the first.
 */
export async function openLocalStore(config: Config, opts: { shareRunning: boolean }): Promise<Store> {
  const s = config.store;
  if (s.kind === 'memory') return new MemoryStore();
  if (s.kind === 'dynamodb') return new DynamoDbStore(dynamoClient(s.endpoint, s.region), s.table);
  if (s.kind === 'firestore') {
    // Imported on use: a laptop on the embedded store never loads the Firestore client.
    const { createFirestoreStore } = await import('../shared/adapters/gcp/firestore-store.ts');
    return createFirestoreStore(s);
  }
  const running = runningEmbeddedStore(s.dataDir);
  if (running) {
    if (await answers(running)) {
      if (opts.shareRunning)
        return new DynamoDbStore(dynamoClient(running.endpoint, 'local', running.accessKeyId), s.table);
      throw new ConfigError(
        `DATA_DIR ${s.dataDir} is in use by a running cloudops-mcp server (pid ${running.pid}); stop it first, or set another DATA_DIR.`,
      );
    }
    // The advertised server is gone (a crash, and its pid reused) or is not ours: open the files.
    removeStaleAdvert(s.dataDir);
  }
  try {
    return (await startEmbeddedDynamo({ dataDir: s.dataDir, table: s.table })).store;
  } catch (err) {
    if (err instanceof EmbeddedStoreLockedError) throw new ConfigError(`DATA_DIR: ${err.message}`);
    throw err;
  }
}

/** Whether the advertised endpoint is alive and accepts this advert's key: one quick call, no retries. */
async function answers(advert: EmbeddedAdvert): Promise<boolean> {
  const client = dynamoClient(advert.endpoint, 'local', advert.accessKeyId, { quick: true });
  try {
    await client.send(new DescribeTableCommand({ TableName: advert.table }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
