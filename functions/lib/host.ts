import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbStore } from '../../shared/adapters/aws/dynamodb-store.ts';
import { type Config, ConfigError, loadConfig } from '../../shared/config/config.ts';

export type Env = Record<string, string | undefined>;

/** Reads one Secrets Manager secret's string value. */
export type SecretReader = (arn: string) => Promise<string>;

/** Settings a function cannot run without, beyond what loadConfig already insists on. */
export type RequiredSetting =
  | 'PUBLIC_URL'
  | 'DYNAMODB_TABLE'
  | 'ROLLOUT_STATE_MACHINE_ARN'
  | 'SLACK_SIGNING_SECRET_ARN';

/**
 * What each function insists on at its cold start. The CDK app checks the environment it gives each
 * function against the same list (cdk/function-env.ts), so `cdk synth` fails where a cold start would.
 */
export const REQUIRED_SETTINGS = {
  mcp: ['PUBLIC_URL', 'DYNAMODB_TABLE', 'ROLLOUT_STATE_MACHINE_ARN'],
  workflowStep: ['DYNAMODB_TABLE'],
  slackActions: ['DYNAMODB_TABLE', 'SLACK_SIGNING_SECRET_ARN'],
} as const satisfies Record<string, readonly RequiredSetting[]>;

/**
 * Config for a Lambda host: the shared schema with AUTH forced to `required` and the store forced
 * to DynamoDB (a function has no loopback and no disk worth keeping). Fails with the name of every
 * missing or bad setting.
 */
export function loadCloudConfig(env: Env, required: readonly RequiredSetting[]): Config {
  const missing = required.filter((name) => !env[name]?.trim()).map((name) => `${name}: required on AWS`);
  let config: Config;
  try {
    config = loadConfig({ ...env, AUTH: 'required', STORE: 'dynamodb' });
  } catch (err) {
    if (err instanceof ConfigError && missing.length)
      throw new ConfigError(`${err.message}\n  ${missing.join('\n  ')}`);
    throw err;
  }
  if (missing.length) throw new ConfigError(`Invalid configuration:\n  ${missing.join('\n  ')}`);
  return config;
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

export function secretsManagerReader(client: SecretsManagerClient): SecretReader {
  return async (arn) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (out.SecretString !== undefined) return out.SecretString;
    if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
    throw new ConfigError(`Invalid configuration:\n  secret ${arn} has no value`);
  };
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

/**
 * Memoizes an async cold-start build. A failed build is forgotten, so the next invocation tries again
 * (a passing Secrets Manager hiccup does not poison the sandbox).
 */
export function perColdStart<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** For middy's http-error-handler: a refused request (4xx) is a warning, a failure of ours (5xx) an error. */
export function logFailure(logger: PowertoolsLogger, err: unknown): void {
  const status = (err as { statusCode?: number }).statusCode;
  if (status !== undefined && status < 500) logger.warn('request refused', { status, reason: (err as Error).message });
  else logger.error('invocation failed', err as Error);
}
