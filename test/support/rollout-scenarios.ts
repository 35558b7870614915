/**
 * What the rollout tests share (test/integration/rollouts*.test.ts): the operation and Deployment
 * shapes they read, waiting for an operation, and the steps their scenarios are made of, each over
 * one harness (the local engine's, or one per engine).
 */
import type { Caller, Harness } from './k8s-harness.ts';
import { deploymentYaml } from './k8s-harness.ts';

export type Op = {
  operationId: string;
  status: string;
  statusMessage: string;
  steps: Array<{ name: string; status: string; detail?: string; measurements?: Record<string, unknown> }>;
  result?: Record<string, unknown>;
  progress: { pausedFor?: string; nextActions: string[] };
};

export type Dep = {
  spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
  metadata: { annotations: Record<string, string> };
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const terminal = (op: Op) => ['completed', 'failed', 'cancelled'].includes(op.status);

export const pausedForInput = (op: Op) => op.status === 'input_required';

/** Polls ops_operations_get until `until` holds; throws with the last status after `timeoutMs`. */
export async function waitFor(
  c: Caller,
  operationId: string,
  until: (op: Op) => boolean,
  timeoutMs = 30_000,
  pollMs = 100,
): Promise<Op> {
  const end = Date.now() + timeoutMs;
  let op: Op | undefined;
  while (Date.now() < end) {
    op = await c.ok<Op>('ops_operations_get', { operationId });
    if (until(op)) return op;
    await sleep(pollMs);
  }
  throw new Error(`operation ${operationId} still ${op?.status}: ${op?.statusMessage}`);
}

/**
 * The workloads of the harness `harness()` returns (assigned in beforeAll, hence a getter): read
 * from the fake API server's store, and deployed ready at nginx:1.25.3 before a scenario starts.
 */
export function workloads(harness: () => Harness) {
  const dep = (name: string, ns = 'default') =>
    harness().kube.store.get('deployments.apps', ns, name) as unknown as Dep | undefined;
  const image = (name: string, ns = 'default') => dep(name, ns)?.spec.template.spec.containers[0]?.image;
  async function deploy(name: string, ns = 'default', replicas = 2) {
    const h = harness();
    await h.ok('k8s_resources_apply', { manifest: deploymentYaml(name, 'nginx:1.25.3', { namespace: ns, replicas }) });
    await h.ok('k8s_rollouts_status', { name, namespace: ns, waitSeconds: 20 });
  }
  return { dep, image, deploy };
}

/** A Service named after its app, selecting `selector` (default: app=<name>). */
export function serviceYaml(name: string, selector = `app: ${name}`): string {
  return `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec: { selector: { ${selector} }, ports: [{ port: 80 }] }\n`;
}

/** What delivery_rollouts_start answers: the operation, and whether (and for which change) it waits for approval. */
export type Started = Op & { approvalRequired: boolean; changeHash: string };

/** Starts a rollout of Deployment `name` to nginx:1.27.0 (rolling, in the default namespace unless `more` says). */
export function startRollout(h: Caller, name: string, more: Record<string, unknown> = {}): Promise<Started> {
  return h.ok<Started>('delivery_rollouts_start', { name, image: 'nginx:1.27.0', ...more });
}

/** Starts a canary to nginx:1.27.0 that goes to `steps` percent and pauses after each of `pauseAfter`. */
export function startCanary(h: Caller, name: string, steps: number[], pauseAfter: number[]): Promise<Started> {
  return startRollout(h, name, { strategy: 'canary', steps, pauseAfter });
}

/**
 * Makes the workflow's next `times` PATCHes of Deployment `name` fail with a 500, as an overloaded
 * API server would; the start tool's dry run (query dryRun=All) is spared. Returns a count of the
 * failed ones seen so far.
 */
export function failPatches(h: Harness, name: string, times = 2): () => number {
  const path = `/deployments/${name}`;
  h.kube.injectFailure({
    method: 'PATCH',
    pathPattern: new RegExp(`${path}$`),
    queryPattern: /^(?!.*dryRun)/,
    status: 500,
    times,
    message: 'etcdserver: request timed out',
  });
  return () => h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(path) && r.status === 500).length;
}

/** An approver's decision on a waiting rollout, pinned to the change it was shown. */
export function decide(
  approver: Caller,
  started: { operationId: string; changeHash?: string },
  decision: 'approve' | 'reject',
  reason: string,
) {
  return approver.ok('ops_approvals_decide', {
    operationId: started.operationId,
    decision,
    reason,
    ...(started.changeHash ? { changeHash: started.changeHash } : {}),
  });
}
