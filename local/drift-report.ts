import type { DriftCheckReport } from '../shared/app/drift/types.ts';
import { plural } from '../shared/domain/text.ts';

/*
 * How `cloudops-mcp check drift` shows a drift check and what it exits with.
 */

/** terraform's -detailed-exitcode: 1 when the answer is incomplete (an object could not be compared), 2 drift, 0 clean. */
export function driftExitCode(r: DriftCheckReport): 0 | 1 | 2 {
  if (r.counts.error > 0) return 1;
  return r.counts.drifted + r.counts.deleted > 0 ? 2 : 0;
}

/** The report for a terminal: the summary first, then each finding with its changed fields. */
export function driftReportText(r: DriftCheckReport, alerts: boolean): string {
  const c = r.counts;
  const lines = [
    `Drift check of ${r.clusters.join(', ') || 'no cluster'} at ${r.checkedAt}: ${plural(c.objects, 'object')}, ${c.drifted} drifted, ${c.deleted} deleted, ${c.error} could not be compared, ${c.clean} clean (${r.apiCalls} API calls).`,
  ];
  if (c.objects === 0)
    lines.push('No baselines: apply through the server, or adopt live objects with drift_baselines_adopt.');
  if (r.alerts) {
    const { reconcile: a, deliver: d } = r.alerts;
    lines.push(
      `Alerts: ${a.opened} new, ${a.updated} updated, ${a.repeated} repeated, ${a.resolved} resolved; ${d.sent} sent, ${d.pending} pending${d.failed ? `, ${d.failed} failed` : ''}.`,
    );
  } else if (!alerts) lines.push('Alerts: not queued (--no-alerts).');
  for (const f of r.findings) {
    const ref = `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`;
    lines.push('', `${f.state.padEnd(7)} ${ref}${r.clusters.length > 1 ? ` (${f.cluster})` : ''}`);
    if (f.state === 'error') lines.push(`  ${f.error ?? 'could not be compared'}`);
    for (const ch of f.changes) {
      lines.push(`  ${ch.path}: ${ch.baseline} → ${ch.live}${ch.manager ? ` (by ${ch.manager})` : ''}`);
    }
    if (f.changesTotal > f.changes.length) lines.push(`  … ${f.changesTotal - f.changes.length} more changed fields`);
    if (f.restore) lines.push(`  restore: ${f.restore.tool} ${JSON.stringify(f.restore.arguments).slice(0, 300)}`);
  }
  const notClean = c.drifted + c.deleted + c.error;
  if (notClean > r.findings.length) {
    lines.push(
      '',
      `${r.findings.length} of ${notClean} findings shown; drift_findings_list pages through all of them.`,
    );
  }
  return lines.join('\n');
}
