/**
 * What each tool may touch on AWS, in one place: the stateless stack grants each tool function the
 * union of its tools' rows and nothing else, the infra tests assert every function's policy against
 * the same rows, and docs/aws.md's per-tool table is generated from them (cdk/aws-doc.ts).
 *
 * Read off the code each tool runs (shared/tools -> shared/app): the Store methods map to DynamoDB
 * actions as DynamoDbStore sends them (get = GetItem, put = UpdateItem, delete = DeleteItem, query =
 * Query). The audit record of every call, API keys and MCP tasks are the gateway's, not the tools'.
 */

/** DynamoDB actions on the one table. */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:Query' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem';

/**
 * How long and how big a tool's function is: `store` answers from the table alone; `cluster` reads
 * from an API server (lists, logs: up to the output budget); `change` writes through guarded writes
 * (read, dry run, write, each retried) or plans and starts a rollout.
 */
export type ToolWeight = 'store' | 'cluster' | 'change';

export interface ToolPermissions {
  /**
   * Which kubeconfig the tool runs over: `read` = the read-only credential (kubeconfigReadSecretArn)
   * when configured, else the write one; `write` = the write credential (kubeconfigSecretArn) always,
   * even for a tool of access `read` (delivery_rollouts_plan's dry run). Absent: no kubeconfig.
   */
  kube?: 'read' | 'write';
  /** DynamoDB actions on the table; absent: no table access. */
  table?: readonly TableAction[];
  /** May start executions of the rollout state machine (states:StartExecution, nothing else). */
  startsRollout?: true;
  /** Queries Prometheus (PROMETHEUS_URL; a network address, no IAM). */
  metrics?: true;
  /** Sends alerts to Slack: reads the Slack alerts secret (slackAlertsSecretArn) when one is configured. */
  slack?: true;
  /**
   * AWS API actions in the configured accounts (awsAccounts, awsRegions): granted to the function's
   * own role when it works in its own account (no awsAccounts), each on the resources AWS_ACTION_RESOURCES
   * names; with awsAccounts the function may only assume those roles, which must allow these actions.
   */
  aws?: readonly AwsAction[];
  /** Reads cloud spend: `ce:GetCostAndUsage` and `ce:GetCostForecast` (on `*`) when the deployment has costAws. */
  costExplorer?: true;
  weight: ToolWeight;
  /** Why, in a few words (docs/aws.md shows it). */
  why: string;
}

/** The AWS API actions tools call (shared/adapters/aws/aws-inventory.ts). */
export type AwsAction =
  | 'eks:DescribeCluster'
  | 'eks:ListNodegroups'
  | 'eks:DescribeNodegroup'
  | 'eks:ListAddons'
  | 'eks:DescribeAddon'
  | 'eks:ListInsights'
  | 'ec2:DescribeInstances'
  | 'ec2:StartInstances'
  | 'ec2:StopInstances'
  | 'cloudwatch:GetMetricData';

/**
 * The resources each action is granted on (`*` where the service has no resource-level permission:
 * ec2:DescribeInstances, cloudwatch:GetMetricData, eks:ListInsights' insight ids). `{account}` is the
 * deployment's own account.
 */
export const AWS_ACTION_RESOURCES: Record<AwsAction, string> = {
  'eks:DescribeCluster': 'arn:aws:eks:*:{account}:cluster/*',
  'eks:ListNodegroups': 'arn:aws:eks:*:{account}:cluster/*',
  'eks:DescribeNodegroup': 'arn:aws:eks:*:{account}:nodegroup/*/*/*',
  'eks:ListAddons': 'arn:aws:eks:*:{account}:cluster/*',
  'eks:DescribeAddon': 'arn:aws:eks:*:{account}:addon/*/*/*',
  'eks:ListInsights': 'arn:aws:eks:*:{account}:cluster/*',
  'ec2:DescribeInstances': '*',
  'ec2:StartInstances': 'arn:aws:ec2:*:{account}:instance/*',
  'ec2:StopInstances': 'arn:aws:ec2:*:{account}:instance/*',
  'cloudwatch:GetMetricData': '*',
};

/** What describing an EKS cluster calls: the cluster, its node groups, add-ons and upgrade insights. */
export const EKS_DESCRIBE: readonly AwsAction[] = [
  'eks:DescribeCluster',
  'eks:ListNodegroups',
  'eks:DescribeNodegroup',
  'eks:ListAddons',
  'eks:DescribeAddon',
  'eks:ListInsights',
];

