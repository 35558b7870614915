import type { Logger } from 'pino';
import * as z from 'zod';
import type { Config } from '../../config/config.ts';
import { findAnomalies, type GroupDay } from '../../domain/cost/anomaly.ts';
import {
  type BudgetFinding,
  type BudgetSpend,
  type BudgetStatus,
  type DayAmount,
  daysInMonth,
  evaluateBudgets,
} from '../../domain/cost/budgets.ts';
import { type BudgetPolicy, budgetScopeKey, defaultCostPolicy } from '../../domain/cost/policy.ts';
import type { Policy } from '../../domain/guardrails/index.ts';
import type { CostSource, SpendReport } from '../../ports/cost.ts';
import type { Clusters } from '../../ports/kube.ts';
import type { Alert } from '../../ports/notifier.ts';
import { sumReconcile } from '../alerts/alerting.ts';
import type { Alerting } from '../alerts/types.ts';
import { CorruptRecordError, decodeRecord } from '../repos/codec.ts';
import type { UsageSamples } from '../repos/usage-samples.ts';
import {
  addDays,
  dayOf,
  errorText,
  monthForecast,
  monthOf,
  SPEND_LIMITS,
  type SpendDeps,
  sourceSpend,
} from './spend.ts';
import type { CostCheckInput, CostCheckReport, CostClusterRun, CostSourceRun, GroupTotal } from './types.ts';
import { type ClusterDailyCosts, namespaceDailyCosts } from './workloads.ts';

/*
 * The cost check (issue 14, items 3 and 5): for every spend source, one daily query by service that
 * covers both the month to date and the anomaly window (and one by COST_TAG_KEY when set), the
 * month-end forecast, then the policy's budgets (evaluateBudgets) and the services' anomalies
 * (findAnomalies), and the alerts they fire. All spend reads go through the cache (./spend.ts), so a
 * check within COST_CACHE_TTL of another pays nothing; the report says what each source paid.
 *
 * Budget scopes: `account` is that account's spend on the AWS source (Cost Explorer grouped by
 * LINKED_ACCOUNT, filtered to the budgets' accounts: a payer account's bill covers its whole
 * organization, each member judged on its own), `project` that project's spend on the GCP source (the
 * billing export grouped by project.id, filtered likewise); an account or project without spend this
 * month is at $0. Their forecast is computed here from that series (the run-rate of the month's whole
 * days: the providers forecast only the whole bill, which the report shows per source). `label`
 * without `cluster` is the spend carrying that tag/label on every source, summed. Namespace budgets
 * and `label` with `cluster` are the cost allocated to pods from the stored usage samples
 * (namespaceDailyCosts: complete days only, summed over the clusters when no cluster is named; the
 * forecast is computed here as the run-rate of the days with samples). The namespaces' daily costs
 * are judged for anomalies too, per cluster. A budget that cannot be evaluated is reported with why
 * and makes the check an error (exit 1), never a skip.
 *
 * Days: today (UTC) is still filling in. Budgets count it (month to date); anomalies judge the days
 * before it (findAnomalies judges the newest day with data, which must be a whole day).
 *
 * Alerts (source `cost`): budget findings in the group `cost:budgets` (run scope `budgets`), one
 * anomaly per service in `cost:anomalies/<source>` (run scope `anomalies/<source>`), one per namespace
 * in `cost:anomalies/cluster:<cluster, URI-encoded>`. What a failed source (or a cluster without
 * samples of yesterday) could not judge keeps its alerts as they were: its anomaly scope is not reconciled, and a
 * budget that could not be evaluated fires its last alerts again unchanged
 * (kept per budget in the Store), so an outage never reads as "resolved".
 */

export interface CostCheckDeps extends SpendDeps {
  config: Config;
  policy: Policy;
  log: Logger;
  /** With usageSamples: namespace and cluster-label budgets and namespace anomalies (cost allocated to pods). */
  clusters?: Clusters;
  usageSamples?: UsageSamples;
  /** Absent: the check records nothing and sends nothing (`--no-alerts`). */
  alerting?: Alerting;
}

