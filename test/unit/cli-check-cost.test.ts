/**
 * `cloudops-mcp check cost`: the exit code (0 within budget and no anomaly, 2 a budget threshold or an
 * anomaly, 1 an error), the report (summary first), and two spawns of the real CLI: one against
 * moto_server's Cost Explorer with a budget crossed, one with no spend source at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costReportText } from '../../local/cost-report.ts';
import { costExitCode } from '../../shared/app/cost/check.ts';
import type { CostCheckReport } from '../../shared/app/cost/types.ts';
import type { CostAnomaly } from '../../shared/domain/cost/anomaly.ts';
import type { BudgetFinding } from '../../shared/domain/cost/budgets.ts';
import { runCli } from '../support/local-host.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

const report = (over: Partial<CostCheckReport> = {}): CostCheckReport => ({
  checkedAt: '2026-12-20T12:00:00.000Z',
  month: '2026-12',
  trigger: 'cli',
  sources: [
    {
      source: 'aws-cost-explorer',
      scope: 'aws',
      pages: 2,
      cacheHits: 0,
      queries: 2,
      currency: 'USD',
      monthToDate: { total: 880, byService: [{ group: 'Amazon EC2', amount: 800 }], estimated: false },
      forecast: { amount: 1540, method: 'computed' },
      anomaliesNotJudged: 0,
      errors: [],
    },
  ],
  budgets: [
    {
      budget: 'aws-monthly',
      scopeKey: 'account=123456789012',
      monthlyUsd: 2000,
      evaluated: true,
      actual: 880,
      actualPercent: 44,
      forecast: 1540,
      forecastPercent: 77,
      forecastMethod: 'computed',
      estimated: false,
      crossed: [],
    },
  ],
  budgetFindings: [],
  anomalies: [],
  errors: [],
  ...over,
});

describe('check cost: exit code and report', () => {
  it('0 within budget, 2 a threshold or an anomaly, 1 an error (even with findings)', () => {
    const finding = { summary: 'Budget over' } as BudgetFinding;
    const anomaly = { summary: 'Spend up' } as CostAnomaly;
    expect(costExitCode(report())).toBe(0);
    expect(costExitCode(report({ budgetFindings: [finding] }))).toBe(2);
    expect(costExitCode(report({ anomalies: [anomaly] }))).toBe(2);
    expect(costExitCode(report({ budgetFindings: [finding], errors: ['gcp: daily spend by service: refused'] }))).toBe(
      1,
    );
  });

  it('summary first: what was judged, found and paid; then each source and budget', () => {
    const lines = costReportText(report(), false).split('\n');
    expect(lines[0]).toBe(
      'Cost check of aws at 2026-12-20T12:00:00.000Z (month 2026-12): 0 budget thresholds crossed, 0 anomalies, 0 errors; paid 2 pages (aws 2), 0 answered from the cache.',
    );
    expect(lines[1]).toBe('Alerts: not queued (--no-alerts).');
    expect(lines).toContain('  month to date $880.00; month-end forecast $1,540.00 (computed here)');
    expect(lines).toContain(
      '  aws-monthly (account=123456789012): $880.00 = 44% of $2,000.00; forecast $1,540.00 (77%)',
    );
  });
});

describe('cloudops-mcp check cost (spawned)', () => {
  let moto: MotoServer;
  let dir: string;
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const base = () => ({
    STORE: 'embedded',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'silent',
    KUBECONFIG: join(dir, 'kubeconfig'),
    POLICY_FILE: join(dir, 'policy.yaml'),
  });

  beforeAll(async () => {
    moto = await startMoto();
    dir = mkdtempSync(join(tmpdir(), 'cli-cost-'));
    // A kubeconfig without clusters: the spend half needs none (namespace budgets would).
    writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    writeFileSync(
      join(dir, 'policy.yaml'),
      'cost:\n  budgets:\n    - name: aws-monthly\n      scope: { account: "123456789012" }\n      monthlyUsd: 1000\n',
    );
    // Today's spend alone crosses the budget: whatever day of the month the test runs on.
    const day = {
      TimePeriod: { Start: today, End: tomorrow },
      Total: {},
      Groups: [{ Keys: ['Amazon EC2'], Metrics: { UnblendedCost: { Amount: '1200', Unit: 'USD' } } }],
      Estimated: true,
    };
    const res = await fetch(`${moto.url}/moto-api/static/ce/cost-and-usage-results`, {
      method: 'POST',
      // By service, the forecast's ungrouped series, by linked account (the account budget's).
      body: JSON.stringify({
        results: [
          { ResultsByTime: [day] },
          { ResultsByTime: [] },
          { ResultsByTime: [{ ...day, Groups: [{ ...day.Groups[0], Keys: ['123456789012'] }] }] },
        ],
      }),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a crossed budget: exit 2, the summary first and the budget over; no source at all: exit 1 saying what to set', async () => {
    const over = await runCli(['check', 'cost', '--no-alerts'], {
      ...base(),
      COST_AWS: 'true',
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    expect(over.stderr).toBe('');
    expect(over.code).toBe(2);
    const lines = over.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Cost check of aws at .*: 1 budget threshold crossed, 0 anomalies, 0 errors; paid \d+ pages? \(aws \d+\)/,
    );
    expect(over.stdout).toContain('Budget aws-monthly (account=123456789012): month-to-date spend $1,200.00 is 120%');

    const none = await runCli(['check', 'cost', '--json', '--no-alerts'], base());
    expect(none.code).toBe(1);
    const parsed = JSON.parse(none.stdout) as CostCheckReport;
    expect(parsed.errors[0]).toMatch(/no spend source is configured: set COST_AWS=true/);
    expect(parsed.budgets[0]).toMatchObject({
      budget: 'aws-monthly',
      evaluated: false,
      why: 'no AWS spend is read: set COST_AWS=true',
    });
  }, 90_000);
});
