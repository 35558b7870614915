import { CloudApiError, type CloudErrorCode } from '../../ports/cloud.ts';
import { describeError } from './eks-source.ts';

/*
 * AWS SDK failures in the port's provider-neutral terms (CloudApiError): the code decided from the
 * service's error code (EC2's `InvalidInstanceID.NotFound`, `UnauthorizedOperation`, ...), from the
 * abort that bounded the call, or from the socket; the message the service's own, without ARNs or
 * access keys (describeError) and at most 300 characters.
 */

const MESSAGE_CAP = 300;
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const RULES: Array<[RegExp, CloudErrorCode]> = [
  // Credentials and permissions first: InvalidClientTokenId is no caller's bad argument.
  [
    /^(UnauthorizedOperation|AccessDenied\w*|AuthFailure|InvalidClientTokenId|UnrecognizedClient\w*|SignatureDoesNotMatch|ExpiredToken\w*|IncompleteSignature|MissingAuthenticationToken|OptInRequired)$/,
    'Forbidden',
  ],
  [/(\.NotFound|NotFound|NotFoundException|^NoSuchEntity)$/, 'NotFound'],
  [/^(Throttling\w*|RequestLimitExceeded|TooManyRequests\w*|RequestThrottled\w*|SlowDown)$/, 'Throttled'],
  [/^(IncorrectInstanceState|IncorrectState|Conflict\w*|ResourceInUse\w*)$/, 'Conflict'],
  [/^(Invalid|Validation|MissingParameter|UnknownParameter|Malformed)/, 'InvalidArgument'],
  [/^(ServiceUnavailable\w*|Unavailable|InsufficientInstanceCapacity)$/, 'Unavailable'],
];

/** The port's code for an AWS error code (and HTTP status, when the code says nothing known). */
export function cloudCodeOf(awsCode: string, httpStatus?: number): CloudErrorCode {
  for (const [pattern, code] of RULES) if (pattern.test(awsCode)) return code;
  if (httpStatus === 403) return 'Forbidden';
  if (httpStatus === 429) return 'Throttled';
  if (httpStatus === 503) return 'Unavailable';
  return 'Internal';
}

export interface CallContext {
  /** The API call, named in the message (DescribeInstances). */
  op: string;
  /** The service, for an answer that is not its API at all (EC2, CloudWatch, EKS). */
  service: string;
  /** The signal the call ran under (the caller's and the time bound). */
  signal: AbortSignal;
  /** The caller's own signal: aborted means cancelled, not timed out. */
  caller?: AbortSignal | undefined;
  timeoutMs: number;
}

/** `err` (from the SDK, a socket or an abort) as a CloudApiError. */
export function toCloudApiError(err: unknown, ctx: CallContext): CloudApiError {
  if (err instanceof CloudApiError) return err;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const fail = (code: CloudErrorCode, message: string, providerCode?: string) =>
    new CloudApiError('aws', code, cap(`${ctx.op}: ${message}`), providerCode);

  if (ctx.caller?.aborted) return fail('Timeout', 'cancelled');
  // The SDK's own socket timeouts, and a call shared with a caller whose bound ran out, end the same way.
  if (ctx.signal.aborted || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return fail('Timeout', `timed out after ${ctx.timeoutMs} ms`);
  }
  if (e?.name === 'SyntaxError') {
    // A body that is not the API's (an HTML 404 page): the endpoint does not serve this API.
    return fail(
      'Unavailable',
      `the endpoint answered with something that is not the ${ctx.service} API${status ? ` (HTTP ${status})` : ''}`,
    );
  }
  if (typeof e?.code === 'string' && NETWORK.has(e.code)) return fail('Unavailable', describeError(err));
  // A service error: the SDK names it after the service's error code.
  if (status !== undefined && e?.name) {
    return fail(cloudCodeOf(e.name, status), describeError(err), e.name.slice(0, 100));
  }
  return fail('Internal', describeError(err));
}

function cap(text: string): string {
  return text.length > MESSAGE_CAP ? `${text.slice(0, MESSAGE_CAP - 1)}…` : text;
}
