import type { FetchLike } from '@modelcontextprotocol/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsManagerReader } from '../../functions/lib/host.ts';
import { createMcpHandler } from '../../functions/mcp.ts';
import { createWorkflowStepHandler } from '../../functions/workflow-step.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../shared/adapters/local/embedded-dynamodb.ts';
import { taskStates } from '../../shared/adapters/local/local-workflow-engine.ts';
import { STEPS, type StepTable, stepNames, TransientStepError } from '../../shared/workflows/index.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { apiGatewayFetch, lambdaContext } from '../support/lambda.ts';
import { toolFunctionsRunner } from '../support/lambda-invoke.ts';
import {
  aslFlows,
  type Definition,
  deployedDefinition,
  LambdaBackedStepFunctions,
  lambdaTaskOverrides,
  STEP_FUNCTION_ARN,
  type StepLambda,
} from '../support/lambda-workflows.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';

const PUBLIC_URL = 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/mcp';
const KUBECONFIG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123';
const TABLE = 'cloudops-steps-test';

let dynamo: EmbeddedDynamo;
let kube: FakeKube;
let secrets: FakeSecretsManager;
let stepEnv: Record<string, string>;
/** The workflow-step Lambda handler, counting invocations per step. */
let stepLambda: StepLambda;
const invocations: string[] = [];

let attempts = 0;
const ran: string[] = [];
/** Steps of these tests only, beside the real ones. */
const testSteps: StepTable = {
  'test.flaky': async (input) => {
    attempts++;
    if (attempts < 3) throw new TransientStepError(`API server 503 (attempt ${attempts})`);
    return { ok: true, echoed: input.value };
  },
  'test.invalid': async () => {
    const err = new Error('Deployment.apps "web" is invalid');
    err.name = 'KubeValidationError';
    throw err;
  },
  'test.apply': async () => {
    ran.push('apply');
    return { applied: true };
  },
  'test.rollback': async () => {
    ran.push('rollback');
    return { rolledBack: true };
  },
};
const steps = { ...STEPS, ...testSteps };

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo({ table: TABLE, accessKeyId: 'local' });
  kube = await startFakeKube({ readyDelayMs: 100 });
  secrets = await startFakeSecretsManager({ [KUBECONFIG_ARN]: kube.kubeconfigYaml });
  stepEnv = {
    DYNAMODB_TABLE: TABLE,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    AWS_REGION: 'eu-west-1',
    KUBECONFIG_SECRET: KUBECONFIG_ARN,
    K8S_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'silent',
  };
  const handler = createWorkflowStepHandler({
    env: stepEnv,
    readSecret: secretsManagerReader(secrets.client),
    steps,
  });
  stepLambda = (event, context) => {
    invocations.push((event as { step: string }).step);
    return handler(event, context);
  };
});
afterAll(async () => {
  await secrets?.close();
  await kube?.close();
  await dynamo?.store.close();
});

describe('workflow-step function: error names survive the Lambda boundary into the ASL', () => {
  const machine = (step: string): Definition =>
    JSON.parse(
      JSON.stringify({
        StartAt: 'Step',
        States: {
          Step: {
            Type: 'Task',
            Resource: STEP_FUNCTION_ARN,
            Parameters: { step, 'input.$': '$' },
            Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 1, MaxAttempts: 4, BackoffRate: 1 }],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RolledBack' }],
            End: true,
          },
          RolledBack: { Type: 'Pass', End: true },
        },
      }),
    );
  const run = (def: Definition, input: Record<string, unknown>) =>
    new StateMachine(def as never, { validationOptions: { checkArn: true } }).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: lambdaTaskOverrides(def, stepLambda) as never,
        retryIntervalOverrides: { Step: 5 },
      },
    }).result;

  it('a TransientError thrown in a step is retried by the Retry on "TransientError"', async () => {
    invocations.length = 0;
    const out = (await run(machine('test.flaky'), { value: 42 })) as Record<string, unknown>;
    expect(out).toEqual({ ok: true, echoed: 42 });
    expect(invocations).toEqual(['test.flaky', 'test.flaky', 'test.flaky']);
  });

  it('any other error is not retried and reaches the Catch under its own name', async () => {
    invocations.length = 0;
    const out = (await run(machine('test.invalid'), { value: 1 })) as { error: { Error: string; Cause: string } };
    expect(invocations).toEqual(['test.invalid']);
    expect(out.error).toEqual({ Error: 'KubeValidationError', Cause: 'Deployment.apps "web" is invalid' });
  });

  it('an unknown step or a malformed event fails with a name saying so', async () => {
    await expect(
      stepLambda({ step: 'no.such.step', input: {} } as never, lambdaContext('workflow-step')),
    ).rejects.toMatchObject({
      name: 'UnknownStepError',
    });
    await expect(stepLambda({ input: {} } as never, lambdaContext('workflow-step'))).rejects.toMatchObject({
      name: 'InvalidStepEventError',
    });
  });
});

