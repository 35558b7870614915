import { createHash } from 'node:crypto';
import { canonicalJson, podStatus } from './k8s/index.ts';
import type { KubeObject } from './k8s/model.ts';
import { rolloutStatus } from './rollouts.ts';

export type Strategy = 'rolling' | 'blueGreen' | 'canary';

export interface MetricGate {
  name: string;
  /** A PromQL query returning one number. */
  query: string;
  /** The measurement passes when `value <op> threshold`. */
  op: '<' | '<=' | '>' | '>=';
  threshold: number;
  intervalSeconds: number;
  /** Measurements to take before the metric passes. */
  count: number;
  /** Failed measurements tolerated (Argo Rollouts' failureLimit, default 0). */
  failureLimit: number;
}

export interface Gates {
  /** Restarts of a new pod above this fail the gate. */
  maxRestarts: number;
  /** Seconds a step may take to become healthy before it is rolled back (kubectl's default 600). */
  progressDeadlineSeconds: number;
  metrics: MetricGate[];
}

export interface PlanStep {
  name: string;
  /** Share of replicas on the new version after this step. */
  weight: number;
  /** Wait for delivery_rollouts_promote after the step's gate passes. */
  pause: boolean;
}

export interface RolloutPlan {
  strategy: Strategy;
  steps: PlanStep[];
  gates: Gates;
  /** Blue-green: seconds the old (blue) Deployment stays up after the switch, for a quick rollback. */
  rollbackWindowSeconds: number;
  /** Rough duration when every gate passes at once, pauses and approvals excluded. */
  expectedSeconds: number;
}

export const DEFAULT_GATES: Gates = { maxRestarts: 2, progressDeadlineSeconds: 600, metrics: [] };

/**
 * Time limits of a rollout execution. The state machine's TimeoutSeconds ends an execution without
 * running any Catch, so nothing may depend on it: every waiting step (approval, pause, gate) ends the
 * operation itself by `deadlineSeconds` after start, well before the execution timeout, leaving time
 * for a rollback. The target lease outlives the execution timeout, so it cannot expire under a
 * running execution.
 */
export const ROLLOUT_LIMITS = {
  /** Must equal TimeoutSeconds of shared/workflows/rollout.asl.json (a unit test checks). */
  executionTimeoutSeconds: 86_400,
  /** Approval, pauses and gates must be over by then; the step that notices ends the operation. */
  deadlineSeconds: 20 * 3600,
  /** Upper bound of approvals.ttlSeconds in the guardrail policy. */
  maxApprovalTtlSeconds: 12 * 3600,
  /** The target lease: the execution timeout plus a margin. */
  leaseTtlSeconds: 86_400 + 3600,
} as const;

export function buildPlan(input: {
  strategy: Strategy;
  steps?: Array<number | { weight: number; pause?: boolean }>;
  gates?: Partial<Gates>;
  rollbackWindowSeconds?: number;
}): RolloutPlan {
  const gates: Gates = { ...DEFAULT_GATES, ...input.gates, metrics: input.gates?.metrics ?? [] };
  let steps: PlanStep[];
  if (input.strategy === 'canary') {
    const raw = input.steps?.length ? input.steps : [10, 50, 100];
    steps = raw.map((s, i) => {
      const weight = typeof s === 'number' ? s : s.weight;
      return {
        name: `canary ${weight}%`,
        weight,
        pause: typeof s === 'number' ? false : s.pause === true && i < raw.length - 1,
      };
    });
    if (steps.at(-1)?.weight !== 100) steps.push({ name: 'canary 100%', weight: 100, pause: false });
  } else if (input.strategy === 'blueGreen') {
    steps = [
      { name: 'green up', weight: 0, pause: false },
      { name: 'switch traffic', weight: 100, pause: false },
    ];
  } else {
    steps = [{ name: 'rolling update', weight: 100, pause: false }];
  }
  const perMetric = gates.metrics.reduce((m, g) => Math.max(m, g.intervalSeconds * g.count), 0);
  const perStep = Math.max(30, perMetric);
  const rollbackWindowSeconds = input.strategy === 'blueGreen' ? (input.rollbackWindowSeconds ?? 30) : 0;
  return {
    strategy: input.strategy,
    steps,
    gates,
    rollbackWindowSeconds,
    expectedSeconds: steps.length * perStep + rollbackWindowSeconds,
  };
}

/** SHA-256 of the exact change; an approval is bound to it. */
export function changeHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/** Hash of a pod template, to notice a change made while a rollout waited for its approval. */
export function templateHash(template: unknown): string {
  return changeHash({ template: template ?? {} });
}

export type GateVerdict = 'pass' | 'fail' | 'pending' | 'inconclusive';

export interface HealthMeasurement {
  verdict: GateVerdict;
  reason: string;
  rollout: { state: string; message: string };
  pods: { total: number; ready: number; crashLooping: string[]; imagePullFailing: string[]; maxRestarts: number };
  elapsedSeconds: number;
}

/**
 * The Kubernetes half of a health gate, from what the API server reports: kubectl's rollout
 * completion rules, every new pod Ready, no CrashLoopBackOff or image pull failures, restarts under
 * the limit, all within the progress deadline.
 */
