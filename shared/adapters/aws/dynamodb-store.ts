import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { boundedPk, boundedSk, isExpired, itemBytes, STORE_LIMITS } from '../../domain/store-items.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { PutCondition, PutInput, QueryInput, QueryOutput, Store, StoreItem } from '../../ports/store.ts';
import { ConditionFailedError, ItemTooLargeError, StoreUnavailableError } from '../../ports/store.ts';

const pkOf = boundedPk;
const skOf = boundedSk;

/**
 * Store on one DynamoDB table: pk (S) / sk (S) keys, the document in `data` (M), a `version`
 * counter for compare-and-set, and `expiresAt` (N, epoch seconds) as the table's TTL attribute.
 * DynamoDB deletes expired items lazily, so every read also filters them out. Keys longer than
 * DynamoDB allows are bounded (boundedKey) on every call, and an item over 400 KB is refused with
 * ItemTooLargeError before it is sent (and when DynamoDB itself says so).
 */
export class DynamoDbStore implements Store {
  readonly kind: string;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly onClose?: () => Promise<void>;

  constructor(
    client: DynamoDBClient,
    table: string,
    opts: { clock?: Clock; onClose?: () => Promise<void>; kind?: string } = {},
  ) {
    this.kind = opts.kind ?? 'dynamodb';
    this.client = client;
    this.table = table;
    this.clock = opts.clock ?? systemClock;
    if (opts.onClose) this.onClose = opts.onClose;
  }

