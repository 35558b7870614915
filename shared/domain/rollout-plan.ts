import { createHash } from 'node:crypto';
import type { KubeObject } from '../ports/kube.ts';
import { canonicalJson, podStatus } from './k8s/index.ts';
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

export interface MetricRecord {
  name: string;
  values: Array<{ at: string; value?: number; ok?: boolean; error?: string }>;
}

/**
 * Argo Rollouts-style analysis of one metric from its measurements so far: pass after `count`
 * measurements with at most `failureLimit` failures; fail beyond it; inconclusive after 4
 * consecutive errors (no data, Prometheus down): a human decides instead of a guess.
 */
export function evaluateMetric(gate: MetricGate, record: MetricRecord): GateVerdict {
  const taken = record.values.filter((v) => v.ok !== undefined);
  const failures = taken.filter((v) => v.ok === false).length;
  if (failures > gate.failureLimit) return 'fail';
  let consecutiveErrors = 0;
  for (const v of [...record.values].reverse()) {
    if (v.error === undefined) break;
    consecutiveErrors++;
  }
  if (consecutiveErrors >= 4) return 'inconclusive';
  if (taken.length >= gate.count) return 'pass';
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
