import { loadCloudConfig, REQUIRED_SETTINGS, type RequiredSetting } from '../functions/lib/host.ts';
import { ConfigError } from '../shared/config/config.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { planToolFunctions, type ToolFunctionPlan, type ToolInfo, toolCatalog } from './tool-functions.ts';

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
  /** Tool name -> the name of the Lambda function that runs it (the gateway's TOOL_FUNCTIONS). */
  toolFunctions: Record<string, string>;
  /** Serializes TOOL_FUNCTIONS (the stack passes Stack.toJsonString, which keeps tokens intact). */
  toJson?: (value: unknown) => string;
}

/** Lambda's limit on one function's environment: keys and values together. */
export const LAMBDA_ENV_BYTES = 4096;

/** Bytes Lambda counts for an environment. */
export const envBytes = (env: Record<string, string>) =>
  Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

type FunctionKind = keyof typeof REQUIRED_SETTINGS;
const requiredFor = (fn: FunctionKind): readonly RequiredSetting[] => REQUIRED_SETTINGS[fn];

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

export interface FunctionEnvironments {
  workflowStep: Record<string, string>;
  /** The gateway: MCP, auth, audit, tasks; invokes the tool functions and holds no cluster credential. */
  mcp: Record<string, string>;
  slackActions?: Record<string, string>;
  /** The scheduled drift check (when driftCheckSchedule is set): the read-only kubeconfig when there is one. */
  driftCheck?: Record<string, string>;
  /**
   * The scheduled cost check (when costCheckSchedule is set): Cost Explorer (costAws), the read-only
   * kubeconfig (the clusters whose stored usage samples price namespace budgets), the Slack alerts secret.
   */
  costCheck?: Record<string, string>;
  /** The scheduled usage sampler (when usageSampleSchedule is set): the read-only kubeconfig, the table. */
  usageSample?: Record<string, string>;
  /** By tool function construct id (ToolFunctionPlan.id). */
  tools: Record<string, Record<string, string>>;
}