export const COST_CHECK_LIMITS = {
  /** Groups asked of a source per query (the rest are summed as `other`). */
  maxGroups: 40,
  groupsInReport: 20,
  anomaliesInReport: 100,
  errorsPerSource: 20,
  errorsInReport: 100,
  /** Label budgets without a cluster read at most this many distinct labels (a query each, cached). */
  labels: 20,
} as const;

const BUDGET_GROUP = 'cost:budgets';
const BUDGET_ALERTS_PK = 'cost-budget-alerts';

/** `aws` / `gcp` for the known sources, else the kind: how alerts and scopes name a source. */
export function sourceScope(kind: string): string {
  if (kind === 'aws-cost-explorer') return 'aws';
  if (kind === 'gcp-bigquery-billing') return 'gcp';
  return kind.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 60);
}

/** The configured sources, for server_info-like answers and the cost tools' hints. */
export function costSourcesStatus(deps: Pick<CostCheckDeps, 'costSources' | 'config'>) {
  return {
    sources: deps.costSources.map((s) => ({ kind: s.kind, scope: sourceScope(s.kind) })),
    ...(deps.config.cost.tagKey ? { tagKey: deps.config.cost.tagKey } : {}),
    cacheTtlMs: deps.config.cost.cacheTtlMs,
    ...(deps.costSources.length === 0 ? { hint: NO_SOURCE } : {}),
  };
}

const NO_SOURCE =
  'no spend source is configured: set COST_AWS=true (AWS Cost Explorer) and/or GCP_BILLING_TABLE (the Cloud Billing export in BigQuery)';

interface Gathered {
  run: CostSourceRun;
  source: CostSource;
  /** The whole bill's currency, when the service query answered (its month-end forecast is then asked). */
  currency?: string;
  /** Spend per label budget key (`key=value`), or why not. */
  labels: Map<string, { spend: BudgetSpend } | { error: string }>;
  /** Spend per account (AWS) or project (GCP) id of the budgets, or why not. */
  accounts: Map<string, { spend: BudgetSpend } | { error: string }>;
  /** Daily spend by service in the anomaly window (whole days), when the service query answered. */
  serviceDays?: GroupDay[];
  /** The provider marked the newest days estimates. */
  estimated?: boolean;
}

const byAmount = (m: Map<string, number>, n: number): GroupTotal[] =>
  [...m.entries()]
    .map(([group, amount]) => ({ group, amount: Math.round(amount * 100) / 100 }))
    .sort((a, b) => b.amount - a.amount || (a.group < b.group ? -1 : 1))
    .slice(0, n);

function monthSpend(report: SpendReport, month: string, today: string) {
  const byDay = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const d of report.days) {
    if (!d.date.startsWith(`${month}-`) || d.date > today) continue;
    byDay.set(d.date, (byDay.get(d.date) ?? 0) + d.amount);
    byGroup.set(d.group, (byGroup.get(d.group) ?? 0) + d.amount);
  }
  const days: DayAmount[] = [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([date, amount]) => ({ date, amount }));
  return { days, byGroup, total: Math.round(days.reduce((s, d) => s + d.amount, 0) * 100) / 100 };
}

const labelKey = (l: { key: string; value: string }) => `${l.key}=${l.value}`;

/**
 * One account's or project's spend of the month from a report grouped by account, with the forecast
 * computed as its run-rate, as the sources compute theirs (cost-series.ts computeForecast): the spend
 * of the month's whole days (before today, which is still filling in) + their mean × the days from
 * today on. None on the 1st (no whole day yet).
 */
function accountSpend(report: SpendReport, id: string, month: string, today: string): BudgetSpend {
  const m = monthSpend({ ...report, days: report.days.filter((d) => d.group === id) }, month, today);
  const whole = Number(today.slice(8, 10)) - 1;
  const out: BudgetSpend = { currency: report.currency, days: m.days, estimated: report.estimated };
  if (whole > 0) {
    const before = m.days.filter((d) => d.date < today).reduce((n, d) => n + d.amount, 0);
    out.forecast = { amount: Math.round((before / whole) * daysInMonth(month) * 100) / 100, method: 'computed' };
  }
  return out;
}

