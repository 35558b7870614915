import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTaskSessionFromClient,
  resultFromTaskOutcome,
  type TaskEnabledSession,
} from '@modelcontextprotocol/ext-tasks/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../shared/app/deps.ts';
import type { Operation } from '../../shared/app/repos/operations.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';
import type { Caller, Harness } from '../support/k8s-harness.ts';
import { deploymentYaml, startHarness } from '../support/k8s-harness.ts';
import {
  type Dep,
  decide,
  failPatches,
  type Op,
  pausedForInput,
  serviceYaml,
  sleep,
  startCanary,
  startRollout,
  terminal,
  waitFor as waitForOp,
  workloads,
} from '../support/rollout-scenarios.ts';
import { fetchDispatch } from '../support/task-dispatch.ts';

/** This file polls a little slower than the default (its engine waits 100 ms a step). */
const waitFor = (c: Caller, operationId: string, until: (op: Op) => boolean, timeoutMs = 30_000) =>
  waitForOp(c, operationId, until, timeoutMs, 150);
/** Moves an operation's deadline into the past, as if it had waited 20 hours. */
async function passDeadline(deps: Deps, operationId: string): Promise<void> {
  await deps.operations.update(operationId, (o) => {
    o.deadline = new Date(Date.now() - 1000).toISOString();
    return undefined;
  });
}

