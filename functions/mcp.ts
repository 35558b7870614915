/**
 * The MCP endpoint on AWS: API Gateway HTTP API (payload 2.0) -> this function -> the shared MCP
 * endpoint. Serves POST /mcp (both protocol eras), GET/DELETE /mcp (405) and the OAuth protected
 * resource metadata at /.well-known/oauth-protected-resource{,/mcp}.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { StepFunctionsEngine } from '../shared/adapters/aws/sfn-engine.ts';
import type { Deps } from '../shared/app/deps.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { createMcpEndpoint } from '../shared/mcp/endpoint.ts';
import type { WorkflowEngine } from '../shared/ports/workflow.ts';
import { allTools } from '../shared/tools/index.ts';
import { lambdaDeps } from './lib/deps.ts';
import {
  type Env,
  hostLogger,
  loadCloudConfig,
  logFailure,
  perColdStart,
  REQUIRED_SETTINGS,
  type SecretReader,
  secretsManagerReader,
} from './lib/host.ts';
import { requestFromEvent, resultFromResponse } from './lib/http.ts';

export interface McpHandlerOptions {
  env: Env;
  /** Default: Secrets Manager in the function's region. */
  readSecret?: SecretReader;
  /** Default: Step Functions, with ROLLOUT_WORKFLOW (a state machine ARN) for the rollout flow. */
  workflows?: (deps: Deps) => WorkflowEngine;
}

/** What a caller sees when the function itself fails (bad configuration, an unreachable secret): no details. */
const INTERNAL_ERROR = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32603, message: 'Internal error: the server could not start; its log says why.' },
});

export function createMcpHandler(opts: McpHandlerOptions) {
  const logger = hostLogger(opts.env, 'mcp');
  const app = perColdStart(async () => {
    const started = performance.now();
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.mcp);
    const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
    const deps = await lambdaDeps(config, opts.env, createLogger(config.logLevel), {
      readSecret: opts.readSecret ?? secretsManagerReader(new SecretsManagerClient({ region })),
      workflows:
        opts.workflows ??
        (() => new StepFunctionsEngine(new SFNClient({ region }), { rollout: config.rolloutWorkflow as string })),
    });
    const endpoint = createMcpEndpoint({ deps, tools: allTools, publicUrls: config.publicUrls, loopback: false });
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
        fallbackMessage: INTERNAL_ERROR,
      }),
    );
}

export const handler = createMcpHandler({ env: process.env });
