import * as z from 'zod';
import type { Deps } from '../app/deps.ts';
import { liveOrUndefined, replicaSetsOf, type Target } from '../app/k8s/objects.ts';
import type { Operation, OperationStep } from '../app/repos/operations.ts';
import { isTerminal, Leases } from '../app/repos/operations.ts';
import { evaluateWrite } from '../domain/guardrails/index.ts';
import { canonicalJson, labelSelector } from '../domain/k8s/index.ts';
import {
  canaryReplicas,
  compare,
  evaluateHealth,
  evaluateMetric,
  type GateVerdict,
  type MetricRecord,
  type PlanStep,
  ROLLOUT_LIMITS,
  recordMeasurement,
  templateHash,
} from '../domain/rollout-plan.ts';
import { isOwnedBy, rollbackRetryDelayMs } from '../domain/rollouts.ts';
import type { KubeClient, KubeObject, ResourceInfo } from '../ports/kube.ts';
import { KubeApiError } from '../ports/kube.ts';
import { MetricQueryError } from '../ports/metrics.ts';
import {
  CorruptOperationError,
  type RolloutOpPlan,
  type RolloutSnapshot,
  rolloutRecord,
  rolloutRecordOrUndefined,
} from './rollout-record.ts';
import { InvalidStepInputError, type StepHandler, TransientStepError } from './step-contract.ts';

export type { RolloutOpPlan, RolloutSnapshot };

/** Annotation on the pod template that marks which operation's change it carries. */
export const CHANGE_ANNOTATION = 'cloudops.dev/change';
export const TRACK_LABEL = 'cloudops.dev/track';

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

class AbortRequested extends Error {
  override name = 'AbortRequested';
}

/** Kubernetes failures worth a retry become TransientError, which the ASL retries; others go to rollback. */
async function k<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 0 || err.status === 429 || err.status >= 500)) {
      throw new TransientStepError(err.message);
    }
    throw err;
  }
}

const now = (deps: Deps) => new Date(deps.clock.now()).toISOString();

/** What every step that touches the cluster works with, loaded once per step call (loadContext). */
interface Ctx {
  deps: Deps;
  op: Operation;
  /** The operation's plan and snapshot, validated on read. */
  plan: RolloutOpPlan;
  snapshot?: RolloutSnapshot;
  client: KubeClient;
  /** The operation's cluster, its namespace as the default one (for the app's object reads). */
  target: Target;
  deployments: ResourceInfo;
  replicaSets: ResourceInfo;
  pods: ResourceInfo;
  services: ResourceInfo;
}

const StepInput = z.looseObject({ operationId: z.string().min(1).max(200) });

/** The operation a task names; a task whose input has none is a definition bug, not worth a retry. */
function operationIdOf(input: Obj): string {
  const r = StepInput.safeParse(input);
  if (!r.success) throw new InvalidStepInputError('the step input has no operationId (a string of 1-200 characters)');
  return r.data.operationId;
}

/**
 * The clusters as the operation's requester sees them: with K8S_IMPERSONATE every step (the
 * rollback too) impersonates the caller who started the rollout, so the cluster's RBAC decides as it
 * did for the tool call. An operation recorded without roles impersonates the subject with no group.
 */
export function requesterClusters(deps: Pick<Deps, 'clusters'>, op: Pick<Operation, 'requester'>): Deps['clusters'] {
  const r = op.requester;
  return (
    deps.clusters.forCaller?.({
      subject: r.subject,
      name: r.name,
      roles: r.roles ?? [],
      method: r.method ?? 'oauth',
    }) ?? deps.clusters
  );
}

/** The cluster side of a step's context, for an operation already read. */
async function withCluster(deps: Deps, op: Operation): Promise<Ctx> {
  const client = await requesterClusters(deps, op).client(op.target.cluster);
  const [deployments, replicaSets, pods, services] = await k(() =>
    Promise.all([
      client.resolve('Deployment', 'apps/v1'),
      client.resolve('ReplicaSet', 'apps/v1'),
      client.resolve('Pod', 'v1'),
      client.resolve('Service', 'v1'),
    ]),
  );
  const target: Target = { client, cluster: client.cluster, defaultNamespace: op.target.namespace };
  return { deps, op, ...rolloutRecord(op), client, target, deployments, replicaSets, pods, services };
}

/** One read of the operation (its plan and snapshot validated) and the cluster client, per step call. */
export async function loadContext(operationId: string, deps: Deps): Promise<Ctx> {
  return withCluster(deps, await deps.operations.require(operationId));
}

/** The snapshot the prepare step took; a step past prepare without one has a corrupt record. */
function snapshotOf(c: Ctx): RolloutSnapshot {
  if (!c.snapshot) throw new CorruptOperationError(`operation ${c.op.id} has no snapshot, so prepare never ran for it`);
  return c.snapshot;
}

const canaryName = (op: Operation) => `${op.target.name}-canary`;
const greenName = (op: Operation) => `${op.target.name}-green`;

/** When the waiting steps end the operation themselves, well before the execution's TimeoutSeconds. */
export function deadlineOf(op: Operation): number {
  return op.deadline ? Date.parse(op.deadline) : Date.parse(op.createdAt) + ROLLOUT_LIMITS.deadlineSeconds * 1000;
}

const pastDeadline = (deps: Deps, op: Operation) => deps.clock.now() >= deadlineOf(op);

function stepIndex(op: Operation): number {
  return op.progress.stepIndex ?? 0;
}

function currentStep(c: Ctx): PlanStep {
  return c.plan.steps[stepIndex(c.op)] as PlanStep;
}