describe('progressive rollouts as state machines (local engine, fake API server)', () => {
  let h: Harness;
  let bob: Caller;
  const { dep, image, deploy } = workloads(() => h);

  beforeAll(async () => {
    h = await startHarness({ LOCAL_WORKFLOW_WAIT_MS: '100' }, { auth: true, readyDelayMs: 100 });
    bob = await h.as('bob', 'cloudops:approve cloudops:read');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('plans without changing anything', async () => {
    await deploy('planned');
    const before = h.kube.requests.length;
    const plan = await h.ok<{ steps: unknown[]; approvalRequired: boolean; allowed: boolean }>(
      'delivery_rollouts_plan',
      {
        name: 'planned',
        image: 'nginx:1.27.0',
        strategy: 'canary',
        steps: [25, 50],
        pauseAfter: [25],
        gates: { metrics: [{ name: 'errors', query: 'sum(rate(http_errors[1m]))', op: '<', threshold: 1 }] },
      },
    );
    expect(plan.steps).toHaveLength(3);
    expect(plan).toMatchObject({ approvalRequired: false, allowed: true });
    expect(plan._text).toContain('metric errors: NOT evaluable (no Prometheus is configured');
    expect(h.kube.requests.slice(before).filter((r) => r.method !== 'GET' && !r.query.includes('dryRun'))).toEqual([]);
    expect(image('planned')).toBe('nginx:1.25.3');
  });

  it('a rolling rollout of a good image completes with its steps recorded', async () => {
    await deploy('good');
    const started = await startRollout(h, 'good');
    expect(started.operationId).toMatch(/^op-/);
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([['rolling update', 'done']]);
    expect(done.steps[0]?.measurements).toMatchObject({ verdict: 'pass', pods: { total: 2, ready: 2 } });
    expect(image('good')).toBe('nginx:1.27.0');
    const rollout = await h.ok<Op>('delivery_rollouts_get', { operationId: started.operationId });
    expect(rollout.status).toBe('completed');
  });

  it('a crash-looping image is rolled back: previous template restored, failed with the gate measurements', async () => {
    await deploy('bad');
    const started = await startRollout(h, 'bad', { image: 'example/crashloop:2.0' });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('failed');
    expect(done.statusMessage).toContain('CrashLoopBackOff');
    expect(done.result).toMatchObject({
      rolledBack: true,
      gate: { verdict: 'fail', pods: { crashLooping: expect.any(Array) } },
    });
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['rolling update', 'failed'],
      ['rollback', 'done'],
    ]);
    expect(image('bad')).toBe('nginx:1.25.3');
    await h.ok('k8s_rollouts_status', { name: 'bad', waitSeconds: 20 });
    const pods = await h.ok<{ items: Array<{ status: string }> }>('k8s_resources_list', {
      kind: 'pods',
      labelSelector: 'app=bad',
    });
    expect(pods.items.every((p) => p.status === 'Running')).toBe(true);
  });

  it('blue-green switches the Service only after the green gate passes, then scales blue down', async () => {
    await deploy('shop');
    await h.ok('k8s_resources_apply', { manifest: serviceYaml('shop') });
    const selector = () =>
      (h.kube.store.get('services', 'default', 'shop') as unknown as { spec: { selector: Record<string, string> } })
        .spec.selector;
    const started = await startRollout(h, 'shop', {
      image: 'example/slowstart:2',
      strategy: 'blueGreen',
      service: 'shop',
    });
    // While green is still starting, traffic stays on blue.
    const during = await waitFor(
      h,
      started.operationId,
      (op) => op.steps[0]?.status === 'running' && (op.steps[0]?.detail ?? '').includes('green deployment'),
    );
    expect(during.status).toBe('working');
    const pinned = selector()['pod-template-hash'];
    const blueHash = h.kube.store
      .list('pods', 'default')
      .find((p) => p.metadata?.labels?.app === 'shop' && !p.metadata?.labels?.['cloudops.dev/track'])?.metadata
      ?.labels?.['pod-template-hash'];
    expect(pinned).toBe(blueHash);
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    const greenHash = h.kube.store
      .list('pods', 'default')
      .find((p) => p.metadata?.labels?.['cloudops.dev/track'] === 'green')?.metadata?.labels?.['pod-template-hash'];
    expect(greenHash).toBeDefined();
    // Blue is scaled down, so the Service gets its own selector back: not tied to a ReplicaSet hash.
    expect(selector()).toEqual({ app: 'shop' });
    expect(dep('shop')?.spec.replicas).toBe(0);
    expect(dep('shop-green')?.spec.template.spec.containers[0]?.image).toBe('example/slowstart:2');
    // A later rollout of the now active green Deployment leaves the Service with pods behind it.
    const next = await startRollout(h, 'shop-green', { image: 'nginx:1.27.1' });
    expect((await waitFor(h, next.operationId, terminal)).status).toBe('completed');
    await h.ok('k8s_rollouts_status', { name: 'shop-green', waitSeconds: 20 });
    const served = h.kube.store
      .list('pods', 'default')
      .filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          Object.entries(selector()).every(([key, v]) => p.metadata?.labels?.[key] === v),
      );
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((p) => p.metadata?.labels?.['cloudops.dev/track'] === 'green')).toBe(true);
  });

  it('blue-green refuses a new template that drops a label the Service selects, before changing anything', async () => {
    await h.ok('k8s_resources_apply', {
      manifest: deploymentYaml('lbl', 'nginx:1.25.3', { replicas: 2 }).replace(
        'metadata: { labels: { app: lbl } }',
        'metadata: { labels: { app: lbl, tier: web } }',
      ),
    });
    await h.ok('k8s_rollouts_status', { name: 'lbl', waitSeconds: 20 });
    await h.ok('k8s_resources_apply', { manifest: serviceYaml('lbl', 'app: lbl, tier: web') });
    const before = h.kube.requests.length;
    const refused = await h.call('delivery_rollouts_start', {
      name: 'lbl',
      manifest: deploymentYaml('lbl', 'nginx:1.27.0', { replicas: 2 }),
      strategy: 'blueGreen',
      service: 'lbl',
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('tier=web');
    expect(refused.text).toContain('select no pods');
    expect(h.kube.requests.slice(before).filter((r) => r.method !== 'GET' && !r.query.includes('dryRun'))).toEqual([]);
    expect(dep('lbl-green')).toBeUndefined();
  });

  it('a canary pauses at a step and promote continues it to the end', async () => {
    await deploy('cany', 'default', 4);
    const started = await startCanary(h, 'cany', [25, 100], [25]);
    const paused = await waitFor(h, started.operationId, pausedForInput);
    expect(paused.progress).toMatchObject({
      pausedFor: 'step',
      nextActions: ['delivery_rollouts_promote', 'delivery_rollouts_abort'],
    });
    expect(dep('cany-canary')?.spec.replicas).toBe(1);
    expect(dep('cany')?.spec.replicas).toBe(3);
    expect(image('cany')).toBe('nginx:1.25.3');
    await h.ok('delivery_rollouts_promote', { operationId: started.operationId });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(image('cany')).toBe('nginx:1.27.0');
    expect(dep('cany')?.spec.replicas).toBe(4);
    expect(dep('cany-canary')).toBeUndefined();
  });

  it('abort mid-way restores everything', async () => {
    await deploy('abortme', 'default', 4);
    const started = await startCanary(h, 'abortme', [50, 100], [50]);
    await waitFor(h, started.operationId, pausedForInput);
    expect(dep('abortme-canary')?.spec.replicas).toBe(2);
    const mark = h.kube.requests.length;
    await h.ok('delivery_rollouts_abort', { operationId: started.operationId, reason: 'error budget burning' });
    const done = await waitFor(h, started.operationId, terminal);
    // Stable gets its replicas back before the canary goes: capacity never dips.
    const writes = h.kube.requests
      .slice(mark)
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`);
    const restoreStable = writes.indexOf('PATCH deployments/abortme');
    expect(restoreStable).toBeGreaterThanOrEqual(0);
    expect(restoreStable).toBeLessThan(writes.indexOf('DELETE deployments/abortme-canary'));
    expect(done.status).toBe('cancelled');
    expect(done.statusMessage).toContain('error budget burning');
    expect(dep('abortme-canary')).toBeUndefined();
    expect(dep('abortme')?.spec.replicas).toBe(4);
    expect(image('abortme')).toBe('nginx:1.25.3');
  });

  it('a second promote that arrives after the pause ended is refused and does not skip the next pause', async () => {
    const deps = h.server.deps;
    await deploy('twice', 'default', 4);
    const started = await startCanary(h, 'twice', [25, 50, 100], [25, 50]);
    await waitFor(h, started.operationId, (op) => op.status === 'input_required' && op.progress.pausedFor === 'step');
    const carol = await h.as('carol', 'cloudops:admin');
    await h.ok('delivery_rollouts_promote', { operationId: started.operationId });
    // The second promote (by an admin, carol) reads the operation while it is still paused; its
    // write lands after the workflow consumed the first promote. Only carol's write is held back:
    // the workflow's own updates go through the same repository and must not be delayed.
    const realUpdate = deps.operations.update.bind(deps.operations);
    let delay = true;
    deps.operations.update = async (id, mutate) => {
      if (delay && id === started.operationId) {
        const probe = structuredClone(await deps.operations.require(id));
        let promoter: string | undefined;
        try {
          await mutate(probe);
          promoter = probe.requests.promote?.by;
        } catch {}
        if (promoter === 'carol') {
          delay = false;
          const end = Date.now() + 20_000;
          while (Date.now() < end) {
            const o = await deps.operations.get(id);
            if (o && o.status === 'working' && !o.requests.promote) break;
            await sleep(50);
          }
        }
      }
      return realUpdate(id, mutate);
    };
    try {
      const second = await carol.call('delivery_rollouts_promote', { operationId: started.operationId });
      expect(second.isError).toBe(true);
      // Usually carol's read still sees the pause and her compare-and-set refuses; when the workflow
      // was quicker than her read, the read itself refuses. Either way nothing is continued.
      expect(second.text).toMatch(/no longer paused where you saw it|is not paused .* nothing to promote/);
    } finally {
      deps.operations.update = realUpdate;
    }
    const paused = await waitFor(h, started.operationId, (op) => op.status === 'input_required' || terminal(op));
    expect(paused).toMatchObject({ status: 'input_required', progress: { pausedFor: 'step' } });
    expect(paused.steps.map((s) => s.status)).toEqual(['done', 'done', 'pending']);
    // A promote recorded for an earlier step (a stale write) is dropped by the workflow, not obeyed.
    await deps.operations.update(started.operationId, (o) => {
      o.requests.promote = { by: 'stale', at: new Date().toISOString(), step: 1 };
      return undefined;
    });
    await waitFor(h, started.operationId, () => true);
    const end = Date.now() + 10_000;
    while (Date.now() < end && (await deps.operations.get(started.operationId))?.requests.promote) await sleep(50);
    const still = await deps.operations.require(started.operationId);
    expect(still.requests.promote).toBeUndefined();
    expect(still.status).toBe('input_required');
    expect(still.steps.map((s) => s.status)).toEqual(['done', 'done', 'pending']);
    await h.ok('delivery_rollouts_promote', { operationId: started.operationId });
    expect((await waitFor(h, started.operationId, terminal)).status).toBe('completed');
  });

  it('a retried completeStep (its first write succeeded) does not skip a step', async () => {
    const deps = h.server.deps;
    await deploy('retried');
    const op = await deps.operations.create({
      id: `op-retried-${Date.now()}`,
      kind: 'rollout',
      target: { cluster: 'fake', namespace: 'default', kind: 'Deployment', name: 'retried' },
      requester: { subject: 'x', name: 'x' },
      status: 'working',
      statusMessage: '',
      input: {},
      changeHash: 'h',
      steps: [
        { name: 'canary 10%', status: 'running' },
        { name: 'canary 50%', status: 'pending' },
        { name: 'canary 100%', status: 'pending' },
      ],
      progress: { stepIndex: 0, nextActions: [] },
      requests: {},
      plan: {
        strategy: 'canary',
        steps: [10, 50, 100].map((weight) => ({ name: `canary ${weight}%`, weight, pause: false })),
        gates: { maxRestarts: 2, progressDeadlineSeconds: 600, metrics: [] },
        rollbackWindowSeconds: 0,
        expectedSeconds: 0,
        template: {},
      },
      ttlSeconds: 3600,
      pollIntervalMs: 5000,
    } satisfies Omit<Operation, 'createdAt' | 'updatedAt'>);
    const event = { step: 'rollout.completeStep', input: { operationId: op.id, stepIndex: 0 } };
    expect(await dispatchStep(event, deps)).toMatchObject({ next: 'apply' });
    expect(await dispatchStep(event, deps)).toMatchObject({ next: 'apply', alreadyDone: true });
    const after = await deps.operations.require(op.id);
    expect(after.progress.stepIndex).toBe(1);
    expect(after.steps.map((s) => s.status)).toEqual(['done', 'pending', 'pending']);
  });

  it('a pause nobody answers ends at the deadline: rolled back, failed, lease released', async () => {
    const deps = h.server.deps;
    await deploy('forgotten', 'default', 4);
    const started = await startCanary(h, 'forgotten', [50, 100], [50]);
    // The lease outlives the execution timeout: it cannot expire under a paused rollout.
    const lease = await deps.store.get('lease#fake/default/Deployment/forgotten', 'lease');
    expect(lease?.expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 86_400);
    await waitFor(h, started.operationId, pausedForInput);
    expect(dep('forgotten-canary')?.spec.replicas).toBe(2);
    await passDeadline(deps, started.operationId);
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('failed');
    expect(done.statusMessage).toContain('without a promote or abort');
    expect(done.statusMessage).toContain('deadline');
    expect(dep('forgotten-canary')).toBeUndefined();
    expect(dep('forgotten')?.spec.replicas).toBe(4);
    expect(image('forgotten')).toBe('nginx:1.25.3');
    expect(await deps.store.get('lease#fake/default/Deployment/forgotten', 'lease')).toBeUndefined();
  });

  it('API failures during a step are retried and do not apply twice', async () => {
    await deploy('flaky');
    // The workflow's writes fail twice; the start tool's dry run (query dryRun=All) is spared.
    const failed = failPatches(h, 'flaky');
    const started = await startRollout(h, 'flaky');
    const done = await waitFor(h, started.operationId, terminal);
    h.kube.clearFailures();
    expect(done.status).toBe('completed');
    expect(dep('flaky')?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    const rs = h.kube.store.list('replicasets.apps', 'default').filter((r) => r.metadata?.name?.startsWith('flaky-'));
    expect(rs).toHaveLength(2);
    expect(failed()).toBe(2);
  });

  it('two concurrent starts on one target: exactly one runs', async () => {
    await deploy('race');
    const [a, b] = await Promise.all([
      h.call('delivery_rollouts_start', { name: 'race', image: 'nginx:1.27.0' }),
      h.call('delivery_rollouts_start', { name: 'race', image: 'nginx:1.27.1' }),
    ]);
    const winners = [a, b].filter((r) => !r.isError);
    const losers = [a, b].filter((r) => r.isError);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]?.data.runningOperationId).toBe(winners[0]?.data.operationId);
    await waitFor(h, String(winners[0]?.data.operationId), terminal);
  });

  describe('approvals', () => {
    beforeAll(async () => {
      await h.ok('k8s_resources_apply', {
        manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod-web }\n',
      });
    });

    it('a prod rollout waits; the requester cannot approve it; a second person can, and it continues', async () => {
      await deploy('api', 'prod-web');
      const started = await startRollout(h, 'api', { namespace: 'prod-web', reason: 'CVE fix' });
      expect(started).toMatchObject({ status: 'input_required', approvalRequired: true });
      await sleep(500);
      expect(image('api', 'prod-web')).toBe('nginx:1.25.3');
      // Alice holds write only; give her approve too, to show self-approval is refused by identity, not role.
      const aliceApprover = await h.as('alice', 'cloudops:write cloudops:approve');
      const own = await aliceApprover.call('ops_approvals_decide', {
        operationId: started.operationId,
        decision: 'approve',
        reason: 'looks fine',
      });
      expect(own.isError).toBe(true);
      expect(own.text).toContain('you requested this change');
      const pending = await bob.ok<{ items: Array<{ operationId: string; changeHash: string }> }>(
        'ops_approvals_list',
        {},
      );
      expect(pending.items.map((i) => i.operationId)).toContain(started.operationId);
      // An approver who reads only the text still sees the hash to pass to ops_approvals_decide.
      expect(pending._text).toContain(started.changeHash);
      const stale = await bob.call('ops_approvals_decide', {
        operationId: started.operationId,
        decision: 'approve',
        reason: 'looks ok',
        changeHash: 'f'.repeat(64),
      });
      // A hash that is not this approval's is the approver's mistake, reported as such.
      expect(stale.text).toContain(`changeHash ${'f'.repeat(64)} does not match this approval's change`);
      expect(stale.text).not.toContain('modified');
      await decide(bob, started, 'approve', 'reviewed the diff');
      const done = await waitFor(h, started.operationId, terminal);
      expect(done.status).toBe('completed');
      expect(image('api', 'prod-web')).toBe('nginx:1.27.0');
      const audit = await bob.ok<{ events: Array<{ tool: string; outcome: string; caller: { name: string } }> }>(
        'audit_events_list',
        { tool: 'ops_approvals_decide' },
      );
      expect(audit.events.map((e) => [e.caller.name, e.outcome])).toEqual(
        expect.arrayContaining([
          ['alice', 'error'],
          ['bob', 'ok'],
        ]),
      );
    });

    for (const tool of ['ops_operations_cancel', 'delivery_rollouts_abort'] as const) {
      it(`${tool} while it waits for approval: cancelled at once, approval closed, a late approve says why`, async () => {
        const name = `gated-${tool.split('_')[0]}`;
        await deploy(name, 'prod-web');
        const started = await startRollout(h, name, { namespace: 'prod-web' });
        expect(started.status).toBe('input_required');
        const cancelled = await h.ok<Op & { updatedAt: string }>(tool, { operationId: started.operationId });
        expect(cancelled.status).toBe('cancelled');
        expect(cancelled.statusMessage).toContain('before any change; nothing was changed');
        const pending = await bob.ok<{ items: Array<{ operationId: string }> }>('ops_approvals_list', {});
        expect(pending.items.map((i) => i.operationId)).not.toContain(started.operationId);
        const closedAt = String((await h.server.deps.approvals.get(started.operationId))?.closed?.at);
        expect(Date.parse(closedAt)).toBeLessThanOrEqual(Date.parse(cancelled.updatedAt));
        const late = await bob.call('ops_approvals_decide', {
          operationId: started.operationId,
          decision: 'approve',
          reason: 'too late',
          changeHash: started.changeHash,
        });
        expect(late.isError).toBe(true);
        expect(late.text).toBe(
          `the approval for ${started.operationId} was closed because operation ${started.operationId} was cancelled at ${closedAt}; nothing to decide`,
        );
        // Nothing was changed and the target is free.
        const after = await waitFor(h, started.operationId, terminal);
        expect(after).toMatchObject({ status: 'cancelled', statusMessage: cancelled.statusMessage });
        expect(image(name, 'prod-web')).toBe('nginx:1.25.3');
        expect(await h.server.deps.store.get(`lease#fake/prod-web/Deployment/${name}`, 'lease')).toBeUndefined();
      });
    }

    it('a rejection ends it without changes', async () => {
      await deploy('worker', 'prod-web');
      const started = await startRollout(h, 'worker', { namespace: 'prod-web' });
      await decide(bob, { operationId: started.operationId }, 'reject', 'change freeze');
      const done = await waitFor(h, started.operationId, terminal);
      expect(done.status).toBe('cancelled');
      expect(done.statusMessage).toContain('rejected by bob: change freeze; nothing was changed');
      expect(image('worker', 'prod-web')).toBe('nginx:1.25.3');
      expect(dep('worker', 'prod-web')?.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    });

    it('an approval nobody gives ends it unchanged at the deadline, and frees the target', async () => {
      const deps = h.server.deps;
      await deploy('waiter', 'prod-web');
      const started = await startRollout(h, 'waiter', { namespace: 'prod-web' });
      await passDeadline(deps, started.operationId);
      const done = await waitFor(h, started.operationId, terminal);
      expect(done.status).toBe('cancelled');
      expect(done.statusMessage).toContain('expired');
      expect(done.statusMessage).toContain('nothing was changed');
      expect(image('waiter', 'prod-web')).toBe('nginx:1.25.3');
      expect(await deps.store.get('lease#fake/prod-web/Deployment/waiter', 'lease')).toBeUndefined();
    });

    it('a start that fails after taking the lease releases it', async () => {
      const deps = h.server.deps;
      await deploy('leaky', 'prod-web');
      const realRequest = deps.approvals.request.bind(deps.approvals);
      deps.approvals.request = async () => {
        throw new Error('approval store unavailable');
      };
      try {
        const failed = await h.call('delivery_rollouts_start', {
          name: 'leaky',
          namespace: 'prod-web',
          image: 'nginx:1.27.0',
        });
        expect(failed.isError).toBe(true);
      } finally {
        deps.approvals.request = realRequest;
      }
      expect(await deps.store.get('lease#fake/prod-web/Deployment/leaky', 'lease')).toBeUndefined();
      const again = await h.call('delivery_rollouts_start', {
        name: 'leaky',
        namespace: 'prod-web',
        image: 'nginx:1.27.0',
      });
      expect(again.isError).toBe(false);
      await decide(bob, { operationId: String(again.data.operationId) }, 'reject', 'test done');
      await waitFor(h, String(again.data.operationId), terminal);
    });

    it('a template change made while it waited for approval is not reverted: it ends unchanged', async () => {
      await deploy('drifty', 'prod-web');
      const started = await startRollout(h, 'drifty', { namespace: 'prod-web' });
      await h.ok('k8s_resources_patch', {
        kind: 'Deployment',
        name: 'drifty',
        namespace: 'prod-web',
        patchType: 'json',
        patch: JSON.stringify([
          { op: 'add', path: '/spec/template/spec/containers/0/env', value: [{ name: 'HOTFIX', value: '1' }] },
        ]),
      });
      await decide(bob, started, 'approve', 'reviewed');
      const done = await waitFor(h, started.operationId, terminal);
      expect(done.status).toBe('failed');
      expect(done.statusMessage).toContain('changed while this rollout waited for approval');
      expect(done.statusMessage).toContain('nothing was changed');
      const live = dep('drifty', 'prod-web') as unknown as {
        spec: { template: { spec: { containers: Array<{ image: string; env?: unknown[] }> } } };
      };
      expect(live.spec.template.spec.containers[0]).toMatchObject({
        image: 'nginx:1.25.3',
        env: [{ name: 'HOTFIX', value: '1' }],
      });
      expect(await h.server.deps.store.get('lease#fake/prod-web/Deployment/drifty', 'lease')).toBeUndefined();
    });

    it('an operation is invisible to another operator', async () => {
      const ops = await h.ok<{ items: Array<{ operationId: string }> }>('ops_operations_list', {});
      const carol = await h.as('carol', 'cloudops:write');
      const seen = await carol.call('ops_operations_get', { operationId: ops.items[0]?.operationId as string });
      expect(seen.isError).toBe(true);
      expect(seen.text).toContain('no operation');
      expect((await carol.ok<{ count: number }>('ops_operations_list', {})).count).toBe(0);
    });
  });
});

