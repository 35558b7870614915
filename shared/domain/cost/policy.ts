/**
 * The `cost:` section of the policy file (issue 14): budgets with thresholds on month-to-date spend
 * and on the month-end forecast, the anomaly rule (a day's spend against the median of the days before
 * it) and the right-sizing settings (which percentile of CPU, how much memory headroom, how many
 * samples, which floors). Strict like every section: an unknown key is refused with a did-you-mean
 * (parsePolicy), and every list and number is bounded.
 */
import * as z from 'zod';

/**
 * What a budget counts. Exactly one of account, project, namespace or label:
 * - `account` (AWS account id) or `project` (GCP project id): that account's or project's bill;
 * - `namespace`: the cost allocated to that Kubernetes namespace (on `cluster` only, when given);
 * - `label` with `cluster`: the cost allocated to pods carrying that Kubernetes label in the cluster;
 *   `label` without `cluster`: the bill's spend carrying that cost-allocation tag (AWS) or label (GCP).
 */
export interface BudgetScope {
  account?: string;
  project?: string;
  namespace?: string;
  label?: { key: string; value: string };
  cluster?: string;
}

export interface BudgetPolicy {
  /** Unique among the budgets; names the alert. */
  name: string;
  scope: BudgetScope;
  /** The budget for a calendar month (UTC), in USD. */
  monthlyUsd: number;
  /** Percents of monthlyUsd, ascending: month-to-date spend crossing one fires an `actual` alert, the month-end forecast a `forecast` alert. */
  thresholds: { actual: number[]; forecast: number[] };
}

export interface AnomalyPolicy {
  /** A day is anomalous when its spend is at least this many times its baseline ... */
  minRatio: number;
  /** ... and at least this many USD above it. */
  minAmountUsd: number;
  /** The baseline is the median of this many days before the day judged. */
  baselineDays: number;
  /** With fewer known days than this in the baseline window, the day is not judged (and the result says so). */
  minBaselineDays: number;
}

export interface RightsizingPolicy {
  /** The CPU request recommended is this percentile (nearest rank) of the CPU samples. */
  cpuPercentile: number;
  /** The memory request recommended is the largest memory sample times this. */
  memoryHeadroom: number;
  /** Fewer samples in the window than this: no recommendation (288 is one day at one sample per 5 minutes). */
  minSamples: number;
  /** Samples older than this many days are not used. */
  windowDays: number;
  /** A workload's change is listed when it moves its monthly cost by at least this many USD. */
  minMonthlySavingsUsd: number;
  /** Never recommend a CPU request below this (millicores) ... */
  minCpuMillicores: number;
  /** ... or a memory request below this (MiB). */
  minMemoryMiB: number;
}

export interface CostPolicy {
  budgets: BudgetPolicy[];
  anomaly: AnomalyPolicy;
  rightsizing: RightsizingPolicy;
}

export const COST_POLICY_LIMITS = {
  budgets: 200,
  thresholdsPerKind: 10,
  /** Percents of the budget a threshold may name. */
  maxThresholdPercent: 1000,
  maxMonthlyUsd: 1_000_000_000,
  maxBaselineDays: 90,
  maxWindowDays: 90,
  maxMinSamples: 100_000,
} as const;

export const DEFAULT_BUDGET_THRESHOLDS = { actual: [80, 100], forecast: [100] } as const;

export function defaultAnomalyPolicy(): AnomalyPolicy {
  return { minRatio: 1.5, minAmountUsd: 20, baselineDays: 14, minBaselineDays: 7 };
}

export function defaultRightsizingPolicy(): RightsizingPolicy {
  return {
    cpuPercentile: 95,
    memoryHeadroom: 1.15,
    minSamples: 288,
    windowDays: 14,
    minMonthlySavingsUsd: 5,
    minCpuMillicores: 10,
    minMemoryMiB: 16,
  };
}

export function defaultCostPolicy(): CostPolicy {
  return { budgets: [], anomaly: defaultAnomalyPolicy(), rightsizing: defaultRightsizingPolicy() };
}

const DnsLabel = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase name (letters, digits, "-"), e.g. payments');

const ScopeSchema = z
  .object({
    account: z
      .string()
      .regex(/^[0-9]{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id (6-30 lowercase letters, digits, "-")')
      .optional(),
    namespace: DnsLabel.optional(),
    label: z
      .object({
        key: z
          .string()
          .min(1)
          .max(128)
          .regex(/^[A-Za-z0-9][A-Za-z0-9 _./:@+=-]*$/, 'must be a label or tag key (AWS tag keys may hold spaces)'),
        value: z.string().max(256),
      })
      .strict()
      .optional(),
    cluster: z.string().min(1).max(253).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const set = (['account', 'project', 'namespace', 'label'] as const).filter((k) => s[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `name exactly one of account, project, namespace or label${set.length > 1 ? ` (got ${set.join(' and ')})` : ''}`,
      });
    }
    if (s.cluster !== undefined && (s.account !== undefined || s.project !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster'],
        message: 'cluster narrows a namespace or label budget; an account or project budget covers its whole bill',
      });
    }
  });