async function update(c: Ctx, mutate: (op: Operation) => unknown): Promise<void> {
  c.op = await c.deps.operations.update(c.op.id, (o) => (mutate(o) === 'skip' ? 'skip' : undefined));
}

function setStep(op: Operation, index: number, patch: Partial<OperationStep>): void {
  const step = op.steps[index];
  if (step) Object.assign(step, patch);
}

async function release(deps: Deps, op: Operation): Promise<void> {
  if (op.lease) await deps.leases.release(op.lease, op.id);
}

function withChange(template: Obj, change: string): Obj {
  const t = structuredClone(template);
  const meta = rec(t.metadata);
  t.metadata = { ...meta, annotations: { ...rec(meta.annotations), [CHANGE_ANNOTATION]: change } };
  return t;
}

/** The ReplicaSet currently serving a Deployment (the one at its revision) and its pod-template-hash. */
async function currentReplicaSet(c: Ctx, deployment: KubeObject): Promise<{ rs?: KubeObject; hash?: string }> {
  const items = await k(() => replicaSetsOf(c.target, deployment, c.op.target.namespace, c.replicaSets));
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const rs = items.find(
    (r) => isOwnedBy(r, deployment) && r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
  );
  const hash = rs?.metadata?.labels?.['pod-template-hash'];
  return { ...(rs ? { rs } : {}), ...(hash ? { hash } : {}) };
}

async function podsOf(c: Ctx, deployment: KubeObject): Promise<KubeObject[]> {
  const { hash } = await currentReplicaSet(c, deployment);
  if (!hash) return [];
  const labels = {
    ...(rec(rec(deployment.spec).selector).matchLabels as Record<string, string> | undefined),
    'pod-template-hash': hash,
  };
  const selector = labelSelector(labels);
  const list = await k(() =>
    c.client.list(c.pods, { namespace: c.op.target.namespace, labelSelector: selector, limit: 500 }),
  );
  return list.items;
}

function getOrUndefined(c: Ctx, res: ResourceInfo, name: string): Promise<KubeObject | undefined> {
  return k(() => liveOrUndefined(c.target, res, name, c.op.target.namespace));
}

async function deleteIfPresent(c: Ctx, res: ResourceInfo, name: string): Promise<void> {
  try {
    await k(() => c.client.delete(res, name, c.op.target.namespace, { propagationPolicy: 'Background' }));
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
  }
}

/** A second Deployment (canary or green) running the new template beside the original. */
function sidecarDeployment(c: Ctx, name: string, track: string, replicas: number): KubeObject {
  const selector = { ...snapshotOf(c).selector, [TRACK_LABEL]: track };
  const template = withChange(c.plan.template, c.op.changeHash);
  const meta = rec(template.metadata);
  template.metadata = { ...meta, labels: { ...rec(meta.labels), [TRACK_LABEL]: track } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: c.op.target.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cloudops-mcp', [TRACK_LABEL]: track },
      annotations: { 'cloudops.dev/operation': c.op.id },
    },
    spec: { replicas, selector: { matchLabels: selector }, template },
  };
}

function sameTemplate(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Points the Service at one ReplicaSet's pods: its original selector plus that pod-template-hash. */
async function pinService(c: Ctx, service: string, hash: string): Promise<void> {
  const selector = { ...(snapshotOf(c).serviceSelector ?? {}), 'pod-template-hash': hash };
  await k(() => c.client.patch(c.services, service, c.op.target.namespace, { spec: { selector } }, 'merge'));
}

/** Puts the Service's own selector back (a JSON patch replaces it whole: merge would keep pod-template-hash). */
async function restoreServiceSelector(c: Ctx): Promise<boolean> {
  const wanted = c.snapshot?.serviceSelector;
  const service = c.plan.service;
  if (!service || !wanted) return false;
  const svc = await getOrUndefined(c, c.services, service);
  if (!svc || sameTemplate(rec(rec(svc.spec).selector), wanted)) return false;
  await k(() =>
    c.client.patch(
      c.services,
      service,
      c.op.target.namespace,
      [{ op: 'replace', path: '/spec/selector', value: wanted }],
      'json',
    ),
  );
  return true;
}

async function setTemplate(c: Ctx, template: Obj, replicas?: number): Promise<void> {
  const ops: Array<Record<string, unknown>> = [{ op: 'replace', path: '/spec/template', value: template }];
  if (replicas !== undefined) ops.push({ op: 'replace', path: '/spec/replicas', value: replicas });
  await k(() => c.client.patch(c.deployments, c.op.target.name, c.op.target.namespace, ops, 'json'));
}

/** A step refused because the pods it would make break the guardrail policy as it is now. */
class PodsRefused extends Error {
  override name = 'PodsRefused';
}

/**
 * Judges the pods a step is about to make against the policy as it is now (it may have changed since
 * the rollout was requested and approved): throws PodsRefused, naming the rules, when it refuses.
 */
function judgePods(c: Ctx, workload: KubeObject, what: string): void {
  const verdict = evaluateWrite(
    {
      verb: 'apply',
      cluster: c.op.target.cluster,
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      namespaced: c.deployments.namespaced,
      namespace: c.op.target.namespace,
      ...(workload.metadata?.name ? { name: workload.metadata.name } : {}),
      object: workload,
    },
    c.deps.policy,
  );
  if (verdict.allowed) return;
  const rules = verdict.findings
    .filter((f) => f.mode === 'enforce')
    .map((f) => `${f.ruleId} (${f.message})`)
    .join('; ');
  throw new PodsRefused(`the guardrail policy refuses the pods ${what} would make: ${rules}`);
}

/** The target Deployment with `template` as its pod template: what the step would write. */
async function withTemplate(c: Ctx, template: Obj): Promise<KubeObject> {
  const live = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
  return { ...live, spec: { ...rec(live.spec), template } };
}

/**
 * Scales through the scale subresource, pinned to the Deployment as read: scaling up makes pods from
 * its current template, which is judged first (scaling down makes none). A change in between (409)
 * is retried as a transient failure, from a fresh read.
 */
async function scale(c: Ctx, name: string, replicas: number): Promise<void> {
  const live = await k(() => c.client.get(c.deployments, name, c.op.target.namespace));
  const current = Number(rec(live.spec).replicas ?? 0);
  if (replicas > current) judgePods(c, live, `scaling deployment ${name} to ${replicas}`);
  const rv = live.metadata?.resourceVersion;
  try {
    await k(() =>
      c.client.patch(c.deployments, name, c.op.target.namespace, { spec: { replicas } }, 'merge', {
        subresource: 'scale',
        ...(rv ? { precondition: { resourceVersion: rv } } : {}),
      }),
    );
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 409 && err.reason === 'Conflict') {
      throw new TransientStepError(`deployment ${name} changed while it was being scaled; scaling again`);
    }
    throw err;
  }
}

