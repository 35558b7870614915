import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * API Gateway HTTP API (payload format 2.0) <-> web `Request`/`Response`. Pure translation: the
 * shared handlers only ever see standard web objects.
 *
 * Payload 2.0 facts this relies on (AWS "Working with AWS Lambda proxy integrations for HTTP APIs"):
 * header names arrive lower-cased with repeated headers joined by commas; request cookies arrive
 * in `cookies` (not in `headers`); `rawPath`/`rawQueryString` are what the client sent (with the
 * `$default` stage there is no stage prefix); non-text bodies arrive base64-encoded with
 * `isBase64Encoded: true`. In the result, `cookies` carries Set-Cookie values and `headers` one
 * string per name.
 */
export function requestFromEvent(event: APIGatewayProxyEventV2): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
  const host = headers.get('host') ?? event.requestContext.domainName;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const url = `https://${host}${event.rawPath}${query}`;
  const method = event.requestContext.http.method.toUpperCase();
  const hasBody = event.body !== undefined && event.body !== null && method !== 'GET' && method !== 'HEAD';
  const body = hasBody
    ? event.isBase64Encoded
      ? Buffer.from(event.body as string, 'base64')
      : Buffer.from(event.body as string, 'utf8')
    : undefined;
  return new Request(url, { method, headers, ...(body ? { body } : {}) });
}

const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|javascript|x-www-form-urlencoded))/i;

/** A web Response as the structured result API Gateway expects; binary bodies go base64. */
export async function resultFromResponse(res: Response): Promise<APIGatewayProxyStructuredResultV2> {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = res.headers.getSetCookie();
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = TEXT_TYPES.test(res.headers.get('content-type') ?? 'text/plain');
  return {
    statusCode: res.status,
    headers,
    ...(cookies.length ? { cookies } : {}),
    body: text ? bytes.toString('utf8') : bytes.toString('base64'),
    isBase64Encoded: !text && bytes.length > 0,
  };
}
