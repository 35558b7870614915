/**
 * The rollout scenarios on both engines: the local engine running the generated Step Functions ASL
 * (aws-local-stepfunctions) and the test engine interpreting the generated Cloud Workflows YAML,
 * over the same step handlers and Deps. Each scenario checks its end state on each engine, and the
 * last test checks the two engines ended every scenario the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InProcessEngineFactory } from '../../local/server.ts';
import { CloudWorkflowsTestEngine } from '../support/cloud-workflows-engine.ts';
import type { Caller, Harness } from '../support/k8s-harness.ts';
import { startHarness } from '../support/k8s-harness.ts';
import {
  decide,
  failPatches,
  type Op,
  pausedForInput,
  serviceYaml,
  sleep,
  startCanary,
  startRollout,
  terminal,
  waitFor,
  workloads,
} from '../support/rollout-scenarios.ts';

/** How a scenario ended, engine aside: what the two engines must agree on. */
const endStates = new Map<string, Map<string, unknown>>();

const engines: Array<[string, InProcessEngineFactory | undefined]> = [
  ['asl', undefined],
  ['workflows', (opts) => new CloudWorkflowsTestEngine(opts)],
];

describe.each(engines)('rollouts on the %s engine', (engine, workflows) => {
  let h: Harness;
  let bob: Caller;
  const ended = new Map<string, unknown>();
  endStates.set(engine, ended);
  const { dep, image, deploy } = workloads(() => h);

  /** Records the end state (status, steps, result flags, the workload) under the scenario's name. */
  function record(scenario: string, op: Op, ns = 'default', name = scenario) {
    ended.set(scenario, {
      status: op.status,
      steps: op.steps.map((s) => [s.name, s.status]),
      rolledBack: op.result?.rolledBack,
      changed: op.result?.changed,
      image: image(name, ns),
      replicas: dep(name, ns)?.spec.replicas,
    });
  }

  beforeAll(async () => {
    h = await startHarness(
      { LOCAL_WORKFLOW_WAIT_MS: '50' },
      { auth: true, readyDelayMs: 50, ...(workflows ? { workflows } : {}) },
    );
    bob = await h.as('bob', 'cloudops:approve cloudops:read');
    await h.ok('k8s_resources_apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod-eng }\n' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('good image: completed, by this engine', async () => {
    await deploy('good');
    const started = await startRollout(h, 'good');
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(image('good')).toBe('nginx:1.27.0');
    // Run by this engine: the execution record names it.
    const op = await h.server.deps.operations.require(started.operationId);
    expect(op.execution?.engine).toBe(engine === 'asl' ? 'local' : 'cloud-workflows-test');
    record('good', done);
  });

  it('crash-looping image: rolled back, failed', async () => {
    await deploy('bad');
    const started = await startRollout(h, 'bad', { image: 'example/crashloop:2.0' });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done).toMatchObject({ status: 'failed', result: { rolledBack: true } });
    expect(done.statusMessage).toContain('CrashLoopBackOff');
    expect(image('bad')).toBe('nginx:1.25.3');
    record('bad', done);
  });

  it('API failures during a step: retried (transient), completed once', async () => {
    await deploy('flaky');
    const failed = failPatches(h, 'flaky');
    const started = await startRollout(h, 'flaky');
    const done = await waitFor(h, started.operationId, terminal);
    h.kube.clearFailures();
    expect(done.status).toBe('completed');
    expect(failed()).toBe(2);
    record('flaky', done);
  });

  it('canary: pauses, promote continues it to the end', async () => {
    await deploy('cany', 'default', 4);
    const started = await startCanary(h, 'cany', [25, 100], [25]);
    const paused = await waitFor(h, started.operationId, pausedForInput);
    expect(paused.progress.pausedFor).toBe('step');
    expect(dep('cany-canary')?.spec.replicas).toBe(1);
    await h.ok('delivery_rollouts_promote', { operationId: started.operationId });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(dep('cany')?.spec.replicas).toBe(4);
    expect(dep('cany-canary')).toBeUndefined();
    record('cany', done);
  });

  it('blue-green: Service on green, blue scaled down', async () => {
    await deploy('shop');
    await h.ok('k8s_resources_apply', { manifest: serviceYaml('shop') });
    const started = await startRollout(h, 'shop', { strategy: 'blueGreen', service: 'shop' });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(dep('shop')?.spec.replicas).toBe(0);
    expect(image('shop-green')).toBe('nginx:1.27.0');
    const svc = h.kube.store.get('services', 'default', 'shop') as unknown as { spec: { selector: unknown } };
    expect(svc.spec.selector).toEqual({ app: 'shop' });
    record('shop', done);
  });

  it('abort mid-way: cancelled, everything restored', async () => {
    await deploy('abortme', 'default', 4);
    const started = await startCanary(h, 'abortme', [50, 100], [50]);
    await waitFor(h, started.operationId, pausedForInput);
    await h.ok('delivery_rollouts_abort', { operationId: started.operationId, reason: 'error budget burning' });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('cancelled');
    expect(dep('abortme-canary')).toBeUndefined();
    expect(dep('abortme')?.spec.replicas).toBe(4);
    expect(image('abortme')).toBe('nginx:1.25.3');
    record('abortme', done);
  });

  it('approval: waits in prod, continues once a second person approves', async () => {
    await deploy('api', 'prod-eng');
    const started = await startRollout(h, 'api', { namespace: 'prod-eng' });
    expect(started.status).toBe('input_required');
    await sleep(200);
    expect(image('api', 'prod-eng')).toBe('nginx:1.25.3');
    await decide(bob, started, 'approve', 'reviewed');
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    record('api', done, 'prod-eng');
  });

  it('rejection: ends unchanged', async () => {
    await deploy('worker', 'prod-eng');
    const started = await startRollout(h, 'worker', { namespace: 'prod-eng' });
    await decide(bob, started, 'reject', 'not this week');
    const done = await waitFor(h, started.operationId, terminal);
    expect(done).toMatchObject({ status: 'cancelled', result: { changed: false } });
    record('worker', done, 'prod-eng');
  });
});

describe('both engines', () => {
  it('ended every scenario the same way', () => {
    const asl = endStates.get('asl');
    const workflows = endStates.get('workflows');
    expect(asl?.size).toBe(8);
    expect(Object.fromEntries(workflows ?? [])).toEqual(Object.fromEntries(asl ?? []));
  });
});
