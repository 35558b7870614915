/**
 * The GCP workflow-step function on the real functions-framework, called as Cloud Workflows' http.post
 * with `auth: {type: OIDC}` calls it: POST `{ step, input }` as JSON with an ID token of the workflows
 * service account. Firestore is the emulator, the kubeconfig comes from Secret Manager (the loopback
 * fake) and reaches the fake API server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gcpStore, loadGcpConfig } from '../../gcp-functions/lib/host.ts';
import { createWorkflowStepHandler } from '../../gcp-functions/workflow-step.ts';
import { STEPS, type StepTable, TransientStepError } from '../../shared/workflows/index.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import {
  type GcpFunctionHost,
  SCHEDULER_SA,
  startGcpFunctionHost,
  WORKFLOWS_SA,
} from '../support/gcp-function-host.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';

const AUDIENCE = 'https://workflow-step-3kq2x7abcd-ew.a.run.app';

let host: GcpFunctionHost;
let kube: FakeKube;
let served: ServedFunction;
let env: Record<string, string>;
const ran: string[] = [];

/** Steps of these tests only, beside the real ones. */
const testSteps: StepTable = {
  'test.clusters': async (input, deps) => {
    ran.push('test.clusters');
    const clusters = (await deps.clusters.list()).map((c) => c.name);
    // A write to the Store the function was given: the emulator holds it after the answer.
    await deps.store.put({ pk: 'test#step', sk: String(input.marker), data: { clusters } });
    return { clusters, echoed: input.marker };
  },
  'test.invalid': async () => {
    ran.push('test.invalid');
    const err = new Error('Deployment.apps "web" is invalid');
    err.name = 'KubeValidationError';
    throw err;
  },
  'test.transient': async () => {
    ran.push('test.transient');
    throw new TransientStepError('API server 503');
  },
};

beforeAll(async () => {
  kube = await startFakeKube({ readyDelayMs: 20, clusterName: 'prod' });
  host = await startGcpFunctionHost({
    collection: 'gcp-workflow-step-test',
    secrets: { kubeconfig: kube.kubeconfigYaml },
  });
  env = {
    ...host.env,
    ...host.oidcEnv(AUDIENCE, WORKFLOWS_SA),
    KUBECONFIG_SECRET: host.secret('kubeconfig'),
    K8S_TIMEOUT_MS: '3000',
  };
  served = await serveHttpFunction(createWorkflowStepHandler({ env, steps: { ...STEPS, ...testSteps } }));
}, 120_000);
afterAll(async () => {
  await served?.close();
  await host?.close();
  await kube?.close();
});
beforeEach(() => {
  ran.length = 0;
});