export function functionEnvironments(
  s: DeploySettings,
  refs: EnvRefs,
  plans: readonly ToolFunctionPlan[] = planToolFunctions(toolCatalog(), s.functionLayout, configuredSecrets(s)),
): FunctionEnvironments {
  const base: Record<string, string> = { DYNAMODB_TABLE: refs.table, LOG_LEVEL: s.logLevel };
  const cluster: Record<string, string> = {
    ...(s.k8sContexts ? { K8S_CONTEXTS: s.k8sContexts } : {}),
    ...(s.awsAccounts ? { AWS_ACCOUNTS: s.awsAccounts } : {}),
    ...(s.awsRegions ? { AWS_REGIONS: s.awsRegions } : {}),
    ...(s.k8sImpersonate ? { K8S_IMPERSONATE: 'true' } : {}),
    ...(s.policyFile ? { POLICY_FILE: BUNDLED_POLICY_FILE } : {}),
  };
  const toJson = refs.toJson ?? JSON.stringify;
  const slackAlerts: Record<string, string> = {
    ...(s.slackAlertsSecretArn ? { SLACK_ALERTS_SECRET: s.slackAlertsSecretArn } : {}),
    ...(s.slackChannel ? { SLACK_CHANNEL: s.slackChannel } : {}),
  };
  const oauth: Record<string, string> = {
    ...(s.oauthIssuer ? { OAUTH_ISSUER: s.oauthIssuer } : {}),
    ...(s.oauthJwksUrl ? { OAUTH_JWKS_URL: s.oauthJwksUrl } : {}),
    ...(s.oauthAudience ? { OAUTH_AUDIENCE: s.oauthAudience } : {}),
  };
  const costSettings: Record<string, string> = {
    ...(s.costAws ? { COST_AWS: 'true' } : {}),
    ...(s.costTagKey ? { COST_TAG_KEY: s.costTagKey } : {}),
    ...(s.costInstancePrices ? { COST_INSTANCE_PRICES: s.costInstancePrices } : {}),
  };
  const driftKubeconfig = s.kubeconfigReadSecretArn ?? s.kubeconfigSecretArn;
  // The gateway names a state machine only while its own config loader insists on one.
  const gatewayMachines = requiredFor('mcp').includes('ROLLOUT_WORKFLOW') ? refs.machineArns : {};
  return {
    workflowStep: {
      ...base,
      ...(s.kubeconfigSecretArn ? { KUBECONFIG_SECRET: s.kubeconfigSecretArn } : {}),
      ...cluster,
      ...(s.prometheusUrl ? { PROMETHEUS_URL: s.prometheusUrl } : {}),
    },
    mcp: {
      ...base,
      ...gatewayMachines,
      PUBLIC_URL: mcpPublicUrls(s, refs.apiEndpoint),
      ...oauth,
      ...(s.allowedOrigins ? { ALLOWED_ORIGINS: s.allowedOrigins } : {}),
      ...(s.toolsets ? { TOOLSETS: s.toolsets } : {}),
      TOOL_FUNCTIONS: toJson(refs.toolFunctions),
    },
    ...(s.slackSigningSecretArn
      ? {
          slackActions: {
            ...base,
            SLACK_SIGNING_SECRET: s.slackSigningSecretArn,
            ...(s.slackApprovers ? { SLACK_APPROVERS: s.slackApprovers } : {}),
          },
        }
      : {}),
    ...(s.driftCheckSchedule
      ? {
          driftCheck: {
            ...base,
            ...(driftKubeconfig ? { KUBECONFIG_SECRET: driftKubeconfig } : {}),
            ...cluster,
            ...slackAlerts,
          },
        }
      : {}),
    ...(s.costCheckSchedule
      ? {
          costCheck: {
            ...base,
            ...(driftKubeconfig ? { KUBECONFIG_SECRET: driftKubeconfig } : {}),
            ...cluster,
            ...slackAlerts,
            ...costSettings,
          },
        }
      : {}),
    ...(s.usageSampleSchedule
      ? {
          usageSample: {
            ...base,
            ...(driftKubeconfig ? { KUBECONFIG_SECRET: driftKubeconfig } : {}),
            ...cluster,
          },
        }
      : {}),
    tools: Object.fromEntries(
      plans.map((p) => [
        p.id,
        {
          ...base,
          TOOL_NAMES: p.tools.map((t) => t.name).join(','),
          ...(p.secrets.write && s.kubeconfigSecretArn ? { KUBECONFIG_SECRET: s.kubeconfigSecretArn } : {}),
          ...(p.secrets.read && s.kubeconfigReadSecretArn
            ? { KUBECONFIG_READ_SECRET: s.kubeconfigReadSecretArn, KUBECONFIG_READ_TOOLS: p.readTools.join(',') }
            : {}),
          ...(p.reachesClusters || p.awsActions.length > 0 ? cluster : {}),
          ...(p.metrics && s.prometheusUrl ? { PROMETHEUS_URL: s.prometheusUrl } : {}),
          ...(p.startsRollout ? refs.machineArns : {}),
          ...(p.slack ? slackAlerts : {}),
          // The cost tools: which spend sources to read, the tag to group by, the prices of nodes.
          ...(p.tools.some((t) => t.toolset === 'cost') ? costSettings : {}),
          // server_info reports how callers sign in: its function reads the gateway's OAuth settings
          // (public URLs, no secret; OAuth needs PUBLIC_URL, the audience) so it says `oauth` where
          // the gateway accepts OAuth.
          ...(p.tools.some((t) => t.name === 'server_info') && s.oauthIssuer
            ? { ...oauth, PUBLIC_URL: mcpPublicUrls(s, refs.apiEndpoint) }
            : {}),
        },
      ]),
    ),
  };
}

/** Which kubeconfig secrets a deployment has. */
export const configuredSecrets = (s: DeploySettings) => ({
  read: Boolean(s.kubeconfigReadSecretArn),
  write: Boolean(s.kubeconfigSecretArn),
});

