import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { dynamoClient, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { ConditionFailedError, StoreUnavailableError } from '../../shared/ports/store.ts';
import { storeContract } from '../contract/store.contract.ts';
import { freePort } from '../support/local-host.ts';

// DynamoDB's HTTP API served by dynalite in this process, through @aws-sdk/client-dynamodb.
storeContract('dynamodb (dynalite)', async (clock) => {
  const embedded = await startEmbeddedDynamo({ table: 'contract' });
  const store = new DynamoDbStore(dynamoClient(embedded.endpoint, 'local', embedded.accessKeyId), 'contract', {
    clock,
    onClose: () => embedded.store.close(),
  });
  return store;
});

describe('DynamoDB failures worth retrying', () => {
  it('an unreachable endpoint is a StoreUnavailableError naming the call and the table', async () => {
    // A port that was just free: nothing listens there.
    const port = await freePort();
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const store = new DynamoDbStore(client, 'ops');
    const err = await store.get('pk', 'sk').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/^DynamoDB GetItem on ops: /);
    await expect(store.put({ pk: 'pk', sk: 'sk', data: {} }, { ifAbsent: true })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await store.close();
  });

  it('a failed condition is still a ConditionFailedError, not a retryable failure', async () => {
    const embedded = await startEmbeddedDynamo({ table: 'cond' });
    const store = new DynamoDbStore(dynamoClient(embedded.endpoint, 'local', embedded.accessKeyId), 'cond', {
      onClose: () => embedded.store.close(),
    });
    await store.put({ pk: 'p', sk: 's', data: {} });
    await expect(store.put({ pk: 'p', sk: 's', data: {} }, { ifAbsent: true })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await store.close();
  });
});