export function evaluateHealth(input: {
  deployment: KubeObject;
  /** Pods of the new version only. */
  pods: KubeObject[];
  gates: Gates;
  elapsedSeconds: number;
}): HealthMeasurement {
  const status = rolloutStatus(input.deployment);
  const crashLooping: string[] = [];
  const imagePullFailing: string[] = [];
  let ready = 0;
  let maxRestarts = 0;
  for (const pod of input.pods) {
    const s = podStatus(pod);
    const name = pod.metadata?.name ?? '?';
    if (s.status.includes('CrashLoopBackOff')) crashLooping.push(name);
    if (
      s.status.includes('ImagePullBackOff') ||
      s.status.includes('ErrImagePull') ||
      s.status.includes('InvalidImageName')
    )
      imagePullFailing.push(name);
    const [r, t] = s.ready.split('/').map(Number);
    if (t !== undefined && r === t && t > 0) ready++;
    maxRestarts = Math.max(maxRestarts, s.restarts);
  }
  const pods = { total: input.pods.length, ready, crashLooping, imagePullFailing, maxRestarts };
  const base = {
    rollout: { state: status.state, message: status.message },
    pods,
    elapsedSeconds: input.elapsedSeconds,
  };
  if (crashLooping.length)
    return { ...base, verdict: 'fail', reason: `pods in CrashLoopBackOff: ${crashLooping.join(', ')}` };
  if (imagePullFailing.length)
    return { ...base, verdict: 'fail', reason: `pods cannot pull their image: ${imagePullFailing.join(', ')}` };
  if (maxRestarts > input.gates.maxRestarts)
    return {
      ...base,
      verdict: 'fail',
      reason: `a pod restarted ${maxRestarts} times (limit ${input.gates.maxRestarts})`,
    };
  if (status.state === 'failed') return { ...base, verdict: 'fail', reason: status.message };
  const healthy = status.done && ready === pods.total && pods.total > 0;
  if (healthy) return { ...base, verdict: 'pass', reason: `${ready}/${pods.total} new pods ready; ${status.message}` };
  if (input.elapsedSeconds > input.gates.progressDeadlineSeconds) {
    return {
      ...base,
      verdict: 'fail',
      reason: `not healthy within the progress deadline (${input.gates.progressDeadlineSeconds} s): ${status.message}`,
    };
  }
  return { ...base, verdict: 'pending', reason: `${ready}/${pods.total} new pods ready; ${status.message}` };
}

export type Measurement = { at: string; value?: number; ok?: boolean; error?: string };

export interface MetricRecord {
  name: string;
  /** The most recent measurements (at most MAX_KEPT_MEASUREMENTS), for display. */
  values: Measurement[];
  /** Running totals over every measurement, kept or not: what the verdict counts. */
  taken?: number;
  failures?: number;
  consecutiveErrors?: number;
}

export const MAX_KEPT_MEASUREMENTS = 50;

/** Adds one measurement to a record: running totals updated, only the newest values kept. */
export function recordMeasurement(record: MetricRecord, m: Measurement): MetricRecord {
  const totals = metricTotals(record);
  const taken = totals.taken + (m.ok !== undefined ? 1 : 0);
  const failures = totals.failures + (m.ok === false ? 1 : 0);
  const consecutiveErrors = m.error !== undefined ? totals.consecutiveErrors + 1 : 0;
  return {
    ...record,
    values: [...record.values, m].slice(-MAX_KEPT_MEASUREMENTS),
    taken,
    failures,
    consecutiveErrors,
  };
}

/** Totals of a record; records written before totals existed are counted from their values. */
function metricTotals(record: MetricRecord): { taken: number; failures: number; consecutiveErrors: number } {
  if (record.taken !== undefined) {
    return { taken: record.taken, failures: record.failures ?? 0, consecutiveErrors: record.consecutiveErrors ?? 0 };
  }
  let consecutiveErrors = 0;
  for (const v of [...record.values].reverse()) {
    if (v.error === undefined) break;
    consecutiveErrors++;
  }
  return {
    taken: record.values.filter((v) => v.ok !== undefined).length,
    failures: record.values.filter((v) => v.ok === false).length,
    consecutiveErrors,
  };
}

/**
 * Argo Rollouts-style analysis of one metric from its measurements so far: pass after `count`
 * measurements with at most `failureLimit` failures; fail beyond it; inconclusive after 4
 * consecutive errors (no data, Prometheus down): a human decides instead of a guess.
 */
export function evaluateMetric(gate: MetricGate, record: MetricRecord): GateVerdict {
  const { taken, failures, consecutiveErrors } = metricTotals(record);
  if (failures > gate.failureLimit) return 'fail';
  if (consecutiveErrors >= 4) return 'inconclusive';
  if (taken >= gate.count) return 'pass';
  return 'pending';
}

export function compare(value: number, op: MetricGate['op'], threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/**
 * Pods per side at a canary weight below 100%: at least one canary pod, and the stable side keeps at
 * least one pod too, so a small Deployment (1 or 2 replicas) never hands the canary all the traffic
 * before the 100% step. The total may then exceed the Deployment's replicas by one for the step.
 */
export function canaryReplicas(total: number, weight: number): { canary: number; stable: number } {
  const canary = Math.min(total, Math.max(1, Math.ceil((total * weight) / 100)));
  return { canary, stable: total > 0 ? Math.max(1, total - canary) : 0 };
}