const Thresholds = z
  .array(
    z
      .number()
      .gt(0)
      .max(
        COST_POLICY_LIMITS.maxThresholdPercent,
        `a percent of the budget, at most ${COST_POLICY_LIMITS.maxThresholdPercent}`,
      ),
  )
  .max(COST_POLICY_LIMITS.thresholdsPerKind, `at most ${COST_POLICY_LIMITS.thresholdsPerKind}`)
  .refine((ts) => new Set(ts).size === ts.length, 'each threshold once')
  .transform((ts) => [...ts].sort((a, b) => a - b));

const BudgetSchema = z
  .object({
    name: DnsLabel,
    scope: ScopeSchema,
    monthlyUsd: z.number().gt(0).max(COST_POLICY_LIMITS.maxMonthlyUsd),
    thresholds: z
      .object({
        actual: Thresholds.default(() => [...DEFAULT_BUDGET_THRESHOLDS.actual]),
        forecast: Thresholds.default(() => [...DEFAULT_BUDGET_THRESHOLDS.forecast]),
      })
      .strict()
      .default(() => ({
        actual: [...DEFAULT_BUDGET_THRESHOLDS.actual],
        forecast: [...DEFAULT_BUDGET_THRESHOLDS.forecast],
      })),
  })
  .strict()
  .refine((b) => b.thresholds.actual.length + b.thresholds.forecast.length > 0, {
    message: 'name at least one threshold (thresholds.actual or thresholds.forecast)',
    path: ['thresholds'],
  });

const d = defaultAnomalyPolicy();
const r = defaultRightsizingPolicy();

const AnomalySchema = z
  .object({
    minRatio: z.number().min(1.05).max(100).default(d.minRatio),
    minAmountUsd: z.number().min(0).max(1_000_000).default(d.minAmountUsd),
    baselineDays: z.number().int().min(3).max(COST_POLICY_LIMITS.maxBaselineDays).default(d.baselineDays),
    minBaselineDays: z.number().int().min(2).max(COST_POLICY_LIMITS.maxBaselineDays).default(d.minBaselineDays),
  })
  .strict()
  .refine((a) => a.minBaselineDays <= a.baselineDays, {
    message: 'must be at most baselineDays',
    path: ['minBaselineDays'],
  })
  .default(defaultAnomalyPolicy);

const RightsizingSchema = z
  .object({
    cpuPercentile: z.number().min(50).max(100).default(r.cpuPercentile),
    memoryHeadroom: z.number().min(1).max(3).default(r.memoryHeadroom),
    minSamples: z.number().int().min(1).max(COST_POLICY_LIMITS.maxMinSamples).default(r.minSamples),
    windowDays: z.number().int().min(1).max(COST_POLICY_LIMITS.maxWindowDays).default(r.windowDays),
    minMonthlySavingsUsd: z.number().min(0).max(1_000_000).default(r.minMonthlySavingsUsd),
    minCpuMillicores: z.number().int().min(1).max(64_000).default(r.minCpuMillicores),
    minMemoryMiB: z.number().int().min(1).max(1_048_576).default(r.minMemoryMiB),
  })
  .strict()
  .default(defaultRightsizingPolicy);

/** The `cost:` schema. Strict at every depth: an unknown key is an error with a did-you-mean (parsePolicy). */
export const CostPolicySchema = z
  .object({
    budgets: z
      .array(BudgetSchema)
      .max(COST_POLICY_LIMITS.budgets, `at most ${COST_POLICY_LIMITS.budgets} budgets`)
      .superRefine((bs, ctx) => {
        const seen = new Set<string>();
        bs.forEach((b, i) => {
          if (seen.has(b.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `budget ${b.name} is named twice` });
          seen.add(b.name);
        });
      })
      .default(() => []),
    anomaly: AnomalySchema,
    rightsizing: RightsizingSchema,
  })
  .strict();

/**
 * A budget scope as text, one per distinct scope (`namespace=payments cluster=prod`, `label[team]=a`): the key
 * of the spend a check gathers. Label keys hold no brackets, so two scopes never share a key.
 */
export function budgetScopeKey(s: BudgetScope): string {
  const what =
    s.account !== undefined
      ? `account=${s.account}`
      : s.project !== undefined
        ? `project=${s.project}`
        : s.namespace !== undefined
          ? `namespace=${s.namespace}`
          : `label[${s.label?.key}]=${s.label?.value}`;
  return s.cluster !== undefined ? `${what} cluster=${s.cluster}` : what;
}