/** What Workflows' http.post sends: JSON body, `Authorization: Bearer <ID token>`. */
async function post(body: unknown, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(served.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GoogleCloudWorkflows; (+https://cloud.google.com/workflows/docs)',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const workflowsToken = () => host.idToken(AUDIENCE, WORKFLOWS_SA);

describe('workflow-step on functions-framework (Cloud Workflows http.post with OIDC)', () => {
  it('an ID token of the workflows service account: the step runs with the real deps and answers 200 with its output', async () => {
    const out = await post({ step: 'test.clusters', input: { marker: 'm-1' } }, await workflowsToken());
    expect(out).toMatchObject({ status: 200, body: { clusters: ['prod'], echoed: 'm-1' } });
    expect(ran).toEqual(['test.clusters']);
    const store = gcpStore(loadGcpConfig(env, []));
    try {
      expect((await store.get('test#step', 'm-1'))?.data).toEqual({ clusters: ['prod'] });
    } finally {
      await store.close();
    }
  });

  it('a failing step answers 500 {Error, Cause} with the error name the workflow matches on', async () => {
    const invalid = await post({ step: 'test.invalid', input: {} }, await workflowsToken());
    expect(invalid).toMatchObject({
      status: 500,
      body: { Error: 'KubeValidationError', Cause: 'Deployment.apps "web" is invalid' },
    });
    // What the generated workflow retries: the name TransientError.
    const transient = await post({ step: 'test.transient', input: {} }, await workflowsToken());
    expect(transient).toMatchObject({ status: 500, body: { Error: 'TransientError', Cause: 'API server 503' } });
    const unknown = await post({ step: 'no.such.step', input: {} }, await workflowsToken());
    expect(unknown).toMatchObject({ status: 500, body: { Error: 'UnknownStepError' } });
  });

  it('a request no workflow sends: 400 {Error: InvalidStepEventError}, nothing runs', async () => {
    for (const body of [{ input: {} }, { step: 'test.clusters', input: [1] }, { step: 'x'.repeat(129), input: {} }]) {
      const out = await post(body, await workflowsToken());
      expect(out).toMatchObject({ status: 400, body: { Error: 'InvalidStepEventError' } });
    }
    // Malformed JSON never reaches the function: functions-framework's body parser answers 400 itself.
    const broken = await fetch(served.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await workflowsToken()}` },
      body: '{"step":',
    });
    expect(broken.status).toBe(400);
    await broken.arrayBuffer();
    const text = await post('{"step":"test.clusters"}', await workflowsToken(), { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    expect(ran).toEqual([]);
  });

  it('no token, a bad one or another caller: 401/403 as JSON, nothing runs', async () => {
    const step = { step: 'test.clusters', input: { marker: 'refused' } };
    const none = await post(step);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body).toMatchObject({ error: 'unauthenticated' });
    expect((await post(step, await host.idToken(AUDIENCE, WORKFLOWS_SA, { foreignKey: true }))).status).toBe(401);
    expect((await post(step, await host.idToken(AUDIENCE, WORKFLOWS_SA, { expiresIn: '-5m' }))).status).toBe(401);
    expect((await post(step, await host.idToken('https://another-function.a.run.app', WORKFLOWS_SA))).status).toBe(401);
    const other = await post(step, await host.idToken(AUDIENCE, SCHEDULER_SA));
    expect(other).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(ran).toEqual([]);
  });
});

describe('workflow-step called by the rollback reconciler job (Cloud Scheduler, as terraform/scheduler.tf sends it)', () => {
  it("with the scheduler's token among OIDC_INVOKERS, rollbacks.reconcile runs and answers 200 with its report; another caller's is refused", async () => {
    const both = {
      ...env,
      ...host.oidcEnv(AUDIENCE, WORKFLOWS_SA),
      OIDC_INVOKERS: `${WORKFLOWS_SA},${SCHEDULER_SA}`,
    };
    const reconciler = await serveHttpFunction(createWorkflowStepHandler({ env: both }));
    try {
      const send = async (token: string) => {
        const res = await fetch(reconciler.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Google-Cloud-Scheduler',
            'x-cloudscheduler': 'true',
            'x-cloudscheduler-jobname': 'projects/ops-project/locations/europe-west1/jobs/cloudops-rollback-reconciler',
            'x-cloudscheduler-scheduletime': '2026-12-08T04:00:00Z',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ step: 'rollbacks.reconcile', input: {} }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const out = await send(await host.idToken(AUDIENCE, SCHEDULER_SA));
      expect(out).toEqual({ status: 200, body: { completed: [], superseded: [], incomplete: [], waiting: [] } });
      const gateway = 'cloudops-mcp@ops-project.iam.gserviceaccount.com';
      expect((await send(await host.idToken(AUDIENCE, gateway))).status).toBe(403);
    } finally {
      await reconciler.close();
    }
  });
});

describe('workflow-step cold start', () => {
  it('a secret that cannot be read now is a TransientError (the workflow retries); a bad setting a ConfigError', async () => {
    const base = { ...host.env, ...host.oidcEnv(AUDIENCE, WORKFLOWS_SA) };
    // Secret Manager unreachable: the same read may succeed on the retry.
    const unreachable = await serveHttpFunction(
      createWorkflowStepHandler({
        env: { ...base, KUBECONFIG_SECRET: host.secret('kubeconfig'), SECRET_MANAGER_URL: 'http://127.0.0.1:9/v1' },
        steps: testSteps,
      }),
    );
    const misconfigured = await serveHttpFunction(
      createWorkflowStepHandler({ env: { ...base, KUBECONFIG_SECRET: 'kubeconfig' }, steps: testSteps }),
    );
    try {
      const call = (url: string) =>
        workflowsToken().then((token) =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ step: 'test.clusters', input: {} }),
          }),
        );
      const a = await call(unreachable.url);
      expect(a.status).toBe(500);
      expect(await a.json()).toMatchObject({ Error: 'TransientError', Cause: expect.stringContaining('cold start') });
      const b = await call(misconfigured.url);
      expect(b.status).toBe(500);
      expect(await b.json()).toMatchObject({
        Error: 'ConfigError',
        Cause: expect.stringContaining('KUBECONFIG_SECRET'),
      });
      expect(ran).toEqual([]);
    } finally {
      await unreachable.close();
      await misconfigured.close();
    }
  });
});