async function gather(
  deps: CostCheckDeps,
  source: CostSource,
  now: number,
  labels: ReadonlyArray<{ key: string; value: string }>,
  /** The account (AWS) or project (GCP) ids of this source's budgets. */
  accounts: readonly string[],
): Promise<Gathered> {
  const scope = sourceScope(source.kind);
  const run: CostSourceRun = {
    source: source.kind,
    scope,
    pages: 0,
    cacheHits: 0,
    queries: 0,
    anomaliesNotJudged: 0,
    errors: [],
  };
  const paid = (a: { pages: number; bytesBilled?: number; cachedAt?: string }) => {
    run.queries++;
    run.pages += a.pages;
    if (a.bytesBilled) run.bytesBilled = (run.bytesBilled ?? 0) + a.bytesBilled;
    if (a.cachedAt) run.cacheHits++;
  };
  const fail = (what: string, err: unknown) => {
    const text = `${what}: ${errorText(err)}`;
    if (run.errors.length < COST_CHECK_LIMITS.errorsPerSource) run.errors.push(text);
    deps.log.warn({ source: source.kind, err: text }, 'cost check: a spend source failed');
    return text;
  };
  const out: Gathered = { run, source, labels: new Map(), accounts: new Map() };
  const today = dayOf(now);
  const { month, period: monthPeriod } = monthOf(now);
  const anomaly = (deps.policy.cost ?? defaultCostPolicy()).anomaly;
  const anomalyStart = addDays(today, -(anomaly.baselineDays + 1));
  const period = { start: anomalyStart < monthPeriod.start ? anomalyStart : monthPeriod.start, end: addDays(today, 1) };

  try {
    const report = await sourceSpend(deps, source, {
      period,
      groupBy: { by: 'service' },
      maxGroups: COST_CHECK_LIMITS.maxGroups,
    });
    paid(report);
    const m = monthSpend(report, month, today);
    run.currency = report.currency;
    run.monthToDate = {
      total: m.total,
      byService: byAmount(m.byGroup, COST_CHECK_LIMITS.groupsInReport),
      estimated: report.estimated,
    };
    out.currency = report.currency;
    out.serviceDays = report.days.filter((d) => d.date >= anomalyStart && d.date < today);
    out.estimated = report.estimated;
  } catch (err) {
    fail('daily spend by service', err);
  }
  const tagKey = deps.config.cost.tagKey;
  if (tagKey && run.monthToDate) {
    try {
      const report = await sourceSpend(deps, source, {
        period: { start: monthPeriod.start, end: addDays(today, 1) },
        groupBy: { by: 'tag', key: tagKey },
        maxGroups: COST_CHECK_LIMITS.maxGroups,
      });
      paid(report);
      run.monthToDate.byTag = {
        key: tagKey,
        groups: byAmount(monthSpend(report, month, today).byGroup, COST_CHECK_LIMITS.groupsInReport),
      };
    } catch (err) {
      fail(`daily spend by tag ${tagKey}`, err);
    }
  }
  if (out.currency) {
    try {
      const f = await monthForecast(deps, source, now);
      paid(f);
      run.forecast = {
        amount: f.amount,
        ...(f.lower !== undefined ? { lower: f.lower } : {}),
        ...(f.upper !== undefined ? { upper: f.upper } : {}),
        method: f.method,
      };
      if (f.currency !== out.currency) {
        fail('forecast', `in ${f.currency.slice(0, 8)}, the spend in ${out.currency.slice(0, 8)}`);
      }
    } catch (err) {
      fail('month-end forecast', err);
    }
  }
  for (const l of labels) {
    try {
      const report = await sourceSpend(deps, source, {
        period: { start: monthPeriod.start, end: addDays(today, 1) },
        groupBy: { by: 'tag', key: l.key },
        only: [l.value],
        maxGroups: 1,
      });
      paid(report);
      const rows = { ...report, days: report.days.filter((d) => d.group === l.value) };
      const m = monthSpend(rows, month, today);
      out.labels.set(labelKey(l), { spend: { currency: report.currency, days: m.days, estimated: report.estimated } });
    } catch (err) {
      out.labels.set(labelKey(l), { error: fail(`daily spend with ${l.key}=${l.value}`, err) });
    }
  }
  const noun = scope === 'gcp' ? 'project' : 'account';
  for (let i = 0; i < accounts.length; i += SPEND_LIMITS.only) {
    const ids = accounts.slice(i, i + SPEND_LIMITS.only);
    try {
      const report = await sourceSpend(deps, source, {
        period: { start: monthPeriod.start, end: addDays(today, 1) },
        groupBy: { by: 'account' },
        only: ids,
        maxGroups: ids.length,
      });
      paid(report);
      for (const id of ids) out.accounts.set(id, { spend: accountSpend(report, id, month, today) });
    } catch (err) {
      const error = fail(`daily spend by ${noun} (${ids.length} ${noun}s)`, err);
      for (const id of ids) out.accounts.set(id, { error });
    }
  }
  return out;
}