// ---- steps -------------------------------------------------------------------------------------

async function prepare(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  const live = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
  let serviceSelector: Record<string, string> | undefined;
  if (c.plan.strategy === 'blueGreen' && c.plan.service) {
    const svc = await k(() => c.client.get(c.services, c.plan.service as string, c.op.target.namespace));
    serviceSelector = rec(rec(svc.spec).selector) as Record<string, string>;
  }
  await update(c, (o) => {
    // A retried prepare keeps the first snapshot: it describes the state before any change.
    o.snapshot ??= {
      template: rec(rec(live.spec).template),
      replicas: Number(rec(live.spec).replicas ?? 1),
      selector: rec(rec(rec(live.spec).selector).matchLabels) as Record<string, string>,
      ...(serviceSelector ? { serviceSelector } : {}),
    } satisfies RolloutSnapshot;
    o.progress.stepIndex ??= 0;
    if (o.approval?.required && o.status === 'working') o.status = 'input_required';
  });
  return { approvalRequired: c.op.approval?.required === true };
}

async function checkApproval(input: Obj, deps: Deps): Promise<Obj> {
  const op = await deps.operations.require(operationIdOf(input));
  // An operation that ended (cancelled while it waited) never goes on, whatever its approval says.
  if (op.requests.abort || isTerminal(op.status)) return { decision: 'aborted' };
  const a = await deps.approvals.get(op.id);
  if (!a) return { decision: 'expired' };
  // Closed: the operation is ending (a crash may have stopped it between closing and ending).
  if (a.status === 'closed') return { decision: 'closed' };
  // The approval's own expiry comes first (approvals.ttlSeconds is capped below the deadline).
  if (a.status === 'pending' && pastDeadline(deps, op)) return { decision: 'expired' };
  if (a.status === 'approved') {
    // The snapshot and the new template were taken from the Deployment as it was when the rollout
    // was requested: if someone changed its template since, going on would silently revert that.
    const base = rolloutRecord(op).plan.baseTemplateHash;
    if (base) {
      const c = await withCluster(deps, op);
      const live = await k(() => c.client.get(c.deployments, op.target.name, op.target.namespace));
      if (templateHash(rec(rec(live.spec).template)) !== base) {
        await deps.operations.update(op.id, (o) => {
          o.result = {
            changed: false,
            reason: `the pod template of deployment ${op.target.namespace}/${op.target.name} changed while this rollout waited for approval; start the rollout again to build on the current template`,
          };
          return undefined;
        });
        return { decision: 'drifted' };
      }
    }
    let ended = false;
    await deps.operations.update(op.id, (o) => {
      ended = isTerminal(o.status) || o.requests.abort !== undefined;
      if (ended) return 'skip';
      o.status = 'working';
      o.statusMessage = `approved by ${a.decision?.by.name ?? 'an approver'}: ${a.decision?.reason ?? ''}`.trim();
      o.progress.nextActions = ['delivery_rollouts_get', 'delivery_rollouts_abort'];
      return undefined;
    });
    return { decision: ended ? 'aborted' : 'approved' };
  }
  return { decision: a.status };
}

async function endUnchanged(input: Obj, deps: Deps): Promise<Obj> {
  const op = await deps.operations.require(operationIdOf(input));
  const a = await deps.approvals.get(op.id);
  const drifted = a?.status === 'approved' && typeof op.result?.reason === 'string' ? op.result.reason : undefined;
  const why = op.requests.abort
    ? `cancelled by ${op.requests.abort.by} before any change`
    : drifted
      ? drifted
      : a?.status === 'rejected'
        ? `rejected by ${a.decision?.by.name ?? 'an approver'}: ${a.decision?.reason ?? ''}`.trim()
        : a?.status === 'closed'
          ? `the approval was closed without a decision (${a.closed?.reason ?? 'its operation ended'})`
          : `the approval request expired${a?.expiresAt ? ` at ${a.expiresAt}` : ''} without a decision`;
  const done = await deps.operations.update(op.id, (o) => {
    if (isTerminal(o.status)) return 'skip';
    o.status = drifted ? 'failed' : 'cancelled';
    o.statusMessage = `${why}; nothing was changed`;
    for (const s of o.steps) if (s.status === 'pending') s.status = 'skipped';
    o.progress.nextActions = [];
    o.result = { changed: false, reason: why };
    return undefined;
  });
  await release(deps, done);
  return { ended: true };
}

