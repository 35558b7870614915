/**
 * The scheduled cost check and usage sampler in the synthesized template (issue 14): their
 * EventBridge Scheduler schedules, targets and invoke roles, exactly what each function may touch,
 * and the settings that create them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../cdk/settings.ts';
import {
  COST_SCHEDULE_INPUT,
  ScheduledCostEvent,
  ScheduledUsageSampleEvent,
  USAGE_SAMPLE_SCHEDULE_INPUT,
} from '../../functions/lib/cost-event.ts';
import {
  asList,
  type Resource,
  removeSynthOutputs,
  roleIdOf,
  statementsOf,
  synthStacks,
} from '../support/cdk-synth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const WRITE = SECRET('cloudops/kubeconfig');
const READ = SECRET('cloudops/kubeconfig-read');
const SLACK = SECRET('cloudops/slack-alerts');
const PRICES = '{"m6i.large":0.1,"c7g.xlarge":0.145}';
const CONTEXT = {
  kubeconfigSecretArn: WRITE,
  kubeconfigReadSecretArn: READ,
  costCheckSchedule: 'cron(0 */6 * * ? *)',
  usageSampleSchedule: 'rate(5 minutes)',
  costAws: 'true',
  costTagKey: 'team',
  costInstancePrices: PRICES,
  slackAlertsSecretArn: SLACK,
  slackChannel: 'C0123ABCDE',
};
const TABLE_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];

afterAll(removeSynthOutputs);

type Synth = ReturnType<typeof synthStacks>;
const fnIdOf = (s: Synth, key: 'costCheck' | 'usageSample') =>
  s.stack.getLogicalId(s.stack.functions[key]?.node.defaultChild as never);

/** Every grant of a role as `action on resource`, the table and log group named by what they are. */
function grantsOf(s: Synth, fnId: string): string[] {
  const fn = s.resources[fnId] as Resource;
  const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
  const name = (r: unknown) => {
    const text = JSON.stringify(r);
    if (text.includes('ImportValue') && text.includes('Table')) return 'table';
    if (text.includes(logGroupId)) return 'its log group';
    return typeof r === 'string' ? r : text;
  };
  return statementsOf(s.resources, roleIdOf(fn))
    .flatMap((st) => asList(st.Action).flatMap((a) => asList(st.Resource).map((r) => `${a} on ${name(r)}`)))
    .sort();
}

const scheduleOf = (s: Synth, fnId: string): Resource => {
  const found = Object.values(s.resources).filter(
    (r) =>
      r.Type === 'AWS::Scheduler::Schedule' &&
      JSON.stringify((r.Properties.Target as { Arn: unknown }).Arn) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
  );
  expect(found).toHaveLength(1);
  return found[0] as Resource;
};

const filled = (input: object) => ({
  ...input,
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/CostCheck',
  scheduledTime: '2026-12-07T18:00:00Z',
  executionId: 'd6c1b1de-0f33-4b0b-9d47-5d5c2d8c8a10',
  attemptNumber: '1',
});

