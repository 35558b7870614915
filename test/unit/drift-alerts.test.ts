import { describe, expect, it } from 'vitest';
import { scopeCovers } from '../../shared/app/alerts/alerting.ts';
import { alertsOf } from '../../shared/app/drift/check.ts';
import type { StoredFinding } from '../../shared/app/repos/drift-findings.ts';

const finding = (i: number, namespace: string): StoredFinding => ({
  cluster: 'prod',
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace,
  name: `web-${i}`,
  state: 'drifted',
  changes: [{ path: 'spec.replicas', baseline: '3', live: '5', manager: 'kubectl-edit' }],
  changesTotal: 1,
  checkedAt: '2026-12-07T20:00:00.000Z',
  firstSeenAt: '2026-12-07T20:00:00.000Z',
});

describe('drift alerts stay inside the scope of their run', () => {
  // reconcile refuses a run that reports an alert outside its scope, so an alert outside it would
  // cost every alert of the run: the overflow alert of a namespace check included.
  it.each([
    ['a namespace check', 'prod/payments'],
    ['a cluster check', 'prod'],
  ])('%s past the per-cluster alert cap: every alert, the overflow one too, is covered', (_what, scope) => {
    const findings = Array.from({ length: 260 }, (_, i) => finding(i, 'payments'));
    const alerts = alertsOf('prod', scope, findings);
    expect(alerts.some((a) => /more objects drifted/.test(a.summary))).toBe(true);
    for (const a of alerts) expect(scopeCovers('drift', scope, a.groupKey), a.groupKey).toBe(true);
  });
});