async function applyStep(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  if (c.op.requests.abort) throw new AbortRequested(`cancel requested by ${c.op.requests.abort.by}`);
  const index = stepIndex(c.op);
  const step = currentStep(c);
  await update(c, (o) => {
    o.status = 'working';
    o.progress.currentStep = step.name;
    o.progress.weight = step.weight;
    o.progress.pausedFor = undefined;
    o.progress.nextActions = ['delivery_rollouts_get', 'delivery_rollouts_abort'];
    if (o.steps[index]?.status !== 'running') {
      o.progress.stepStartedAt = now(deps);
      setStep(o, index, { status: 'running', startedAt: now(deps) });
    }
    o.statusMessage = `${step.name}: applying`;
  });
  const desired = withChange(c.plan.template, c.op.changeHash);
  const total = snapshotOf(c).replicas;
  let detail: string;

  if (c.plan.strategy === 'rolling') {
    const live = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
    // Idempotent: a retried step finds the change already on the template and does nothing.
    if (rec(rec(rec(rec(live.spec).template).metadata).annotations)[CHANGE_ANNOTATION] === c.op.changeHash) {
      detail = 'new template already applied';
    } else {
      judgePods(c, { ...live, spec: { ...rec(live.spec), template: desired } }, 'the new template');
      await setTemplate(c, desired);
      detail = 'new template applied';
    }
  } else if (c.plan.strategy === 'canary') {
    if (step.weight >= 100) {
      judgePods(c, await withTemplate(c, desired), 'the new template');
      await setTemplate(c, desired, total);
      detail = `all ${total} replicas on the new version`;
    } else {
      const { canary, stable } = canaryReplicas(total, step.weight);
      judgePods(c, sidecarDeployment(c, canaryName(c.op), 'canary', canary), 'the canary deployment');
      await k(() =>
        c.client.apply(c.deployments, sidecarDeployment(c, canaryName(c.op), 'canary', canary), { force: true }),
      );
      await scale(c, c.op.target.name, stable);
      detail = `${canary} canary / ${stable} stable replicas`;
    }
  } else {
    // Blue-green: green up beside blue, then move the Service's selector to green.
    const svcName = c.plan.service as string;
    if (index === 0) {
      const blue = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
      const { hash } = await currentReplicaSet(c, blue);
      if (!hash) throw new Error(`deployment ${c.op.target.name} has no current ReplicaSet to pin the Service to`);
      // Pin the Service to blue's pods (same pods it serves now) so green pods never receive traffic early.
      const green = sidecarDeployment(c, greenName(c.op), 'green', total);
      judgePods(c, green, 'the green deployment');
      await pinService(c, svcName, hash);
      await k(() => c.client.apply(c.deployments, green, { force: true }));
      detail = `green deployment ${greenName(c.op)} with ${total} replicas; Service pinned to blue (${hash})`;
    } else {
      const green = await k(() => c.client.get(c.deployments, greenName(c.op), c.op.target.namespace));
      const { hash } = await currentReplicaSet(c, green);
      if (!hash) throw new Error(`green deployment ${greenName(c.op)} has no current ReplicaSet`);
      await pinService(c, svcName, hash);
      detail = `Service ${svcName} switched to green (${hash})`;
    }
  }
  await update(c, (o) => {
    setStep(o, index, { detail });
    o.statusMessage = `${step.name}: ${detail}; waiting for the health gate`;
  });
  return { stepIndex: index, detail };
}

/** The Deployment whose health decides the current step. */
function gatedDeployment(c: Ctx): string {
  const step = currentStep(c);
  if (c.plan.strategy === 'canary' && step.weight < 100) return canaryName(c.op);
  if (c.plan.strategy === 'blueGreen') return greenName(c.op);
  return c.op.target.name;
}

async function measureMetrics(c: Ctx, index: number): Promise<{ verdict: GateVerdict; records: MetricRecord[] }> {
  const gates = c.plan.gates.metrics;
  if (gates.length === 0) return { verdict: 'pass', records: [] };
  const previous = (rec(c.op.steps[index]?.measurements).metrics as MetricRecord[] | undefined) ?? [];
  const records: MetricRecord[] = [];
  const verdicts: GateVerdict[] = [];
  for (const g of gates) {
    let r: MetricRecord = structuredClone(previous.find((p) => p.name === g.name) ?? { name: g.name, values: [] });
    const last = r.values.at(-1);
    const due = !last || c.deps.clock.now() - Date.parse(last.at) >= g.intervalSeconds * 1000;
    if (due) {
      try {
        const value = await c.deps.metrics.query(g.query);
        r = recordMeasurement(r, { at: now(c.deps), value, ok: compare(value, g.op, g.threshold) });
      } catch (err) {
        if (!(err instanceof MetricQueryError)) throw err;
        r = recordMeasurement(r, { at: now(c.deps), error: err.message });
      }
    }
    records.push(r);
    verdicts.push(evaluateMetric(g, r));
  }
  const verdict: GateVerdict = verdicts.includes('fail')
    ? 'fail'
    : verdicts.includes('inconclusive')
      ? 'inconclusive'
      : verdicts.every((v) => v === 'pass')
        ? 'pass'
        : 'pending';
  return { verdict, records };
}