interface StoredBudgetAlert {
  kind: 'actual' | 'forecast';
  alert: Alert;
}
const StoredAlertsSchema = z.looseObject({
  alerts: z.array(
    z.looseObject({
      kind: z.enum(['actual', 'forecast']),
      alert: z.looseObject({
        fingerprint: z.string(),
        groupKey: z.string(),
        status: z.enum(['firing', 'resolved']),
        severity: z.enum(['critical', 'warning', 'info']),
        summary: z.string(),
        fields: z.array(z.object({ label: z.string(), value: z.string() })),
        startsAt: z.string(),
      }),
    }),
  ),
}) as z.ZodType<{ alerts: StoredBudgetAlert[] }>;

function budgetAlert(f: BudgetFinding, checkedAt: string): StoredBudgetAlert {
  return {
    kind: f.kind,
    alert: {
      fingerprint: f.fingerprint,
      groupKey: BUDGET_GROUP,
      status: 'firing',
      severity: f.severity,
      summary: f.summary,
      fields: f.fields,
      startsAt: f.since ? `${f.since}T00:00:00.000Z` : checkedAt,
    },
  };
}

/** Each budget's spend, or why it has none, from what the sources gave. */
function budgetInputs(
  budgets: readonly BudgetPolicy[],
  gathered: Gathered[],
  pods: PodCosts | undefined,
  month: string,
) {
  const spend: Record<string, BudgetSpend> = {};
  const why = new Map<string, string>();
  const bySource = (scope: string) => gathered.find((g) => g.run.scope === scope);
  for (const b of budgets) {
    const key = budgetScopeKey(b.scope);
    if (Object.hasOwn(spend, key) || why.has(key)) continue;
    const s = b.scope;
    if (s.account !== undefined || s.project !== undefined) {
      const [scope, setting] = s.account !== undefined ? ['aws', 'COST_AWS=true'] : ['gcp', 'GCP_BILLING_TABLE'];
      const id = (s.account ?? s.project) as string;
      const g = bySource(scope);
      const got = g?.accounts.get(id);
      if (!g) why.set(key, `no ${scope === 'aws' ? 'AWS' : 'GCP'} spend is read: set ${setting}`);
      else if (!got) why.set(key, `the ${scope} spend of ${key} was not read`);
      else if ('error' in got) why.set(key, `the ${scope} spend of ${key} could not be read (${got.error})`);
      else spend[key] = got.spend;
    } else if (s.label !== undefined && s.cluster === undefined) {
      const lk = labelKey(s.label);
      const parts = gathered.map((g) => g.labels.get(lk));
      const failed = parts.find((p): p is { error: string } => p !== undefined && 'error' in p);
      const got = parts.filter((p): p is { spend: BudgetSpend } => p !== undefined && 'spend' in p).map((p) => p.spend);
      const currencies = [...new Set(got.filter((p) => p.days.length > 0).map((p) => p.currency))];
      if (gathered.length === 0) why.set(key, NO_SOURCE);
      else if (failed) why.set(key, `the spend with ${lk} could not be read (${failed.error})`);
      else if (got.length === 0)
        why.set(key, `the spend with ${lk} was not read (more than ${COST_CHECK_LIMITS.labels} labels)`);
      else if (currencies.length > 1)
        why.set(key, `the spend with ${lk} is in ${currencies.join(' and ')}: not summed`);
      else {
        spend[key] = {
          currency: currencies[0] ?? got[0]?.currency ?? 'USD',
          days: got.flatMap((p) => p.days),
          estimated: got.some((p) => p.estimated === true),
        };
      }
    } else if (!pods) {
      why.set(
        key,
        'this host reads no usage samples: cost allocated to pods (a namespace, a label with a cluster) is not known here',
      );
    } else {
      const got = podSpend(pods, s, month);
      if (typeof got === 'string') why.set(key, got);
      else spend[key] = got;
    }
  }
  return { spend, why };
}

