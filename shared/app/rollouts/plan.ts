import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { type PreparedRollout, prepareRollout, type RolloutRequest } from './prepare.ts';

/** Whether a metric gate can be evaluated now, with its current value or why not. */
export type MetricGateCheck =
  | { name: string; evaluable: true; currentValue: number }
  | { name: string; evaluable: false; why: string };

/**
 * A rollout worked out without changing anything (what start would do), and whether each metric
 * gate can be evaluated against the metrics source now.
 */
export async function planRollout(
  deps: Deps,
  call: Pick<Call, 'parsed'>,
  input: RolloutRequest,
): Promise<{ prepared: PreparedRollout; metricGates: MetricGateCheck[] }> {
  const prepared = await prepareRollout(deps, call, input);
  const metricGates: MetricGateCheck[] = [];
  for (const g of prepared.plan.gates.metrics) {
    try {
      const value = await deps.metrics.query(g.query);
      metricGates.push({ name: g.name, evaluable: true, currentValue: value });
    } catch (err) {
      metricGates.push({ name: g.name, evaluable: false, why: (err as Error).message });
    }
  }
  return { prepared, metricGates };
}