async function gate(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  if (c.op.requests.abort) return { verdict: 'aborted' };
  const index = stepIndex(c.op);
  const name = gatedDeployment(c);
  const deployment = await k(() => c.client.get(c.deployments, name, c.op.target.namespace));
  const pods = await podsOf(c, deployment);
  const started = Date.parse(c.op.progress.stepStartedAt ?? c.op.updatedAt);
  const health = evaluateHealth({
    deployment,
    pods,
    gates: c.plan.gates,
    elapsedSeconds: Math.round((deps.clock.now() - started) / 1000),
  });
  let verdict: GateVerdict = health.verdict;
  let reason = health.reason;
  let metrics: MetricRecord[] = [];
  if (health.verdict === 'pass' || health.verdict === 'pending') {
    const m = await measureMetrics(c, index);
    metrics = m.records;
    if (m.verdict === 'fail') {
      verdict = 'fail';
      reason = `metric gate failed: ${m.records.map((r) => `${r.name}=${r.values.map((v) => v.value ?? 'error').join(',')}`).join('; ')}`;
    } else if (m.verdict === 'inconclusive') {
      verdict = 'inconclusive';
      reason = `metric gate inconclusive: ${m.records.map((r) => `${r.name}: ${r.values.at(-1)?.error ?? ''}`).join('; ')}`;
    } else if (m.verdict === 'pending' && health.verdict === 'pass') {
      verdict = 'pending';
      reason = `${health.reason}; metrics still measuring`;
    }
  }
  if (verdict === 'pending' && pastDeadline(deps, c.op)) {
    verdict = 'fail';
    reason = `the rollout reached its deadline (${new Date(deadlineOf(c.op)).toISOString()}) before this step's gate passed: ${reason}`;
  }
  const measurements = { deployment: name, ...health, verdict, reason, metrics };
  await update(c, (o) => {
    setStep(o, index, { measurements });
    o.progress.gate = measurements;
    if (verdict === 'inconclusive') {
      o.status = 'input_required';
      o.progress.pausedFor = 'gate';
      o.progress.pausedAt ??= now(deps);
      o.statusMessage = `${currentStep(c).name}: ${reason}. A human decides: delivery_rollouts_promote to continue, delivery_rollouts_abort to roll back.`;
      o.progress.nextActions = ['delivery_rollouts_promote', 'delivery_rollouts_abort'];
    } else {
      o.statusMessage = `${currentStep(c).name}: gate ${verdict}: ${reason}`;
    }
  });
  return { verdict, reason };
}

async function completeStep(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  // The index of the step whose gate passed (ApplyStep's result); a retry after a successful write
  // finds stepIndex already past it and changes nothing.
  // Without it (an older definition), the gated step is the current one only while it is running.
  const current = stepIndex(c.op);
  const index =
    typeof input.stepIndex === 'number'
      ? input.stepIndex
      : c.op.steps[current]?.status === 'running' || current === 0
        ? current
        : current - 1;
  const step = c.plan.steps[index] as PlanStep;
  const last = index + 1 >= c.plan.steps.length;
  const next = last ? 'finalize' : step.pause ? 'pause' : 'apply';
  if (current !== index) return { next, alreadyDone: true };
  await update(c, (o) => {
    if ((o.progress.stepIndex ?? 0) !== index) return 'skip';
    setStep(o, index, { status: 'done', endedAt: now(deps) });
    o.progress.stepIndex = index + 1;
    if (!last && step.pause) {
      o.status = 'input_required';
      o.progress.pausedFor = 'step';
      o.progress.pausedAt = now(deps);
      o.statusMessage = `paused after ${step.name}; delivery_rollouts_promote continues, delivery_rollouts_abort rolls back`;
      o.progress.nextActions = ['delivery_rollouts_promote', 'delivery_rollouts_abort'];
    }
    return undefined;
  });
  return { next };
}

async function checkHuman(input: Obj, deps: Deps): Promise<Obj> {
  const op = await deps.operations.require(operationIdOf(input));
  if (op.requests.abort) return { decision: 'abort' };
  const index = op.progress.stepIndex ?? 0;
  const promote = op.requests.promote;
  // A promote counts only for the pause it was made in: one left over from an earlier pause is dropped.
  const valid = promote !== undefined && promote.step === index && op.progress.pausedFor !== undefined;
  if (!valid) {
    if (promote) {
      await deps.operations.update(op.id, (o) => {
        if (o.requests.promote?.at !== promote.at) return 'skip';
        o.requests.promote = undefined;
        return undefined;
      });
    }
    if (pastDeadline(deps, op)) {
      const reason = `paused since ${op.progress.pausedAt ?? 'the last step'} without a promote or abort until the rollout's deadline (${new Date(deadlineOf(op)).toISOString()})`;
      return { decision: 'timeout', reason };
    }
    return { decision: 'pending' };
  }
  const { plan } = rolloutRecord(op);
  let next = '';
  await deps.operations.update(op.id, (o) => {
    const current = o.progress.stepIndex ?? 0;
    if (o.requests.promote?.at !== promote.at || current !== index) {
      next = 'pending';
      return 'skip';
    }
    if (o.progress.pausedFor === 'gate') {
      // The human accepts the step whose gate could not decide.
      setStep(o, index, {
        status: 'done',
        endedAt: now(deps),
        detail: `${o.steps[index]?.detail ?? ''}; gate accepted by ${promote.by}`.trim(),
      });
      o.progress.stepIndex = index + 1;
    }
    next = (o.progress.stepIndex ?? 0) >= plan.steps.length ? 'finalize' : 'continue';
    o.requests.promote = undefined;
    o.progress.pausedFor = undefined;
    o.progress.pausedAt = undefined;
    o.status = 'working';
    o.statusMessage = `promoted by ${promote.by}`;
    return undefined;
  });
  return { decision: next };
}

