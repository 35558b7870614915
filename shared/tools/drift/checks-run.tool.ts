import * as z from 'zod';
import type { Alerting } from '../../app/alerts/types.ts';
import { checkDrift } from '../../app/drift/check.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { capCells, cellCap, fitPage, resultBudget, table } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';
import { countsText, findingRow } from './render.ts';

/**
 * How long the check's alert delivery may take within the call: a slow or failing Slack leaves the
 * rest queued (the answer says how many) for the next check or scheduled run, instead of holding the
 * caller to the delivery's own 20 s.
 */
const DELIVERY_BUDGET_MS = 5_000;

/** The same alerting, delivering within `budgetMs` at most. */
function withDeliveryBudget(a: Alerting, budgetMs: number): Alerting {
  return {
    get channel() {
      return a.channel;
    },
    reconcile: (input) => a.reconcile(input),
    deliver: (opts) => a.deliver({ budgetMs: Math.min(opts?.budgetMs ?? budgetMs, budgetMs) }),
    list: (q) => a.list(q),
    sendTest: (by) => a.sendTest(by),
  };
}

/*
 * Runs within the call: the check is one list per kind and namespace set (linear in objects, a few
 * seconds for thousands), narrower with cluster/namespace; whole clusters on a schedule are the
 * drift-check function's (EventBridge Scheduler) or the local timer's. So no task: its findings are
 * in the Store for drift_findings_list either way.
 */
export const driftChecksRunTool = defineTool({
  name: 'drift_checks_run',
  title: 'Run a drift check',
  description:
    'Compare baselined objects (applied or adopted) with the cluster: changed fields, old → new, the manager ' +
    'that changed them; deleted objects. Records findings, sends alerts. Narrow with cluster/namespace.',
  group: 'drift',
  access: 'write',
  input: z.object({ cluster: args.cluster, namespace: args.namespace }),
  output: z.object({ counts: z.object({}).passthrough(), findings: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const alerting = withDeliveryBudget(ctx.deps.alerting, DELIVERY_BUDGET_MS);
      const r = await checkDrift(
        { ...ctx.deps, alerting },
        {
          ...(input.cluster ? { cluster: input.cluster } : {}),
          ...(input.namespace ? { namespace: input.namespace } : {}),
          trigger: 'tool',
          requestId: ctx.requestId,
        },
      );
      const notClean = r.counts.drifted + r.counts.deleted + r.counts.error;
      const where = `${r.clusters.join(', ') || 'no cluster'}${input.namespace ? `, namespace ${input.namespace}` : ''}`;
      const alerts = r.alerts
        ? `Alerts: ${r.alerts.reconcile.opened} new, ${r.alerts.reconcile.updated} updated, ${r.alerts.reconcile.resolved} resolved; ${r.alerts.deliver.sent} sent, ${r.alerts.deliver.pending} pending.`
        : undefined;
      const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
      const rows = r.findings.map((f) => capCells(findingRow(f), cellCap(budget)));
      return fitPage(rows.length, budget, (n) => {
        const shown = rows.slice(0, n);
        const left = notClean - n;
        const more = left > 0 ? `More: ${left} more findings; call drift_findings_list (same cluster/namespace).` : '';
        const head = `Drift check of ${where} at ${r.checkedAt}: ${countsText(r.counts)} (${r.apiCalls} API calls).`;
        const text = [head, alerts, more, table(['state', 'cluster', 'object', 'changes'], shown)].filter(Boolean);
        return result(text.join('\n'), {
          checkedAt: r.checkedAt,
          clusters: r.clusters,
          counts: r.counts,
          apiCalls: r.apiCalls,
          ...(r.alerts ? { alerts: r.alerts } : {}),
          count: n,
          findings: shown,
          ...(more ? { more } : {}),
        });
      });
    });
  },
});
