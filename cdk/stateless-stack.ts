import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, type Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ArnPrincipal, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, LogGroup, MetricFilter, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ScheduleExpression, Schedule as ScheduleL2, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { COST_SCHEDULE_INPUT, USAGE_SAMPLE_SCHEDULE_INPUT } from '../functions/lib/cost-event.ts';
import { DRIFT_SCHEDULE_INPUT } from '../functions/lib/drift-event.ts';
import { type FunctionName, HTTP_ROUTES } from '../functions/lib/routes.ts';
import { TOOL_RUN_FAILED_EVENT } from '../shared/mcp/tool-call.ts';
import { BUNDLE, FUNCTION_ENTRIES, type FunctionKey } from './bundling.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { configuredSecrets, functionEnvironments, workflowSetting } from './function-env.ts';
import { planToolFunctions, type ToolFunctionPlan, toolCatalog } from './tool-functions.ts';
import { AWS_ACTION_RESOURCES, type AwsAction, EKS_DESCRIBE } from './tool-permissions.ts';

export interface StatelessStackProps extends StackProps {
  table: ITable;
  settings: DeploySettings;
  /** The repository root (entries, lockfile, shared/workflows). */
  repoRoot: string;
}

/** The placeholder every Task state's Resource uses; CDK substitutes the workflow-step function's ARN. */
export const STEP_FUNCTION_PLACEHOLDER = 'WorkflowStepFunctionArn';

export interface WorkflowSource {
  /** `rollout` for shared/workflows/rollout.asl.json */
  flow: string;
  path: string;
  text: string;
}

/** Every state machine definition in shared/workflows, deployed as it is. */
export function workflowSources(repoRoot: string): WorkflowSource[] {
  const dir = join(repoRoot, 'shared', 'workflows');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.asl.json'))
    .sort()
    .map((f) => ({
      flow: f.replace(/\.asl\.json$/, ''),
      path: join(dir, f),
      text: readFileSync(join(dir, f), 'utf8'),
    }));
}

export { workflowSetting };

