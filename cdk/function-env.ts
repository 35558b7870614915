import { loadCloudConfig, REQUIRED_SETTINGS } from '../functions/lib/host.ts';
import { ConfigError } from '../shared/config/config.ts';
import type { FunctionKey } from './bundling.ts';
import type { DeploySettings } from './deploy-settings.ts';

/*
 * The environment of every function, built in one place: the stateless stack deploys it (with
 * CloudFormation references), and readSettings runs each function's own config loader on it (with
 * stand-in values for the references) so `cdk synth` fails where a cold start would.
 */

/** What the stack knows only once its resources exist (tokens at synth, stand-ins when checking). */
export interface EnvRefs {
  table: string;
  /** The HTTP API's own URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
  apiEndpoint: string;
  /** `ROLLOUT_WORKFLOW` -> the rollout state machine's ARN, one per flow. */
  machineArns: Record<string, string>;
}

/** `rollout` -> `ROLLOUT_WORKFLOW`, the setting shared/config reads (on AWS, a state machine ARN). */
export const workflowSetting = (flow: string) => `${flow.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}_WORKFLOW`;

/** Where the bundles carry the policy file (copied next to index.mjs). */
export const BUNDLED_POLICY_FILE = '/var/task/policy.yaml';

/**
 * PUBLIC_URL of the mcp function: the custom domain's URL first (the OAuth resource and default token
 * audience), then the API's own URL, so a request whose Host is the execute-api hostname (CloudFront
 * forwarding the origin's Host, a direct call) is not refused as a foreign host.
 */
export const mcpPublicUrls = (s: DeploySettings, apiEndpoint: string): string =>
  s.publicUrl ? `${s.publicUrl},${apiEndpoint}/mcp` : `${apiEndpoint}/mcp`;

export function functionEnvironments(
  s: DeploySettings,
  refs: EnvRefs,
): { workflowStep: Record<string, string>; mcp: Record<string, string>; slackActions?: Record<string, string> } {
  const common: Record<string, string> = {
    DYNAMODB_TABLE: refs.table,
    LOG_LEVEL: s.logLevel,
    ...(s.kubeconfigSecretArn ? { KUBECONFIG_SECRET: s.kubeconfigSecretArn } : {}),
    ...(s.k8sContexts ? { K8S_CONTEXTS: s.k8sContexts } : {}),
    ...(s.prometheusUrl ? { PROMETHEUS_URL: s.prometheusUrl } : {}),
    ...(s.policyFile ? { POLICY_FILE: BUNDLED_POLICY_FILE } : {}),
  };
  return {
    workflowStep: common,
    mcp: {
      ...common,
      ...refs.machineArns,
      PUBLIC_URL: mcpPublicUrls(s, refs.apiEndpoint),
      ...(s.oauthIssuer ? { OAUTH_ISSUER: s.oauthIssuer } : {}),
      ...(s.oauthJwksUrl ? { OAUTH_JWKS_URL: s.oauthJwksUrl } : {}),
      ...(s.oauthAudience ? { OAUTH_AUDIENCE: s.oauthAudience } : {}),
      ...(s.allowedOrigins ? { ALLOWED_ORIGINS: s.allowedOrigins } : {}),
    },
    ...(s.slackSigningSecretArn
      ? {
          slackActions: {
            DYNAMODB_TABLE: refs.table,
            LOG_LEVEL: s.logLevel,
            SLACK_SIGNING_SECRET: s.slackSigningSecretArn,
            ...(s.slackApprovers ? { SLACK_APPROVERS: s.slackApprovers } : {}),
          },
        }
      : {}),
  };
}

/** The context key behind each function setting that comes from the context. */
const CONTEXT_KEY_OF: Record<string, string> = {
  PUBLIC_URL: 'publicUrl',
  OAUTH_ISSUER: 'oauthIssuer',
  OAUTH_JWKS_URL: 'oauthJwksUrl',
  OAUTH_AUDIENCE: 'oauthAudience',
  ALLOWED_ORIGINS: 'allowedOrigins',
  KUBECONFIG_SECRET: 'kubeconfigSecretArn',
  K8S_CONTEXTS: 'k8sContexts',
  PROMETHEUS_URL: 'prometheusUrl',
  POLICY_FILE: 'policyFile',
  SLACK_SIGNING_SECRET: 'slackSigningSecretArn',
  SLACK_APPROVERS: 'slackApprovers',
  LOG_LEVEL: 'logLevel',
};

/**
 * Runs each function's config loader (loadCloudConfig with its REQUIRED_SETTINGS) on the environment
 * the stack will give it, stand-ins for the references. Returns one line per problem, named by its
 * CDK context key (or by function and variable for a setting the stack itself provides).
 */
export function functionEnvProblems(s: DeploySettings, flows: readonly string[]): string[] {
  const envs = functionEnvironments(s, {
    table: 'cloudops-mcp',
    apiEndpoint: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com',
    machineArns: Object.fromEntries(
      flows.map((flow) => [workflowSetting(flow), `arn:aws:states:us-east-1:123456789012:stateMachine:${flow}`]),
    ),
  });
  const problems = new Set<string>();
  for (const [fn, env] of Object.entries(envs) as Array<[FunctionKey, Record<string, string> | undefined]>) {
    if (!env) continue;
    try {
      loadCloudConfig(env, REQUIRED_SETTINGS[fn]);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.message.split('\n').slice(1)) {
        const m = /^\s*([A-Z][A-Z0-9_]*)(.*)$/.exec(line);
        const key = m?.[1] ? CONTEXT_KEY_OF[m[1]] : undefined;
        problems.add(key ? `${key}${m?.[2]}` : `${fn} function: ${line.trim()}`);
      }
    }
  }
  return [...problems];
}
