import type { FunctionLayout } from './tool-functions.ts';

/** What a deployment is configured with: CDK context values (cdk.json or `-c key=value`). */
export interface DeploySettings {
  /**
   * Public MCP URL (`https://<custom domain>/mcp`) when a custom domain fronts the API; default: the
   * API's own URL + /mcp. The API's own URL stays accepted too.
   */
  publicUrl?: string;
  oauthIssuer?: string;
  oauthJwksUrl?: string;
  oauthAudience?: string;
  /** Browser origins (hostnames) allowed besides the public URL's. */
  allowedOrigins?: string;
  /** Complete ARN of a Secrets Manager secret holding a kubeconfig: the write credential (writes, rollouts, workflow steps). */
  kubeconfigSecretArn?: string;
  /**
   * Complete ARN of a secret holding a read-only kubeconfig (RBAC get/list/watch): the read tools use
   * it instead of the write credential, whose secret their functions then may not read.
   */
  kubeconfigReadSecretArn?: string;
  /** The kubeconfig contexts (clusters) the server may use, comma separated; default all. */
  k8sContexts?: string;
  prometheusUrl?: string;
  /** A guardrail policy file (YAML) shipped inside the bundles; validated at synth. */
  policyFile?: string;
  /** Complete ARN of a Secrets Manager secret holding the Slack signing secret; enables POST /slack/actions. */
  slackSigningSecretArn?: string;
  /** JSON: Slack user id -> {subject, name} of an approver. */
  slackApprovers?: string;
  /**
   * When the drift check runs (EventBridge Scheduler, UTC), as EventBridge takes it: `rate(...)` or
   * `cron(...)`; a five-field cron in the context is rewritten to this form. Unset: no drift-check
   * function and no schedule.
   */
  driftCheckSchedule?: string;
  /**
   * Complete ARN of a secret holding where alerts go in Slack: an incoming webhook URL
   * (https://hooks.slack.com/...) or a bot token (xoxb-..., then slackChannel is required).
   */
  slackAlertsSecretArn?: string;
  /** The channel ID (C0123ABCD) a bot token posts alerts to. */
  slackChannel?: string;
  /**
   * The toolsets the gateway lists (TOOLSETS), comma separated; default core, k8s, delivery, ops. Every
   * tool has its function either way; drift and alerts are listed when named here.
   */
  toolsets?: string;
  /**
   * EKS discovery (AWS_ACCOUNTS, AWS_REGIONS): IAM role ARNs to assume, comma separated (none: the
   * stack's own account), and the regions to list. The functions that reach clusters may then call
   * eks:ListClusters/DescribeCluster and assume exactly these roles.
   */
  awsAccounts?: string;
  awsRegions?: string;
  /** K8S_IMPERSONATE: cluster requests impersonate the MCP caller. */
  k8sImpersonate?: boolean;
  /**
   * When the cost check runs (budgets, anomalies, alerts; EventBridge Scheduler, UTC), same syntax as
   * driftCheckSchedule. Unset: no cost-check function and no schedule.
   */
  costCheckSchedule?: string;
  /** When usage samples are taken (metrics.k8s.io, for cost per workload). Unset: no usage-sample function. */
  usageSampleSchedule?: string;
  /** COST_AWS: the cost check reads AWS Cost Explorer (its role gets ce:GetCostAndUsage, ce:GetCostForecast). */
  costAws?: boolean;
  /** COST_TAG_KEY: the cost-allocation tag spend is also grouped by. */
  costTagKey?: string;
  /**
   * COST_INSTANCE_PRICES: JSON of instance type → USD per hour over the embedded list prices, checked at
   * synth (parseInstancePrices). It travels in the cost check's environment, so Lambda's 4 KB bounds it.
   */
  costInstancePrices?: string;
  /** Receives the alarms (an SNS email subscription). */
  alarmEmail?: string;
  logRetentionDays: number;
  logLevel: string;
  /** How tools map to Lambda functions (cdk/tool-functions.ts): perTool (default), perToolset or single. */
  functionLayout: FunctionLayout;
}
