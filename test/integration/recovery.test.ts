import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import type { Operation } from '../../shared/app/repos/operations.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { deploymentYaml } from '../support/k8s-harness.ts';
import { connectClient, structured } from '../support/mcp-client.ts';

type Dep = { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } };

describe('a restart of the local host (embedded store) while a rollout runs', () => {
  let kube: FakeKube;
  let dataDir: string;
  let env: Record<string, string>;
  const dep = (name: string) => kube.store.get('deployments.apps', 'default', name) as unknown as Dep | undefined;

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 100 });
    dataDir = mkdtempSync(join(tmpdir(), 'cloudops-recovery-'));
    env = {
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      KUBECONFIG: kube.kubeconfigPath,
      K8S_TIMEOUT_MS: '3000',
      LOCAL_WORKFLOW_WAIT_MS: '100',
    };
  });
  afterAll(async () => {
    await kube?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(server: LocalServer, name: string, args: Record<string, unknown>) {
    const client = await connectClient(server.url, 'modern');
    try {
      return structured<Record<string, unknown>>(await client.callTool({ name, arguments: args }));
    } finally {
      await client.close();
    }
  }

  async function until(server: LocalServer, id: string, ok: (op: Operation) => boolean): Promise<Operation> {
    const end = Date.now() + 20_000;
    for (;;) {
      const op = await server.deps.operations.require(id);
      if (ok(op)) return op;
      if (Date.now() > end) throw new Error(`operation ${id} is still ${op.status}: ${op.statusMessage}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('rolls back what the interrupted rollout changed, ends it failed with the reason, and frees the target', async () => {
    const first = await startLocalServer(env);
    let operationId: string;
    try {
      await call(first, 'k8s_resources_apply', { manifest: deploymentYaml('shop', 'nginx:1.25.3', { replicas: 4 }) });
      await call(first, 'k8s_rollouts_status', { name: 'shop', waitSeconds: 20 });
      const started = await call(first, 'delivery_rollouts_start', {
        name: 'shop',
        image: 'nginx:1.27.0',
        strategy: 'canary',
        steps: [50, 100],
        pauseAfter: [50],
      });
      operationId = String(started.operationId);
      await until(first, operationId, (op) => op.status === 'input_required');
      expect(dep('shop-canary')?.spec.replicas).toBe(2);
      expect(dep('shop')?.spec.replicas).toBe(2);
    } finally {
      await first.close();
    }

    const second = await startLocalServer(env);
    try {
      await second.recovery;
      const op = await second.deps.operations.require(operationId);
      expect(op.status).toBe('failed');
      expect(op.statusMessage).toContain('HostRestarted: the server that ran this operation stopped');
      expect(op.result).toMatchObject({ rolledBack: true, restored: expect.arrayContaining(['canary removed']) });
      expect(dep('shop-canary')).toBeUndefined();
      expect(dep('shop')?.spec.replicas).toBe(4);
      expect(dep('shop')?.spec.template.spec.containers[0]?.image).toBe('nginx:1.25.3');

      // The lease went with it: the same rollout can start again at once, and completes.
      const again = await call(second, 'delivery_rollouts_start', {
        name: 'shop',
        image: 'nginx:1.27.0',
        strategy: 'rolling',
      });
      const done = await until(
        second,
        String(again.operationId),
        (o) => o.status === 'completed' || o.status === 'failed',
      );
      expect(done.status).toBe('completed');
    } finally {
      await second.close();
    }

    // A third start finds nothing left to recover.
    const third = await startLocalServer(env);
    try {
      await third.recovery;
      expect((await third.deps.operations.require(operationId)).statusMessage).toContain('HostRestarted');
    } finally {
      await third.close();
    }
  });

  it('a rollout waiting for approval when the host stopped ends with its approval closed; deciding it says why', async () => {
    const first = await startLocalServer(env);
    let operationId: string;
    try {
      await call(first, 'k8s_resources_apply', {
        manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: prod-rec }\n',
      });
      await call(first, 'k8s_resources_apply', {
        manifest: deploymentYaml('gated', 'nginx:1.25.3', { namespace: 'prod-rec', replicas: 2 }),
      });
      const started = await call(first, 'delivery_rollouts_start', {
        name: 'gated',
        namespace: 'prod-rec',
        image: 'nginx:1.27.0',
      });
      expect(started).toMatchObject({ status: 'input_required', approvalRequired: true });
      operationId = String(started.operationId);
      expect((await first.deps.approvals.get(operationId))?.status).toBe('pending');
    } finally {
      await first.close();
    }

    const second = await startLocalServer(env);
    try {
      await second.recovery;
      const op = await second.deps.operations.require(operationId);
      expect(op.status).toBe('failed');
      expect(await second.deps.approvals.get(operationId)).toMatchObject({
        status: 'closed',
        closed: { operationStatus: 'failed', at: op.updatedAt },
      });
      expect((await second.deps.approvals.list({ status: 'pending', limit: 50 })).items).toEqual([]);
      const client = await connectClient(second.url, 'modern');
      try {
        const r = (await client.callTool({
          name: 'ops_approvals_decide',
          arguments: { operationId, decision: 'approve', reason: 'after the restart' },
        })) as { isError?: boolean; content: Array<{ text: string }> };
        expect(r.isError).toBe(true);
        expect(r.content[0]?.text).toBe(
          `the approval for ${operationId} was closed because operation ${operationId} was failed at ${op.updatedAt}; nothing to decide`,
        );
      } finally {
        await client.close();
      }
      expect(dep('gated')).toBeUndefined();
      const gated = kube.store.get('deployments.apps', 'prod-rec', 'gated') as unknown as Dep;
      expect(gated.spec.template.spec.containers[0]?.image).toBe('nginx:1.25.3');
    } finally {
      await second.close();
    }
  });

  it('a restart while the API server is down leaves the rollback incomplete; a later start finishes it', async () => {
    const first = await startLocalServer(env);
    let operationId: string;
    try {
      await call(first, 'k8s_resources_apply', { manifest: deploymentYaml('cart', 'nginx:1.25.3', { replicas: 4 }) });
      await call(first, 'k8s_rollouts_status', { name: 'cart', waitSeconds: 20 });
      const started = await call(first, 'delivery_rollouts_start', {
        name: 'cart',
        image: 'nginx:1.27.0',
        strategy: 'canary',
        steps: [50, 100],
        pauseAfter: [50],
      });
      operationId = String(started.operationId);
      await until(first, operationId, (op) => op.status === 'input_required');
      expect(dep('cart-canary')?.spec.replicas).toBe(2);
    } finally {
      await first.close();
    }

    kube.injectFailure({ status: 503, times: Number.POSITIVE_INFINITY, message: 'apiserver restarting' });
    const second = await startLocalServer(env);
    try {
      await second.recovery;
      const op = await second.deps.operations.require(operationId);
      expect(op.status).toBe('failed');
      expect(op.statusMessage).toMatch(/^rollback incomplete: /);
      expect(op.statusMessage).toContain('canary');
      expect(op.rollback).toMatchObject({ state: 'incomplete', attempts: 1 });
      expect(op.result).toMatchObject({ rolledBack: false, reason: expect.stringMatching(/^HostRestarted: /) });
      // The target stays held while it is half restored: with the API server back, a new rollout is refused.
      kube.clearFailures();
      const seen = await call(second, 'ops_operations_get', { operationId });
      expect(seen).toMatchObject({ status: 'failed', rollback: { state: 'incomplete', attempts: 1 } });
      const refused = await call(second, 'delivery_rollouts_start', { name: 'cart', image: 'nginx:1.27.1' }).catch(
        (e: Error) => e.message,
      );
      expect(String(refused)).toContain(`Another operation (${operationId})`);
    } finally {
      await second.close();
      kube.clearFailures();
    }
    expect(dep('cart-canary')?.spec.replicas).toBe(2);

    const third = await startLocalServer(env);
    try {
      await third.recovery;
      const op = await third.deps.operations.require(operationId);
      expect(op.statusMessage).toMatch(/^rollback completed on retry 2 at \d{4}-/);
      expect(dep('cart-canary')).toBeUndefined();
      expect(dep('cart')?.spec.replicas).toBe(4);
      expect(dep('cart')?.spec.template.spec.containers[0]?.image).toBe('nginx:1.25.3');
      expect(await third.deps.store.get('lease#fake/default/Deployment/cart', 'lease')).toBeUndefined();
    } finally {
      await third.close();
    }
  });
});