  /** The clock in epoch seconds, the unit of the TTL attribute (`:now` in NOT_EXPIRED). */
  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /**
   * Runs one DynamoDB call; a failure worth retrying (throttling, a 5xx, a timeout, no connection)
   * becomes a StoreUnavailableError naming the call, after the SDK's own retries. Conditional-check
   * failures and missing tables stay as they are.
   */
  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      const e = err as Error;
      throw new StoreUnavailableError(`DynamoDB ${what} on ${this.table}: ${e.name}: ${e.message}`, { cause: err });
    }
  }

  async get(pk: string, sk: string): Promise<StoreItem | undefined> {
    const Key = marshall({ pk: pkOf(pk), sk: skOf(sk) });
    const out = await this.call('GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key, ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const item = fromRecord(out.Item);
    return isExpired(item, this.clock.now()) ? undefined : item;
  }

  async put(raw: PutInput, condition?: PutCondition): Promise<StoreItem> {
    const input = { ...raw, pk: pkOf(raw.pk), sk: skOf(raw.sk) };
    // The version is not known before the write: count the largest one.
    const bytes = itemBytes({ ...input, version: Number.MAX_SAFE_INTEGER });
    if (bytes > STORE_LIMITS.itemBytes) throw new ItemTooLargeError(input.pk, input.sk, bytes);
    const names: Record<string, string> = { '#d': 'data', '#v': 'version', '#e': 'expiresAt' };
    const values: Record<string, unknown> = { ':d': input.data, ':one': 1 };
    // The version only grows, also when a conditional create takes over an expired item still on
    // disk: whoever read the expired item's version cannot delete or overwrite the new one.
    let update = 'SET #d = :d';
    if (input.expiresAt !== undefined) {
      update += ', #e = :e';
      values[':e'] = input.expiresAt;
    }
    update += ' ADD #v :one';
    if (input.expiresAt === undefined) update += ' REMOVE #e';
    let conditionExpression: string | undefined;
    if (condition && 'ifAbsent' in condition) {
      // An expired item still on disk counts as absent.
      conditionExpression = 'attribute_not_exists(pk) OR (attribute_exists(#e) AND #e <= :now)';
      values[':now'] = this.nowSeconds();
    } else if (condition && 'ifVersion' in condition) {
      // An expired item still on disk counts as absent: no version of it matches (as in the memory store).
      conditionExpression = `#v = :expected AND (${NOT_EXPIRED})`;
      values[':expected'] = condition.ifVersion;
      values[':now'] = this.nowSeconds();
    }
    try {
      const out = await this.call('UpdateItem', () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: marshall({ pk: input.pk, sk: input.sk }),
            UpdateExpression: update,
            ConditionExpression: conditionExpression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true, convertEmptyValues: false }),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      if (!out.Attributes) throw new Error('DynamoDB UpdateItem returned no attributes');
      return fromRecord(out.Attributes);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConditionFailedError(input.pk, input.sk);
      if (isItemSizeError(err)) throw new ItemTooLargeError(input.pk, input.sk);
      throw err;
    }
  }

  async delete(rawPk: string, rawSk: string, condition?: { ifVersion: number }): Promise<boolean> {
    const pk = pkOf(rawPk);
    const sk = skOf(rawSk);
    try {
      const out = await this.call('DeleteItem', () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: marshall({ pk, sk }),
            ...(condition
              ? {
                  // An expired item counts as absent: a conditional delete of it fails, as in the memory store.
                  ConditionExpression: `#v = :expected AND (${NOT_EXPIRED})`,
                  ExpressionAttributeNames: { '#v': 'version', '#e': 'expiresAt' },
                  ExpressionAttributeValues: marshall({
                    ':expected': condition.ifVersion,
                    ':now': this.nowSeconds(),
                  }),
                }
              : {}),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return out.Attributes !== undefined && !isExpired(fromRecord(out.Attributes), this.clock.now());
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConditionFailedError(pk, sk);
      throw err;
    }
  }

  async query(input: QueryInput): Promise<QueryOutput> {
    const names: Record<string, string> = { '#pk': 'pk', '#e': 'expiresAt' };
    const pk = pkOf(input.pk);
    const values: Record<string, unknown> = { ':pk': pk, ':now': this.nowSeconds() };
    let keyCondition = '#pk = :pk';
    if (input.prefix !== undefined && input.prefix !== '') {
      keyCondition += ' AND begins_with(#sk, :prefix)';
      names['#sk'] = 'sk';
      values[':prefix'] = input.prefix;
    }
    const out = await this.call('Query', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: keyCondition,
          FilterExpression: NOT_EXPIRED,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
          ScanIndexForward: !input.descending,
          ConsistentRead: true,
          // One extra item tells whether another page exists without a second round trip.
          Limit: input.limit + 1,
          ...(input.after !== undefined ? { ExclusiveStartKey: marshall({ pk, sk: skOf(input.after) }) } : {}),
        }),
      ),
    );
    const items = (out.Items ?? []).map(fromRecord);
    if (items.length > input.limit) {
      const page = items.slice(0, input.limit);
      return { items: page, lastKey: page[page.length - 1]?.sk as string };
    }
    const lastEvaluated = out.LastEvaluatedKey ? (unmarshall(out.LastEvaluatedKey).sk as string) : undefined;
    return { items, ...(lastEvaluated !== undefined ? { lastKey: lastEvaluated } : {}) };
  }

  /** Creates the table when missing (local and test use; in AWS the CDK stack owns it). */
  async ensureTable(): Promise<void> {
    try {
      await this.call('DescribeTable', () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
      return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await this.call('CreateTable', () =>
      this.client.send(
        new CreateTableCommand({
          TableName: this.table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      ),
    );
    for (let i = 0; i < 100; i++) {
      const d = await this.call('DescribeTable', () =>
        this.client.send(new DescribeTableCommand({ TableName: this.table })),
      );
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      await this.call('UpdateTimeToLive', () =>
        this.client.send(
          new UpdateTimeToLiveCommand({
            TableName: this.table,
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          }),
        ),
      );
    } catch {
      // dynalite has no UpdateTimeToLive; reads filter expired items anyway.
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    await this.onClose?.();
  }
}

function fromRecord(record: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>): StoreItem {
  const raw = unmarshall(record) as {
    pk: string;
    sk: string;
    data?: Record<string, unknown>;
    version?: number;
    expiresAt?: number;
  };
  return {
    pk: raw.pk,
    sk: raw.sk,
    data: raw.data ?? {},
    version: raw.version ?? 0,
    ...(raw.expiresAt !== undefined ? { expiresAt: raw.expiresAt } : {}),
  };
}

/** DynamoDB's refusal of an item over 400 KB (a ValidationException, not retryable). */
function isItemSizeError(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e.name === 'ValidationException' && /item size.*exceeded the maximum allowed size/i.test(e.message ?? '');
}

/** An item not past its TTL (`#e` = expiresAt, `:now` = the clock in epoch seconds). */
const NOT_EXPIRED = 'attribute_not_exists(#e) OR #e > :now';

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function isRetryable(err: unknown): boolean {
  if (err instanceof ConditionalCheckFailedException || err instanceof ResourceNotFoundException) return false;
  const e = err as { name?: string; code?: string; $fault?: string; $retryable?: unknown };
  return (
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    RETRYABLE_NAMES.has(e.name ?? '') ||
    NETWORK_CODES.has(e.code ?? '')
  );
}
