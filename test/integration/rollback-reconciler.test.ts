import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clustersFromConfig } from '../../shared/adapters/kube/index.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import type { Operation } from '../../shared/app/repos/operations.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { ParseCache } from '../../shared/domain/input/parse-cache.ts';
import { canonicalJson } from '../../shared/domain/k8s/index.ts';
import { ROLLBACK_RETRY } from '../../shared/domain/rollouts.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';
import type { WorkflowEngine } from '../../shared/ports/workflow.ts';
import { deliveryRolloutsStartTool } from '../../shared/tools/delivery/rollouts-start.tool.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';
import { recoverInterruptedOperations, startRollbackReconciler } from '../../shared/workflows/recovery.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';

/*
 * A rollout whose rollback failed because the API server was down longer than the step's retries
 * (what the state machine's Catch hands to the Fail step) is reconciled later: the record says
 * what is left, the reconciler retries with backoff on the Clock port (no sleeps: time is moved),
 * and once the API server answers again the target is restored and the record says on which retry.
 * The steps run as the state machine runs them, through dispatchStep, against the fake API server.
 */

type Tpl = { metadata?: { annotations?: Record<string, string> }; spec: { containers: Array<{ image: string }> } };
type Dep = { spec: { replicas: number; template: Tpl; selector: unknown } };

