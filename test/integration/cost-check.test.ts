import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCostExplorerSource } from '../../shared/adapters/aws/cost-explorer.ts';
import { createBigQueryBillingSource } from '../../shared/adapters/gcp/bigquery-billing.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { createSlackNotifier } from '../../shared/adapters/slack/slack-notifier.ts';
import { checkCost, costExitCode } from '../../shared/app/cost/check.ts';
import { buildDeps, type Deps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { type AnomalyPolicy, type BudgetPolicy, defaultCostPolicy } from '../../shared/domain/cost/policy.ts';
import { defaultPolicy } from '../../shared/domain/guardrails/index.ts';
import type { CostSource } from '../../shared/ports/cost.ts';
import type { Clusters } from '../../shared/ports/kube.ts';
import { freePort, type MotoServer, startMoto } from '../support/moto.ts';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver.ts';

/*
 * The cost check end to end below the host: the real Cost Explorer adapter against moto_server (its
 * GetCostAndUsage answers are the results queued through /moto-api/static/ce/cost-and-usage-results,
 * one per distinct request body, in order; it has no GetCostForecast, so the adapter computes the
 * forecast from one more, ungrouped GetCostAndUsage), a MemoryStore under buildDeps, the real
 * AlertingService and Slack notifier against the loopback Slack receiver, and an injected clock.
 *
 * Each check of an AWS source asks, in this order: GetCostAndUsage by SERVICE (the month and the
 * anomaly window: Dec 4..Dec 21 on Dec 20), then GetCostForecast (moto: 500), then GetCostAndUsage
 * ungrouped for the forecast's series, then (with account budgets) GetCostAndUsage by LINKED_ACCOUNT
 * filtered to the budgets' accounts. So `seed` queues [by service, ungrouped, by account].
 */

const KEYS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const ACCOUNT = '123456789012';
/** Dec 20 2026, midday UTC: the check judges Dec 1-20 for budgets, Dec 5-19 for anomalies. */
const T0 = Date.parse('2026-12-20T12:00:00Z');
const HOUR = 3600_000;
const EC2 = 'Amazon Elastic Compute Cloud - Compute';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const day = (d: number) => `2026-12-${String(d).padStart(2, '0')}`;
const usd = (amount: number) => ({ UnblendedCost: { Amount: String(amount), Unit: 'USD' } });
/** Grouped days Dec 4..19 from `perDay(d)` (group key → amount): services, or linked accounts. */
function grouped(perDay: (d: number) => Record<string, number>) {
  return {
    ResultsByTime: Array.from({ length: 16 }, (_, i) => {
      const d = i + 4;
      return {
        TimePeriod: { Start: day(d), End: day(d + 1) },
        Total: {},
        Groups: Object.entries(perDay(d)).map(([k, v]) => ({ Keys: [k], Metrics: usd(v) })),
        Estimated: false,
      };
    }),
  };
}
/** Ungrouped totals Dec 1..19 (the computed forecast's series). */
function totals(perDay: (d: number) => number) {
  return {
    ResultsByTime: Array.from({ length: 19 }, (_, i) => ({
      TimePeriod: { Start: day(i + 1), End: day(i + 2) },
      Total: usd(perDay(i + 1)),
      Groups: [],
      Estimated: false,
    })),
  };
}
async function seed(results: unknown[]): Promise<void> {
  const res = await fetch(`${moto.url}/moto-api/static/ce/cost-and-usage-results`, {
    method: 'POST',
    body: JSON.stringify({ results }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`seeding Cost Explorer results: HTTP ${res.status}`);
}

const noClusters: Clusters = {
  list: async () => [],
  defaultCluster: async () => undefined,
  client: async () => Promise.reject(new Error('no clusters')),
};

describe('cost check: budgets, anomalies, cache and alerts (moto Cost Explorer, loopback Slack)', () => {
  let now: number;
  const clock = { now: () => now };
  let slack: SlackReceiver;
  let store: MemoryStore;

  const aws = (endpoint = moto.url): CostSource =>
    createCostExplorerSource({ endpoint, credentials: KEYS, now: () => now, timeoutMs: 10_000 });

  function makeDeps(
    budgets: BudgetPolicy[],
    sources: CostSource[],
    over: { clusters?: Clusters; env?: Record<string, string>; anomaly?: Partial<AnomalyPolicy> } = {},
  ): Deps {
    const policy = defaultPolicy();
    const cost = defaultCostPolicy();
    policy.cost = { ...cost, budgets, anomaly: { ...cost.anomaly, ...over.anomaly } };
    return buildDeps(
      loadConfig({ STORE: 'memory', LOG_LEVEL: 'silent', COST_CACHE_TTL: '1h', ...over.env }),
      store,
      pino({ level: 'silent' }),
      {
        clusters: over.clusters ?? noClusters,
        policy,
        metrics: new PrometheusSource(undefined),
        workflows: () =>
          ({ name: 'none', start: Promise.reject, describe: Promise.reject, stop: Promise.reject }) as never,
        notifier: createSlackNotifier(
          { mode: 'bot', token: slack.token, channel: slack.channel, apiUrl: slack.apiUrl, timeoutMs: 5_000 },
          clock,
        ),
        alertSettings: { groupWaitMs: 0, repeatIntervalMs: 4 * HOUR, initialBackoffMs: 5_000, maxBackoffMs: 60_000 },
        costSources: sources,
        clock,
      },
    );
  }
  const check = (deps: Deps) => checkCost(deps, { trigger: 'tool', requestId: 'r-cost' });
  const roots = () => slack.messages().filter((m) => !m.thread_ts);
  const text = (m: { text?: string; blocks?: unknown[] }) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

  beforeEach(async () => {
    now = T0;
    await moto.reset();
    slack = await startSlackReceiver({ clock });
    store = new MemoryStore(clock);
  });
  afterEach(async () => {
    await slack.close();
  });

  const accountBudget: BudgetPolicy = {
    name: 'aws-monthly',
    scope: { account: ACCOUNT },
    monthlyUsd: 1000,
    thresholds: { actual: [80, 100], forecast: [] },
  };

  it('a crossed budget is one alert; the same check is no second message and pays nothing within the TTL, pays again after it; credits resolve it', async () => {
    // $55 a day, Dec 1-19: $1,045 month to date on a $1,000 budget.
    await seed([grouped(() => ({ [EC2]: 50, 'Amazon S3': 5 })), totals(() => 55), grouped(() => ({ [ACCOUNT]: 55 }))]);
    const deps = makeDeps([accountBudget], [aws()]);

    const first = await check(deps);
    expect(first.errors).toEqual([]);
    const run = first.sources[0];
    expect(run).toMatchObject({ source: 'aws-cost-explorer', scope: 'aws', cacheHits: 0, queries: 3 });
    expect(run?.pages).toBeGreaterThanOrEqual(3); // by service, the forecast's series, by account: a page each
    const paidFirst = run?.pages;
    // Dec 4..19 by service (16 days) is what moto answered; the month to date is the days of December in it.
    expect(run?.monthToDate?.byService[0]).toEqual({ group: EC2, amount: 800 });
    expect(first.budgets[0]).toMatchObject({
      budget: 'aws-monthly',
      evaluated: true,
      actual: 880,
      crossed: ['actual'],
    });
    expect(first.budgetFindings).toHaveLength(1);
    expect(first.budgetFindings[0]).toMatchObject({ kind: 'actual', threshold: 80, since: '2026-12-18' });
    expect(costExitCode(first)).toBe(2);
    expect(first.alerts?.reconcile.opened).toBe(1);
    expect(roots()).toHaveLength(1);
    expect(text(roots()[0] ?? {})).toContain('Budget aws-monthly (account=123456789012)');

    // Again a minute later: from the cache, nothing paid, nothing sent.
    now += 60_000;
    const second = await check(deps);
    expect(second.sources[0]).toMatchObject({ pages: 0, cacheHits: 3, queries: 3 });
    expect(second.alerts?.reconcile).toMatchObject({ opened: 0, updated: 0, unchanged: 1 });
    expect(slack.messages()).toHaveLength(1);
    expect(slack.messages()[0]?.edits).toBe(0);

    // Past COST_CACHE_TTL (1h): the provider is asked again and paid.
    now += HOUR;
    const third = await check(deps);
    expect(third.sources[0]).toMatchObject({ pages: paidFirst, cacheHits: 0 });
    expect(third.alerts?.reconcile.unchanged).toBe(1);
    expect(roots()).toHaveLength(1);

    // Credits bring the month under 80%: the alert resolves.
    await moto.reset();
    await seed([grouped(() => ({ [EC2]: 40 })), totals(() => 40), grouped(() => ({ [ACCOUNT]: 40 }))]);
    now += 2 * HOUR;
    const fourth = await check(deps);
    expect(fourth.budgets[0]).toMatchObject({ evaluated: true, actual: 640, crossed: [] });
    expect(fourth.alerts?.reconcile.resolved).toBe(1);
    expect(costExitCode(fourth)).toBe(0);
    const resolved = slack.messages().filter((m) => /resolved/i.test(text(m)));
    expect(resolved.length).toBeGreaterThan(0);
  }, 60_000);

  it('on a payer account, each account budget is judged on its own account: the one over alerts, the one under does not', async () => {
    const MEMBER = '210987654321';
    const memberBudget: BudgetPolicy = { ...accountBudget, name: 'member-monthly', scope: { account: MEMBER } };
    const idleBudget: BudgetPolicy = { ...accountBudget, name: 'idle-monthly', scope: { account: '111122223333' } };
    // One bill, $85 a day: the payer's $70 (Dec 4..19: $1,120 on $1,000) and the member's $15 ($240).
    await seed([
      grouped(() => ({ [EC2]: 80, 'Amazon S3': 5 })),
      totals(() => 85),
      grouped(() => ({ [ACCOUNT]: 70, [MEMBER]: 15 })),
    ]);
    const deps = makeDeps([accountBudget, memberBudget, idleBudget], [aws()]);
    const r = await check(deps);
    expect(r.errors).toEqual([]);
    expect(r.sources[0]?.monthToDate?.total).toBe(1360);
    expect(r.budgets).toEqual([
      expect.objectContaining({ budget: 'aws-monthly', evaluated: true, actual: 1120, crossed: ['actual'] }),
      // Its forecast is its own run-rate: $240 over Dec 1..19 (19 whole days) × 31 days.
      expect.objectContaining({
        budget: 'member-monthly',
        evaluated: true,
        actual: 240,
        forecast: 391.58,
        forecastMethod: 'computed',
        crossed: [],
      }),
      // No spend of that account this month: $0, judged.
      expect.objectContaining({ budget: 'idle-monthly', evaluated: true, actual: 0, crossed: [] }),
    ]);
    expect(r.budgetFindings.map((f) => [f.budget, f.kind, f.threshold])).toEqual([['aws-monthly', 'actual', 100]]);
    expect(r.alerts?.reconcile.opened).toBe(1);
    expect(roots()).toHaveLength(1);
    expect(text(roots()[0] ?? {})).toContain(`Budget aws-monthly (account=${ACCOUNT})`);
    // One query for the three accounts (its Filter on the wire: cost-explorer.test.ts).
    expect(r.sources[0]).toMatchObject({ queries: 3, cacheHits: 0 });
  }, 60_000);

  it('a service doubling over its 14-day median is an anomaly alert saying what grew, by how much and since when; back to normal, it resolves', async () => {
    const spike = (d: number) => ({ [EC2]: d >= 18 ? 230 : 100, 'Amazon S3': 5 });
    await seed([grouped(spike), totals((d) => (d >= 18 ? 235 : 105))]);
    const deps = makeDeps([], [aws()]);
    const r = await check(deps);
    expect(r.errors).toEqual([]);
    expect(r.anomalies).toHaveLength(1);
    expect(r.anomalies[0]).toMatchObject({
      group: EC2,
      scope: 'aws',
      day: '2026-12-19',
      amount: 230,
      baseline: 100,
      increase: 130,
      ratio: 2.3,
      since: '2026-12-18',
    });
    expect(costExitCode(r)).toBe(2);
    const msg = text(roots()[0] ?? {});
    expect(msg).toContain(`service ${EC2}`);
    expect(msg).toContain('since 2026-12-18');
    expect(msg).toContain('$130.00');

    await moto.reset();
    await seed([grouped((d) => ({ [EC2]: d === 18 ? 230 : 100, 'Amazon S3': 5 })), totals(() => 105)]);
    now += 2 * HOUR;
    const after = await check(deps);
    expect(after.anomalies).toEqual([]);
    expect(after.alerts?.reconcile.resolved).toBe(1);
    expect(costExitCode(after)).toBe(0);
  }, 60_000);

  it('a failing source is an error (exit 1) while the other source is still judged, and an outage never resolves an alert', async () => {
    await seed([grouped(() => ({ [EC2]: 55 })), totals(() => 55), grouped(() => ({ [ACCOUNT]: 55 }))]);
    const token = new OAuth2Client();
    token.setCredentials({ access_token: 'ya29.test-token', expiry_date: T0 + 24 * HOUR });
    const gcp = createBigQueryBillingSource({
      table: 'billing-project.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9',
      endpoint: `http://127.0.0.1:${await freePort()}`,
      auth: new GoogleAuth({ authClient: token }),
      now: () => now,
      timeoutMs: 5_000,
    });
    const projectBudget: BudgetPolicy = {
      name: 'gcp-monthly',
      scope: { project: 'billing-project' },
      monthlyUsd: 500,
      thresholds: { actual: [100], forecast: [] },
    };
    const deps = makeDeps([accountBudget, projectBudget], [aws(), gcp]);
    const r = await check(deps);
    expect(costExitCode(r)).toBe(1);
    const gcpRun = r.sources.find((s) => s.scope === 'gcp');
    expect(gcpRun?.errors[0]).toMatch(/^daily spend by service: /);
    expect(r.errors.some((e) => e.startsWith('gcp: daily spend by service'))).toBe(true);
    expect(r.budgets).toEqual([
      expect.objectContaining({ budget: 'aws-monthly', evaluated: true, crossed: ['actual'] }),
      expect.objectContaining({
        budget: 'gcp-monthly',
        evaluated: false,
        why: expect.stringContaining('the gcp spend of project=billing-project could not be read'),
      }),
    ]);
    expect(r.errors).toContain(`budget gcp-monthly: not evaluated: ${(r.budgets[1] as { why: string }).why}`);
    expect(r.alerts?.reconcile.opened).toBe(1);

    // Cost Explorer down too, past the TTL: the AWS budget cannot be judged, and its alert stays open.
    now += 2 * HOUR;
    const down = makeDeps([accountBudget, projectBudget], [aws(`http://127.0.0.1:${await freePort()}`), gcp]);
    const r2 = await check(down);
    expect(costExitCode(r2)).toBe(1);
    expect(r2.budgets[0]).toMatchObject({ evaluated: false });
    expect(r2.alerts?.reconcile).toMatchObject({ resolved: 0, unchanged: 1 });
    expect(slack.messages().filter((m) => /resolved/i.test(text(m)))).toEqual([]);
  }, 60_000);

  it('namespaces from the usage samples: a namespace budget is judged on its allocated cost, and a namespace whose cost grew is an anomaly', async () => {
    const prod: Clusters = {
      ...noClusters,
      list: async () => [
        { name: 'prod', server: 'https://127.0.0.1:9', source: 'kubeconfig', isDefault: true, namespace: 'default' },
      ],
    };
    const shopBudget: BudgetPolicy = {
      name: 'shop',
      scope: { namespace: 'shop', cluster: 'prod' },
      monthlyUsd: 1,
      thresholds: { actual: [100], forecast: [] },
    };
    const deps = makeDeps([shopBudget], [], {
      clusters: prod,
      env: { COST_INSTANCE_PRICES: JSON.stringify({ 'test-4x16': 0.2 }), USAGE_RETENTION_DAYS: '31' },
      // One sample a day is an hour of cost: cents, so the amount threshold is off here.
      anomaly: { minAmountUsd: 0 },
    });
    // One sample a day at noon, Dec 4..19: shop/api requests 1 core, then 3 cores from Dec 18.
    for (let d = 4; d <= 19; d++) {
      const cores = d >= 18 ? 3 : 1;
      await deps.usageSamples.write({
        cluster: 'prod',
        at: Date.parse(`${day(d)}T12:00:00Z`),
        nodes: [{ name: 'n1', instanceType: 'test-4x16', cpuCores: 4, memoryBytes: 16 * 1024 ** 3 }],
        pods: [
          {
            namespace: 'shop',
            name: 'api-1',
            node: 'n1',
            containers: [{ name: 'api', cpuRequestCores: cores, memoryRequestBytes: 1024 ** 3 }],
            usage: [{ cpuCores: 0.5, memoryBytes: 512 * 1024 ** 2 }],
          },
        ],
      });
    }
    const r = await check(deps);
    expect(r.clusters).toEqual([{ cluster: 'prod', namespaces: 1, anomaliesNotJudged: 0 }]);
    expect(r.budgets[0]).toMatchObject({ budget: 'shop', scopeKey: 'namespace=shop cluster=prod', evaluated: true });
    const actual = (r.budgets[0] as { actual: number }).actual;
    expect(actual).toBeGreaterThan(0);
    expect(r.anomalies).toEqual([
      expect.objectContaining({
        dimension: 'namespace',
        scope: 'cluster:prod',
        group: 'shop',
        day: '2026-12-19',
        since: '2026-12-18',
      }),
    ]);
    expect(text(roots().find((m) => text(m).includes('namespace shop')) ?? {})).toContain('since 2026-12-18');
    // The namespace anomaly and the namespace budget, each alerted once.
    expect(r.alerts?.reconcile.opened).toBe(r.budgetFindings.length + 1);
    // No spend source here: that is said, and the check is an error.
    expect(r.errors[0]).toMatch(/no spend source is configured/);
    expect(costExitCode(r)).toBe(1);
  }, 60_000);
});