const READ_ONE: readonly TableAction[] = ['dynamodb:GetItem'];
const LIST: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:Query'];
const QUERY: readonly TableAction[] = ['dynamodb:Query'];
const READ_WRITE: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
/** Operations.update: ending an operation (a cancel before approval) also releases its target's lease. */
const ENDS_OPERATION: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

export const TOOL_PERMISSIONS = {
  server_info: { kube: 'read', weight: 'cluster', why: 'lists the kubeconfig contexts' },
  audit_events_list: { table: QUERY, weight: 'store', why: 'queries audit partitions' },
  admin_config_get: { table: QUERY, weight: 'store', why: 'lists API keys (no secret values)' },

  k8s_clusters_list: { kube: 'read', weight: 'cluster', why: 'lists the kubeconfig contexts' },
  k8s_api_resources_list: { kube: 'read', weight: 'cluster', why: 'API discovery' },
  k8s_namespaces_list: { kube: 'read', weight: 'cluster', why: 'lists namespaces' },
  k8s_resources_list: { kube: 'read', weight: 'cluster', why: 'lists objects' },
  k8s_resources_get: { kube: 'read', weight: 'cluster', why: 'reads one object' },
  k8s_pods_logs: { kube: 'read', weight: 'cluster', why: 'reads pod logs' },
  k8s_events_list: { kube: 'read', weight: 'cluster', why: 'lists events' },
  k8s_metrics_top: { kube: 'read', weight: 'cluster', why: 'reads metrics.k8s.io' },
  k8s_rollouts_status: { kube: 'read', weight: 'cluster', why: 'reads a workload and its ReplicaSets' },
  k8s_rollouts_history: { kube: 'read', weight: 'cluster', why: 'reads ReplicaSet revisions' },
  k8s_resources_apply: {
    kube: 'write',
    // Baselines.record: one put per applied object (drift checks compare against it).
    table: ['dynamodb:UpdateItem'],
    weight: 'change',
    why: 'dry run and apply; records each applied object as a baseline',
  },
  k8s_resources_patch: { kube: 'write', weight: 'change', why: 'dry run and patch' },
  k8s_resources_delete: { kube: 'write', weight: 'change', why: 'dry run and delete' },
  k8s_workloads_scale: { kube: 'write', weight: 'change', why: 'dry run and scale' },
  k8s_rollouts_restart: { kube: 'write', weight: 'change', why: 'dry run and restart' },
  k8s_rollouts_undo: { kube: 'write', weight: 'change', why: 'dry run and undo' },

  delivery_rollouts_plan: {
    // A read tool, but its plan is judged on the API server's dry run of the new template (PATCH
    // ?dryRun=All), which RBAC allows only to a credential that may patch Deployments.
    kube: 'write',
    metrics: true,
    weight: 'change',
    why: 'reads the Deployment, dry-runs the new template, checks metric gates',
  },
  delivery_rollouts_start: {
    kube: 'write',
    // The lease (put if absent, read, delete on failure), the operation record and its indexes, the approval request.
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    startsRollout: true,
    metrics: true,
    weight: 'change',
    why: 'plans as delivery_rollouts_plan, takes the lease, records the operation, starts the state machine',
  },
  delivery_rollouts_get: { table: READ_ONE, weight: 'store', why: 'reads the operation record' },
  // Promote and abort only write a request into the operation record; the state machine's own steps
  // notice it at their next poll and act (no StopExecution: stopping would skip the rollback).
  delivery_rollouts_promote: { table: READ_WRITE, weight: 'store', why: 'writes a promote request' },
  delivery_rollouts_abort: {
    table: ENDS_OPERATION,
    weight: 'store',
    why: 'writes an abort request; a rollout still waiting for approval ends at once (approval closed, lease released)',
  },

  ops_operations_list: { table: LIST, weight: 'store', why: 'queries the operation index' },
  ops_operations_get: { table: READ_ONE, weight: 'store', why: 'reads the operation record' },
  ops_operations_cancel: {
    table: ENDS_OPERATION,
    weight: 'store',
    why: 'writes an abort request; a rollout still waiting for approval ends at once (approval closed, lease released)',
  },
  ops_approvals_list: { table: LIST, weight: 'store', why: 'queries the approval index' },
  ops_approvals_decide: { table: READ_WRITE, weight: 'store', why: 'decides the approval (compare-and-set)' },

  // Both only read the cluster (lists): the read-only credential, whatever their role (an operator's).
  drift_checks_run: {
    kube: 'read',
    // Cloud baselines: each baselined EKS cluster is described again.
    aws: EKS_DESCRIBE,
    // Baselines (query), findings (read, replace: put and delete), the alert outbox (conditional puts, claims).
    table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    slack: true,
    weight: 'change',
    why: 'lists the baselined kinds, records findings, queues and sends alerts',
  },
  drift_findings_list: { table: LIST, weight: 'store', why: 'reads the findings and their counts' },
  drift_baselines_adopt: {
    kube: 'read',
    // A cloud baseline records the EKS cluster as described now: the cloud baselines are read first
    // (a cluster's tombstone, the cap on their number).
    aws: EKS_DESCRIBE,
    table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    weight: 'change',
    why: 'lists live objects, or describes a cloud cluster; records each as a baseline',
  },
  alerts_outbox_list: { table: LIST, weight: 'store', why: 'reads alert states and the outbox' },
  alerts_channel_test: { slack: true, weight: 'store', why: 'sends one test message to Slack' },

  aws_cloudwatch_metrics_get: {
    aws: ['cloudwatch:GetMetricData'],
    weight: 'cluster',
    why: 'GetMetricData, summarized',
  },
  aws_ec2_instances_list: { aws: ['ec2:DescribeInstances'], weight: 'cluster', why: 'DescribeInstances, paged' },
  aws_ec2_instances_start: {
    aws: ['ec2:DescribeInstances', 'ec2:StartInstances'],
    // An approval for a protected instance: requested (put if absent), then consumed (read, compare-and-set).
    table: READ_WRITE,
    weight: 'change',
    why: 'reads the instances and their tags, judges them, starts them (EC2 DryRun for previews)',
  },
  aws_ec2_instances_stop: {
    aws: ['ec2:DescribeInstances', 'ec2:StopInstances'],
    table: READ_WRITE,
    weight: 'change',
    why: 'reads the instances and their tags, judges them, stops them (EC2 DryRun for previews)',
  },
  // Cost: spend cached in the table (read, put), usage samples and their hour indexes (read, query).
  cost_reports_get: {
    costExplorer: true,
    table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    weight: 'cluster',
    why: 'spend by service or tag (Cost Explorer, cached in the table), forecast',
  },
  cost_budgets_list: {
    kube: 'read',
    costExplorer: true,
    table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    weight: 'cluster',
    why: 'spend and namespace cost per budget scope, judged against the policy',
  },
  cost_workloads_list: {
    kube: 'read',
    table: ['dynamodb:GetItem', 'dynamodb:Query'],
    weight: 'cluster',
    why: 'allocates the stored usage samples per namespace, workload or label',
  },
  cost_recommendations_list: {
    kube: 'read',
    table: ['dynamodb:GetItem', 'dynamodb:Query'],
    weight: 'cluster',
    why: 'reads the samples, replicas and HPAs; sizes requests',
  },
  aws_eks_clusters_describe: {
    aws: EKS_DESCRIBE,
    weight: 'cluster',
    why: 'the cluster, node groups, add-ons, insights',
  },
} as const satisfies Record<string, ToolPermissions>;

export type ToolName = keyof typeof TOOL_PERMISSIONS;

/** Timeout and memory per weight. Every timeout stays under the gateway's 29 s (API Gateway's 30 s). */
export const WEIGHTS: Record<ToolWeight, { timeoutSeconds: number; memoryMb: number; why: string }> = {
  store: { timeoutSeconds: 10, memoryMb: 512, why: 'a few table round trips' },
  cluster: { timeoutSeconds: 20, memoryMb: 1024, why: 'the Kubernetes client and up to the output budget of objects' },
  change: { timeoutSeconds: 27, memoryMb: 1024, why: 'read, dry run and write, each retried; leaves the gateway 2 s' },
};

export function permissionsOf(tool: string): ToolPermissions {
  const p = (TOOL_PERMISSIONS as Record<string, ToolPermissions>)[tool];
  if (!p) {
    throw new Error(
      `cdk/tool-permissions.ts: no permission row for tool ${tool}; add one (what it reads and writes) before deploying it`,
    );
  }
  return p;
}