describe('rollback reconciler: an incomplete rollback is finished later', () => {
  let kube: FakeKube;
  let deps: Deps;
  let now = Date.parse('2026-12-01T10:00:00Z');
  const clock = { now: () => now };
  const started: string[] = [];
  let n = 0;

  const live = (name: string) => kube.store.get('deployments.apps', 'default', name) as unknown as Dep | undefined;
  const svc = (name: string) =>
    kube.store.get('services', 'default', name) as unknown as { spec: { selector: Record<string, string> } };

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    const env = { STORE: 'memory', LOG_LEVEL: 'silent', KUBECONFIG: kube.kubeconfigPath, K8S_TIMEOUT_MS: '3000' };
    const config = loadConfig(env);
    // The workflow engine only records the start: this test plays the state machine itself.
    const engine: WorkflowEngine = {
      name: 'test',
      async start(_flow, name) {
        started.push(name);
        return { executionId: `exec-${name}`, alreadyStarted: false };
      },
      async describe() {
        return undefined;
      },
      async stop() {},
    };
    deps = buildDeps(config, new MemoryStore(clock), createLogger('silent'), {
      metrics: new PrometheusSource(config.prometheusUrl),
      clusters: clustersFromConfig(config, env),
      policy: loadPolicy(undefined),
      workflows: () => engine,
      clock,
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  async function kubeApply(obj: KubeObject): Promise<void> {
    const client = await deps.clusters.client('fake');
    await client.apply(await client.resolve(String(obj.kind), String(obj.apiVersion)), obj, { force: true });
  }

  /** Waits (bounded) until the fake controller made the Deployment's ReplicaSet. */
  async function controllerCaughtUp(name: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const rs = kube.store.list('replicasets.apps', 'default').filter((r) => r.metadata?.name?.startsWith(`${name}-`));
      if (rs.length > 0) return;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no ReplicaSet for ${name}`);
  }

  /** A Deployment (and for blue-green a Service), a rollout started on it, and its first step applied. */
  async function rolloutHalfway(strategy: 'rolling' | 'canary' | 'blueGreen'): Promise<{ op: Operation; before: Dep }> {
    const name = `web${++n}`;
    await kubeApply(parse(deploymentYaml(name, 'nginx:1.25.3', { replicas: 4 })) as KubeObject);
    if (strategy === 'blueGreen') {
      await kubeApply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { selector: { app: name }, ports: [{ port: 80 }] },
      });
    }
    await controllerCaughtUp(name);
    const before = structuredClone(live(name) as Dep);
    const input = deliveryRolloutsStartTool.input.parse({
      name,
      image: 'nginx:1.27.0',
      strategy,
      ...(strategy === 'canary' ? { steps: [50, 100] } : {}),
      ...(strategy === 'blueGreen' ? { service: name } : {}),
    });
    const res = await deliveryRolloutsStartTool.handler(input, {
      deps,
      identity: { subject: 'u|ann', name: 'ann', roles: ['admin'], method: 'oauth' },
      requestId: `r-${n}`,
      log: deps.log,
      parsed: new ParseCache(),
    });
    const id = String((res.structuredContent as { operationId?: string } | undefined)?.operationId);
    expect(id, JSON.stringify(res.content)).toMatch(/^op-/);
    await dispatchStep({ step: 'rollout.prepare', input: { operationId: id } }, deps);
    await dispatchStep({ step: 'rollout.applyStep', input: { operationId: id } }, deps);
    if (strategy === 'blueGreen') await controllerCaughtUp(`${name}-green`);
    return { op: await deps.operations.require(id), before };
  }

  /** The state machine's Rollback with the API server down: the step fails, its retries end, the Catch runs Fail. */
  async function rollbackFails(id: string, status: number): Promise<void> {
    kube.injectFailure({ status, times: Number.POSITIVE_INFINITY, message: 'etcd leader changed' });
    const err = (await dispatchStep(
      { step: 'rollout.rollback', input: { operationId: id, state: { error: { Error: 'GateFailed' } } } },
      deps,
    ).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    await dispatchStep(
      {
        step: 'rollout.fail',
        // The whole state, as the Catch leaves it: why it rolled back, and why the rollback failed.
        input: {
          operationId: id,
          state: {
            operationId: id,
            error: { Error: 'GateFailed', Cause: '' },
            rollbackError: { Error: err.name, Cause: err.message },
          },
        },
      },
      deps,
    );
  }

  const restoredLike = (name: string, before: Dep) => {
    const after = live(name) as Dep;
    expect(after.spec.replicas).toBe(before.spec.replicas);
    expect(canonicalJson(after.spec.template)).toBe(canonicalJson(before.spec.template));
  };

  for (const [strategy, status] of [
    ['rolling', 503],
    ['canary', 503],
    ['blueGreen', 503],
    ['canary', 429],
    ['rolling', 500],
  ] as const) {
    it(`${strategy}, API server answering ${status}: incomplete, retried with backoff, then restored`, async () => {
      const { op, before } = await rolloutHalfway(strategy);
      const name = op.target.name;
      const lease = String(op.lease);
      try {
        await rollbackFails(op.id, status);
        const failed = await deps.operations.require(op.id);
        expect(failed.status).toBe('failed');
        expect(failed.statusMessage).toMatch(/^rollback incomplete: /);
        expect(failed.statusMessage).toContain(`deployment default/${name} pod template and 4 replicas`);
        if (strategy === 'canary') expect(failed.statusMessage).toContain(`canary deployment ${name}-canary removed`);
        if (strategy === 'blueGreen') {
          expect(failed.statusMessage).toContain(`Service ${name} selector`);
          expect(failed.statusMessage).toContain(`green deployment ${name}-green removed`);
        }
        expect(failed.rollback).toMatchObject({ state: 'incomplete', attempts: 0 });
        // The target stays held: no new rollout may start from a half-restored Deployment.
        expect((await deps.store.get(`lease#${lease}`, 'lease'))?.data.holder).toBe(op.id);

        // Not due yet: nothing is tried.
        const early = await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
        expect(early.waiting).toContain(op.id);
        expect((await deps.operations.require(op.id)).rollback?.attempts).toBe(0);

        // Due, API still down: retry 1 fails, the next one is twice as far away.
        now += ROLLBACK_RETRY.firstDelayMs;
        const r1 = await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
        expect(r1.incomplete).toContain(op.id);
        const after1 = await deps.operations.require(op.id);
        expect(after1.rollback).toMatchObject({ state: 'incomplete', attempts: 1 });
        expect(Date.parse(String(after1.rollback?.nextAttemptAt)) - now).toBe(2 * ROLLBACK_RETRY.firstDelayMs);
        expect(after1.statusMessage).toMatch(/^rollback incomplete: .*retry 1 at .* failed/);
        expect(after1.status).toBe('failed');

        // Half the backoff later: still waiting.
        now += ROLLBACK_RETRY.firstDelayMs;
        expect((await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps)).waiting).toContain(op.id);

        // The API server is back; at the next due time, retry 2 restores everything.
        kube.clearFailures();
        now += ROLLBACK_RETRY.firstDelayMs;
        const r2 = await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
        expect(r2.completed).toContain(op.id);
        const done = await deps.operations.require(op.id);
        expect(done.status).toBe('failed');
        expect(done.statusMessage).toBe(`rollback completed on retry 2 at ${new Date(now).toISOString()}`);
        expect(done.rollback).toMatchObject({ state: 'completed', attempts: 2, left: [] });
        expect(done.result).toMatchObject({ rolledBack: true, rollbackRetries: 2, reason: 'GateFailed: ' });
        expect(done.result).not.toHaveProperty('rollbackIncomplete');
        expect(done.steps.at(-1)).toMatchObject({ name: 'rollback', status: 'done' });
        restoredLike(name, before);
        expect(live(`${name}-canary`)).toBeUndefined();
        expect(live(`${name}-green`)).toBeUndefined();
        if (strategy === 'blueGreen') expect(svc(name).spec.selector).toEqual({ app: name });
        expect(await deps.store.get(`lease#${lease}`, 'lease')).toBeUndefined();
        expect(await deps.operations.trackedRollbacks(100)).not.toContain(op.id);

        // Later passes leave it alone.
        now += ROLLBACK_RETRY.maxDelayMs;
        const later = await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
        const seen = [later.completed, later.incomplete, later.waiting].flat() as string[];
        expect(seen).not.toContain(op.id);
      } finally {
        kube.clearFailures();
      }
    });
  }

  it('records what is left after a partial restore, and backs off up to the cap while the API stays down', async () => {
    const { op, before } = await rolloutHalfway('canary');
    const name = op.target.name;
    try {
      await rollbackFails(op.id, 503);
      // Writes to Deployments come back, deletes do not: the template is restored, the canary stays.
      kube.clearFailures();
      kube.injectFailure({ method: 'DELETE', status: 503, times: Number.POSITIVE_INFINITY });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 8; attempt++) {
        const due = Date.parse(String((await deps.operations.require(op.id)).rollback?.nextAttemptAt));
        now = due;
        await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
        const o = await deps.operations.require(op.id);
        expect(o.rollback).toMatchObject({ state: 'incomplete', attempts: attempt });
        expect(o.rollback?.left).toEqual([`canary deployment ${name}-canary`]);
        expect(o.statusMessage).toContain(`rollback incomplete: canary deployment ${name}-canary; retry ${attempt}`);
        delays.push(Date.parse(String(o.rollback?.nextAttemptAt)) - now);
      }
      expect(delays.slice(0, 5)).toEqual([60_000, 120_000, 240_000, 480_000, 900_000]);
      expect(new Set(delays.slice(4))).toEqual(new Set([ROLLBACK_RETRY.maxDelayMs]));
      restoredLike(name, before);
      kube.clearFailures();
      now = Date.parse(String((await deps.operations.require(op.id)).rollback?.nextAttemptAt));
      await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
      const done = await deps.operations.require(op.id);
      expect(done.statusMessage).toBe(`rollback completed on retry 9 at ${new Date(now).toISOString()}`);
      expect(live(`${name}-canary`)).toBeUndefined();
    } finally {
      kube.clearFailures();
    }
  });

  it('does not restore over a change someone made after the failed rollback', async () => {
    const { op } = await rolloutHalfway('rolling');
    const name = op.target.name;
    await rollbackFails(op.id, 503);
    kube.clearFailures();
    // Someone fixed it by hand meanwhile, with yet another image.
    const client = await deps.clusters.client('fake');
    await client.patch(
      await client.resolve('Deployment', 'apps/v1'),
      name,
      'default',
      [{ op: 'replace', path: '/spec/template', value: parse(deploymentYaml(name, 'nginx:1.26.0')).spec.template }],
      'json',
    );
    now += ROLLBACK_RETRY.firstDelayMs;
    const r = await dispatchStep({ step: 'rollbacks.reconcile', input: {} }, deps);
    expect(r.superseded).toContain(op.id);
    const o = await deps.operations.require(op.id);
    expect(o.rollback?.state).toBe('superseded');
    expect(o.statusMessage).toContain('was changed by someone else since; not restoring over it');
    expect(live(name)?.spec.template.spec.containers[0]?.image).toBe('nginx:1.26.0');
    expect(await deps.store.get(`lease#${op.lease}`, 'lease')).toBeUndefined();
  });

  it('recovery on start retries incomplete rollbacks at once; the local schedule runs passes until stopped', async () => {
    const { op, before } = await rolloutHalfway('canary');
    await rollbackFails(op.id, 503);
    kube.clearFailures();
    // Not due by its backoff, but a host that just started tries at once.
    const report = await recoverInterruptedOperations(deps);
    expect(report.rollbacks?.completed).toContain(op.id);
    restoredLike(op.target.name, before);

    const second = await rolloutHalfway('rolling');
    await rollbackFails(second.op.id, 503);
    kube.clearFailures();
    const schedule = startRollbackReconciler(deps, { everyMs: 3_600_000 });
    try {
      now += ROLLBACK_RETRY.firstDelayMs;
      const pass = await schedule.runNow();
      expect(pass?.completed).toContain(second.op.id);
    } finally {
      await schedule.stop();
    }
    expect(await schedule.runNow()).toBeUndefined();
  });
});