async function finalize(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  if (c.plan.strategy === 'canary') await deleteIfPresent(c, c.deployments, canaryName(c.op));
  if (c.plan.strategy === 'blueGreen') {
    await update(c, (o) => {
      o.statusMessage = `traffic on ${greenName(c.op)}; ${c.op.target.name} (blue) kept ${c.plan.rollbackWindowSeconds} s for a quick rollback`;
      o.progress.nextActions = ['delivery_rollouts_abort'];
    });
    return { scaleDownOld: true, rollbackWindowSeconds: c.plan.rollbackWindowSeconds };
  }
  await complete(c, { activeDeployment: c.op.target.name });
  return { scaleDownOld: false };
}

async function scaleDownOld(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  if (c.op.requests.abort) throw new AbortRequested(`cancel requested by ${c.op.requests.abort.by}`);
  await scale(c, c.op.target.name, 0);
  // Blue is gone: the Service gets its own selector back, so it follows whatever pods green runs
  // next (a later rollout of <name>-green changes its pod-template-hash).
  await restoreServiceSelector(c);
  await complete(c, { activeDeployment: greenName(c.op), scaledDown: c.op.target.name });
  return { scaledDown: true };
}

async function complete(c: Ctx, result: Obj): Promise<void> {
  await update(c, (o) => {
    o.status = 'completed';
    o.statusMessage = `rolled out ${describeChange(o)} with ${c.plan.strategy}`;
    o.progress.nextActions = [];
    o.progress.currentStep = undefined;
    o.result = { ...result, strategy: c.plan.strategy, steps: o.steps.length, change: describeChange(o) };
  });
  await release(c.deps, c.op);
}

function describeChange(o: Operation): string {
  const image = o.input.image;
  return typeof image === 'string' ? `image ${image}` : 'the new template';
}

/**
 * Puts the target back as it was before the rollout, idempotently (every action checks first), so
 * the rollback step, its retries and the reconciler of an incomplete rollback all run this one
 * function. Returns what it changed.
 */
async function restoreTarget(c: Ctx): Promise<string[]> {
  const snapshot = snapshotOf(c);
  const restored: string[] = [];
  // Traffic first, then the workloads: the Service must never point at pods that are going away.
  if (c.plan.strategy === 'blueGreen' && (await restoreServiceSelector(c))) {
    restored.push(`Service ${c.plan.service} selector`);
  }
  // The original Deployment gets its template and replicas back before the canary or green one
  // goes, so capacity never dips below what it was.
  const live = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
  const liveTemplate = rec(rec(live.spec).template);
  const liveReplicas = Number(rec(live.spec).replicas ?? 1);
  const changed = rec(rec(liveTemplate.metadata).annotations)[CHANGE_ANNOTATION] === c.op.changeHash;
  if (changed || liveReplicas !== snapshot.replicas) {
    await setTemplate(c, changed ? snapshot.template : liveTemplate, snapshot.replicas);
    restored.push(changed ? 'previous template' : `replicas ${snapshot.replicas}`);
  }
  if (c.plan.strategy === 'canary') {
    await deleteIfPresent(c, c.deployments, canaryName(c.op));
    restored.push('canary removed');
  }
  if (c.plan.strategy === 'blueGreen') {
    await deleteIfPresent(c, c.deployments, greenName(c.op));
    restored.push('green removed');
  }
  return restored;
}

/** Everything a rollback of `op` must bring back, for a record written while the API server is unreachable. */
export function rollbackChecklist(op: Operation): string[] {
  // Written when the rollback failed: a record that does not parse still gets a checklist.
  const { plan, snapshot } = rolloutRecordOrUndefined(op);
  const t = `deployment ${op.target.namespace}/${op.target.name}`;
  const left: string[] = [];
  if (plan?.strategy === 'blueGreen' && plan.service && snapshot?.serviceSelector) {
    left.push(`Service ${plan.service} selector`);
  }
  left.push(`${t} pod template and ${snapshot?.replicas ?? '?'} replicas as before the rollout`);
  if (plan?.strategy === 'canary') left.push(`canary deployment ${canaryName(op)} removed`);
  if (plan?.strategy === 'blueGreen') left.push(`green deployment ${greenName(op)} removed`);
  return left;
}

/**
 * What still differs from the pre-rollout state, read from the API server: the Deployment's pod
 * template (without this operation's change annotation) and replicas, the canary or green
 * Deployment, the Service selector. Empty: the target is restored. `superseded`: the template
 * no longer carries this change and differs from the snapshot, so someone changed it since and
 * restoring it would undo their work.
 */
