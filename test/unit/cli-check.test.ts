/**
 * `cloudops-mcp check drift`: the report (summary first) and terraform's -detailed-exitcode (0 clean,
 * 2 drift, 1 error), through the real CLI against the fake API server, sharing the embedded store of
 * a running local server (where the baselines are).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftExitCode, driftReportText } from '../../local/drift-report.ts';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import type { DriftCheckReport } from '../../shared/app/drift/types.ts';
import type { KubeObject } from '../../shared/ports/kube.ts';
import { editDeployment, webDeployment } from '../support/drift.ts';
import { type FakeKube, startFakeKube } from '../support/fake-kube/index.ts';
import { runCli } from '../support/local-host.ts';

const report = (counts: Partial<DriftCheckReport['counts']>, findings: DriftCheckReport['findings'] = []) =>
  ({
    checkedAt: '2026-12-07T21:00:00.000Z',
    clusters: ['prod'],
    counts: { objects: 10, clean: 10, drifted: 0, deleted: 0, error: 0, ...counts },
    findings,
    apiCalls: 3,
  }) satisfies DriftCheckReport;

describe('check drift: exit code and report', () => {
  it('0 clean, 2 drift (drifted or deleted), 1 when an object could not be compared', () => {
    expect(driftExitCode(report({}))).toBe(0);
    expect(driftExitCode(report({ drifted: 1, clean: 9 }))).toBe(2);
    expect(driftExitCode(report({ deleted: 1, clean: 9 }))).toBe(2);
    expect(driftExitCode(report({ drifted: 1, error: 1, clean: 8 }))).toBe(1);
  });

  it('summary first, then each finding with path, old → new and manager, and how to see the rest', () => {
    const text = driftReportText(
      report({ drifted: 3, clean: 7 }, [
        {
          cluster: 'prod',
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'shop',
          name: 'web',
          state: 'drifted',
          changes: [{ path: 'spec.replicas', baseline: '2', live: '5', manager: 'kubectl-scale' }],
          changesTotal: 4,
        },
      ]),
      true,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'Drift check of prod at 2026-12-07T21:00:00.000Z: 10 objects, 3 drifted, 0 deleted, 0 could not be compared, 7 clean (3 API calls).',
    );
    expect(text).toContain(
      'drifted Deployment shop/web\n  spec.replicas: 2 → 5 (by kubectl-scale)\n  … 3 more changed fields',
    );
    expect(lines.at(-1)).toBe('1 of 3 findings shown; drift_findings_list pages through all of them.');
  });
});

describe('cloudops-mcp check drift (spawned, fake API server)', () => {
  let kube: FakeKube;
  let server: LocalServer;
  let dataDir: string;
  let env: Record<string, string>;
  const NS = 'shop';
  const deployment: KubeObject = webDeployment(NS);

  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 20 });
    kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    dataDir = mkdtempSync(join(tmpdir(), 'cli-check-'));
    env = { KUBECONFIG: kube.kubeconfigPath, STORE: 'embedded', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    server = await startLocalServer({ ...env, PORT: '0' });
    // What an apply through the server leaves: the object, and its baseline in the store.
    const client = await server.deps.clusters.client('fake');
    await client.apply(await client.resolve('Deployment', 'apps/v1'), deployment);
    await server.deps.baselines.record({ cluster: 'fake', manifest: deployment, appliedBy: 'alice', requestId: 'r-1' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await kube?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('nothing changed: exit 0, one clean object', async () => {
    const r = await runCli(['check', 'drift', '--no-alerts'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^Drift check of fake at .*: 1 object, 0 drifted, 0 deleted, 0 could not be compared, 1 clean/,
    );
  }, 60_000);

  it('a field changed by another manager: exit 2, the path, values and manager; --json has the same', async () => {
    await editDeployment(kube, NS, 'web', {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    });
    const r = await runCli(['check', 'drift', '--namespace', NS, '--no-alerts'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('1 drifted');
    expect(r.stdout).toContain('drifted Deployment shop/web');
    expect(r.stdout).toContain('spec.template.spec.containers[web].image: nginx:1.25 → nginx:1.26 (by kubectl-edit)');
    const json = await runCli(['check', 'drift', '--json', '--no-alerts'], env);
    expect(json.code).toBe(2);
    const parsed = JSON.parse(json.stdout) as DriftCheckReport;
    expect(parsed.counts).toMatchObject({ objects: 1, drifted: 1 });
    expect(parsed.findings[0]?.changes[0]).toMatchObject({ live: 'nginx:1.26', manager: 'kubectl-edit' });
    // The findings are the server's: the tool reads what the CLI recorded.
    const page = await server.deps.driftFindings.list({ limit: 10 });
    expect(page.items.map((f) => f.name)).toEqual(['web']);
  }, 60_000);

  it('a cluster it cannot use: exit 1 with the reason', async () => {
    const r = await runCli(['check', 'drift', '--cluster', 'nope'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('an unknown option is refused, not ignored', async () => {
    const r = await runCli(['check', 'drift', '--namespce', NS], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option '--namespce'");
  }, 60_000);
});