describe('a rollout as an MCP task, both eras', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LOCAL_WORKFLOW_WAIT_MS: '100' }, { auth: true, readyDelayMs: 100 });
    for (const name of ['task-legacy', 'task-modern']) {
      await h.ok('k8s_resources_apply', { manifest: deploymentYaml(name, 'nginx:1.25.3', { replicas: 2 }) });
      await h.ok('k8s_rollouts_status', { name, waitSeconds: 20 });
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('2025-11-25: tools/call with params.task creates the task; tasks/get follows it; tasks/result has the outcome', async () => {
    const alice = await h.as('alice', 'cloudops:write', 'legacy');
    const session = createTaskSessionFromClient(alice.client, { endpointId: 'rollout-legacy' });
    try {
      const execution = await session.callTool(
        'delivery_rollouts_start',
        { name: 'task-legacy', image: 'nginx:1.27.0' },
        { task: { preference: 'prefer' } },
      );
      expect(execution.kind).toBe('task');
      const { outcome } = await execution.settle();
      expect(outcome.status).toBe('completed');
      const result = resultFromTaskOutcome(outcome) as unknown as {
        structuredContent: { status: string; steps: Array<{ status: string }> };
      };
      expect(result.structuredContent).toMatchObject({
        status: 'completed',
        steps: [{ name: 'rolling update', status: 'done' }],
      });
    } finally {
      await session.close();
    }
  });

  it('2026-07-28 tasks extension: resultType task, polled with tasks/get until the result is inline', async () => {
    const token = await h.issuer?.token({ sub: 'alice', scope: 'cloudops:write', name: 'alice' });
    const alice = await h.as('alice', 'cloudops:write', 'modern');
    const session: TaskEnabledSession = createTaskSessionFromClient(alice.client, {
      endpointId: 'rollout-modern',
      rawDispatch: fetchDispatch(h.server.url, token as string),
      v2RequestFraming: {
        protocolVersion: '2026-07-28',
        clientInfo: { name: 'rollout-test', version: '1' },
        clientCapabilities: {},
      },
    });
    try {
      const execution = await session.callTool('delivery_rollouts_start', {
        name: 'task-modern',
        image: 'example/crashloop:3',
      });
      expect(execution.kind).toBe('task');
      const { outcome } = await execution.settle();
      // A rolled-back rollout is a tool-level failure: a completed task whose result is an error.
      expect(outcome.status).toBe('completed');
      const result = resultFromTaskOutcome(outcome) as unknown as {
        isError?: boolean;
        structuredContent: { status: string };
      };
      expect(result.isError).toBe(true);
      expect(result.structuredContent.status).toBe('failed');
    } finally {
      await session.close();
    }
    expect(
      (h.kube.store.get('deployments.apps', 'default', 'task-modern') as unknown as Dep).spec.template.spec
        .containers[0]?.image,
    ).toBe('nginx:1.25.3');
  });
});

