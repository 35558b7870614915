import type { CostAnomaly } from '../../domain/cost/anomaly.ts';
import type { BudgetFinding, BudgetStatus } from '../../domain/cost/budgets.ts';
import type { DeliverResult, ReconcileResult } from '../alerts/types.ts';

export type CostCheckTrigger = 'schedule' | 'cli' | 'tool';

export interface CostCheckInput {
  trigger: CostCheckTrigger;
  requestId: string;
  /** The time judged (default the clock's). */
  now?: number;
}

export interface GroupTotal {
  group: string;
  amount: number;
}

/** What one spend source gave the check, and what it cost. */
export interface CostSourceRun {
  /** The source's kind (`aws-cost-explorer`, `gcp-bigquery-billing`). */
  source: string;
  /** How alerts and budgets name it: `aws`, `gcp`. */
  scope: string;
  /** Provider request pages paid for in this check (Cost Explorer: $0.01 each); 0 when all came from the cache. */
  pages: number;
  /** BigQuery bytes billed in this check. */
  bytesBilled?: number;
  /** Answers read from the cache (COST_CACHE_TTL) / asked of the provider. */
  cacheHits: number;
  queries: number;
  currency?: string;
  /** Month-to-date spend (UTC month), largest groups first. */
  monthToDate?: {
    total: number;
    byService: GroupTotal[];
    byTag?: { key: string; groups: GroupTotal[] };
    /** The provider has not finalised the newest days. */
    estimated: boolean;
  };
  forecast?: { amount: number; lower?: number; upper?: number; method: 'provider' | 'computed' };
  /** Services whose newest day could not be judged (too short a history). */
  anomaliesNotJudged: number;
  /** What failed for this source (the rest of the check went on). */
  errors: string[];
}

/** What one cluster's usage samples gave the check (namespace budgets and anomalies). */
export interface CostClusterRun {
  cluster: string;
  /** Namespaces with allocated cost in the days read. */
  namespaces: number;
  anomaliesNotJudged: number;
  /** What makes the figures partial (days without samples, unknown prices), and anomalies not judged. */
  notes?: string[];
}

export interface CostCheckReport {
  checkedAt: string;
  /** The calendar month (UTC) budgets were judged on, YYYY-MM. */
  month: string;
  trigger: CostCheckTrigger;
  sources: CostSourceRun[];
  /** Present when the host reads usage samples: each cluster's namespace costs. */
  clusters?: CostClusterRun[];
  /** One per budget of the policy, in policy order. */
  budgets: BudgetStatus[];
  /** Crossed budget thresholds (what fires budget alerts). */
  budgetFindings: BudgetFinding[];
  /** Anomalous services (and namespaces), largest increase first. */
  anomalies: CostAnomaly[];
  /** Every error of the check: per source, and budgets that could not be evaluated. */
  errors: string[];
  /** Set when alerting ran. */
  alerts?: { reconcile: ReconcileResult; deliver: DeliverResult };
}
