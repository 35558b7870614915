import type { FetchLike } from '@modelcontextprotocol/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpPublicUrls } from '../../cdk/function-env.ts';
import type { DeploySettings } from '../../cdk/settings.ts';
import { lambdaClusters } from '../../functions/lib/clusters.ts';
import { loadCloudConfig, secretsManagerReader } from '../../functions/lib/host.ts';
import { requestFromEvent, resultFromResponse } from '../../functions/lib/http.ts';
import { createMcpHandler } from '../../functions/mcp.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { ConfigError } from '../../shared/config/config.ts';
import { SecretNotFoundError } from '../../shared/ports/secrets.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { apiGatewayFetch, fixture, type HttpHandler, lambdaContext } from '../support/lambda.ts';
import { toolFunctionsRunner } from '../support/lambda-invoke.ts';
import type { Era } from '../support/mcp-client.ts';
import { structured } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

/** The host of the fixture event; the function's PUBLIC_URL, as the CDK stack sets it. */
const PUBLIC_URL = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/mcp';
const METADATA_URL = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/.well-known/oauth-protected-resource/mcp';
const KUBECONFIG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123';
const TABLE = 'cloudops-lambda-test';

describe('mcp function: API Gateway HTTP API events -> shared endpoint, Store on dynalite', () => {
  let dynamo: EmbeddedDynamo;
  let kube: FakeKube;
  let issuer: TestIssuer;
  let secrets: FakeSecretsManager;
  let env: Record<string, string>;
  let handler: HttpHandler;
  let gateway: FetchLike;

  const token = (scope = 'cloudops:read cloudops:write', sub = 'alice') => issuer.token({ sub, scope, name: sub });
  async function connect(era: Era): Promise<Client> {
    const client = new Client(
      { name: 'lambda-test', version: '1.0.0' },
      { versionNegotiation: { mode: era === 'modern' ? 'auto' : 'legacy' } },
    );
    const headers = { authorization: `Bearer ${await token()}` };
    await client.connect(
      new StreamableHTTPClientTransport(new URL(PUBLIC_URL), { fetch: gateway, requestInit: { headers } }),
    );
    return client;
  }

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
    kube = await startFakeKube({ readyDelayMs: 50 });
    issuer = await startTestIssuer(PUBLIC_URL);
    secrets = await startFakeSecretsManager({ [KUBECONFIG_ARN]: kube.kubeconfigYaml });
    env = {
      PUBLIC_URL,
      // What a careless deployment might set: the function forces AUTH=required anyway.
      AUTH: 'none',
      DYNAMODB_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      ROLLOUT_WORKFLOW: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Rollout',
      KUBECONFIG_SECRET: KUBECONFIG_ARN,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_JWKS_URL: issuer.jwksUrl,
      K8S_TIMEOUT_MS: '3000',
      LOG_LEVEL: 'silent',
    };
    handler = createMcpHandler({
      env,
      runner: toolFunctionsRunner({ env, readSecret: secretsManagerReader(secrets.client) }),
    });
    gateway = apiGatewayFetch({ mcp: handler });
  });
  afterAll(async () => {
    await secrets?.close();
    await issuer?.close();
    await kube?.close();
    await dynamo?.store.close();
  });

  for (const era of ['modern', 'legacy'] as Era[]) {
    it(`an MCP exchange in the ${era === 'modern' ? '2026-07-28' : '2025-11-25'} era: tools, a cluster from the kubeconfig secret, audit in DynamoDB`, async () => {
      const client = await connect(era);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['server_info', 'k8s_namespaces_list']));
        expect(tools.map((t) => t.name)).not.toContain('admin_config_get');
        const info = structured<{ caller: { name: string; method: string }; store: string }>(
          await client.callTool({ name: 'server_info', arguments: {} }),
        );
        expect(info.caller).toMatchObject({ name: 'alice', method: 'oauth' });
        expect(JSON.stringify(info)).toContain('dynamodb');
        const ns = (await client.callTool({ name: 'k8s_namespaces_list', arguments: {} })) as {
          isError?: boolean;
          content: Array<{ text: string }>;
        };
        expect(ns.isError).toBeFalsy();
        expect(ns.content[0]?.text).toContain('kube-system');
      } finally {
        await client.close();
      }
    });
  }

  it('every tools/call left an audit record in the table, with the Lambda request id', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const { items } = await dynamo.store.query({ pk: `audit#${day}`, limit: 100 });
    const calls = items.map((i) => i.data as { tool: string; requestId: string; caller: { name: string } });
    // One write request unit each (items up to 1 KB): the figure the cost arithmetic in docs/aws.md uses.
    const sizes = items.map((i) => JSON.stringify(i).length);
    expect(Math.max(...sizes)).toBeLessThan(1024);
    expect(calls.filter((c) => c.tool === 'server_info')).toHaveLength(2);
    expect(calls.filter((c) => c.tool === 'k8s_namespaces_list')).toHaveLength(2);
    for (const c of calls) {
      expect(c.caller.name).toBe('alice');
      expect(c.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('a base64-encoded body (the event shape API Gateway sends) is decoded; x-request-id is the Lambda request id', async () => {
    const event = fixture('apigw-v2-post-mcp-base64.json');
    event.headers.authorization = `Bearer ${await token()}`;
    expect(event.isBase64Encoded).toBe(true);
    const context = lambdaContext('mcp');
    const result = await handler(event, context);
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['x-request-id']).toBe(context.awsRequestId);
    const body = JSON.parse(result.body as string) as {
      result: { protocolVersion: string; serverInfo: { name: string } };
    };
    expect(body.result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'cloudops-mcp' } });
  });

  it('GET and DELETE /mcp get 405 with Allow: POST (no SSE stream, no session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await gateway(PUBLIC_URL, { method, headers: { accept: 'text/event-stream' } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('serves the protected resource metadata at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await gateway(new URL(path, PUBLIC_URL));
      expect(res.status, path).toBe(200);
      expect(await res.json()).toMatchObject({ resource: PUBLIC_URL, authorization_servers: [issuer.issuer] });
    }
  });

  it('no credentials -> 401 with WWW-Authenticate naming the metadata; a token for another audience -> 401 invalid_token', async () => {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    };
    const anonymous = await gateway(PUBLIC_URL, init);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${METADATA_URL}"`);
    const foreign = await issuer.token({
      sub: 'mallory',
      scope: 'cloudops:admin',
      aud: 'https://elsewhere.example.com/mcp',
    });
    const wrongAudience = await gateway(PUBLIC_URL, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${foreign}` },
    });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('reads the kubeconfig secret once per cold start, not per request', () => {
    expect(secrets.reads).toEqual([KUBECONFIG_ARN]);
  });

  it('a missing setting fails the cold start naming it in the log, while the caller gets a bare 500', async () => {
    const { PUBLIC_URL: _omit, DYNAMODB_TABLE: _also, ...partial } = env;
    expect(() => loadCloudConfig(partial, ['PUBLIC_URL', 'DYNAMODB_TABLE'])).toThrow(
      /PUBLIC_URL: required on AWS[\s\S]*DYNAMODB_TABLE: required on AWS/,
    );
    const broken = createMcpHandler({
      env: partial,
      runner: toolFunctionsRunner({ env, readSecret: secretsManagerReader(secrets.client) }),
    });
    const res = await apiGatewayFetch({ mcp: broken })(PUBLIC_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32603 } });
    expect(text).not.toMatch(/PUBLIC_URL|DYNAMODB|arn:|stack/i);
  });

  it('on AWS a workflow must be a state machine ARN and a secret a Secrets Manager ARN, naming the variable', () => {
    const gcpSecret = 'projects/ops-1/secrets/kubeconfig/versions/latest';
    expect(() =>
      loadCloudConfig(
        {
          ...env,
          ROLLOUT_WORKFLOW: 'arn:aws:lambda:eu-west-1:123456789012:function:rollout',
          KUBECONFIG_SECRET: gcpSecret,
          SLACK_SIGNING_SECRET: 'slack-signing',
        },
        ['PUBLIC_URL'],
      ),
    ).toThrow(
      /ROLLOUT_WORKFLOW: must be a Step Functions state machine ARN[\s\S]*KUBECONFIG_SECRET: must be a Secrets Manager secret ARN[\s\S]*SLACK_SIGNING_SECRET: must be a Secrets Manager secret ARN/,
    );
    expect(loadCloudConfig(env, ['PUBLIC_URL', 'ROLLOUT_WORKFLOW'])).toMatchObject({
      rolloutWorkflow: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Rollout',
      kubeconfigSecret: KUBECONFIG_ARN,
    });
  });

  it('a kubeconfig secret that does not exist is a configuration error naming KUBECONFIG_SECRET, not a retryable one', async () => {
    const missing = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/gone-ZZ9876';
    const config = loadCloudConfig({ ...env, KUBECONFIG_SECRET: missing }, []);
    const err = await lambdaClusters(config, env, secretsManagerReader(secrets.client)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /KUBECONFIG_SECRET: secret arn:aws:secretsmanager:.*gone-ZZ9876 does not exist/,
    );
    expect((err as Error).cause).toBeInstanceOf(SecretNotFoundError);
    // Throttling is not a configuration error: it stays as the SDK reported it, so a step retries it.
    secrets.failNext(1);
    const throttled = await lambdaClusters(loadCloudConfig(env, []), env, secretsManagerReader(secrets.client)).catch(
      (e: unknown) => e,
    );
    expect((throttled as Error).name).toBe('ThrottlingException');
  });

  it('with a custom domain (publicUrl) the execute-api hostname is still accepted; the custom URL stays the resource', async () => {
    const custom = 'https://ops.example.com/mcp';
    const withDomain = createMcpHandler({
      // PUBLIC_URL exactly as the stack builds it (cdk/function-env.ts).
      env: { ...env, PUBLIC_URL: mcpPublicUrls({ publicUrl: custom } as DeploySettings, new URL(PUBLIC_URL).origin) },
      runner: toolFunctionsRunner({ env, readSecret: secretsManagerReader(secrets.client) }),
    });
    const viaGateway = apiGatewayFetch({ mcp: withDomain });
    for (const url of [custom, PUBLIC_URL]) {
      const res = await viaGateway(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });
      expect(res.status, url).toBe(401); // authentication required, not 403 Invalid Host
    }
    const metadata = await viaGateway(new URL('/.well-known/oauth-protected-resource/mcp', PUBLIC_URL));
    expect(await metadata.json()).toMatchObject({ resource: custom });
  });
});

describe('payload 2.0 <-> web Request/Response', () => {
  it('the documented example event becomes the request it describes', async () => {
    const req = requestFromEvent(fixture('apigw-v2-docs-example.json'));
    expect(req.method).toBe('POST');
    expect(req.url).toBe(
      'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
    );
    expect(req.headers.get('cookie')).toBe('cookie1; cookie2');
    expect(req.headers.get('header2')).toBe('value1,value2');
    expect(await req.text()).toBe('Hello from Lambda');
  });

  it('Set-Cookie values go to `cookies`, text stays text, binary goes base64', async () => {
    const headers = new Headers({ 'content-type': 'application/json', 'x-a': '1' });
    headers.append('set-cookie', 'a=1; Secure');
    headers.append('set-cookie', 'b=2; HttpOnly');
    const json = await resultFromResponse(new Response('{"ok":true}', { status: 201, headers }));
    expect(json).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-a': '1' },
      cookies: ['a=1; Secure', 'b=2; HttpOnly'],
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
    const bytes = Uint8Array.from([0, 255, 1, 2]);
    const bin = await resultFromResponse(
      new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
    );
    expect(bin).toMatchObject({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true });
  });
});
