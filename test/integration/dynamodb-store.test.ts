import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { dynamoClient, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { storeContract } from '../contract/store.contract.ts';

// DynamoDB's HTTP API served by dynalite in this process, through @aws-sdk/client-dynamodb.
storeContract('dynamodb (dynalite)', async (clock) => {
  const embedded = await startEmbeddedDynamo({ table: 'contract' });
  const store = new DynamoDbStore(dynamoClient(embedded.endpoint, 'local'), 'contract', {
    clock,
    onClose: () => embedded.store.close(),
  });
  return store;
});
