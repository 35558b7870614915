/**
 * The scheduled drift check in the synthesized template: the EventBridge Scheduler schedule, its
 * target and invoke role, and what the drift-check function may touch (issue 12).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../cdk/settings.ts';
import { ScheduledDriftEvent } from '../../functions/lib/drift-event.ts';
import { asList, type Resource, removeSynthOutputs, statementsOf, synthStacks } from '../support/cdk-synth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const WRITE = SECRET('cloudops/kubeconfig');
const READ = SECRET('cloudops/kubeconfig-read');
const SLACK = SECRET('cloudops/slack-alerts');
const CONTEXT = {
  kubeconfigSecretArn: WRITE,
  kubeconfigReadSecretArn: READ,
  driftCheckSchedule: 'cron(0/10 * * * ? *)',
  slackAlertsSecretArn: SLACK,
  slackChannel: 'C0123ABCDE',
};

afterAll(removeSynthOutputs);
const synth = synthStacks;

describe('drift check on AWS (driftCheckSchedule set)', () => {
  let s: ReturnType<typeof synth>;
  let fnId: string;
  let fn: Resource;
  let schedule: Resource;
  beforeAll(() => {
    s = synth(CONTEXT);
    fnId = s.stack.getLogicalId(s.stack.functions.driftCheck?.node.defaultChild as never);
    fn = s.resources[fnId] as Resource;
    const schedules = Object.values(s.resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    schedule = schedules[0] as Resource;
  }, 60_000);

  it('the schedule: the expression given, in UTC, on time, enabled', () => {
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(0/10 * * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
  });

  it('its target: the drift-check function, no retry, an input the function accepts once Scheduler fills it', () => {
    const target = schedule.Properties.Target as {
      Arn: unknown;
      RoleArn: unknown;
      Input: string;
      RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    };
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
    const input = JSON.parse(target.Input) as Record<string, string>;
    expect(input).toEqual({
      check: 'drift',
      scheduleArn: '<aws.scheduler.schedule-arn>',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
      attemptNumber: '<aws.scheduler.attempt-number>',
    });
    // What Scheduler sends: each placeholder replaced by its value (a string).
    const filled = {
      ...input,
      scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/DriftCheck',
      scheduledTime: '2026-12-07T21:00:00Z',
      executionId: 'd6c1b1de-0f33-4b0b-9d47-5d5c2d8c8a10',
      attemptNumber: '1',
    };
    expect(ScheduledDriftEvent.safeParse(filled).success).toBe(true);
  });

  it('its own invoke role: assumed by EventBridge Scheduler of this account only, may invoke the drift check only', () => {
    const roleArn = (schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } }).RoleArn;
    const roleId = roleArn['Fn::GetAtt'][0];
    const role = s.resources[roleId] as Resource;
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(trust).toEqual([
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
    // The function (and its versions), nothing else.
    for (const r of targets) expect(JSON.stringify(r)).toContain(fnId);
  });

  it('the function: the read-only kubeconfig, the Slack alerts secret, the table, its log group; nothing else', () => {
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOf(s.resources, roleId);
    const actions = statements.flatMap((st) => asList(st.Action));
    const secrets = statements
      .filter((st) => asList(st.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((st) => asList(st.Resource));
    expect(secrets.sort()).toEqual([READ, SLACK].sort());
    const table = statements.filter((st) => asList(st.Action).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap((st) => asList(st.Action)).sort()).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    for (const st of table) expect(JSON.stringify(st.Resource)).toContain('ImportValue');
    const other = actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('logs:'));
    expect(other).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue']);
    expect(actions.some((a) => a.startsWith('states:') || a.startsWith('lambda:'))).toBe(false);
    const role = s.resources[roleId] as Resource;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('its environment: the read-only credential as KUBECONFIG_SECRET, the Slack secret by name, never a value', () => {
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({ KUBECONFIG_SECRET: READ, SLACK_ALERTS_SECRET: SLACK, SLACK_CHANNEL: 'C0123ABCDE' });
    expect(Object.keys(env).sort()).toEqual(
      ['DYNAMODB_TABLE', 'KUBECONFIG_SECRET', 'LOG_LEVEL', 'SLACK_ALERTS_SECRET', 'SLACK_CHANNEL'].sort(),
    );
    expect(JSON.stringify(env)).not.toContain(WRITE);
    expect(fn.Properties.Timeout).toBe(300);
  });

  it('tool functions: only those that send alerts (drift_checks_run, alerts_channel_test) may read the Slack secret', () => {
    const slackReaders: string[] = [];
    for (const [id, fn] of Object.entries(s.stack.toolFunctions)) {
      const cfn = s.resources[s.stack.getLogicalId(fn.node.defaultChild as never)] as Resource;
      const roleId = (cfn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const secrets = statementsOf(s.resources, roleId)
        .filter((st) => asList(st.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((st) => asList(st.Resource));
      const env = (cfn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(secrets.includes(SLACK), id).toBe(env.SLACK_ALERTS_SECRET === SLACK);
      if (secrets.includes(SLACK)) slackReaders.push(id);
    }
    expect(slackReaders.sort()).toEqual(['ToolAlertsChannelTest', 'ToolDriftChecksRun']);
  });

  it('an alarm on the function failing', () => {
    const alarms = Object.values(s.resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties.Dimensions ?? []).includes(fnId),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
  });
});

describe('drift check settings', () => {
  it('without driftCheckSchedule: no schedule, no drift-check function', () => {
    const { stack, resources } = synth({ kubeconfigSecretArn: WRITE });
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule')).toHaveLength(0);
    expect(stack.functions.driftCheck).toBeUndefined();
  }, 60_000);

  it('the write credential when there is no read-only one; a five-field cron becomes EventBridge cron', () => {
    const { stack, resources } = synth({ kubeconfigSecretArn: WRITE, driftCheckSchedule: '*/15 * * * 1-5' });
    const schedule = Object.values(resources).find((r) => r.Type === 'AWS::Scheduler::Schedule') as Resource;
    expect(schedule.Properties.ScheduleExpression).toBe('cron(*/15 * ? * 2-6 *)');
    const fnId = stack.getLogicalId(stack.functions.driftCheck?.node.defaultChild as never);
    const env = ((resources[fnId] as Resource).Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env.KUBECONFIG_SECRET).toBe(WRITE);
    expect(env.SLACK_ALERTS_SECRET).toBeUndefined();
  }, 60_000);

  it('toolsets: the gateway lists the drift and alert tools when the context names them', () => {
    const { stack, resources } = synth({ kubeconfigSecretArn: WRITE, toolsets: 'core,k8s,drift,alerts' });
    const mcp = resources[stack.getLogicalId(stack.functions.mcp?.node.defaultChild as never)] as Resource;
    expect((mcp.Properties.Environment as { Variables: Record<string, unknown> }).Variables.TOOLSETS).toBe(
      'core,k8s,drift,alerts',
    );
    expect(() => readSettings((k) => ({ toolsets: 'core,drfit' })[k], ROOT)).toThrow(
      /toolsets: unknown toolset "drfit" \(did you mean drift\?\)/,
    );
  }, 60_000);

  it('refuses at synth, naming the context key', () => {
    const bad = (ctx: Record<string, unknown>) => () => readSettings((k) => ctx[k], ROOT);
    expect(bad({ kubeconfigSecretArn: WRITE, driftCheckSchedule: 'rate(1 minutes)' })).toThrow(
      /driftCheckSchedule: .*singular/,
    );
    expect(bad({ kubeconfigSecretArn: WRITE, driftCheckSchedule: '0 0 15 * 1' })).toThrow(
      /driftCheckSchedule: .*EventBridge cannot express/,
    );
    expect(bad({ driftCheckSchedule: 'rate(5 minutes)' })).toThrow(
      /driftCheckSchedule: the drift check needs a cluster/,
    );
    expect(bad({ kubeconfigSecretArn: WRITE, slackChannel: 'C0123ABCDE' })).toThrow(
      /slackAlertsSecretArn: required when slackChannel is set/,
    );
    expect(bad({ slackAlertsSecretArn: SLACK, slackChannel: '#alerts' })).toThrow(/slackChannel: must be a channel ID/);
    expect(bad({ slackAlertsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' })).toThrow(
      /slackAlertsSecretArn: must be the complete secret ARN/,
    );
  });
});
