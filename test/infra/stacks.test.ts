import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONTEXT, readSettings } from '../../cdk/settings.ts';
import { StatefulStack } from '../../cdk/stateful-stack.ts';
import { StatelessStack, workflowSetting, workflowSources } from '../../cdk/stateless-stack.ts';
import { NOT_ON_AWS } from '../../cdk/tool-functions.ts';
import { taskStates } from '../../shared/adapters/local/local-workflow-engine.ts';
import { TOOL_RUN_FAILED_EVENT } from '../../shared/mcp/tool-call.ts';
import { allTools as everyTool } from '../../shared/tools/index.ts';

/** The tools the AWS deployment serves (the gcp toolset is the GCP deployment's). */
const allTools = everyTool.filter((t) => !NOT_ON_AWS.has(t.group));

import { stepNames } from '../../shared/workflows/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const FULL = {
  publicUrl: 'https://mcp.example.com/mcp',
  oauthIssuer: 'https://auth.example.com/',
  oauthJwksUrl: 'https://auth.example.com/.well-known/jwks.json',
  kubeconfigSecretArn: SECRET('cloudops/kubeconfig'),
  k8sContexts: 'prod,staging',
  slackSigningSecretArn: SECRET('cloudops/slack-signing'),
  slackApprovers: JSON.stringify({ U0123ABCD: { subject: 'auth0|alice', name: 'Alice' } }),
  alarmEmail: 'oncall@example.com',
};

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/**
 * Where AWS requires `*`, and nothing else: Step Functions' log delivery APIs (CloudWatch Logs vended
 * logs) have no resource-level permissions. docs/aws.md lists the same.
 */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