interface PodCosts {
  /** The clusters' namespace costs (from the first call that answered). */
  clusters: ClusterDailyCosts[];
  /** Per Kubernetes label key of the budgets: the clusters' costs by that label, or why not. */
  labels: Map<string, ClusterDailyCosts[] | string>;
  /** Why no call answered. */
  error?: string;
}

/** A namespace or cluster-label budget's spend of the month from the pods' allocated cost, or why none. */
function podSpend(pods: PodCosts, s: BudgetPolicy['scope'], month: string): BudgetSpend | string {
  let clusters = pods.clusters;
  const own = <T>(o: Record<string, T> | undefined, k: string) => (o && Object.hasOwn(o, k) ? o[k] : undefined);
  let pick = (c: ClusterDailyCosts) => own(c.namespaces, s.namespace ?? '');
  let what = `namespace ${s.namespace}`;
  if (s.label !== undefined) {
    const byLabel = pods.labels.get(s.label.key);
    if (typeof byLabel === 'string') return byLabel;
    clusters = byLabel ?? [];
    const { key, value } = s.label;
    pick = (c) => own(own(c.labels, key), value);
    what = `pods labelled ${key}=${value}`;
  }
  if (pods.error && clusters.length === 0) return `the cost allocated to pods could not be read (${pods.error})`;
  const inScope = clusters.filter((c) => s.cluster === undefined || c.cluster === s.cluster);
  if (inScope.length === 0)
    return s.cluster !== undefined
      ? `cluster ${s.cluster} is not configured here`
      : 'no cluster is configured here: cost allocated to pods comes from their usage samples';
  const byDay = new Map<string, number>();
  for (const c of inScope) {
    for (const d of pick(c) ?? []) {
      if (d.date.startsWith(`${month}-`)) byDay.set(d.date, (byDay.get(d.date) ?? 0) + d.amount);
    }
  }
  if (byDay.size === 0) {
    const note = inScope.flatMap((c) => c.errors ?? [])[0];
    return `no cost of ${what}${s.cluster ? ` on ${s.cluster}` : ''} in ${month} from the usage samples${note ? ` (${note})` : ''}`;
  }
  const days = [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, amount]) => ({ date, amount }));
  const total = days.reduce((n, d) => n + d.amount, 0);
  return {
    currency: 'USD',
    days,
    forecast: { amount: (total / days.length) * daysInMonth(month), method: 'computed' },
  };
}

