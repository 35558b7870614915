import type { CostCheckReport } from '../shared/app/cost/types.ts';
import { formatUsd } from '../shared/domain/cost/budgets.ts';
import { plural } from '../shared/domain/text.ts';

const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/*
 * How `cloudops-mcp check cost` shows a cost check (the exit code is costExitCode).
 */

const money = (n: number, currency: string | undefined) =>
  currency === undefined || currency === 'USD' ? formatUsd(n) : `${n.toFixed(2)} ${currency}`;

/** The report for a terminal: the summary first, then each source, budget, anomaly and error. */
export function costReportText(r: CostCheckReport, alerts: boolean): string {
  const pages = r.sources.reduce((n, s) => n + s.pages, 0);
  const hits = r.sources.reduce((n, s) => n + s.cacheHits, 0);
  const lines = [
    `Cost check of ${r.sources.map((s) => s.scope).join(', ') || 'no spend source'} at ${r.checkedAt} (month ${r.month}): ` +
      `${plural(r.budgetFindings.length, 'budget threshold')} crossed, ${count(r.anomalies.length, 'anomaly', 'anomalies')}, ` +
      `${plural(r.errors.length, 'error')}; paid ${plural(pages, 'page')} (${r.sources.map((s) => `${s.scope} ${s.pages}`).join(', ') || 'none'}), ${hits} answered from the cache.`,
  ];
  if (r.alerts) {
    const { reconcile: a, deliver: d } = r.alerts;
    lines.push(
      `Alerts: ${a.opened} new, ${a.updated} updated, ${a.repeated} repeated, ${a.resolved} resolved; ${d.sent} sent, ${d.pending} pending${d.failed ? `, ${d.failed} failed` : ''}.`,
    );
  } else if (!alerts) lines.push('Alerts: not queued (--no-alerts).');
  for (const s of r.sources) {
    lines.push('', `${s.scope} (${s.source}):`);
    const m = s.monthToDate;
    if (m) {
      const f = s.forecast;
      lines.push(
        `  month to date ${money(m.total, s.currency)}${m.estimated ? ' (newest days estimated)' : ''}` +
          (f
            ? `; month-end forecast ${money(f.amount, s.currency)} (${f.method === 'provider' ? "the provider's" : 'computed here'})`
            : ''),
      );
      const top = m.byService.slice(0, 5).map((g) => `${g.group || '(none)'} ${money(g.amount, s.currency)}`);
      if (top.length) lines.push(`  by service: ${top.join(', ')}`);
      const tags = m.byTag?.groups.slice(0, 5).map((g) => `${g.group || '(untagged)'} ${money(g.amount, s.currency)}`);
      if (m.byTag && tags?.length) lines.push(`  by ${m.byTag.key}: ${tags.join(', ')}`);
    }
    lines.push(
      `  ${count(s.queries, 'query', 'queries')}: ${s.pages} paid ${s.pages === 1 ? 'page' : 'pages'}${s.bytesBilled ? ` (${s.bytesBilled} bytes billed)` : ''}, ${s.cacheHits} from the cache`,
    );
    for (const e of s.errors) lines.push(`  error: ${e}`);
  }
  for (const c of r.clusters ?? []) {
    lines.push('', `cluster ${c.cluster}: ${plural(c.namespaces, 'namespace')} with allocated cost`);
    for (const n of c.notes ?? []) lines.push(`  note: ${n}`);
  }
  if (r.budgets.length) lines.push('', 'Budgets:');
  for (const b of r.budgets) {
    if (!b.evaluated) {
      lines.push(`  ${b.budget} (${b.scopeKey}): not evaluated: ${b.why}`);
      continue;
    }
    const forecast = b.forecast !== undefined ? `; forecast ${formatUsd(b.forecast)} (${b.forecastPercent}%)` : '';
    const crossed = b.crossed.length ? `; OVER (${b.crossed.join(', ')})` : '';
    lines.push(
      `  ${b.budget} (${b.scopeKey}): ${formatUsd(b.actual)} = ${b.actualPercent}% of ${formatUsd(b.monthlyUsd)}${forecast}${crossed}`,
    );
  }
  for (const f of r.budgetFindings) lines.push(`  ${f.summary}`);
  if (r.anomalies.length) lines.push('', 'Anomalies:');
  for (const a of r.anomalies) lines.push(`  ${a.summary}`);
  if (r.errors.length) lines.push('', 'Errors:');
  for (const e of r.errors) lines.push(`  ${e}`);
  return lines.join('\n');
}
