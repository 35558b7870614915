/**
 * The MCP gateway on AWS: API Gateway HTTP API (payload 2.0) -> this function -> the shared MCP
 * gateway. Serves POST /mcp (both protocol eras), GET/DELETE /mcp (405) and the OAuth protected
 * resource metadata at /.well-known/oauth-protected-resource{,/mcp}. It holds no tool and no cluster
 * credential: tools/list comes from the build-time manifest (shared/tools/manifest.json), and each
 * tools/call is a Lambda Invoke of the tool's own function (TOOL_FUNCTIONS: tool name -> function),
 * which checks the caller's role again and runs the tool with only that tool's rights.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LambdaToolRunner, parseToolFunctions } from '../shared/adapters/aws/lambda-tool-runner.ts';
import type { Deps } from '../shared/app/deps.ts';
import { cloudGateway, GATEWAY_INTERNAL_ERROR } from '../shared/host/gateway.ts';
import { createLogger } from '../shared/logging/logger.ts';
import type { ToolManifest } from '../shared/mcp/catalog.ts';
import type { ToolRunner } from '../shared/ports/tool-runner.ts';
import type { WorkflowEngine } from '../shared/ports/workflow.ts';
import manifestJson from '../shared/tools/manifest.json' with { type: 'json' };
import {
  cloudStore,
  type Env,
  hostLogger,
  loadCloudConfig,
  logFailure,
  perColdStart,
  REQUIRED_SETTINGS,
} from './lib/host.ts';
import { requestFromEvent, resultFromResponse } from './lib/http.ts';

export interface McpHandlerOptions {
  env: Env;
  /** Default: none; the gateway starts no workflow (delivery_rollouts_start runs in its own function). */
  workflows?: (deps: Deps) => WorkflowEngine;
  /**
   * Runs the tools. Default: a Lambda Invoke of each tool's function (TOOL_FUNCTIONS); a test may
   * hand in another (the tool functions' handlers called in-process). With neither, a cold start fails.
   */
  runner?: ToolRunner;
  /** The Lambda client the default runner invokes with (a test points one at its stand-in). */
  lambda?: LambdaClient;
  /** Default: the build-time manifest (a test passes a stale one to see the tool function refuse). */
  manifest?: ToolManifest;
}

export function createMcpHandler(opts: McpHandlerOptions) {
  const logger = hostLogger(opts.env, 'mcp');
  const app = perColdStart(async () => {
    const started = performance.now();
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.mcp);
    const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
    const endpoint = await cloudGateway({
      config,
      store: cloudStore(config),
      env: opts.env,
      log: createLogger(config.logLevel),
      manifest: opts.manifest ?? (manifestJson as unknown as ToolManifest),
      parseFunctions: parseToolFunctions,
      runner: (functions, timeoutMs) => {
        if (opts.runner || !functions) return opts.runner;
        // One attempt: a retried Invoke could run a write twice, and the caller's deadline bounds the call.
        const client = opts.lambda ?? new LambdaClient({ region, maxAttempts: 1 });
        return new LambdaToolRunner({ client, functions, timeoutMs });
      },
      runnerRequired: 'TOOL_FUNCTIONS: required on AWS (a JSON object of tool name -> function name or ARN)',
      workflows: opts.workflows,
    });
    logger.info('ready', { initMs: Math.round(performance.now() - started), publicUrl: config.publicUrls[0]?.href });
    return endpoint;
  });

  return middy(async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const endpoint = await app();
    const res = await endpoint.fetch(requestFromEvent(event), { requestId: context.awsRequestId });
    return resultFromResponse(res);
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(
      httpErrorHandler({
        logger: (err: unknown) => logFailure(logger, err),
        fallbackMessage: GATEWAY_INTERNAL_ERROR,
      }),
    );
}

export const handler = createMcpHandler({ env: process.env });
