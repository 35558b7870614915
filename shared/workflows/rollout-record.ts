/**
 * What a rollout operation's record holds for the workflow (`plan`, `snapshot`), as zod schemas:
 * every step parses them when it loads the operation, so a record that does not hold what the
 * rollout wrote (a corrupt or foreign item) stops the step with a clear error instead of a cast
 * letting it act on wrong data.
 */
import * as z from 'zod';
import type { Operation } from '../app/repos/operations.ts';
import type { RolloutPlan } from '../domain/rollout-plan.ts';

const Obj = z.record(z.string(), z.unknown());
const Labels = z.record(z.string(), z.string());

const MetricGateSchema = z.object({
  name: z.string(),
  query: z.string(),
  op: z.enum(['<', '<=', '>', '>=']),
  threshold: z.number(),
  intervalSeconds: z.number(),
  count: z.number().int(),
  failureLimit: z.number().int(),
});

export const RolloutOpPlanSchema = z.object({
  strategy: z.enum(['rolling', 'blueGreen', 'canary']),
  steps: z
    .array(z.object({ name: z.string(), weight: z.number(), pause: z.boolean() }))
    .min(1)
    .max(100),
  gates: z.object({
    maxRestarts: z.number().int(),
    progressDeadlineSeconds: z.number(),
    metrics: z.array(MetricGateSchema).max(50),
  }),
  rollbackWindowSeconds: z.number().min(0),
  expectedSeconds: z.number(),
  /** The pod template the rollout moves to. */
  template: Obj,
  /** The Service whose selector a blue-green rollout switches. */
  service: z.string().optional(),
  /** Hash of the live pod template when the rollout was requested (see templateHash). */
  baseTemplateHash: z.string().optional(),
});

/** What a rollout operation keeps in `op.plan`: the plan and the template it moves to. */
export type RolloutOpPlan = z.infer<typeof RolloutOpPlanSchema>;

/** What the workflow needs to put everything back (written once, by the prepare step). */
export const RolloutSnapshotSchema = z.object({
  template: Obj,
  replicas: z.number().int().min(0),
  selector: Labels,
  serviceSelector: Labels.optional(),
});
export type RolloutSnapshot = z.infer<typeof RolloutSnapshotSchema>;

// The plan builder's type and the stored plan must not drift apart.
type _PlanFits = RolloutPlan extends Omit<RolloutOpPlan, 'template' | 'service' | 'baseTemplateHash'> ? true : never;
const _planFits: _PlanFits = true;
void _planFits;

/** A rollout record whose plan or snapshot is not what the rollout wrote: no retry can fix it. */
export class CorruptOperationError extends Error {
  override name = 'CorruptOperationError';
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string, op: Operation): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues
    .slice(0, 5)
    .map((i) => `${[what, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
  throw new CorruptOperationError(`operation ${op.id} holds an invalid rollout record (${issues})`);
}

/** The rollout's plan and (once prepared) snapshot, validated. */
export function rolloutRecord(op: Operation): { plan: RolloutOpPlan; snapshot?: RolloutSnapshot } {
  const plan = parse(RolloutOpPlanSchema, op.plan, 'plan', op);
  const snapshot = op.snapshot === undefined ? undefined : parse(RolloutSnapshotSchema, op.snapshot, 'snapshot', op);
  return { plan, ...(snapshot ? { snapshot } : {}) };
}

/** As rolloutRecord, for a reader that must not fail (a status line): undefined where invalid. */
export function rolloutRecordOrUndefined(op: Operation): { plan?: RolloutOpPlan; snapshot?: RolloutSnapshot } {
  const plan = RolloutOpPlanSchema.safeParse(op.plan);
  const snapshot = RolloutSnapshotSchema.safeParse(op.snapshot);
  return { ...(plan.success ? { plan: plan.data } : {}), ...(snapshot.success ? { snapshot: snapshot.data } : {}) };
}
