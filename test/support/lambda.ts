/**
 * Lambda and API Gateway as the handlers meet them: a Lambda context, HTTP API payload 2.0 events
 * built on the shape of the AWS documentation's example (fixtures/apigw-v2-docs-example.json), and a
 * `fetch` that plays the gateway in front of the real handlers, routing with the same table the CDK
 * stack deploys.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type FunctionName, HTTP_ROUTES, routeKey } from '../../functions/lib/routes.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

export function fixture<T = APIGatewayProxyEventV2>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export function lambdaContext(functionName: string): Context {
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Bodies the fake gateway passes as text; anything else arrives base64-encoded. */
const TEXT_BODY = /^(application\/json|text\/)/i;

/** The payload 2.0 event API Gateway would send for this request on this route. */
export async function eventFor(req: Request, route: string): Promise<APIGatewayProxyEventV2> {
  const base = fixture('apigw-v2-docs-example.json');
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    if (name !== 'cookie') headers[name] = value;
  });
  headers.host = url.host;
  headers['x-forwarded-proto'] = 'https';
  headers['x-forwarded-port'] = '443';
  headers['x-forwarded-for'] = '198.51.100.7';
  const bytes = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
  const text = TEXT_BODY.test(req.headers.get('content-type') ?? '');
  const cookies = req.headers.get('cookie')?.split(/;\s*/).filter(Boolean);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] ? `${query[k]},${v}` : v;
  const {
    authorizer: _a,
    authentication: _b,
    ...requestContext
  } = base.requestContext as typeof base.requestContext & {
    authorizer?: unknown;
  };
  const { pathParameters: _p, stageVariables: _s, cookies: _c, queryStringParameters: _q, body: _body, ...rest } = base;
  const [apiId] = url.hostname.split('.');
  return {
    ...rest,
    routeKey: route,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      ...requestContext,
      apiId: apiId as string,
      domainName: url.hostname,
      domainPrefix: apiId as string,
      http: {
        method: req.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.7',
        userAgent: req.headers.get('user-agent') ?? '',
      },
      requestId: randomUUID(),
      routeKey: route,
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(bytes?.length
      ? { body: text ? bytes.toString('utf8') : bytes.toString('base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

/** Turns a handler's structured result back into what the client receives. */
export function responseFromResult(result: APIGatewayProxyStructuredResultV2): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, String(v));
  for (const c of result.cookies ?? []) headers.append('set-cookie', c);
  const body = result.body
    ? result.isBase64Encoded
      ? Buffer.from(result.body, 'base64')
      : Buffer.from(result.body, 'utf8')
    : undefined;
  return new Response(result.statusCode === 204 || result.statusCode === 304 ? null : body, {
    status: result.statusCode ?? 200,
    headers,
  });
}

/**
 * A `fetch` that behaves like the deployed HTTP API: requests whose method and path match a route
 * reach that route's handler as a payload 2.0 event; anything else gets the gateway's own 404.
 */
export function apiGatewayFetch(handlers: Partial<Record<FunctionName, HttpHandler>>) {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const route = HTTP_ROUTES.find((r) => r.method === req.method && r.path === url.pathname);
    const handler = route ? handlers[route.fn] : undefined;
    if (!route || !handler) {
      return new Response(JSON.stringify({ message: 'Not Found' }), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    }
    const result = await handler(await eventFor(req, routeKey(route)), lambdaContext(route.fn));
    return responseFromResult(result);
  };
}