describe('metric gates against a Prometheus HTTP API on loopback', () => {
  let h: Harness;
  let prom: Server;
  let mode: 'ok' | 'bad' | 'down' = 'ok';
  const queries: string[] = [];

  beforeAll(async () => {
    prom = createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      queries.push(q);
      if (mode === 'down') {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'error', error: 'overloaded' }));
        return;
      }
      const value = mode === 'ok' ? '0.1' : '5';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, value] }] },
        }),
      );
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
    h = await startHarness({ LOCAL_WORKFLOW_WAIT_MS: '100', PROMETHEUS_URL: url }, { readyDelayMs: 100 });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((r) => prom.close(() => r()));
  });

  const gates = {
    metrics: [
      { name: 'error-rate', query: 'sum(rate(errors[1m]))', op: '<', threshold: 1, intervalSeconds: 1, count: 2 },
    ],
  };

  async function rollout(name: string) {
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml(name, 'nginx:1.25.3', { replicas: 1 }) });
    await h.ok('k8s_rollouts_status', { name, waitSeconds: 20 });
    return startRollout(h, name, { gates });
  }

  it('the plan says whether each metric can be evaluated', async () => {
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml('metered', 'nginx:1.25.3', { replicas: 1 }) });
    const plan = await h.ok<{ gates: { metrics: Array<{ name: string; evaluable: boolean; currentValue?: number }> } }>(
      'delivery_rollouts_plan',
      {
        name: 'metered',
        image: 'nginx:1.27.0',
        gates,
      },
    );
    expect(plan.gates.metrics).toEqual([{ name: 'error-rate', evaluable: true, currentValue: 0.1 }]);
  });

  it('healthy metrics: completes after the required measurements', async () => {
    mode = 'ok';
    const started = await rollout('metric-ok');
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    const m = (done.steps[0]?.measurements as { metrics: Array<{ values: unknown[] }> } | undefined)?.metrics[0];
    expect(m?.values.length).toBeGreaterThanOrEqual(2);
    expect(queries).toContain('sum(rate(errors[1m]))');
  });

  it('a failing metric rolls the rollout back', async () => {
    mode = 'bad';
    const started = await rollout('metric-bad');
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('failed');
    expect(done.statusMessage).toContain('metric gate failed: error-rate=5');
    expect(
      (h.kube.store.get('deployments.apps', 'default', 'metric-bad') as unknown as Dep).spec.template.spec.containers[0]
        ?.image,
    ).toBe('nginx:1.25.3');
  });

  it('an unavailable Prometheus makes the gate inconclusive: it pauses for a human, who can promote', async () => {
    mode = 'down';
    const started = await rollout('metric-down');
    const paused = await waitFor(h, started.operationId, pausedForInput);
    expect(paused.progress.pausedFor).toBe('gate');
    expect(paused.statusMessage).toContain('metric gate inconclusive');
    await h.ok('delivery_rollouts_promote', { operationId: started.operationId });
    const done = await waitFor(h, started.operationId, terminal);
    expect(done.status).toBe('completed');
    expect(done.steps[0]?.detail).toContain('gate accepted by');
  });
});
