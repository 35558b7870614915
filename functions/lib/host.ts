import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { SecretsManagerSecrets } from '../../shared/adapters/aws/secrets-manager.ts';
import { type Config, ConfigError } from '../../shared/config/config.ts';
import { loadHostConfig, type SettingForm } from '../../shared/host/config.ts';
import type { SecretReader } from '../../shared/ports/secrets.ts';

export type { Env } from '../../shared/host/factories.ts';

import type { Env } from '../../shared/host/factories.ts';

export type { SecretReader };

/** Settings a function cannot run without, beyond what loadConfig already insists on. */
export type RequiredSetting = 'PUBLIC_URL' | 'DYNAMODB_TABLE' | 'ROLLOUT_WORKFLOW' | 'SLACK_SIGNING_SECRET';

/**
 * What each function insists on at its cold start. The CDK app checks the environment it gives each
 * function against the same list (cdk/function-env.ts), so `cdk synth` fails where a cold start would.
 */
export const REQUIRED_SETTINGS = {
  mcp: ['PUBLIC_URL', 'DYNAMODB_TABLE'],
  workflowStep: ['DYNAMODB_TABLE'],
  slackActions: ['DYNAMODB_TABLE', 'SLACK_SIGNING_SECRET'],
  toolFunction: ['DYNAMODB_TABLE'],
  driftCheck: ['DYNAMODB_TABLE'],
  costCheck: ['DYNAMODB_TABLE'],
  usageSample: ['DYNAMODB_TABLE'],
} as const satisfies Record<string, readonly RequiredSetting[]>;

/*
 * What the shared config calls a workflow or a secret is, on AWS, an ARN of the right service. The
 * shared schema accepts any identifier (a GCP host checks projects/.../secrets/... instead).
 */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/;
const AWS_FORMS: SettingForm[] = [
  {
    name: 'ROLLOUT_WORKFLOW',
    value: (c) => c.rolloutWorkflow,
    form: STATE_MACHINE_ARN,
    what: 'a Step Functions state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)',
  },
  {
    name: 'KUBECONFIG_SECRET',
    value: (c) => c.kubeconfigSecret,
    form: SECRET_ARN,
    what: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  },
  {
    name: 'SLACK_SIGNING_SECRET',
    value: (c) => c.slack?.signingSecret,
    form: SECRET_ARN,
    what: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  },
];

/**
 * Config for a Lambda host: the shared schema with AUTH forced to `required` and the store forced
 * to DynamoDB (a function has no loopback and no disk worth keeping). Fails with the name of every
 * missing or bad setting.
 */
export function loadCloudConfig(env: Env, required: readonly RequiredSetting[]): Config {
  return loadHostConfig(env, {
    cloud: 'AWS',
    forced: { AUTH: 'required', STORE: 'dynamodb' },
    required,
    forms: AWS_FORMS,
  });
}

/** The DynamoDB store. DYNAMODB_ENDPOINT (tests) gets fixed credentials so the SDK never looks for real ones. */
export function cloudStore(config: Config): DynamoDbStore {
  if (config.store.kind !== 'dynamodb')
    throw new ConfigError('Invalid configuration:\n  STORE: must be dynamodb on AWS');
  const { endpoint, region, table } = config.store;
  const client = new DynamoDBClient({
    region,
    maxAttempts: 3,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return new DynamoDbStore(client, table);
}

/** The function's secrets: Secrets Manager through `client` (a test passes one pointed at its fake). */
export function secretsManagerReader(client: SecretsManagerClient): SecretReader {
  return new SecretsManagerSecrets(client);
}

const POWERTOOLS_LEVELS: Record<string, 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT'> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'SILENT',
};

/**
 * The host's own logger (Powertools): cold starts, configuration failures, refused requests, each
 * line with the Lambda request id and cold-start flag (injectLambdaContext). The shared core keeps
 * logging through its pino logger with `requestId` = the Lambda request id.
 */
export function hostLogger(env: Env, fn: string): PowertoolsLogger {
  return new PowertoolsLogger({
    serviceName: 'cloudops-mcp',
    logLevel: POWERTOOLS_LEVELS[env.LOG_LEVEL ?? 'info'] ?? 'INFO',
    persistentKeys: { fn },
  });
}

export { perColdStart } from '../../shared/host/cold-start.ts';

/** For middy's http-error-handler: a refused request (4xx) is a warning, a failure of ours (5xx) an error. */
export function logFailure(logger: PowertoolsLogger, err: unknown): void {
  const status = (err as { statusCode?: number }).statusCode;
  if (status !== undefined && status < 500) logger.warn('request refused', { status, reason: (err as Error).message });
  else logger.error('invocation failed', err as Error);
}
