/**
 * Tool functions as the gateway meets them on AWS, without AWS:
 * - `startLambdaInvokeStandIn`: a loopback HTTP server speaking the Lambda Invoke REST shapes
 *   (POST /2015-03-31/functions/<name>/invocations, RequestResponse), so the real @aws-sdk/client-lambda
 *   and the gateway's LambdaToolRunner talk to it as to Lambda. A function that throws answers 200 with
 *   X-Amz-Function-Error: Unhandled and Lambda's error payload; a throttled one 429
 *   TooManyRequestsException with Retry-After; a slow one simply answers late. As Lambda, it refuses
 *   an unknown function (404 ResourceNotFoundException), a payload over 6 MB (413
 *   RequestTooLargeException) or not JSON (400 InvalidRequestContentException), and turns an answer
 *   over 6 MB into the function error Function.ResponseSizeTooLarge.
 * - `toolFunctionsRunner`: the tool functions' handler called in-process through a JSON round trip
 *   (what Invoke carries), for tests that are about the gateway's other work.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClusters } from '../../functions/lib/clusters.ts';
import {
  createToolFunctionHandler,
  type ToolFunctionHandler,
  type ToolFunctionOptions,
} from '../../functions/lib/tool-function.ts';
import { stepFunctionsWorkflows } from '../../functions/lib/workflows.ts';
import type { ToolInvocation, ToolRunner, ToolRunResult } from '../../shared/ports/tool-runner.ts';
import { allTools } from '../../shared/tools/index.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';

/** A deployed function as the stand-in runs it: its handler gets the parsed payload. */
export type StandInFunction = (payload: unknown, context: { awsRequestId: string }) => Promise<unknown>;

export interface InvokeRecord {
  functionName: string;
  invocationType: string | undefined;
  payload: unknown;
}

export interface LambdaInvokeStandIn {
  endpoint: string;
  /** A Lambda client pointed at the stand-in, with fixed credentials and one attempt (as the gateway's). */
  client: LambdaClient;
  invocations: InvokeRecord[];
  /** Names of functions Lambda throttles from now on (429 TooManyRequestsException). */
  throttled: Set<string>;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Lambda's synchronous invocation limit, request and response alike (6 MB). */
export const INVOKE_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLambdaInvokeStandIn(
  functions: Record<string, StandInFunction>,
  opts: { retryAfterSeconds?: number } = {},
): Promise<LambdaInvokeStandIn> {
  const invocations: InvokeRecord[] = [];
  const throttled = new Set<string>();
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
      res.end(JSON.stringify(value));
    };
    const match = PATH.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const name = match ? decodeURIComponent(match[1] as string) : undefined;
    const fn = name ? functions[name] : undefined;
    const text = await body(req);
    if (req.method !== 'POST' || !name || !fn) {
      json(
        404,
        { Type: 'User', message: `Function not found: ${name ?? req.url}` },
        {
          'x-amzn-errortype': 'ResourceNotFoundException',
        },
      );
      return;
    }
    if (Buffer.byteLength(text) > INVOKE_PAYLOAD_LIMIT_BYTES) {
      json(
        413,
        {
          Type: 'User',
          message: `${Buffer.byteLength(text)} byte payload is too large for the RequestResponse invocation type (limit ${INVOKE_PAYLOAD_LIMIT_BYTES} bytes)`,
        },
        { 'x-amzn-errortype': 'RequestTooLargeException' },
      );
      return;
    }
    const invocationType = req.headers['x-amz-invocation-type'] as string | undefined;
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : {};
    } catch {
      json(
        400,
        { Type: 'User', message: 'Could not parse request body into json' },
        { 'x-amzn-errortype': 'InvalidRequestContentException' },
      );
      return;
    }
    invocations.push({ functionName: name, invocationType, payload });
    if (throttled.has(name)) {
      json(
        429,
        { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' },
        { 'x-amzn-errortype': 'TooManyRequestsException', 'retry-after': String(opts.retryAfterSeconds ?? 2) },
      );
      return;
    }
    try {
      const answer = JSON.stringify((await fn(payload, { awsRequestId: randomUUID() })) ?? null);
      if (Buffer.byteLength(answer) > INVOKE_PAYLOAD_LIMIT_BYTES) {
        json(
          200,
          {
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size exceeded maximum allowed payload size (${INVOKE_PAYLOAD_LIMIT_BYTES} bytes).`,
          },
          { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
        );
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'x-amz-executed-version': '$LATEST',
      });
      res.end(answer);
    } catch (err) {
      const e = err as Error;
      json(
        200,
        { errorType: e.name ?? 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n').slice(0, 5) },
        { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new LambdaClient({
    region: 'eu-west-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint,
    client,
    invocations,
    throttled,
    close: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A tool function handler as the stand-in runs it. */
export function standIn(handler: ToolFunctionHandler): StandInFunction {
  return (payload, context) => handler(payload, context);
}

/**
 * The tool functions called in-process: each invocation crosses a JSON round trip, as it would cross
 * Invoke, into one handler serving `tools` (default: all of them) over `opts`.
 */
export function toolFunctionsRunner(opts: ToolFunctionOptions, tools: readonly AnyTool[] = allTools): ToolRunner {
  const handler = createToolFunctionHandler(tools, {
    // As the single layout's bundle (functions/tool.ts): every tool, so the clusters and Step Functions.
    clusters: lambdaClusters,
    workflows: stepFunctionsWorkflows,
    ...opts,
    env: { TOOL_NAMES: tools.map((t) => t.name).join(','), ...opts.env },
  });
  return {
    async run(inv: ToolInvocation): Promise<ToolRunResult> {
      const answer = await handler(JSON.parse(JSON.stringify(inv)), { awsRequestId: randomUUID() });
      return JSON.parse(JSON.stringify(answer)) as ToolRunResult;
    },
  };
}
