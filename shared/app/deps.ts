import type { Logger } from 'pino';
import { ALERT_DEFAULTS } from '../config/alerts.ts';
import type { Config } from '../config/config.ts';
import type { Policy } from '../domain/guardrails/index.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { CloudInventory } from '../ports/cloud.ts';
import type { CostSource } from '../ports/cost.ts';
import type { Clusters } from '../ports/kube.ts';
import type { MetricsSource } from '../ports/metrics.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { Store } from '../ports/store.ts';
import type { WorkflowEngine } from '../ports/workflow.ts';
import { VERSION } from '../version.ts';
import { AlertingService } from './alerts/alerting.ts';
import type { Alerting, AlertSettings } from './alerts/types.ts';
import { ApiKeys } from './repos/api-keys.ts';
import { Approvals } from './repos/approvals.ts';
import { AuditTrail } from './repos/audit.ts';
import { Baselines } from './repos/baselines.ts';
import { DriftFindings } from './repos/drift-findings.ts';
import { Leases, Operations } from './repos/operations.ts';
import { UsageSamples } from './repos/usage-samples.ts';

/** Everything a tool may use, passed in explicitly; hosts differ only in how they build it. */
export interface Deps {
  config: Config;
  store: Store;
  audit: AuditTrail;
  apiKeys: ApiKeys;
  clock: Clock;
  log: Logger;
  version: string;
  clusters: Clusters;
  /** Guardrail policy every write passes. */
  policy: Policy;
  baselines: Baselines;
  operations: Operations;
  leases: Leases;
  approvals: Approvals;
  /** Runs long operations (rollouts) as state machines. */
  workflows: WorkflowEngine;
  metrics: MetricsSource;
  /** Drift findings of the last checks, per cluster. */
  driftFindings: DriftFindings;
  /** Alerts (drift, cost) with their outbox, sent through the host's Notifier when it has one. */
  alerting: Alerting;
  /** AWS and GCP inventory (the aws and gcp toolsets, cloud drift); a cloud not configured is absent. */
  cloud: CloudInventory;
  /** Cloud spend (COST_AWS: Cost Explorer; GCP_BILLING_TABLE: the billing export); none configured: empty. */
  costSources: readonly CostSource[];
  /** metrics.k8s.io usage samples, for cost per workload and right-sizing (kept USAGE_RETENTION_DAYS). */
  usageSamples: UsageSamples;
}

/** Wires the cloud-agnostic dependencies every host shares, around a Store the host built. */
export function buildDeps(
  config: Config,
  store: Store,
  log: Logger,
  parts: {
    clusters: Clusters;
    policy: Policy;
    /** Built from the finished deps: the local engine runs step handlers that need them. */
    workflows: (deps: Deps) => WorkflowEngine;
    /** Prometheus (or another metrics backend) for rollout metric gates, built by the host. */
    metrics: MetricsSource;
    /** Where alerts are sent (Slack), built by the host from its settings; absent: recorded, not sent. */
    notifier?: Notifier;
    /** The clouds the host reaches (AWS_ACCOUNTS/AWS_REGIONS, GCP_PROJECTS); default none. */
    cloud?: CloudInventory;
    /** Cloud spend sources the host built from COST_AWS / GCP_BILLING_TABLE; default none. */
    costSources?: readonly CostSource[];
    /** Group wait, repeat interval, backoff (ALERT_GROUP_WAIT, ALERT_REPEAT_INTERVAL); default ALERT_DEFAULTS. */
    alertSettings?: AlertSettings;
    clock?: Clock;
  },
): Deps {
  const clock = parts.clock ?? systemClock;
  const deps: Omit<Deps, 'workflows'> & { workflows?: WorkflowEngine } = {
    config,
    store,
    clock,
    log,
    version: VERSION,
    clusters: parts.clusters,
    policy: parts.policy,
    baselines: new Baselines(store, clock),
    operations: new Operations(store, clock),
    leases: new Leases(store, clock),
    approvals: new Approvals(store, clock),
    metrics: parts.metrics,
    cloud: parts.cloud ?? {},
    costSources: parts.costSources ?? [],
    usageSamples: new UsageSamples(store, clock, { retentionDays: config.cost.usageRetentionDays }),
    audit: new AuditTrail({ store, clock, log, retentionDays: config.auditRetentionDays }),
    apiKeys: new ApiKeys(store, clock),
    driftFindings: new DriftFindings(store, clock),
    alerting: new AlertingService({
      store,
      clock,
      log,
      settings: parts.alertSettings ?? ALERT_DEFAULTS,
      ...(parts.notifier ? { notifier: parts.notifier } : {}),
    }),
  };
  deps.workflows = parts.workflows(deps as Deps);
  return deps as Deps;
}
