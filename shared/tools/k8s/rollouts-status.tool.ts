import * as z from 'zod';
import { AppError } from '../../app/errors.ts';
import { target } from '../../app/k8s/objects.ts';
import { rolloutStatus } from '../../domain/rollouts.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { capCells, cellCap, fitText, resultBudget } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

/** API Gateway cuts a request at 30 s; waiting stays well under it. */
const MAX_WAIT_SECONDS = 25;

export const k8sRolloutsStatusTool = defineTool({
  name: 'k8s_rollouts_status',
  title: 'Rollout status',
  description: "Whether a workload finished rolling out, by kubectl's rules; can wait for it. Use after a change.",
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
    namespace: args.namespace,
    name: args.name,
    waitSeconds: z.number().int().min(0).max(MAX_WAIT_SECONDS).default(0),
  }),
  output: z.object({ state: z.string(), done: z.boolean(), message: z.string() }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
      const res = await t.client.resolve(input.kind, 'apps/v1');
      const namespace = input.namespace ?? t.defaultNamespace;
      const deadline = ctx.deps.clock.now() + input.waitSeconds * 1000;
      let status = rolloutStatus(await t.client.get(res, input.name, namespace));
      // The wait is bounded by the deadline, the polls included: a slow API server cannot stretch
      // the call past it (a Lambda behind API Gateway has 29 s in all).
      while (!status.done && status.state !== 'failed' && ctx.deps.clock.now() < deadline) {
        if (ctx.signal?.aborted) break;
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - ctx.deps.clock.now()))));
        const next = await beforeDeadline(t.client.get(res, input.name, namespace), deadline - ctx.deps.clock.now());
        if (next === undefined) break;
        status = rolloutStatus(next);
      }
      if (status.state === 'unknown') throw new AppError(status.message.slice(0, 2000));
      // A condition message comes from the object: bounded like any other cell.
      const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
      status = { ...status, message: capCells({ m: status.message }, cellCap(budget)).m };
      const r = status.replicas;
      const counts = r
        ? ` (desired ${r.desired}, updated ${r.updated}, ready ${r.ready}, available ${r.available}, total ${r.total})`
        : '';
      const text = `${status.state.toUpperCase()}: ${status.message}${counts}${status.state === 'failed' ? '\nConsider k8s_rollouts_undo, and k8s_events_list with type Warning for the cause.' : ''}`;
      return fitText(result(text, { cluster: t.cluster, namespace, name: input.name, ...status }), budget);
    });
  },
});

/** The promise's value if it settles within `ms`, else undefined (the call runs on, bounded by its own timeout). */
async function beforeDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) {
    p.catch(() => {});
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  p.catch(() => {});
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
