import { plural } from '../text.ts';
import type { Finding, Verdict } from './types.ts';

function formatFinding(f: Finding): string {
  const at = f.path ? ` at ${f.path}` : '';
  const message = f.message.replace(/[.\s]+$/, '');
  return `[${f.mode}] ${f.ruleId}${at}: ${message}. Fix: ${f.fix}`;
}

/**
 * Compact text for a model: a first line with the outcome, then one line per finding, enforced
 * ones first, e.g. `[enforce] pss-baseline/privileged at spec.containers[0].securityContext.privileged:
 * container "app" runs privileged, with full access to the node. Fix: remove ...`.
 */
export function formatVerdict(v: Verdict): string {
  const enforced = v.findings.filter((f) => f.mode === 'enforce');
  const audited = v.findings.filter((f) => f.mode !== 'enforce');
  let head: string;
  if (!v.allowed) {
    head = `refused by guardrails: ${plural(enforced.length, 'enforced finding')}${audited.length ? `, ${plural(audited.length, 'audit-only finding')}` : ''}; fix the enforced ones and retry`;
  } else if (v.findings.length > 0) {
    head = `allowed with findings: ${plural(audited.length, 'audit-only finding')}, not enforced`;
  } else {
    head = 'allowed: no guardrail findings';
  }
  return [head, ...enforced.map(formatFinding), ...audited.map(formatFinding)].join('\n');
}