async function whatIsLeft(c: Ctx): Promise<{ left: string[]; superseded?: string }> {
  const snapshot = snapshotOf(c);
  const left: string[] = [];
  const t = `deployment ${c.op.target.namespace}/${c.op.target.name}`;
  const live = await k(() => c.client.get(c.deployments, c.op.target.name, c.op.target.namespace));
  const template = rec(rec(live.spec).template);
  const carries = rec(rec(template.metadata).annotations)[CHANGE_ANNOTATION] === c.op.changeHash;
  if (carries) left.push(`${t} pod template`);
  else if (!sameTemplate(template, snapshot.template)) {
    return { left, superseded: `the pod template of ${t} was changed by someone else since` };
  }
  const replicas = Number(rec(live.spec).replicas ?? 1);
  if (replicas !== snapshot.replicas) left.push(`${t} replicas ${replicas} (want ${snapshot.replicas})`);
  if (c.plan.strategy === 'canary' && (await getOrUndefined(c, c.deployments, canaryName(c.op)))) {
    left.push(`canary deployment ${canaryName(c.op)}`);
  }
  if (c.plan.strategy === 'blueGreen') {
    if (await getOrUndefined(c, c.deployments, greenName(c.op))) left.push(`green deployment ${greenName(c.op)}`);
    if (c.plan.service && snapshot.serviceSelector) {
      const svc = await getOrUndefined(c, c.services, c.plan.service);
      if (svc && !sameTemplate(rec(rec(svc.spec).selector), snapshot.serviceSelector)) {
        left.push(`Service ${c.plan.service} selector`);
      }
    }
  }
  return { left };
}

async function rollback(input: Obj, deps: Deps): Promise<Obj> {
  const c = await loadContext(operationIdOf(input), deps);
  if (isTerminal(c.op.status)) return { rolledBack: false };
  const aborted = c.op.requests.abort;
  const error = rec(rec(input.state).error);
  const human = rec(rec(input.state).human);
  const gateInfo = c.op.progress.gate;
  const reason = aborted
    ? `cancelled by ${aborted.by}${aborted.reason ? `: ${aborted.reason}` : ''}`
    : human.decision === 'timeout'
      ? String(human.reason)
      : gateInfo && rec(gateInfo).verdict === 'fail'
        ? String(rec(gateInfo).reason)
        : error.Error
          ? `${String(error.Error)}: ${String(error.Cause ?? '').slice(0, 300)}`
          : 'the health gate failed';
  const restored = c.snapshot ? await restoreTarget(c) : [];
  await update(c, (o) => {
    if (isTerminal(o.status)) return;
    for (const s of o.steps) {
      if (s.status === 'running') Object.assign(s, { status: 'failed', endedAt: now(deps) });
      else if (s.status === 'pending') s.status = 'skipped';
    }
    o.steps.push({
      name: 'rollback',
      status: 'done',
      startedAt: now(deps),
      endedAt: now(deps),
      detail: restored.join(', ') || 'nothing had changed',
    });
    o.status = aborted ? 'cancelled' : 'failed';
    o.statusMessage = `rolled back: ${reason}`;
    o.progress.nextActions = [];
    o.result = { rolledBack: true, reason, restored, ...(gateInfo ? { gate: gateInfo } : {}) };
  });
  await release(deps, c.op);
  return { rolledBack: true };
}

async function fail(input: Obj, deps: Deps): Promise<Obj> {
  const op = await deps.operations.require(operationIdOf(input));
  const state = rec(input.state);
  const error = rec(state.rollbackError ?? state.error);
  const message = error.Error
    ? `${String(error.Error)}: ${String(error.Cause ?? '').slice(0, 300)}`
    : 'the workflow failed';
  // Why it was rolling back in the first place, when the rollback is what failed.
  const first = state.rollbackError ? rec(state.error) : {};
  const why = first.Error
    ? ` (rolling back after ${String(first.Error)}: ${String(first.Cause ?? '').slice(0, 300)})`
    : '';
  // The rollback itself failed after the rollout may have changed the target (it took a snapshot):
  // the target is left half restored, so the reconciler takes over and keeps the target's lease.
  const incomplete = state.rollbackError !== undefined && op.snapshot !== undefined && !isTerminal(op.status);
  if (incomplete) await deps.operations.trackRollback(op.id);
  const done = await deps.operations.update(op.id, (o) => {
    if (isTerminal(o.status)) return 'skip';
    for (const s of o.steps) if (s.status === 'running') s.status = 'failed';
    o.status = 'failed';
    if (incomplete) {
      const left = rollbackChecklist(o);
      o.rollback = {
        state: 'incomplete',
        left,
        attempts: 0,
        nextAttemptAt: new Date(deps.clock.now() + rollbackRetryDelayMs(1)).toISOString(),
        lastError: message,
      };
      o.statusMessage = `rollback incomplete: ${left.join('; ')} (${message})${why}; retried automatically until restored`;
      o.progress.nextActions = ['ops_operations_get', 'k8s_rollouts_status'];
      o.result = {
        rolledBack: false,
        error: message,
        ...(first.Error ? { reason: `${String(first.Error)}: ${String(first.Cause ?? '').slice(0, 300)}` } : {}),
        rollbackIncomplete: left,
      };
      return undefined;
    }
    o.statusMessage = state.rollbackError
      ? `rollback failed, manual action needed: ${message}${why}`
      : `failed before changing anything: ${message}`;
    o.progress.nextActions = ['k8s_rollouts_status', 'k8s_rollouts_undo'];
    o.result = { rolledBack: false, error: message };
    return undefined;
  });
  if (done.rollback?.state !== 'incomplete') await release(deps, done);
  return { failed: true };
}

const errorText = (err: unknown) =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).replace(/\s+/g, ' ').slice(0, 300);

/**
 * One retry of an incomplete rollback, when due (its backoff passed) or when `force` is set: the
 * same idempotent restore as the rollback step, then a read-back of the live target. The record
 * says what is left after each failed retry, and "rollback completed on retry N at <time>" once
 * the Deployment matches its pre-rollout template and replicas (canary or green gone, Service
 * selector back). It holds the target's lease while it works, and stops (superseded) rather than
 * restore over a change someone made since.
 */
