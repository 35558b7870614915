import type { Logger } from 'pino';
import { PrometheusSource } from '../adapters/prometheus.ts';
import type { Config } from '../config/config.ts';
import { ApiKeys } from '../domain/api-keys.ts';
import { Approvals } from '../domain/approvals.ts';
import { AuditTrail } from '../domain/audit.ts';
import { Baselines } from '../domain/baselines.ts';
import type { Policy } from '../domain/guardrails/index.ts';
import { Leases, Operations } from '../domain/operations.ts';
import type { Deps } from '../mcp/tool.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { ClusterRegistry } from '../ports/kube.ts';
import type { Store } from '../ports/store.ts';
import type { WorkflowEngine } from '../ports/workflow.ts';
import { VERSION } from '../version.ts';

/** Wires the cloud-agnostic dependencies every host shares, around a Store the host built. */
export function buildDeps(
  config: Config,
  store: Store,
  log: Logger,
  parts: {
    clusters: ClusterRegistry;
    policy: Policy;
    /** Built from the finished deps: the local engine runs step handlers that need them. */
    workflows: (deps: Deps) => WorkflowEngine;
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
    metrics: new PrometheusSource(config.prometheusUrl),
    audit: new AuditTrail({ store, clock, log, retentionDays: config.auditRetentionDays }),
    apiKeys: new ApiKeys(store, clock),
  };
  deps.workflows = parts.workflows(deps as Deps);
  return deps as Deps;
}
