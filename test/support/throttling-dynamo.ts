import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { dynamoClient, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';

/** What one DynamoDB call is about, as the throttle sees it. */
export interface CallInfo {
  command: string;
  /** The partition key of the item (GetItem, UpdateItem, DeleteItem) or the query. */
  pk: string;
  /** How many calls of this command on this kind of key (text before '#') came before this one. */
  n: number;
}

/**
 * What to do with a call: pass it, fail it before it reaches DynamoDB with a real SDK exception
 * (`throttle`: ProvisionedThroughputExceeded, ThrottlingException or RequestLimitExceeded, in turn),
 * or let it land and then fail the answer with a connection reset (`lost-reply`), as when a socket
 * dies after DynamoDB committed.
 */
export type Verdict = 'pass' | 'throttle' | 'lost-reply';

export interface ThrottlingDynamo {
  store: DynamoDbStore;
  /** Replace the rule; `() => 'pass'` turns the throttle off. */
  rule: (call: CallInfo) => Verdict;
  /** Calls seen per `command pk-kind verdict`, e.g. `GetItemCommand apikey pass`. */
  counts: Map<string, number>;
  count(command: string, kind: string, verdict?: Verdict): number;
}

const SDK_ERRORS = [
  () =>
    new ProvisionedThroughputExceededException({
      message:
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      $metadata: { httpStatusCode: 400, requestId: 'THROTTLE', attempts: 1, totalRetryDelay: 0 },
    }),
  () =>
    new ThrottlingException({
      message: 'Rate of requests exceeds the allowed throughput.',
      $metadata: { httpStatusCode: 400, requestId: 'THROTTLE', attempts: 1, totalRetryDelay: 0 },
    }),
  () =>
    new RequestLimitExceeded({
      message: 'Throughput exceeds the current throughput limit for your account.',
      $metadata: { httpStatusCode: 400, requestId: 'THROTTLE', attempts: 1, totalRetryDelay: 0 },
    }),
];

/**
 * The embedded DynamoDB (dynalite) behind a real DynamoDB client whose middleware fails calls on
 * demand with the AWS SDK's own exception classes, so the Store adapter sees exactly what it sees
 * from a throttled table. The middleware sits in the `initialize` step, before the SDK's retries.
 */
export async function startThrottlingDynamo(table: string): Promise<ThrottlingDynamo> {
  const embedded = await startEmbeddedDynamo({ table });
  const client: DynamoDBClient = dynamoClient(embedded.endpoint, 'local', embedded.accessKeyId);
  const seen = new Map<string, number>();
  const counts = new Map<string, number>();
  let errorTurn = 0;
  const t: ThrottlingDynamo = {
    store: new DynamoDbStore(client, table, { onClose: () => embedded.store.close() }),
    rule: () => 'pass',
    counts,
    count: (command, kind, verdict) =>
      [...counts.entries()]
        .filter(([k]) => k.startsWith(`${command} ${kind} `) && (!verdict || k.endsWith(` ${verdict}`)))
        .reduce((sum, [, v]) => sum + v, 0),
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const input = args.input as {
        Key?: { pk?: { S?: string } };
        ExpressionAttributeValues?: Record<string, { S?: string }>;
      };
      const pk = input.Key?.pk?.S ?? input.ExpressionAttributeValues?.[':pk']?.S ?? '';
      const kind = pk.split('#')[0] ?? '';
      const key = `${command} ${kind}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      const verdict = t.rule({ command, pk, n });
      counts.set(`${key} ${verdict}`, (counts.get(`${key} ${verdict}`) ?? 0) + 1);
      if (verdict === 'throttle') throw (SDK_ERRORS[errorTurn++ % SDK_ERRORS.length] as () => Error)();
      const out = await next(args);
      if (verdict === 'lost-reply') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return out;
    },
    { step: 'initialize', name: 'testThrottle' },
  );
  return t;
}