async function gatherPods(
  deps: CostCheckDeps,
  now: number,
  days: number,
  labelKeys: string[],
): Promise<PodCosts | undefined> {
  if (!deps.clusters || !deps.usageSamples) return undefined;
  const d = { clusters: deps.clusters, usageSamples: deps.usageSamples, config: deps.config, clock: deps.clock };
  const out: PodCosts = { clusters: [], labels: new Map() };
  const keys = labelKeys.length > 0 ? labelKeys : [undefined];
  for (const key of keys) {
    try {
      const r = await namespaceDailyCosts(d, { days, now, ...(key !== undefined ? { labelKey: key } : {}) });
      if (out.clusters.length === 0) out.clusters = r.byCluster;
      if (key !== undefined) out.labels.set(key, r.byCluster);
    } catch (err) {
      const text = errorText(err);
      if (key !== undefined) out.labels.set(key, `the cost by label ${key} could not be read (${text})`);
      out.error ??= text;
    }
  }
  return out;
}

interface Evaluation {
  report: CostCheckReport;
  findings: BudgetFinding[];
  /** Budgets whose alerts stay as they were, and which kinds (both when not evaluated). */
  keep: Map<string, Set<'actual' | 'forecast'>>;
  /** Sources whose services were judged (their anomaly scope is reconciled). */
  judged: Array<{ scope: string; alerts: Alert[] }>;
}

