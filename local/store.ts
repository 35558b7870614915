import { DynamoDbStore } from '../shared/adapters/aws/dynamodb-store.ts';
import {
  dynamoClient,
  runningEmbeddedEndpoint,
  startEmbeddedDynamo,
} from '../shared/adapters/local/embedded-dynamodb.ts';
import { MemoryStore } from '../shared/adapters/local/memory-store.ts';
import type { Config } from '../shared/config/config.ts';
import type { Store } from '../shared/ports/store.ts';

/**
 * The Store for a local process. `embedded` starts dynalite under the data directory, or, when
 * a running server already serves that directory, shares its endpoint (the CLI uses this while
 * `npm start` runs).
 */
export async function openLocalStore(config: Config, opts: { shareRunning: boolean }): Promise<Store> {
  const s = config.store;
  if (s.kind === 'memory') return new MemoryStore();
  if (s.kind === 'dynamodb') return new DynamoDbStore(dynamoClient(s.endpoint, s.region), s.table);
  const running = opts.shareRunning ? runningEmbeddedEndpoint(s.dataDir) : undefined;
  if (running) return new DynamoDbStore(dynamoClient(running, 'local'), s.table);
  return (await startEmbeddedDynamo({ dataDir: s.dataDir, table: s.table })).store;
}