async function reconcileRollback(input: Obj, deps: Deps): Promise<Obj> {
  const id = String(input.operationId);
  const op = await deps.operations.get(id);
  const r = op?.rollback;
  if (!op || !r || r.state !== 'incomplete') {
    await deps.operations.untrackRollback(id);
    return { state: r?.state ?? 'none' };
  }
  const now = deps.clock.now();
  if (input.force !== true && r.nextAttemptAt && Date.parse(r.nextAttemptAt) > now) {
    return { state: 'incomplete', due: false, nextAttemptAt: r.nextAttemptAt };
  }
  const attempt = r.attempts + 1;
  const at = new Date(now).toISOString();
  const lease = op.lease ?? Leases.key(op.target);
  const held = await deps.leases.acquire(lease, op.id, ROLLOUT_LIMITS.leaseTtlSeconds);
  let left: string[] = r.left;
  let restored: string[] = [];
  let superseded: string | undefined;
  let failure: string | undefined;
  if (!held.ok) {
    superseded = `operation ${held.holder} has taken deployment ${op.target.namespace}/${op.target.name} since`;
  } else {
    let c: Ctx | undefined;
    try {
      c = await withCluster(deps, op);
      const before = await whatIsLeft(c);
      superseded = before.superseded;
      left = before.left;
      if (!superseded && left.length > 0) {
        restored = await restoreTarget(c);
        left = (await whatIsLeft(c)).left;
      }
    } catch (err) {
      failure = errorText(err);
      // A restore that stopped half way: read back what it left, if the API server answers reads.
      if (c && !superseded)
        left = await whatIsLeft(c).then(
          (w) => w.left,
          () => left,
        );
    }
  }
  const finished = !failure && (superseded !== undefined || left.length === 0);
  const updated = await deps.operations.update(op.id, (o) => {
    // Another reconciler counted this attempt already.
    if (o.rollback?.state !== 'incomplete' || o.rollback.attempts !== r.attempts) return 'skip';
    if (superseded) {
      o.rollback = { state: 'superseded', left: [], attempts: attempt, endedAt: at };
      o.statusMessage = `rollback stopped on retry ${attempt} at ${at}: ${superseded}; not restoring over it`;
    } else if (finished) {
      o.rollback = { state: 'completed', left: [], attempts: attempt, endedAt: at };
      o.statusMessage = `rollback completed on retry ${attempt} at ${at}`;
      o.steps.push({
        name: 'rollback',
        status: 'done',
        startedAt: at,
        endedAt: at,
        detail: `on retry ${attempt}: ${restored.join(', ') || 'nothing left to restore'}`,
      });
      const { rollbackIncomplete: _left, ...rest } = o.result ?? {};
      o.result = { ...rest, rolledBack: true, restored, rollbackRetries: attempt };
      o.progress.nextActions = [];
    } else {
      const next = new Date(now + rollbackRetryDelayMs(attempt + 1)).toISOString();
      o.rollback = {
        state: 'incomplete',
        left,
        attempts: attempt,
        nextAttemptAt: next,
        lastError: failure ?? 'the target still differs after restoring',
      };
      o.statusMessage = `rollback incomplete: ${left.join('; ')}; retry ${attempt} at ${at} failed (${o.rollback.lastError}); next retry at ${next}`;
    }
    return undefined;
  });
  if (finished && updated.rollback?.state !== 'incomplete') {
    await deps.operations.untrackRollback(op.id);
    if (held.ok) await deps.leases.release(lease, op.id);
  } else if (held.ok) {
    await deps.leases.renew(lease, op.id, ROLLOUT_LIMITS.leaseTtlSeconds);
  }
  return { state: updated.rollback?.state ?? 'none', attempt };
}

/** Report of one reconciler pass over the incomplete rollbacks. */
export interface ReconcileReport {
  completed: string[];
  superseded: string[];
  incomplete: string[];
  /** Not yet due (backing off). */
  waiting: string[];
}

/**
 * One pass of the rollback reconciler: every operation whose rollback is incomplete and due gets
 * one retry. Run by recovery when a host starts, by the local host's timer, and (on AWS) by a
 * scheduled invocation of the workflow-step function with step `rollbacks.reconcile`.
 */
export async function reconcileRollbacks(
  deps: Deps,
  opts: { limit?: number; force?: boolean } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { completed: [], superseded: [], incomplete: [], waiting: [] };
  for (const id of await deps.operations.trackedRollbacks(opts.limit ?? 100)) {
    try {
      const out = await reconcileRollback({ operationId: id, force: opts.force === true }, deps);
      if (out.due === false) report.waiting.push(id);
      else if (out.state === 'completed') report.completed.push(id);
      else if (out.state === 'superseded') report.superseded.push(id);
      else if (out.state === 'incomplete') report.incomplete.push(id);
    } catch (err) {
      deps.log.error({ operationId: id, err: errorText(err) }, 'rollback reconciler: retry failed');
      report.incomplete.push(id);
    }
  }
  return report;
}

/** The rollout's steps, by the names its definition (definitions/rollout.ts) calls them. */
export const rolloutSteps = {
  'rollout.prepare': prepare,
  'rollout.checkApproval': checkApproval,
  'rollout.endUnchanged': endUnchanged,
  'rollout.applyStep': applyStep,
  'rollout.gate': gate,
  'rollout.completeStep': completeStep,
  'rollout.checkHuman': checkHuman,
  'rollout.finalize': finalize,
  'rollout.scaleDownOld': scaleDownOld,
  'rollout.rollback': rollback,
  'rollout.fail': fail,
} satisfies Record<string, StepHandler>;

export const leaseKey = Leases.key;