describe('workflow-step function: a cold start that fails is retried unless the configuration is wrong', () => {
  // The Retry/Catch shape of rollout.asl.json's Tasks: TransientError retried, anything else rolls back.
  const def: Definition = {
    StartAt: 'Apply',
    States: {
      Apply: {
        Type: 'Task',
        Resource: STEP_FUNCTION_ARN,
        Parameters: { step: 'test.apply', input: {} },
        ResultPath: '$.applied',
        Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rollback' }],
        End: true,
      },
      Rollback: {
        Type: 'Task',
        Resource: STEP_FUNCTION_ARN,
        Parameters: { step: 'test.rollback', input: {} },
        ResultPath: '$.rolledBack',
        End: true,
      },
    },
  };
  /** A fresh sandbox (its own cold start) of the workflow-step function, run by the state machine. */
  const runColdStart = (env: Record<string, string>, invoked: string[] = []) => {
    const handler = createWorkflowStepHandler({ env, readSecret: secretsManagerReader(secrets.client), steps });
    const lambda: StepLambda = (event, context) => {
      invoked.push((event as { step: string }).step);
      return handler(event, context);
    };
    return new StateMachine(def as never, { validationOptions: { checkArn: true } }).run({} as never, {
      overrides: {
        taskResourceLocalHandlers: lambdaTaskOverrides(def, lambda) as never,
        retryIntervalOverrides: { Apply: 5 },
      },
    }).result as Promise<Record<string, unknown>>;
  };

  it('Secrets Manager throttling the kubeconfig read: the Task is retried and the step runs, no rollback', async () => {
    ran.length = 0;
    const readsBefore = secrets.reads.length;
    secrets.failNext(1); // ThrottlingException, as the real SDK client reports it
    const invoked: string[] = [];
    const out = await runColdStart(stepEnv, invoked);
    expect(invoked).toEqual(['test.apply', 'test.apply']);
    expect(ran).toEqual(['apply']);
    expect(out).toEqual({ applied: { applied: true } });
    expect(secrets.reads.length - readsBefore).toBe(2);
  });

  it('a configuration error is not retried: it reaches the Catch under its own name', async () => {
    ran.length = 0;
    const invoked: string[] = [];
    // The rollback Task's cold start fails the same way, so the execution fails with the ConfigError.
    await expect(runColdStart({ ...stepEnv, K8S_TIMEOUT_MS: 'soon' }, invoked)).rejects.toMatchObject({
      cause: { name: 'ConfigError', message: expect.stringContaining('K8S_TIMEOUT_MS') },
    });
    expect(invoked).toEqual(['test.apply', 'test.rollback']);
    expect(ran).toEqual([]);
  });
});

describe('the deployed state machines (shared/workflows/*.asl.json)', () => {
  it('exist, validate with real ARNs substituted, and every Task names a registered step', () => {
    const flows = aslFlows();
    expect(flows.length).toBeGreaterThanOrEqual(1);
    for (const flow of flows) {
      const def = deployedDefinition(flow);
      expect(() => new StateMachine(def as never, { validationOptions: { checkArn: true } })).not.toThrow();
      const tasks = taskStates(def);
      expect(tasks.length, flow).toBeGreaterThan(0);
      for (const name of tasks) {
        const state = def.States[name] as { Resource?: string; Parameters?: { step?: string } } | undefined;
        if (!state) continue; // inside a Parallel/Map branch
        expect(state.Resource, `${flow}.${name}`).toBe(STEP_FUNCTION_ARN);
        expect(stepNames(), `${flow}.${name}`).toContain(state.Parameters?.step);
      }
    }
  });
});

describe('a rollout end to end on the AWS shape: mcp function -> Step Functions (rollout.asl.json) -> workflow-step function', () => {
  let issuer: TestIssuer;
  let engine: LambdaBackedStepFunctions;
  let client: Client;
  type Op = {
    operationId: string;
    status: string;
    statusMessage: string;
    steps: Array<{ name: string; status: string }>;
  };

  const call = async <T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> => {
    const r = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content?: Array<{ text?: string }>;
      structuredContent?: T;
    };
    if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
    return r.structuredContent as T;
  };

  beforeAll(async () => {
    issuer = await startTestIssuer(PUBLIC_URL);
    engine = new LambdaBackedStepFunctions(stepLambda, { waitMs: 100 });
    const mcp = createMcpHandler({
      env: {
        ...stepEnv,
        PUBLIC_URL,
        ROLLOUT_WORKFLOW: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Rollout',
        OAUTH_ISSUER: issuer.issuer,
        OAUTH_JWKS_URL: issuer.jwksUrl,
      },
      // The tools run in their functions (here in-process), starting rollouts on the same engine.
      runner: toolFunctionsRunner({
        env: stepEnv,
        readSecret: secretsManagerReader(secrets.client),
        workflows: () => engine,
      }),
      workflows: () => engine,
    });
    const gateway: FetchLike = apiGatewayFetch({ mcp });
    const token = await issuer.token({ sub: 'alice', scope: 'cloudops:read cloudops:write', name: 'alice' });
    client = new Client({ name: 'rollout-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(PUBLIC_URL), {
        fetch: gateway,
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
  });
  afterAll(async () => {
    engine?.stopAll();
    await client?.close();
    await issuer?.close();
  });

  it('rolls a Deployment to a new image; every Task ran in the workflow-step handler', async () => {
    await call('k8s_resources_apply', { manifest: deploymentYaml('web', 'nginx:1.25.3', { replicas: 2 }) });
    await call('k8s_rollouts_status', { name: 'web', namespace: 'default', waitSeconds: 20 });
    invocations.length = 0;
    const started = await call<Op>('delivery_rollouts_start', { name: 'web', image: 'nginx:1.27.0' });
    expect(started.operationId).toMatch(/^op-/);
    const deadline = Date.now() + 45_000;
    let op = started;
    while (!['completed', 'failed', 'cancelled'].includes(op.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      op = await call<Op>('ops_operations_get', { operationId: started.operationId });
    }
    expect(op.status, op.statusMessage).toBe('completed');
    const image = (
      kube.store.get('deployments.apps', 'default', 'web') as unknown as {
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      }
    ).spec.template.spec.containers[0]?.image;
    expect(image).toBe('nginx:1.27.0');
    expect(invocations.length).toBeGreaterThan(1);
    expect(invocations[0]).toBe('rollout.prepare');
    expect(new Set(invocations).size).toBeGreaterThan(1);
    for (const step of invocations) expect(stepNames()).toContain(step);
  }, 60_000);
});