async function evaluate(deps: CostCheckDeps, input: Omit<CostCheckInput, 'requestId'>): Promise<Evaluation> {
  const now = input.now ?? deps.clock.now();
  const checkedAt = new Date(now).toISOString();
  const policy = deps.policy.cost ?? defaultCostPolicy();
  const { month } = monthOf(now);
  const labels = [
    ...new Map(
      policy.budgets
        .filter((b) => b.scope.label !== undefined && b.scope.cluster === undefined)
        .map((b) => b.scope.label as { key: string; value: string })
        .map((l) => [labelKey(l), l] as const),
    ).values(),
  ].slice(0, COST_CHECK_LIMITS.labels);
  // Sources at once; each source's queries one after another (one provider's rate limit at a time).
  const ids = (pick: (b: BudgetPolicy) => string | undefined) => [
    ...new Set(policy.budgets.flatMap((b) => (pick(b) !== undefined ? [pick(b) as string] : []))),
  ];
  const accounts = ids((b) => b.scope.account);
  const projects = ids((b) => b.scope.project);
  const gathered = await Promise.all(
    deps.costSources.map((s) => {
      const scope = sourceScope(s.kind);
      return gather(deps, s, now, labels, scope === 'aws' ? accounts : scope === 'gcp' ? projects : []);
    }),
  );

  const errors: string[] = [];
  if (deps.costSources.length === 0) errors.push(NO_SOURCE);
  for (const g of gathered) for (const e of g.run.errors) errors.push(`${g.run.scope}: ${e}`);

  const podDays = Math.min(31, Math.max(new Date(now).getUTCDate() - 1, policy.anomaly.baselineDays + 1, 1));
  const podLabelKeys = [
    ...new Set(
      policy.budgets.flatMap((b) => (b.scope.label && b.scope.cluster !== undefined ? [b.scope.label.key] : [])),
    ),
  ].slice(0, COST_CHECK_LIMITS.labels);
  const pods = await gatherPods(deps, now, podDays, podLabelKeys);
  const inputs = budgetInputs(policy.budgets, gathered, pods, month);
  const result = evaluateBudgets(policy.budgets, { month, spend: inputs.spend });
  const keep = new Map<string, Set<'actual' | 'forecast'>>();
  const budgets: BudgetStatus[] = result.statuses.map((s) => {
    if (s.evaluated) return s;
    const why = inputs.why.get(s.scopeKey) ?? s.why;
    errors.push(`budget ${s.budget}: not evaluated: ${why}`);
    keep.set(s.budget, new Set(['actual', 'forecast']));
    return { ...s, why };
  });

  const anomalies: CostCheckReport['anomalies'] = [];
  const judged: Evaluation['judged'] = [];
  const today = dayOf(now);
  for (const g of gathered) {
    const days = g.serviceDays;
    if (!days) continue;
    const newest = days.reduce<string | undefined>((m, d) => (m === undefined || d.date > m ? d.date : m), undefined);
    const r = findAnomalies(
      {
        dimension: 'service',
        scope: g.run.scope,
        period: { start: addDays(today, -(policy.anomaly.baselineDays + 1)), end: today },
        days,
        ...(g.estimated && newest ? { estimatedFrom: newest } : {}),
      },
      policy.anomaly,
    );
    g.run.anomaliesNotJudged = r.notJudged.length;
    anomalies.push(...r.anomalies);
    judged.push({
      scope: `anomalies/${g.run.scope}`,
      alerts: r.anomalies.map((a) => ({
        fingerprint: a.fingerprint,
        groupKey: `cost:anomalies/${g.run.scope}`,
        status: 'firing',
        severity: 'warning',
        summary: a.summary,
        fields: a.fields,
        startsAt: `${a.since}T00:00:00.000Z`,
      })),
    });
  }
  const clusterRuns: CostClusterRun[] = [];
  const yesterday = addDays(today, -1);
  for (const c of pods?.clusters ?? []) {
    const window = Math.min(policy.anomaly.baselineDays + 1, podDays);
    const start = addDays(today, -window);
    const days: GroupDay[] = Object.entries(c.namespaces).flatMap(([ns, ds]) =>
      ds.filter((d) => d.date >= start && d.date < today).map((d) => ({ date: d.date, group: ns, amount: d.amount })),
    );
    const r = findAnomalies(
      { dimension: 'namespace', scope: `cluster:${c.cluster}`, period: { start, end: today }, days },
      policy.anomaly,
    );
    const notes = (c.errors ?? []).slice(0, COST_CHECK_LIMITS.errorsPerSource);
    const kept = deps.config.cost.usageRetentionDays;
    if (kept < podDays)
      notes.push(
        `USAGE_RETENTION_DAYS (${kept}) is shorter than the ${podDays} days read: namespace budgets count only the samples kept`,
      );
    const fresh = r.day === yesterday;
    if (!fresh) notes.push(`no usage samples of ${yesterday}: its namespace anomaly alerts are left as they were`);
    clusterRuns.push({
      cluster: c.cluster,
      namespaces: Object.keys(c.namespaces).length,
      anomaliesNotJudged: r.notJudged.length,
      ...(notes.length ? { notes } : {}),
    });
    anomalies.push(...r.anomalies);
    if (fresh) {
      const groupKey = `cost:anomalies/cluster:${encodeURIComponent(c.cluster)}`;
      judged.push({
        scope: groupKey.slice('cost:'.length),
        alerts: r.anomalies.map((a) => ({
          fingerprint: a.fingerprint,
          groupKey,
          status: 'firing',
          severity: 'warning',
          summary: a.summary,
          fields: a.fields,
          startsAt: `${a.since}T00:00:00.000Z`,
        })),
      });
    }
  }
  if (pods?.error) errors.push(`usage samples: ${pods.error}`);
  anomalies.sort((a, b) => b.increase - a.increase);

  const report: CostCheckReport = {
    checkedAt,
    month,
    trigger: input.trigger,
    sources: gathered.map((g) => g.run),
    ...(pods ? { clusters: clusterRuns } : {}),
    budgets,
    budgetFindings: result.findings,
    anomalies: anomalies.slice(0, COST_CHECK_LIMITS.anomaliesInReport),
    errors: errors.slice(0, COST_CHECK_LIMITS.errorsInReport),
  };
  return { report, findings: result.findings, keep, judged };
}

/** The policy's budgets against the spend now (cost_budgets_list): no alerts recorded or sent. */
export async function budgetStatuses(deps: CostCheckDeps, now?: number) {
  const { report } = await evaluate(deps, { trigger: 'tool', ...(now !== undefined ? { now } : {}) });
  return {
    checkedAt: report.checkedAt,
    month: report.month,
    budgets: report.budgets,
    findings: report.budgetFindings,
    sources: report.sources.map((s) => ({
      source: s.source,
      scope: s.scope,
      pages: s.pages,
      cacheHits: s.cacheHits,
      errors: s.errors,
    })),
    errors: report.errors,
  };
}

