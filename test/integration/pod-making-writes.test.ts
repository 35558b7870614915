import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../shared/domain/guardrails/index.ts';
import type { KubeObject } from '../support/fake-kube/index.ts';
import { type Caller, deploymentYaml, type Harness, startHarness } from '../support/k8s-harness.ts';

/**
 * Every write that makes pods judges the pods it makes, whoever wrote their template and whenever:
 * a Deployment made privileged before the policy existed (seeded straight into the fake API server,
 * past every guardrail) cannot be scaled up, restarted, rolled back to, or rolled out from, while the
 * same verbs on an allowed template still work, and scaling down (to 0 included) stays allowed.
 */
const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } };
const template = (name: string, privileged: boolean, image = 'nginx:1.25.3') => ({
  metadata: { labels: { app: name } },
  spec: {
    containers: [{ name: 'app', image, resources, ...(privileged ? { securityContext: { privileged: true } } : {}) }],
  },
});

type Op = { operationId: string; status: string; statusMessage: string; result?: Record<string, unknown> };

describe('writes that make pods judge the pods they make', () => {
  let h: Harness;
  let bob: Caller;
  const seed = (name: string, opts: { privileged: boolean; replicas: number; namespace?: string }): KubeObject =>
    h.kube.store.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: opts.namespace ?? 'default', labels: { app: name } },
      spec: {
        replicas: opts.replicas,
        selector: { matchLabels: { app: name } },
        template: template(name, opts.privileged),
      },
    } as unknown as KubeObject);
  const dep = (name: string, ns = 'default') =>
    h.kube.store.get('deployments.apps', ns, name) as unknown as {
      spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> }; spec: unknown } };
    };
  const refusedFor = (r: { isError: boolean; text: string; data: Record<string, unknown> }, rule: string) => {
    expect(r.isError, r.text).toBe(true);
    expect(r.text).toContain('refused by guardrails');
    expect(r.text).toContain(rule);
    expect(r.text).toContain('Nothing was changed');
    expect(r.data.findings).toContainEqual(expect.objectContaining({ ruleId: rule, mode: 'enforce' }));
  };

  beforeAll(async () => {
    h = await startHarness({ LOCAL_WORKFLOW_WAIT_MS: '100' }, { auth: true, readyDelayMs: 50 });
    bob = await h.as('bob', 'cloudops:approve cloudops:read');
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('k8s_workloads_scale', () => {
    for (const [from, to] of [
      [0, 3],
      [0, 1],
      [1, 4],
    ] as const) {
      it(`refuses ${from} -> ${to} replicas of a privileged template, naming the rule; allows it for an allowed one`, async () => {
        seed(`priv-${from}-${to}`, { privileged: true, replicas: from });
        seed(`ok-${from}-${to}`, { privileged: false, replicas: from });
        for (const dryRun of [true, false]) {
          const r = await h.call('k8s_workloads_scale', { name: `priv-${from}-${to}`, replicas: to, dryRun });
          refusedFor(r, 'pss-baseline/privileged');
        }
        expect(dep(`priv-${from}-${to}`).spec.replicas).toBe(from);
        const ok = await h.ok<{ from: number; to: number }>('k8s_workloads_scale', {
          name: `ok-${from}-${to}`,
          replicas: to,
        });
        expect(ok).toMatchObject({ from, to });
        expect(dep(`ok-${from}-${to}`).spec.replicas).toBe(to);
      });
    }

    it('scaling a privileged template down, to 0 included, makes no pods and stays allowed', async () => {
      seed('priv-down', { privileged: true, replicas: 3 });
      const down = await h.ok<{ from: number; to: number }>('k8s_workloads_scale', { name: 'priv-down', replicas: 1 });
      expect(down).toMatchObject({ from: 3, to: 1 });
      const zero = await h.ok<{ from: number; to: number }>('k8s_workloads_scale', { name: 'priv-down', replicas: 0 });
      expect(zero).toMatchObject({ from: 1, to: 0 });
      expect(dep('priv-down').spec.replicas).toBe(0);
      // And from 0 back up is refused again.
      refusedFor(await h.call('k8s_workloads_scale', { name: 'priv-down', replicas: 2 }), 'pss-baseline/privileged');
    });
  });

  describe('k8s_rollouts_restart', () => {
    it('refuses to restart a privileged template, naming the rule; restarts an allowed one', async () => {
      seed('priv-restart', { privileged: true, replicas: 0 });
      seed('ok-restart', { privileged: false, replicas: 0 });
      for (const dryRun of [true, false]) {
        refusedFor(await h.call('k8s_rollouts_restart', { name: 'priv-restart', dryRun }), 'pss-baseline/privileged');
      }
      expect(dep('priv-restart').spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(
        undefined,
      );
      await h.ok('k8s_rollouts_restart', { name: 'ok-restart' });
      expect(dep('ok-restart').spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    });
  });

  describe('k8s_rollouts_undo', () => {
    /** A Deployment at revision 2 (allowed) whose revision 1 ReplicaSet holds `old`'s template. */
    const history = (name: string, oldPrivileged: boolean) => {
      const d = h.kube.store.put({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name,
          namespace: 'default',
          labels: { app: name },
          annotations: { 'deployment.kubernetes.io/revision': '2' },
        },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: name } },
          template: template(name, false, 'nginx:1.27.0'),
        },
      } as unknown as KubeObject);
      for (const [rev, tpl] of [
        [1, template(name, oldPrivileged)],
        [2, template(name, false, 'nginx:1.27.0')],
      ] as const) {
        h.kube.store.put({
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${name}-rev${rev}`,
            namespace: 'default',
            labels: { app: name },
            annotations: { 'deployment.kubernetes.io/revision': String(rev) },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid as string, controller: true },
            ],
          },
          spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: tpl },
        } as unknown as KubeObject);
      }
    };

    it('refuses to restore a privileged template, naming the rule; restores an allowed one', async () => {
      history('priv-undo', true);
      history('ok-undo', false);
      refusedFor(await h.call('k8s_rollouts_undo', { name: 'priv-undo' }), 'pss-baseline/privileged');
      expect(JSON.stringify(dep('priv-undo').spec.template)).not.toContain('privileged');
      const ok = await h.ok<{ toRevision: number }>('k8s_rollouts_undo', { name: 'ok-undo' });
      expect(ok.toRevision).toBe(1);
      expect(JSON.stringify(dep('ok-undo').spec.template)).toContain('nginx:1.25.3');
    });
  });

  describe('delivery_rollouts_start', () => {
    const waitFor = async (operationId: string): Promise<Op> => {
      // Bounded wait on a condition (the operation ends), not on time.
      for (let i = 0; i < 400; i++) {
        const op = await h.ok<Op>('ops_operations_get', { operationId });
        if (['completed', 'failed', 'cancelled'].includes(op.status)) return op;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`operation ${operationId} did not end`);
    };

    it('refuses a rollout from a privileged live template, naming the rule', async () => {
      seed('priv-rollout', { privileged: true, replicas: 0 });
      const r = await h.call('delivery_rollouts_start', { name: 'priv-rollout', image: 'nginx:1.27.0' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('pss-baseline/privileged');
      expect(JSON.stringify(dep('priv-rollout').spec.template)).toContain('nginx:1.25.3');
    });

    /**
     * Approved hours later, under a policy that changed meanwhile: the step that writes the template
     * judges it again against the policy as it is then, and refuses (nothing applied), while the same
     * rollout under a policy that still allows it completes.
     */
    for (const forbidden of [true, false]) {
      it(`a rollout approved after the policy changed ${forbidden ? 'is refused when it now forbids the pods' : 'completes when it still allows them'}`, async () => {
        await h.ok('k8s_resources_apply', {
          manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod-pods }\n',
        });
        const name = forbidden ? 'later-refused' : 'later-allowed';
        await h.ok('k8s_resources_apply', {
          manifest: deploymentYaml(name, 'nginx:1.25.3', { namespace: 'prod-pods', replicas: 1 }),
        });
        await h.ok('k8s_rollouts_status', { name, namespace: 'prod-pods', waitSeconds: 20 });
        const started = await h.ok<Op & { changeHash: string }>('delivery_rollouts_start', {
          name,
          namespace: 'prod-pods',
          image: 'nginx:1.27.0',
        });
        expect(started.status).toBe('input_required');
        const deps = h.server.deps;
        const before = deps.policy;
        // Restricted: the template sets no runAsNonRoot, so its pods are now forbidden.
        deps.policy = parsePolicy(forbidden ? 'podSecurity: restricted\n' : 'mode: enforce\n');
        try {
          await bob.ok('ops_approvals_decide', {
            operationId: started.operationId,
            decision: 'approve',
            reason: 'reviewed',
            changeHash: started.changeHash,
          });
          const done = await waitFor(started.operationId);
          const image = (dep(name, 'prod-pods').spec.template.spec as { containers: Array<{ image: string }> })
            .containers[0]?.image;
          if (forbidden) {
            expect(done.status).toBe('failed');
            expect(done.statusMessage).toContain('pss-restricted/run-as-non-root');
            expect(done.statusMessage).toContain('the new template');
            expect(image).toBe('nginx:1.25.3');
          } else {
            expect(done.status, done.statusMessage).toBe('completed');
            expect(image).toBe('nginx:1.27.0');
          }
        } finally {
          deps.policy = before;
        }
      });
    }
  });
});