const pascal = (s: string) => s.replace(/(^|[^A-Za-z0-9])([a-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

/**
 * The DynamoDB actions DynamoDbStore performs at run time (the table exists: no CreateTable/DescribeTable).
 * The gateway needs all four too: audit (put, read back), API keys (read, touch), tasks (read, list,
 * and a cancel that ends an operation releases its lease).
 */
const STORE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
/** Approvals and the replay guard only read and write single items. */
const SLACK_STORE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/**
 * Everything that can be replaced at will: the HTTP API, the functions, the state machines, the
 * alarms. State lives in the stateful stack's table.
 */
export class StatelessStack extends Stack {
  readonly api: HttpApi;
  readonly functions: Partial<Record<FunctionKey, NodejsFunction>> = {};
  /** The tool functions of the configured functionLayout, by plan id (cdk/tool-functions.ts). */
  readonly toolFunctions: Record<string, NodejsFunction> = {};
  readonly toolFunctionPlans: readonly ToolFunctionPlan[];
  readonly stateMachines: Record<string, StateMachine> = {};
  readonly publicUrl: string;
  private readonly cfg: StatelessStackProps;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, {
      description: 'cloudops-mcp: HTTP API, Lambda functions, Step Functions state machines, alarms',
      ...props,
    });
    this.cfg = props;
    const { table, settings: s, repoRoot } = props;
    const alarms = new Topic(this, 'AlarmTopic', { displayName: 'cloudops-mcp alarms' });
    if (s.alarmEmail) alarms.addSubscription(new EmailSubscription(s.alarmEmail));

    this.api = new HttpApi(this, 'Api', { description: 'cloudops-mcp MCP endpoint', createDefaultStage: true });
    // A ceiling on what a flood of requests can cost; MCP clients send a handful of requests per tool call.
    const stage = this.api.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = { throttlingRateLimit: 50, throttlingBurstLimit: 100 };
    this.publicUrl = s.publicUrl ?? `${this.api.apiEndpoint}/mcp`;
    // The state machine ARNs and the tool function names are filled in below, before the functions
    // that name them are created.
    const machineArns: Record<string, string> = {};
    const toolFunctionNames: Record<string, string> = {};
    this.toolFunctionPlans = planToolFunctions(toolCatalog(), s.functionLayout, configuredSecrets(s));
    const envOf = () =>
      functionEnvironments(
        s,
        {
          table: table.tableName,
          apiEndpoint: this.api.apiEndpoint,
          machineArns,
          toolFunctions: toolFunctionNames,
          toJson: (v) => this.toJsonString(v),
        },
        this.toolFunctionPlans,
      );

    // Workflow steps first: the state machines name this function.
    const workflowStep = this.lambda('workflowStep', 'WorkflowStep', {
      description: 'Runs one step of a cloudops-mcp state machine ({ step, input })',
      memorySize: 1024,
      // Below every Task state's TimeoutSeconds (120), so a slow step fails as a Lambda timeout first.
      timeout: Duration.seconds(100),
      environment: envOf().workflowStep,
      storeActions: STORE_ACTIONS,
    });
    if (s.kubeconfigSecretArn) grantSecret(workflowStep, s.kubeconfigSecretArn);
    grantDiscovery(workflowStep, s);
    // The rollback reconciler: every 5 minutes, one pass over the rollouts whose rollback could not
    // finish (each retried when its own backoff is due), run by the same function as the steps.
    new Rule(this, 'RollbackReconcilerSchedule', {
      description: 'Retries incomplete rollbacks until their targets are restored (step rollbacks.reconcile)',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [
        new LambdaFunction(workflowStep, {
          event: RuleTargetInput.fromObject({ step: 'rollbacks.reconcile', input: {} }),
          retryAttempts: 0,
        }),
      ],
    });

    for (const source of workflowSources(repoRoot)) {
      const unknown = [...source.text.matchAll(/\$\{([^}]+)\}/g)]
        .map((m) => m[1])
        .filter((name) => name !== STEP_FUNCTION_PLACEHOLDER);
      if (unknown.length) throw new Error(`${source.path}: no substitution for \${${unknown.join('}, ${')}}`);
      const name = pascal(source.flow);
      const role = new Role(this, `${name}StateMachineRole`, {
        assumedBy: new ServicePrincipal('states.amazonaws.com'),
        description: `Runs the ${source.flow} state machine`,
      });
      role.addToPolicy(
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [workflowStep.functionArn] }),
      );
      const machine = new StateMachine(this, `${name}StateMachine`, {
        definitionBody: DefinitionBody.fromString(source.text),
        definitionSubstitutions: { [STEP_FUNCTION_PLACEHOLDER]: workflowStep.functionArn },
        stateMachineType: StateMachineType.STANDARD,
        role,
        logs: {
          destination: new LogGroup(this, `${name}StateMachineLogs`, {
            // The prefix AWS recommends for vended logs (keeps the CloudWatch Logs resource policy small).
            logGroupName: `/aws/vendedlogs/states/${this.stackName}-${source.flow}`,
            retention: s.logRetentionDays as RetentionDays,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
          level: LogLevel.ALL,
          // Step inputs/outputs stay out of the logs; the operation record in the table holds them.
          includeExecutionData: false,
        },
      });
      this.stateMachines[source.flow] = machine;
      machineArns[workflowSetting(source.flow)] = machine.stateMachineArn;
      new Alarm(this, `${name}ExecutionsFailedAlarm`, {
        alarmDescription: `cloudops-mcp: a ${source.flow} execution failed or timed out`,
        metric: new MathExpression({
          expression: 'failed + timedOut',
          usingMetrics: { failed: machine.metricFailed(), timedOut: machine.metricTimedOut() },
          period: Duration.minutes(5),
          label: `${source.flow} executions failed or timed out`,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alarms));
      new CfnOutput(this, `${name}StateMachineArn`, { value: machine.stateMachineArn });
    }

    // The gateway's role first: each tool function's resource policy names it, and the gateway's
    // environment names the tool functions.
    const gatewayRole = this.functionRole('mcp', 'Mcp');
    const rollout = this.stateMachines.rollout;
    for (const plan of this.toolFunctionPlans) {
      const fn = this.lambda(plan.id, plan.id, {
        entry: plan.entry,
        description: `cloudops-mcp tool function: ${plan.label}`.slice(0, 256),
        memorySize: plan.memoryMb,
        timeout: Duration.seconds(plan.timeoutSeconds),
        environment: envOf().tools[plan.id] ?? {},
        storeActions: plan.table,
        copyPolicy: true,
      });
      if (plan.secrets.write && s.kubeconfigSecretArn) grantSecret(fn, s.kubeconfigSecretArn);
      if (plan.secrets.read && s.kubeconfigReadSecretArn) grantSecret(fn, s.kubeconfigReadSecretArn);
      if (plan.slack && s.slackAlertsSecretArn) grantSecret(fn, s.slackAlertsSecretArn);
      if (plan.reachesClusters) grantDiscovery(fn, s);
      grantAws(fn, s, plan.awsActions);
      if (plan.readsCost && s.costAws) {
        // Cost Explorer has no resource-level permissions (docs/aws.md, IAM).
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['ce:GetCostAndUsage', 'ce:GetCostForecast'], resources: ['*'] }),
        );
      }
      if (plan.startsRollout) {
        if (!rollout) throw new Error('a tool starts rollouts, but shared/workflows has no rollout.asl.json');
        // Only StartExecution: promote, abort and cancel write requests the flow's own steps act on,
        // and StopExecution would halt a rollout without its rollback.
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ['states:StartExecution'], resources: [rollout.stateMachineArn] }),
        );
      }
      // Invoked by the gateway only: no API Gateway route, no function URL, no other principal.
      fn.addPermission('InvokedByGateway', {
        principal: new ArnPrincipal(gatewayRole.roleArn),
        action: 'lambda:InvokeFunction',
      });
      this.toolFunctions[plan.id] = fn;
      for (const t of plan.tools) toolFunctionNames[t.name] = fn.functionName;
    }

    // The gateway: MCP, auth, audit, tasks. No secret, no cluster, no state machine: it only invokes
    // the tool functions (their unqualified ARNs) and keeps its table records.
    const mcp = this.lambda('mcp', 'Mcp', {
      description: 'cloudops-mcp MCP endpoint (API Gateway HTTP API, payload 2.0): the gateway to the tool functions',
      memorySize: 1024,
      // API Gateway HTTP APIs give up after 30 s.
      timeout: Duration.seconds(29),
      environment: envOf().mcp,
      storeActions: STORE_ACTIONS,
      role: gatewayRole,
      // It judges no write: the tool functions and workflow steps carry the policy.
      copyPolicy: false,
    });
    const toolArns = Object.values(this.toolFunctions).map((fn) => fn.functionArn);
    if (toolArns.length) {
      mcp.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: toolArns }));
    }

    const handlers: Partial<Record<FunctionName, NodejsFunction>> = { mcp };
    const slackEnv = envOf().slackActions;
    if (s.slackSigningSecretArn && slackEnv) {
      const slack = this.lambda('slackActions', 'SlackActions', {
        description: 'cloudops-mcp Slack interactivity: approval buttons',
        memorySize: 256,
        // Slack expects an answer within 3 s.
        timeout: Duration.seconds(10),
        environment: slackEnv,
        storeActions: SLACK_STORE_ACTIONS,
      });
      grantSecret(slack, s.slackSigningSecretArn);
      handlers.slackActions = slack;
      new CfnOutput(this, 'SlackActionsUrl', { value: `${this.api.apiEndpoint}/slack/actions` });
    }

    const driftCheck = this.driftCheck(envOf().driftCheck);
    const costCheck = this.costCheck(envOf().costCheck);
    const usageSample = this.usageSample(envOf().usageSample);

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of HTTP_ROUTES) {
      const fn = handlers[route.fn];
      if (!fn) continue;
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(route.fn)}Integration`, fn);
        integrations.set(route.fn, integration);
      }
      this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
    }

    // The HTTP functions (mcp, slack-actions) never fail an invocation: @middy/http-error-handler
    // answers every error with a 500, so their Lambda `Errors` stay at 0. What signals their failure is
    // the API's 5xx count (a 500 from a function, or API Gateway's own 502/503/504 when an invocation
    // crashes, times out or is throttled). The workflow-step function throws, so its `Errors` count.
    const alarm = (id: string, description: string, metric: Metric) =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alarms));
    alarm(
      'Api5xxAlarm',
      'cloudops-mcp: the HTTP API answered 5xx (the mcp or slack-actions function failed; see their log groups)',
      this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    if (driftCheck) {
      alarm(
        'DriftCheckErrorsAlarm',
        'cloudops-mcp: a scheduled drift check failed (see the DriftCheck log group); drift found is not a failure',
        driftCheck.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      );
    }
    if (costCheck) {
      alarm(
        'CostCheckErrorsAlarm',
        'cloudops-mcp: a scheduled cost check failed (see the CostCheck log group); a budget crossed is not a failure',
        costCheck.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      );
    }
    if (usageSample) {
      alarm(
        'UsageSampleErrorsAlarm',
        'cloudops-mcp: a usage sample reached no cluster (see the UsageSample log group); a cluster without metrics is not a failure',
        usageSample.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      );
    }
    // Tool functions answer their own failures as payloads, and the gateway sees every failure kind
    // (a crash, a timeout, throttling, a function it cannot invoke): it logs each as one event, which
    // this filter counts. One metric for all tool functions: an alarm may combine at most 10 metrics.
    const toolRunFailures = new MetricFilter(this, 'ToolRunFailures', {
      logGroup: mcp.logGroup,
      filterPattern: FilterPattern.stringValue('$.event', '=', TOOL_RUN_FAILED_EVENT),
      metricNamespace: 'cloudops-mcp',
      metricName: 'ToolRunFailures',
      metricValue: '1',
    });
    alarm(
      'ToolRunFailuresAlarm',
      'cloudops-mcp: a tool function failed, timed out, was throttled or could not be invoked (see the Mcp log group, event tool_run_failed)',
      toolRunFailures.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    alarm(
      'WorkflowStepErrorsAlarm',
      'cloudops-mcp: the workflow-step function failed (see its log group)',
      workflowStep.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    );

    new CfnOutput(this, 'McpUrl', { value: this.publicUrl, description: 'The MCP endpoint URL to give clients' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topicArn });
  }

  /**
   * The scheduled drift check (driftCheckSchedule): its own function and role (the table, the read-only
   * kubeconfig when there is one, the Slack alerts secret), and an EventBridge Scheduler schedule whose
   * own role may invoke that function and nothing else. The event carries the schedule's identity and
   * scheduled time (functions/drift-check.ts reads them).
   */
  private driftCheck(environment: Record<string, string> | undefined): NodejsFunction | undefined {
    const s = this.cfg.settings;
    if (!s.driftCheckSchedule || !environment) return undefined;
    const fn = this.lambda('driftCheck', 'DriftCheck', {
      description: 'cloudops-mcp scheduled drift check: compares baselined objects, records findings, sends alerts',
      memorySize: 1024,
      // One list per kind and namespace set, then alert delivery within its own budget.
      timeout: Duration.minutes(5),
      environment,
      storeActions: STORE_ACTIONS,
      copyPolicy: true,
    });
    grantClustersToRead(fn, s);
    // Cloud baselines: the check describes each baselined EKS cluster again.
    grantAws(fn, s, EKS_DESCRIBE);
    if (s.slackAlertsSecretArn) grantSecret(fn, s.slackAlertsSecretArn);
    this.schedule(fn, 'DriftCheck', 'drift check', s.driftCheckSchedule, DRIFT_SCHEDULE_INPUT);
    return fn;
  }

  /**
   * The scheduled cost check (costCheckSchedule): its own function and role (the table; Cost Explorer
   * with costAws; the read-only kubeconfig and EKS discovery, to list the clusters whose stored usage
   * samples price namespace budgets; the Slack alerts secret) and its schedule.
   */
  private costCheck(environment: Record<string, string> | undefined): NodejsFunction | undefined {
    const s = this.cfg.settings;
    if (!s.costCheckSchedule || !environment) return undefined;
    const fn = this.lambda('costCheck', 'CostCheck', {
      description: 'cloudops-mcp scheduled cost check: spend, budgets and anomalies, sends alerts',
      memorySize: 1024,
      // Cost Explorer answers (each method bounded at 15 s), usage summaries, then alert delivery.
      timeout: Duration.minutes(5),
      environment,
      storeActions: STORE_ACTIONS,
      copyPolicy: true,
    });
    if (s.costAws) {
      // Cost Explorer has no resource-level permissions (docs/aws.md, IAM).
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['ce:GetCostAndUsage', 'ce:GetCostForecast'], resources: ['*'] }),
      );
    }
    grantClustersToRead(fn, s);
    if (s.slackAlertsSecretArn) grantSecret(fn, s.slackAlertsSecretArn);
    this.schedule(fn, 'CostCheck', 'cost check', s.costCheckSchedule, COST_SCHEDULE_INPUT);
    return fn;
  }

  /**
   * The scheduled usage sampler (usageSampleSchedule): its own function and role (the table, the
   * read-only kubeconfig, EKS discovery when configured; no Slack, no Cost Explorer) and its schedule.
   */
  private usageSample(environment: Record<string, string> | undefined): NodejsFunction | undefined {
    const s = this.cfg.settings;
    if (!s.usageSampleSchedule || !environment) return undefined;
    const fn = this.lambda('usageSample', 'UsageSample', {
      description:
        'cloudops-mcp scheduled usage sample: metrics.k8s.io readings of every cluster, for cost per workload',
      memorySize: 1024,
      // A few paged lists per cluster, four clusters at a time; no cluster is started in the last 20 s.
      timeout: Duration.minutes(2),
      environment,
      storeActions: STORE_ACTIONS,
      copyPolicy: true,
    });
    grantClustersToRead(fn, s);
    this.schedule(fn, 'UsageSample', 'usage sample', s.usageSampleSchedule, USAGE_SAMPLE_SCHEDULE_INPUT);
    return fn;
  }

  /**
   * An EventBridge Scheduler schedule (UTC) invoking `fn` with `input`, through its own role: trusted
   * by Scheduler of this account only, allowed to invoke that function and nothing else; and the
   * `<id>ScheduleExpression` output.
   */
  private schedule(fn: NodejsFunction, id: string, what: string, expression: string, input: object): void {
    const invokeRole = new Role(this, `${id}ScheduleRole`, {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `EventBridge Scheduler: invokes the ${what.replace(/ /g, '-')} function`,
    });
    new ScheduleL2(this, `${id}Schedule`, {
      description: `cloudops-mcp: runs the ${what}`,
      schedule: ScheduleExpression.expression(expression, TimeZone.ETC_UTC),
      target: new LambdaInvoke(fn, {
        role: invokeRole,
        input: ScheduleTargetInput.fromObject(input),
        // A missed run is not retried: the next one does the same work, and queued alerts are
        // retried by every run (the outbox), so a retry would only overlap the next run.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
    });
    new CfnOutput(this, `${id}ScheduleExpression`, { value: expression });
  }

  /** A function's own role: assumed by Lambda only, no managed policies (grants are added per function). */
  private functionRole(key: string, id: string): Role {
    return new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `cloudops-mcp ${key} function`.slice(0, 1000),
    });
  }

  /** One function: its own role (no managed policies), its own log group, the shared bundling. */
  private lambda(
    key: string,
    id: string,
    o: {
      description: string;
      memorySize: number;
      timeout: Duration;
      environment: Record<string, string>;
      storeActions: readonly string[];
      /** Default FUNCTION_ENTRIES[key]. */
      entry?: string;
      /** Default: a new one (functionRole). */
      role?: Role;
      /** Ship the policy file in the bundle (functions that judge writes). */
      copyPolicy?: boolean;
    },
  ): NodejsFunction {
    const settings = this.cfg.settings;
    const role = o.role ?? this.functionRole(key, id);
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: settings.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(role);
    if (o.storeActions.length) {
      role.addToPolicy(new PolicyStatement({ actions: [...o.storeActions], resources: [this.cfg.table.tableArn] }));
    }
    const entry = o.entry ?? FUNCTION_ENTRIES[key as FunctionKey];
    if (!entry) throw new Error(`no bundle entry for function ${key}`);
    const fn = new NodejsFunction(this, id, {
      entry: join(this.cfg.repoRoot, entry),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: o.memorySize,
      timeout: o.timeout,
      description: o.description,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: o.environment,
      projectRoot: this.cfg.repoRoot,
      depsLockFilePath: join(this.cfg.repoRoot, 'package-lock.json'),
      // Same entry, same options: CDK bundles once and every function of a toolset shares the asset.
      bundling: this.bundling(o.copyPolicy ?? key === 'workflowStep'),
    });
    if (key in FUNCTION_ENTRIES) this.functions[key as FunctionKey] = fn;
    return fn;
  }

  private bundling(copyPolicy: boolean): BundlingOptions {
    const policy = this.cfg.settings.policyFile;
    return {
      format: OutputFormat.ESM,
      target: BUNDLE.target,
      minify: BUNDLE.minify,
      sourceMap: BUNDLE.sourceMap,
      mainFields: [...BUNDLE.mainFields],
      externalModules: [...BUNDLE.externalModules],
      banner: BUNDLE.banner,
      // esbuild runs in the project root (projectRoot), so the alias paths resolve from there.
      esbuildArgs: { '--alias': Object.entries(BUNDLE.alias).map(([from, to]) => `${from}=${to}`) },
      ...(policy && copyPolicy
        ? {
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (_input: string, output: string) => [`cp "${policy}" "${output}/policy.yaml"`],
            },
          }
        : {}),
    };
  }
}

/**
 * What a scheduled check reads clusters with: the read-only kubeconfig (the write one when there is
 * none) and EKS discovery.
 */
function grantClustersToRead(fn: NodejsFunction, s: DeploySettings): void {
  const kubeconfig = s.kubeconfigReadSecretArn ?? s.kubeconfigSecretArn;
  if (kubeconfig) grantSecret(fn, kubeconfig);
  grantDiscovery(fn, s);
}

/**
 * EKS discovery (awsAccounts, awsRegions) for a function that reaches clusters: list and describe
 * clusters (ListClusters has no resource-level permission; DescribeCluster is limited to clusters),
 * and assume exactly the configured roles. The token is a presigned GetCallerIdentity: no permission.
 */
function grantDiscovery(fn: NodejsFunction, s: DeploySettings): void {
  if (!s.awsAccounts && !s.awsRegions) return;
  fn.addToRolePolicy(new PolicyStatement({ actions: ['eks:ListClusters'], resources: ['*'] }));
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [`arn:${Aws.PARTITION}:eks:*:*:cluster/*`] }),
  );
  const roles = (s.awsAccounts ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.length) fn.addToRolePolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: roles }));
}

/**
 * A function's AWS API actions (its tools' rows), when the deployment reaches AWS (awsAccounts or
 * awsRegions): in its own account (no awsAccounts) the role holds the actions themselves, each on
 * the resources AWS_ACTION_RESOURCES names; with awsAccounts it holds only sts:AssumeRole on exactly
 * those roles (grantDiscovery's grant, repeated here for a function that reaches no cluster), and
 * the roles decide what is allowed in their accounts.
 */
function grantAws(fn: NodejsFunction, s: DeploySettings, actions: readonly AwsAction[]): void {
  if (actions.length === 0 || (!s.awsAccounts && !s.awsRegions)) return;
  const roles = (s.awsAccounts ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.length) {
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: roles }));
    return;
  }
  const byResource = new Map<string, AwsAction[]>();
  for (const a of actions) {
    const resource = AWS_ACTION_RESOURCES[a]
      .replace('arn:aws:', `arn:${Aws.PARTITION}:`)
      .replace('{account}', Aws.ACCOUNT_ID);
    byResource.set(resource, [...(byResource.get(resource) ?? []), a]);
  }
  for (const [resource, granted] of byResource) {
    fn.addToRolePolicy(new PolicyStatement({ actions: granted, resources: [resource] }));
  }
}

function grantSecret(fn: NodejsFunction, arn: string): void {
  fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
}
