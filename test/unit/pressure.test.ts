import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../shared/mcp/pressure.ts';
import { KubeApiError } from '../../shared/ports/kube.ts';
import { ConditionFailedError, ItemTooLargeError, StoreUnavailableError } from '../../shared/ports/store.ts';

const meta = { httpStatusCode: 400, requestId: 'r', attempts: 1, totalRetryDelay: 0 };
const kube = (status: number, reason = 'X') =>
  new KubeApiError({ cluster: 'c', call: 'GET /api/v1/pods', status, reason, message: 'm' });
const sysErr = (code: string) => Object.assign(new Error(code), { code });

describe('transient pressure: what answers 503 with Retry-After', () => {
  const transient: Array<[string, unknown]> = [
    ['StoreUnavailableError', new StoreUnavailableError('DynamoDB GetItem on t: ThrottlingException')],
    [
      'ProvisionedThroughputExceededException',
      new ProvisionedThroughputExceededException({ message: 'm', $metadata: meta }),
    ],
    ['ThrottlingException', new ThrottlingException({ message: 'm', $metadata: meta })],
    ['RequestLimitExceeded', new RequestLimitExceeded({ message: 'm', $metadata: meta })],
    ['an SDK error marked $retryable', Object.assign(new Error('x'), { name: 'Whatever', $retryable: {} })],
    ['an SDK 503', Object.assign(new Error('x'), { name: 'Whatever', $metadata: { httpStatusCode: 503 } })],
    ['Kubernetes 429', kube(429, 'TooManyRequests')],
    ['Kubernetes 503', kube(503, 'ServiceUnavailable')],
    ['Kubernetes 504', kube(504, 'Timeout')],
    ['Kubernetes unreachable (status 0)', kube(0, 'Unreachable')],
    ['ECONNRESET', sysErr('ECONNRESET')],
    ['ETIMEDOUT', sysErr('ETIMEDOUT')],
    ['undici socket error', sysErr('UND_ERR_SOCKET')],
    ['a TimeoutError (AbortSignal.timeout)', new DOMException('The operation timed out.', 'TimeoutError')],
    ['an HTTP client error with status 429', Object.assign(new Error('too many'), { status: 429 })],
    [
      'throttling as the cause of a wrapper',
      new Error('tool failed', { cause: new ThrottlingException({ message: 'm', $metadata: meta }) }),
    ],
    [
      'a reset three causes deep',
      new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: sysErr('ECONNRESET') }) }) }),
    ],
  ];
  const faults: Array<[string, unknown]> = [
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError('x is undefined')],
    ['ConditionFailedError', new ConditionFailedError('p', 's')],
    ['ItemTooLargeError', new ItemTooLargeError('p', 's', 500_000)],
    ['ConditionalCheckFailedException', new ConditionalCheckFailedException({ message: 'm', $metadata: meta })],
    ['ResourceNotFoundException (no table)', new ResourceNotFoundException({ message: 'm', $metadata: meta })],
    ['Kubernetes 404', kube(404, 'NotFound')],
    ['Kubernetes 403', kube(403, 'Forbidden')],
    ['Kubernetes 500', kube(500, 'InternalError')],
    ['a string', 'ECONNRESET'],
    ['undefined', undefined],
    [
      'a cause cycle',
      (() => {
        const a = new Error('a');
        const b = new Error('b', { cause: a });
        (a as { cause?: unknown }).cause = b;
        return a;
      })(),
    ],
  ];
  for (const [what, err] of transient) it(`${what} is transient`, () => expect(isTransient(err)).toBe(true));
  for (const [what, err] of faults) it(`${what} is not`, () => expect(isTransient(err)).toBe(false));
});
