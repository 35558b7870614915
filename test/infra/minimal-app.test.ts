import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONTEXT, readSettings } from '../../cdk/settings.ts';
import { StatefulStack } from '../../cdk/stateful-stack.ts';
import { StatelessStack } from '../../cdk/stateless-stack.ts';
import { NOT_ON_AWS } from '../../cdk/tool-functions.ts';
import { allTools } from '../../shared/tools/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('CDK app with no optional settings', () => {
  let outdir: string;
  let t: Template;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
    // Bundling is covered by stacks.test.ts; skip it here.
    const app = new App({ outdir, context: { ...APP_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const stateful = new StatefulStack(app, 'CloudopsMcpStateful');
    const settings = readSettings(() => undefined, ROOT);
    t = Template.fromStack(
      new StatelessStack(app, 'CloudopsMcpStateless', { table: stateful.table, settings, repoRoot: ROOT }),
    );
  }, 60_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('without a Slack signing secret there is no Slack function and no /slack/actions route', () => {
    const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(
      [
        'DELETE /mcp',
        'GET /.well-known/oauth-protected-resource',
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /mcp',
        'POST /mcp',
      ].sort(),
    );
    // mcp, workflow-step and one function per tool (functionLayout perTool, the default).
    t.resourceCountIs('AWS::Lambda::Function', 2 + allTools.filter((tool) => !NOT_ON_AWS.has(tool.group)).length);
    expect(t.findOutputs('SlackActionsUrl')).toEqual({});
  });

  it('without a kubeconfig secret no function may read any secret, and no OAuth settings are invented', () => {
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('secretsmanager');
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function'))) {
      const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(
        Object.keys(vars).filter((k) => k.startsWith('OAUTH_') || k.startsWith('KUBECONFIG') || k.startsWith('SLACK_')),
      ).toEqual([]);
    }
    t.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('CDK context checks', () => {
  const read = (ctx: Record<string, unknown>) => () => readSettings((k) => ctx[k], ROOT);

  it('names the context key of every bad setting', () => {
    expect(read({ oauthIssuer: 'https://auth.example.com' })).toThrow(/oauthJwksUrl: required when oauthIssuer is set/);
    expect(read({ kubeconfigSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube' })).toThrow(
      /kubeconfigSecretArn: must be the complete secret ARN/,
    );
    expect(read({ slackApprovers: '{not json' })).toThrow(
      /slackApprovers: must be a JSON object[\s\S]*slackSigningSecretArn: required/,
    );
    expect(read({ logRetentionDays: 10 })).toThrow(/logRetentionDays: one of/);
    expect(read({ publicUrl: 'http://insecure.example.com/mcp' })).toThrow(/publicUrl: must be an https:\/\/ URL/);
    expect(read({ policyFile: 'no/such/policy.yaml' })).toThrow(/policyFile: .* does not exist/);
  });

  it("fails where a cold start would: each function's config loader runs on the environment it will get", () => {
    const slack = { slackSigningSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-Ab12Cd' };
    // Slack user ids are upper case, and every approver needs a subject and a name.
    expect(read({ ...slack, slackApprovers: '{"u0123abcd":{"subject":"alice","name":"Alice"}}' })).toThrow(
      /slackApprovers: must be a JSON object of Slack user id/,
    );
    expect(read({ ...slack, slackApprovers: '{"U0123ABCD":{"subject":"alice"}}' })).toThrow(
      /slackApprovers: must be a JSON object of Slack user id/,
    );
    expect(read({ prometheusUrl: 'http//prometheus' })).toThrow(
      /prometheusUrl: must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(read({ prometheusUrl: 'prometheus.monitoring:9090' })).toThrow(/prometheusUrl: must be an http/);
    expect(read({ allowedOrigins: 'a', oauthAudience: 'x', prometheusUrl: 'http://prom:9090' })).not.toThrow();
  });

  it('publicUrl is one https URL whose path is /mcp, the only MCP route', () => {
    for (const bad of [
      'https://ops.example.com/mcp,https://x.example.com/mcp',
      'https://ops.example.com/',
      'https://ops.example.com/prod/mcp',
      'https://ops.example.com/mcp?x=1',
    ]) {
      expect(read({ publicUrl: bad }), bad).toThrow(/publicUrl: must be one URL, https:\/\/<custom domain>\/mcp/);
    }
    expect(read({ publicUrl: 'https://ops.example.com/mcp' })).not.toThrow();
  });

  it('accepts a complete configuration', () => {
    const s = read({
      publicUrl: 'https://mcp.example.com/mcp',
      slackSigningSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-Ab12Cd',
      slackApprovers: '{"U1":{"subject":"a","name":"A"}}',
      logRetentionDays: '90',
    })();
    expect(s).toMatchObject({ publicUrl: 'https://mcp.example.com/mcp', logRetentionDays: 90, logLevel: 'info' });
  });
});