describe('cost check and usage sampler on AWS (both schedules set)', () => {
  let s: Synth;
  let costId: string;
  let usageId: string;
  beforeAll(() => {
    s = synthStacks(CONTEXT);
    costId = fnIdOf(s, 'costCheck');
    usageId = fnIdOf(s, 'usageSample');
    expect(Object.values(s.resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule')).toHaveLength(2);
  }, 60_000);

  it.each([
    ['costCheck', 'cron(0 */6 * * ? *)', COST_SCHEDULE_INPUT, ScheduledCostEvent],
    ['usageSample', 'rate(5 minutes)', USAGE_SAMPLE_SCHEDULE_INPUT, ScheduledUsageSampleEvent],
  ] as const)(
    '%s: its schedule in UTC, no retry, an input the function accepts once Scheduler fills it',
    (key, expression, input, schema) => {
      const schedule = scheduleOf(s, fnIdOf(s, key));
      expect(schedule.Properties).toMatchObject({
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'Etc/UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      });
      const target = schedule.Properties.Target as { Input: string; RetryPolicy: unknown };
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
      const sent = JSON.parse(target.Input) as Record<string, string>;
      expect(sent).toEqual(input);
      expect(schema.safeParse(filled(sent)).success).toBe(true);
      // Each function refuses the other's input.
      const other = key === 'costCheck' ? ScheduledUsageSampleEvent : ScheduledCostEvent;
      expect(other.safeParse(filled(sent)).success).toBe(false);
    },
  );

  it.each(['costCheck', 'usageSample'] as const)(
    '%s: its own invoke role, trusted by EventBridge Scheduler of this account only, may invoke that function only',
    (key) => {
      const fnId = fnIdOf(s, key);
      const roleArn = (scheduleOf(s, fnId).Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } })
        .RoleArn;
      const roleId = roleArn['Fn::GetAtt'][0];
      const role = s.resources[roleId] as Resource;
      expect((role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const statements = statementsOf(s.resources, roleId);
      expect(statements.flatMap((st) => asList(st.Action))).toEqual(['lambda:InvokeFunction']);
      const targets = statements.flatMap((st) => asList(st.Resource));
      expect(targets.length).toBeGreaterThan(0);
      for (const r of targets) expect(JSON.stringify(r)).toContain(fnId);
    },
  );

  it('the cost check may: the table, Cost Explorer (no resource-level permissions: *), the read-only kubeconfig, the Slack alerts secret, its log group', () => {
    expect(grantsOf(s, costId)).toEqual(
      [
        ...TABLE_ACTIONS.map((a) => `${a} on table`),
        'ce:GetCostAndUsage on *',
        'ce:GetCostForecast on *',
        `secretsmanager:GetSecretValue on ${READ}`,
        `secretsmanager:GetSecretValue on ${SLACK}`,
        'logs:CreateLogStream on its log group',
        'logs:PutLogEvents on its log group',
      ].sort(),
    );
    expect(
      (s.resources[roleIdOf(s.resources[costId] as Resource)] as Resource).Properties.ManagedPolicyArns,
    ).toBeUndefined();
  });

  it('the usage sampler may: the table, the read-only kubeconfig, its log group; nothing else', () => {
    expect(grantsOf(s, usageId)).toEqual(
      [
        ...TABLE_ACTIONS.map((a) => `${a} on table`),
        `secretsmanager:GetSecretValue on ${READ}`,
        'logs:CreateLogStream on its log group',
        'logs:PutLogEvents on its log group',
      ].sort(),
    );
  });

  it('their environments: settings by name, never a secret value; the prices in the cost check only', () => {
    const envOf = (id: string) =>
      ((s.resources[id] as Resource).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(envOf(costId)).sort()).toEqual(
      [
        'COST_AWS',
        'COST_INSTANCE_PRICES',
        'COST_TAG_KEY',
        'DYNAMODB_TABLE',
        'KUBECONFIG_SECRET',
        'LOG_LEVEL',
        'SLACK_ALERTS_SECRET',
        'SLACK_CHANNEL',
      ].sort(),
    );
    expect(envOf(costId)).toMatchObject({
      COST_AWS: 'true',
      COST_TAG_KEY: 'team',
      COST_INSTANCE_PRICES: PRICES,
      SLACK_ALERTS_SECRET: SLACK,
      KUBECONFIG_SECRET: READ,
    });
    expect(JSON.stringify(envOf(costId))).not.toContain(WRITE);
    expect(Object.keys(envOf(usageId)).sort()).toEqual(['DYNAMODB_TABLE', 'KUBECONFIG_SECRET', 'LOG_LEVEL']);
    expect(envOf(usageId).KUBECONFIG_SECRET).toBe(READ);
  });

  it('an Errors alarm on each function, to the alarm topic', () => {
    for (const id of [costId, usageId]) {
      const alarms = Object.values(s.resources).filter(
        (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties.Dimensions ?? []).includes(id),
      );
      expect(alarms, id).toHaveLength(1);
      expect(alarms[0]?.Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
      expect(JSON.stringify(alarms[0]?.Properties.AlarmActions)).toContain('AlarmTopic');
    }
  });
});

describe('cost schedule settings', () => {
  const anyCe = (s: Synth) =>
    Object.values(s.resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .some((r) => JSON.stringify(r.Properties.PolicyDocument).includes('"ce:'));

  it('without the schedules: no cost-check or usage-sample function, no schedule; costAws grants ce: to the spend-reading cost tools only', () => {
    const s = synthStacks({ kubeconfigSecretArn: WRITE, costAws: 'true' });
    expect(s.stack.functions.costCheck).toBeUndefined();
    expect(s.stack.functions.usageSample).toBeUndefined();
    expect(Object.values(s.resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule')).toHaveLength(0);
    // The roles holding a ce: action are exactly those of cost_reports_get and cost_budgets_list.
    const ceRoles = Object.values(s.resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.PolicyDocument).includes('"ce:'))
      .map((r) => JSON.stringify(r.Properties.Roles));
    const roleOf = (id: string) =>
      JSON.stringify([
        {
          Ref: roleIdOf(
            s.resources[s.stack.getLogicalId(s.stack.toolFunctions[id]?.node.defaultChild as never)] as Resource,
          ),
        },
      ]);
    expect(ceRoles.sort()).toEqual([roleOf('ToolCostReportsGet'), roleOf('ToolCostBudgetsList')].sort());
    const withoutCostAws = synthStacks({ kubeconfigSecretArn: WRITE });
    expect(anyCe(withoutCostAws)).toBe(false);
  }, 60_000);

  it('the cost check without costAws (namespace budgets from usage samples only): its function, no ce: grant anywhere', () => {
    const s = synthStacks({ kubeconfigSecretArn: WRITE, costCheckSchedule: 'rate(12 hours)' });
    const id = fnIdOf(s, 'costCheck');
    expect(anyCe(s)).toBe(false);
    expect(grantsOf(s, id)).toEqual(
      [
        ...TABLE_ACTIONS.map((a) => `${a} on table`),
        `secretsmanager:GetSecretValue on ${WRITE}`,
        'logs:CreateLogStream on its log group',
        'logs:PutLogEvents on its log group',
      ].sort(),
    );
    const env = ((s.resources[id] as Resource).Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env.COST_AWS).toBeUndefined();
  }, 60_000);

  it('the usage sampler alone: no ce: grant anywhere; with awsRegions it also discovers EKS clusters; the write credential when there is no read-only one', () => {
    const s = synthStacks({ kubeconfigSecretArn: WRITE, usageSampleSchedule: '*/10 * * * *', awsRegions: 'eu-west-1' });
    expect(s.stack.functions.costCheck).toBeUndefined();
    expect(anyCe(s)).toBe(false);
    const id = fnIdOf(s, 'usageSample');
    expect(scheduleOf(s, id).Properties.ScheduleExpression).toBe('cron(*/10 * * * ? *)');
    expect(grantsOf(s, id)).toEqual(
      [
        ...TABLE_ACTIONS.map((a) => `${a} on table`),
        `secretsmanager:GetSecretValue on ${WRITE}`,
        'eks:ListClusters on *',
        'eks:DescribeCluster on {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":eks:*:*:cluster/*"]]}',
        'logs:CreateLogStream on its log group',
        'logs:PutLogEvents on its log group',
      ].sort(),
    );
  }, 60_000);

  it('refuses at synth, naming the context key', () => {
    const bad = (ctx: Record<string, unknown>) => () => readSettings((k) => ctx[k], ROOT);
    expect(bad({ costCheckSchedule: 'rate(1 hours)', costAws: 'true' })).toThrow(/costCheckSchedule: .*singular/);
    expect(bad({ costCheckSchedule: 'rate(6 hours)' })).toThrow(
      /costCheckSchedule: the cost check has nothing to judge/,
    );
    expect(bad({ usageSampleSchedule: 'rate(5 minutes)' })).toThrow(
      /usageSampleSchedule: the usage sampler needs a cluster/,
    );
    expect(bad({ costAws: 'yes' })).toThrow(/costAws: true or false/);
    expect(bad({ costTagKey: 'team$' })).toThrow(/costTagKey: an AWS tag key/);
    expect(bad({ costInstancePrices: '{"m6i.large": -1}' })).toThrow(/costInstancePrices: .*m6i\.large/);
    expect(bad({ costInstancePrices: 'm6i.large=0.1' })).toThrow(/costInstancePrices: .*not JSON/);
    // Valid prices, but more than Lambda's 4 KB environment holds.
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`m6i.size${i}xlarge`, 0.1])));
    expect(bad({ costCheckSchedule: 'rate(6 hours)', costAws: 'true', costInstancePrices: many })).toThrow(
      /costCheck function: its environment would take \d+ bytes, over Lambda's 4096 \(costInstancePrices travels in it/,
    );
  });
});