/** Runs the cost check; with `deps.alerting`, reconciles its alerts and delivers the outbox once. */
export async function checkCost(deps: CostCheckDeps, input: CostCheckInput): Promise<CostCheckReport> {
  const { report, findings, keep, judged } = await evaluate(deps, input);
  const s = report.sources;
  deps.log.info(
    {
      requestId: input.requestId,
      trigger: input.trigger,
      pages: s.map((r) => `${r.scope}:${r.pages}`).join(' '),
      cacheHits: s.reduce((n, r) => n + r.cacheHits, 0),
      findings: findings.length,
      anomalies: report.anomalies.length,
      errors: report.errors.length,
    },
    'cost check done',
  );
  if (!deps.alerting) return report;

  const policy = deps.policy.cost ?? defaultCostPolicy();
  const names = new Set(policy.budgets.map((b) => b.name));
  const previous = await storedBudgetAlerts(deps);
  const firing: Alert[] = [];
  const toStore = new Map<string, StoredBudgetAlert[]>();
  for (const b of policy.budgets) {
    const kept = keep.get(b.name) ?? new Set();
    const now = findings
      .filter((f) => f.budget === b.name && !kept.has(f.kind))
      .map((f) => budgetAlert(f, report.checkedAt));
    const carried = (previous.get(b.name) ?? []).filter((p) => kept.has(p.kind));
    const all = [...now, ...carried];
    firing.push(...all.map((a) => a.alert));
    toStore.set(b.name, all);
  }
  let reconcile = await deps.alerting.reconcile({ source: 'cost', scope: 'budgets', firing });
  for (const j of judged) {
    reconcile = sumReconcile(
      reconcile,
      await deps.alerting.reconcile({ source: 'cost', scope: j.scope, firing: j.alerts }),
    );
  }
  // After the reconcile: a write that fails here only loses what an outage would carry forward.
  for (const [name, alerts] of toStore) {
    const had = previous.get(name);
    // Written only when it changed: a budget steadily over (or under) costs no write per check.
    if (alerts.length > 0 && JSON.stringify(alerts) !== JSON.stringify(had))
      await deps.store.put({ pk: BUDGET_ALERTS_PK, sk: name, data: { alerts } });
    else if (alerts.length === 0 && had) await deps.store.delete(BUDGET_ALERTS_PK, name);
  }
  for (const name of previous.keys()) if (!names.has(name)) await deps.store.delete(BUDGET_ALERTS_PK, name);
  report.alerts = { reconcile, deliver: await deps.alerting.deliver() };
  return report;
}

async function storedBudgetAlerts(
  deps: Pick<CostCheckDeps, 'store' | 'log'>,
): Promise<Map<string, StoredBudgetAlert[]>> {
  const out = new Map<string, StoredBudgetAlert[]>();
  let after: string | undefined;
  do {
    const page = await deps.store.query({ pk: BUDGET_ALERTS_PK, limit: 500, ...(after ? { after } : {}) });
    for (const item of page.items) {
      try {
        out.set(item.sk, decodeRecord(StoredAlertsSchema, item.pk, item.sk, item.data).alerts);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        deps.log.warn({ err: err.message }, 'cost check: a stored budget alert record is unreadable; rewritten');
        out.set(item.sk, []);
      }
    }
    after = page.lastKey;
  } while (after);
  return out;
}

/** 0 within budget and no anomaly, 2 a budget threshold crossed or an anomaly, 1 an error (a source failed, a budget not evaluated). */
export function costExitCode(r: Pick<CostCheckReport, 'errors' | 'budgetFindings' | 'anomalies'>): 0 | 1 | 2 {
  if (r.errors.length > 0) return 1;
  return r.budgetFindings.length + r.anomalies.length > 0 ? 2 : 0;
}