describe('CDK app (all settings): resources and settings', () => {
  let app: App;
  let outdir: string;
  let stateful: StatefulStack;
  let stateless: StatelessStack;
  let db: Template;
  let t: Template;
  let resources: Record<string, Resource>;
  const logicalId = (fn: keyof StatelessStack['functions']) =>
    stateless.getLogicalId(stateless.functions[fn]?.node.defaultChild as CfnFunction);

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
    // Without bundling: the real bundles are built once, by the CLI synth (cdk-cli-synth.test.ts).
    app = new App({ outdir, context: { ...APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const settings = readSettings((k) => (FULL as Record<string, unknown>)[k], ROOT);
    stateful = new StatefulStack(app, 'CloudopsMcpStateful');
    stateless = new StatelessStack(app, 'CloudopsMcpStateless', { table: stateful.table, settings, repoRoot: ROOT });
    db = Template.fromStack(stateful);
    t = Template.fromStack(stateless);
    resources = t.toJSON().Resources as Record<string, Resource>;
  }, 120_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('DynamoDB table: pk/sk, on-demand, TTL on expiresAt, point-in-time recovery, deletion protection, retained', () => {
    db.resourceCountIs('AWS::DynamoDB::Table', 1);
    db.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('HTTP API: exactly the MCP, metadata and Slack routes, each a payload 2.0 Lambda proxy', () => {
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [
        'DELETE /mcp',
        'GET /.well-known/oauth-protected-resource',
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /mcp',
        'POST /mcp',
        'POST /slack/actions',
      ].sort(),
    );
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const integrations = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(2);
    for (const [, i] of integrations) {
      expect(i.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
    const target = (routeKey: string) => {
      const route = routes.find((r) => r.Properties.RouteKey === routeKey) as Resource;
      const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] as string;
      return JSON.stringify(resources[integrationId]?.Properties.IntegrationUri);
    };
    for (const key of ['POST /mcp', 'GET /mcp', 'DELETE /mcp', 'GET /.well-known/oauth-protected-resource/mcp']) {
      expect(target(key)).toContain(logicalId('mcp'));
    }
    expect(target('POST /slack/actions')).toContain(logicalId('slackActions'));
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('functions: Node 22 on arm64, one asset per entry, their own log group with retention', () => {
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    // mcp, workflow-step, slack-actions and one function per tool (functionLayout perTool, the default).
    expect(fns).toHaveLength(3 + allTools.length);
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
    }
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups.length).toBe(3 + allTools.length + workflowSources(ROOT).length);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
    // One asset per entry: the tool functions of a toolset share their toolset's bundle (built and
    // checked by cdk-cli-synth.test.ts; this stack is synthesized without bundling).
    const keys = new Set(fns.map((fn) => JSON.stringify((fn.Properties.Code as { S3Key: unknown }).S3Key)));
    expect(keys.size).toBe(3 + new Set(allTools.map((t) => t.group)).size);
  });

  it('function settings: the gateway knows its public URL, OAuth, table and tool functions, and no kubeconfig', () => {
    const env = (fn: keyof StatelessStack['functions']) =>
      ((resources[logicalId(fn)] as Resource).Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
    const mcp = env('mcp');
    expect(mcp).toMatchObject({
      OAUTH_ISSUER: FULL.oauthIssuer,
      OAUTH_JWKS_URL: FULL.oauthJwksUrl,
      LOG_LEVEL: 'info',
      DYNAMODB_TABLE: { 'Fn::ImportValue': expect.stringContaining('CloudopsMcpStateful') },
    });
    // The custom domain first (the OAuth resource), then the API's own URL: a request whose Host is
    // the execute-api hostname (CloudFront forwarding the origin's Host) is not refused.
    expect(mcp.PUBLIC_URL).toEqual({
      'Fn::Join': [
        '',
        [`${FULL.publicUrl},`, { 'Fn::GetAtt': [expect.stringMatching(/^Api/), 'ApiEndpoint'] }, '/mcp'],
      ],
    });
    // The gateway reaches no cluster and starts no workflow: the tool functions do.
    expect(Object.keys(mcp).filter((k) => /KUBECONFIG|K8S_|PROMETHEUS|POLICY/.test(k))).toEqual([]);
    expect(JSON.stringify(mcp.TOOL_FUNCTIONS)).toContain('"Ref":"ToolK8sResourcesApply');
    expect(mcp.AUTH).toBeUndefined(); // forced to `required` by the function itself
    const start = (
      (resources[stateless.getLogicalId(stateless.toolFunctions.ToolDeliveryRolloutsStart?.node.defaultChild as never)]
        ?.Properties.Environment as { Variables: Record<string, unknown> }) ?? { Variables: {} }
    ).Variables;
    expect(start).toMatchObject({ TOOL_NAMES: 'delivery_rollouts_start', KUBECONFIG_SECRET: FULL.kubeconfigSecretArn });
    for (const { flow } of workflowSources(ROOT)) {
      expect(start[workflowSetting(flow)]).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
    }
    // server_info reports the sign-in methods: its function knows the gateway's OAuth settings.
    const info = (
      (resources[stateless.getLogicalId(stateless.toolFunctions.ToolServerInfo?.node.defaultChild as never)]?.Properties
        .Environment as { Variables: Record<string, unknown> }) ?? { Variables: {} }
    ).Variables;
    expect(info).toMatchObject({ OAUTH_ISSUER: FULL.oauthIssuer, OAUTH_JWKS_URL: FULL.oauthJwksUrl });
    expect(env('workflowStep')).toMatchObject({ KUBECONFIG_SECRET: FULL.kubeconfigSecretArn });
    expect(env('slackActions')).toMatchObject({
      SLACK_SIGNING_SECRET: FULL.slackSigningSecretArn,
      SLACK_APPROVERS: FULL.slackApprovers,
    });
    expect(env('slackActions').KUBECONFIG_SECRET).toBeUndefined();
  });

  it('state machines: one per shared/workflows/*.asl.json, Standard, logging on, definition = the file with the step function ARN', () => {
    const sources = workflowSources(ROOT);
    expect(sources.length).toBeGreaterThanOrEqual(1);
    const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(sources.length);
    const stepArn = 'arn:aws:lambda:eu-west-1:123456789012:function:workflow-step';
    const substitute = (text: string, values: Record<string, string>) =>
      text.replace(/\$\{([A-Za-z0-9]+)\}/g, (m, name: string) => values[name] ?? m);
    for (const source of sources) {
      const machine = stateless.stateMachines[source.flow];
      expect(machine, source.flow).toBeDefined();
      const r = resources[stateless.getLogicalId(machine?.node.defaultChild as never)] as Resource;
      expect(r.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: expect.anything() } }],
        },
      });
      expect(r.Properties.DefinitionSubstitutions).toEqual({
        WorkflowStepFunctionArn: { 'Fn::GetAtt': [logicalId('workflowStep'), 'Arn'] },
      });
      // What Step Functions will run, after CloudFormation substitutes the function's ARN.
      const deployed = JSON.parse(
        substitute(r.Properties.DefinitionString as string, { WorkflowStepFunctionArn: stepArn }),
      );
      const expected = JSON.parse(substitute(source.text, { WorkflowStepFunctionArn: stepArn }));
      expect(deployed).toEqual(expected);
      expect(JSON.stringify(deployed)).not.toContain('${');
      const tasks = taskStates(deployed);
      expect(tasks.length).toBeGreaterThan(0);
      const byName = deployed.States as Record<string, { Resource?: string; TimeoutSeconds?: number }>;
      for (const name of tasks.filter((n) => byName[n])) {
        expect(byName[name]?.Resource, name).toBe(stepArn);
        // The function times out before its Task state does, so a hung step fails as a Lambda error.
        expect(resources[logicalId('workflowStep')]?.Properties.Timeout as number).toBeLessThan(
          byName[name]?.TimeoutSeconds ?? Number.POSITIVE_INFINITY,
        );
      }
    }
  });

  it('IAM: each role holds only the actions it uses, on its own resources; `*` only where AWS requires it', () => {
    const statementsOf = (roleLogicalId: string): Statement[] =>
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const all = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(all.length).toBeGreaterThan(0);
    for (const st of all) {
      expect(st.Effect).toBe('Allow');
      for (const action of asList(st.Action)) expect(action, JSON.stringify(st)).not.toContain('*');
      if (st.Resource === '*' || (Array.isArray(st.Resource) && st.Resource.includes('*'))) {
        expect(asList(st.Action).sort(), 'the only statement AWS requires on *').toEqual(
          [...LOG_DELIVERY_ACTIONS].sort(),
        );
      } else {
        // No ARN patterns either (log groups are named by their ARN attribute, not by a pattern here).
        expect(JSON.stringify(st.Resource), JSON.stringify(st)).not.toContain('*');
      }
    }
    // No role carries a managed policy (AWSLambdaBasicExecutionRole would grant logs:* on *).
    for (const role of Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
    const roleOf = (fn: keyof StatelessStack['functions']) =>
      ((resources[logicalId(fn)] as Resource).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const actions = (roleId: string) =>
      statementsOf(roleId)
        .flatMap((s) => asList(s.Action))
        .sort();
    const store = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    // The gateway: its table records, its logs, and invoking the tool functions; no secret, no Step Functions.
    expect(actions(roleOf('mcp'))).toEqual([...store, ...logs, 'lambda:InvokeFunction'].sort());
    expect(actions(roleOf('workflowStep'))).toEqual([...store, ...logs, 'secretsmanager:GetSecretValue'].sort());
    expect(actions(roleOf('slackActions'))).toEqual(
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', ...logs, 'secretsmanager:GetSecretValue'].sort(),
    );
    // Secrets: each function reads only its own.
    const secretResources = (roleId: string) =>
      statementsOf(roleId)
        .filter((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'))
        .map((s) => s.Resource);
    expect(secretResources(roleOf('mcp'))).toEqual([]);
    expect(secretResources(roleOf('workflowStep'))).toEqual([FULL.kubeconfigSecretArn]);
    expect(secretResources(roleOf('slackActions'))).toEqual([FULL.slackSigningSecretArn]);
    // The table: by its ARN from the stateful stack, never `*`.
    for (const fn of ['mcp', 'workflowStep', 'slackActions'] as const) {
      const table = statementsOf(roleOf(fn)).filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')));
      expect(table).toHaveLength(1);
      expect(JSON.stringify(table[0]?.Resource)).toContain('Fn::ImportValue');
    }
    // State machines may invoke the workflow-step function and nothing else.
    for (const { flow } of workflowSources(ROOT)) {
      const roleId = JSON.stringify(
        resources[stateless.getLogicalId(stateless.stateMachines[flow]?.node.defaultChild as never)]?.Properties
          .RoleArn,
      ).match(/"([^"]+Role[^"]*)"/)?.[1] as string;
      const invoke = statementsOf(roleId).filter((s) => asList(s.Action).includes('lambda:InvokeFunction'));
      expect(invoke.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logicalId('workflowStep'), 'Arn'] }]);
    }
  });

  it('alarms: API 5xx (mcp, slack-actions), workflow-step errors, tool runs that failed, failed executions of every state machine, sent to the alarm topic', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(3 + workflowSources(ROOT).length);
    // Every tool function's failures, as the gateway logs them, counted by one metric filter on its log group.
    const filters = Object.values(t.findResources('AWS::Logs::MetricFilter')) as Array<{
      Properties: {
        LogGroupName: unknown;
        FilterPattern: string;
        MetricTransformations: Array<Record<string, string>>;
      };
    }>;
    expect(filters).toHaveLength(1);
    expect(filters[0]?.Properties.FilterPattern).toBe(`{ $.event = "${TOOL_RUN_FAILED_EVENT}" }`);
    expect(filters[0]?.Properties.LogGroupName).toEqual({ Ref: expect.stringMatching(/^McpLogs/) });
    const failures = alarms.filter((a) => a.Properties.MetricName === 'ToolRunFailures');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.Properties).toMatchObject({ Namespace: 'cloudops-mcp', Statistic: 'Sum', Period: 300 });
    // The HTTP functions answer every failure with a 500 (http-error-handler), so their Lambda
    // `Errors` never move: no alarm may rely on them.
    const errors = alarms.filter((a) => a.Properties.MetricName === 'Errors');
    expect(errors.map((a) => a.Properties.Dimensions)).toEqual([
      [{ Name: 'FunctionName', Value: { Ref: logicalId('workflowStep') } }],
    ]);
    const api = alarms.filter((a) => a.Properties.MetricName === '5xx');
    expect(api).toHaveLength(1);
    expect(api[0]?.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: stateless.getLogicalId(stateless.api.node.defaultChild as never) } }],
    });
    const executions = alarms.filter((a) => a.Properties.Metrics);
    expect(JSON.stringify(executions.map((a) => a.Properties.Metrics))).toContain('ExecutionsFailed');
    expect(JSON.stringify(executions.map((a) => a.Properties.Metrics))).toContain('ExecutionsTimedOut');
    for (const a of alarms) {
      expect(a.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: FULL.alarmEmail });
  });

  it('one schedule: the rollback reconciler, invoking the workflow-step function with step rollbacks.reconcile', () => {
    t.resourceCountIs('AWS::Scheduler::Schedule', 0);
    t.resourceCountIs('AWS::Events::Rule', 1);
    const [rule] = Object.values(t.findResources('AWS::Events::Rule')) as Array<{
      Properties: { ScheduleExpression: string; State?: string; Targets: Array<Record<string, unknown>> };
    }>;
    expect(rule?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule?.Properties.Targets).toHaveLength(1);
    const target = rule?.Properties.Targets[0] as { Arn: unknown; Input: string; RetryPolicy?: unknown };
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [logicalId('workflowStep'), 'Arn'] });
    // The event is what the workflow-step handler accepts: a known step and an input object.
    expect(JSON.parse(target.Input)).toEqual({ step: 'rollbacks.reconcile', input: {} });
    expect(stepNames()).toContain('rollbacks.reconcile');
    // EventBridge may invoke the function, and nothing else than that one rule may.
    const perms = Object.values(t.findResources('AWS::Lambda::Permission')).filter(
      (p) => (p as { Properties: { Principal: string } }).Properties.Principal === 'events.amazonaws.com',
    ) as Array<{ Properties: { FunctionName: unknown; SourceArn: unknown } }>;
    expect(perms.map((p) => p.Properties.FunctionName)).toEqual([{ 'Fn::GetAtt': [logicalId('workflowStep'), 'Arn'] }]);
  });

  it('outputs the MCP endpoint URL', () => {
    t.hasOutput('McpUrl', { Value: FULL.publicUrl });
    t.hasOutput('SlackActionsUrl', {});
  });
});
