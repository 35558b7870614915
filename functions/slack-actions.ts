/**
 * Slack interactive callbacks on AWS (POST /slack/actions): API Gateway HTTP API (payload 2.0) -> this
 * function -> the shared Slack approvals channel (shared/channels/slack/actions.ts).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { hostSlackActionsEndpoint, type SlackActionsHandlerOptions } from '../shared/host/slack-actions.ts';
import { createLogger } from '../shared/logging/logger.ts';
import {
  cloudStore,
  hostLogger,
  loadCloudConfig,
  logFailure,
  perColdStart,
  REQUIRED_SETTINGS,
  secretsManagerReader,
} from './lib/host.ts';
import { requestFromEvent, resultFromResponse } from './lib/http.ts';

export type { SlackActionsHandlerOptions };

export function createSlackActionsHandler(opts: SlackActionsHandlerOptions) {
  const logger = hostLogger(opts.env, 'slack-actions');
  const endpoint = perColdStart(async () => {
    const config = loadCloudConfig(opts.env, REQUIRED_SETTINGS.slackActions);
    const region = config.store.kind === 'dynamodb' ? config.store.region : undefined;
    return hostSlackActionsEndpoint({
      config,
      store: cloudStore(config),
      readSecret: opts.readSecret ?? secretsManagerReader(new SecretsManagerClient({ region })),
      log: createLogger(config.logLevel),
      responseUrlAllowed: opts.responseUrlAllowed,
    });
  });

  return middy(
    async (event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyStructuredResultV2> =>
      resultFromResponse(await (await endpoint())(requestFromEvent(event))),
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrorHandler({ logger: (err: unknown) => logFailure(logger, err) }));
}

export const handler = createSlackActionsHandler({ env: process.env });