/** The `cost:` section's documentation (docs/guardrails.md, generated with the rule table). */
export function costPolicyDoc(): string[] {
  return [
    '## Cost (`cost:`)',
    '',
    'The cost check compares spend with budgets, looks for anomalies in daily spend and recommends container',
    'requests from measured usage. Amounts are in USD; spend reported in another currency is not compared',
    '(the check says so).',
    '',
    '`budgets` (at most 200, unique lowercase `name`s): `scope` names exactly one of `account` (AWS account id),',
    '`project` (GCP project id), `namespace` or `label: { key, value }`; `cluster` narrows a namespace or label',
    'budget to the cost allocated in one cluster (a `label` with a `cluster` is a Kubernetes pod label, without',
    'one a cost-allocation tag on AWS or a billing label on GCP). `monthlyUsd` is the budget for a calendar',
    `month (UTC). \`thresholds\` are percents of it (each over 0 and at most ${COST_POLICY_LIMITS.maxThresholdPercent}; at most ${COST_POLICY_LIMITS.thresholdsPerKind} per kind; default`,
    `\`actual: [${DEFAULT_BUDGET_THRESHOLDS.actual.join(', ')}]\`, \`forecast: [${DEFAULT_BUDGET_THRESHOLDS.forecast.join(', ')}]\`): month-to-date spend crossing an \`actual\` threshold, or the`,
    'month-end forecast crossing a `forecast` threshold, fires one alert per budget and kind that names the',
    'highest threshold crossed, the spend against the limit and the day it was crossed. An `actual` alert',
    "resolves when the month ends (the next month's spend starts from zero and fires its own alert if it",
    'crosses again); a `forecast` alert also resolves within the month when the forecast falls back under.',
    '',
    '| key | default | what it does |',
    '|---|---|---|',
    `| \`anomaly.minRatio\` | \`${d.minRatio}\` | A day is anomalous when its spend is at least this many times its baseline (1.05..100) ... |`,
    `| \`anomaly.minAmountUsd\` | \`${d.minAmountUsd}\` | ... and at least this many USD a day above it; decides alone when the baseline is zero. |`,
    `| \`anomaly.baselineDays\` | \`${d.baselineDays}\` | The baseline is the median of this many days before the day (3..${COST_POLICY_LIMITS.maxBaselineDays}). |`,
    `| \`anomaly.minBaselineDays\` | \`${d.minBaselineDays}\` | Fewer days with data in the baseline window: the day is not judged (said). |`,
    `| \`rightsizing.cpuPercentile\` | \`${r.cpuPercentile}\` | CPU request = this percentile (nearest rank) of the CPU samples, rounded up to 5m (50..100). |`,
    `| \`rightsizing.memoryHeadroom\` | \`${r.memoryHeadroom}\` | Memory request = the largest memory sample times this, rounded up to a MiB (1..3). |`,
    `| \`rightsizing.minSamples\` | \`${r.minSamples}\` | Fewer samples of a container in the window: no recommendation (288 = a day at 5 minutes). |`,
    `| \`rightsizing.windowDays\` | \`${r.windowDays}\` | Samples older than this are not used (1..${COST_POLICY_LIMITS.maxWindowDays}). |`,
    `| \`rightsizing.minMonthlySavingsUsd\` | \`${r.minMonthlySavingsUsd}\` | A workload is listed when its requests would move its monthly cost by at least this. |`,
    `| \`rightsizing.minCpuMillicores\` | \`${r.minCpuMillicores}\` | Never recommend a CPU request below this. |`,
    `| \`rightsizing.minMemoryMiB\` | \`${r.minMemoryMiB}\` | Never recommend a memory request below this. |`,
    '',
    'The anomaly baseline is a median, not a mean: one spike (or one day of missing data) in the window moves',
    'a mean and so hides the next spike or invents one; the median moves only when more than half the days',
    'change, so a lasting new level becomes the baseline after about `baselineDays / 2` days. Right-sizing',
    'never recommends for a container with fewer than `minSamples` samples, for a resource an HPA of its',
    'workload scales on (requests are what its utilization is measured against), or for a container',
    'OOM-killed in the window (its real memory peak is unknown); a request is never raised above its limit',
    '(the recommendation says when usage would want more). An unknown key is refused with a did-you-mean.',
    '',
    '```yaml',
    'cost:',
    '  budgets:',
    '    - name: payments-prod',
    '      scope: { namespace: payments, cluster: prod }',
    '      monthlyUsd: 5000',
    '      thresholds: { actual: [80, 100], forecast: [100] }',
    '    - name: aws-main',
    "      scope: { account: '123456789012' }",
    '      monthlyUsd: 40000',
    '  anomaly: { minRatio: 1.5, minAmountUsd: 20, baselineDays: 14, minBaselineDays: 7 }',
    '  rightsizing: { cpuPercentile: 95, memoryHeadroom: 1.15, minSamples: 288, windowDays: 14 }',
    '```',
    '',
  ];
}