/** The context key behind each function setting that comes from the context. */
const CONTEXT_KEY_OF: Record<string, string> = {
  PUBLIC_URL: 'publicUrl',
  OAUTH_ISSUER: 'oauthIssuer',
  OAUTH_JWKS_URL: 'oauthJwksUrl',
  OAUTH_AUDIENCE: 'oauthAudience',
  ALLOWED_ORIGINS: 'allowedOrigins',
  KUBECONFIG_SECRET: 'kubeconfigSecretArn',
  KUBECONFIG_READ_SECRET: 'kubeconfigReadSecretArn',
  K8S_CONTEXTS: 'k8sContexts',
  PROMETHEUS_URL: 'prometheusUrl',
  POLICY_FILE: 'policyFile',
  SLACK_SIGNING_SECRET: 'slackSigningSecretArn',
  SLACK_APPROVERS: 'slackApprovers',
  SLACK_ALERTS_SECRET: 'slackAlertsSecretArn',
  SLACK_CHANNEL: 'slackChannel',
  TOOLSETS: 'toolsets',
  AWS_ACCOUNTS: 'awsAccounts',
  AWS_REGIONS: 'awsRegions',
  K8S_IMPERSONATE: 'k8sImpersonate',
  LOG_LEVEL: 'logLevel',
  COST_AWS: 'costAws',
  COST_TAG_KEY: 'costTagKey',
  COST_INSTANCE_PRICES: 'costInstancePrices',
};

/**
 * Runs each function's config loader (loadCloudConfig with its REQUIRED_SETTINGS) on the environment
 * the stack will give it, stand-ins for the references. Returns one line per problem, named by its
 * CDK context key (or by function and variable for a setting the stack itself provides).
 */
export function functionEnvProblems(
  s: DeploySettings,
  flows: readonly string[],
  tools: readonly ToolInfo[] = toolCatalog(),
): string[] {
  const plans = planToolFunctions(tools, s.functionLayout, configuredSecrets(s));
  // The longest name CloudFormation generates for a function (64 characters), so the size check holds.
  const fnName = (id: string) => `CloudopsMcpStateless-${id}`.padEnd(64, 'x').slice(0, 64);
  const envs = functionEnvironments(
    s,
    {
      table: 'cloudops-mcp',
      apiEndpoint: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com',
      machineArns: Object.fromEntries(
        flows.map((flow) => [workflowSetting(flow), `arn:aws:states:us-east-1:123456789012:stateMachine:${flow}`]),
      ),
      toolFunctions: Object.fromEntries(plans.flatMap((p) => p.tools.map((t) => [t.name, fnName(p.id)]))),
    },
    plans,
  );
  const problems = new Set<string>();
  const checks: Array<[string, FunctionKind, Record<string, string> | undefined]> = [
    ['mcp', 'mcp', envs.mcp],
    ['workflowStep', 'workflowStep', envs.workflowStep],
    ['slackActions', 'slackActions', envs.slackActions],
    ['driftCheck', 'driftCheck', envs.driftCheck],
    ['costCheck', 'costCheck', envs.costCheck],
    ['usageSample', 'usageSample', envs.usageSample],
    ...plans.map((p): [string, FunctionKind, Record<string, string>] => [
      `tool function ${p.label}`,
      'toolFunction',
      envs.tools[p.id] ?? {},
    ]),
  ];
  for (const [label, fn, env] of checks) {
    if (!env) continue;
    if (envBytes(env) > LAMBDA_ENV_BYTES) {
      problems.add(
        `${label} function: its environment would take ${envBytes(env)} bytes, over Lambda's ${LAMBDA_ENV_BYTES}` +
          (fn === 'mcp'
            ? ' (TOOL_FUNCTIONS names every tool function: functionLayout perToolset or single names fewer)'
            : fn === 'costCheck' && s.costInstancePrices
              ? ' (costInstancePrices travels in it: list fewer instance types)'
              : ''),
      );
    }
    try {
      loadCloudConfig(env, requiredFor(fn));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.message.split('\n').slice(1)) {
        const m = /^\s*([A-Z][A-Z0-9_]*)(.*)$/.exec(line);
        const key = m?.[1] ? CONTEXT_KEY_OF[m[1]] : undefined;
        problems.add(key ? `${key}${m?.[2]}` : `${label} function: ${line.trim()}`);
      }
    }
  }
  return [...problems];
}
