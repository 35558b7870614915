import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { ApiKeys } from '../domain/api-keys.ts';
import { AuditTrail } from '../domain/audit.ts';
import { Baselines } from '../domain/baselines.ts';
import type { Policy } from '../domain/guardrails/index.ts';
import type { Deps } from '../mcp/tool.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { ClusterRegistry } from '../ports/kube.ts';
import type { Store } from '../ports/store.ts';
import { VERSION } from '../version.ts';

/** Wires the cloud-agnostic dependencies every host shares, around a Store the host built. */
export function buildDeps(
  config: Config,
  store: Store,
  log: Logger,
  parts: { clusters: ClusterRegistry; policy: Policy; clock?: Clock },
): Deps {
  const clock = parts.clock ?? systemClock;
  return {
    config,
    store,
    clock,
    log,
    version: VERSION,
    clusters: parts.clusters,
    policy: parts.policy,
    baselines: new Baselines(store, clock),
    audit: new AuditTrail({ store, clock, log, retentionDays: config.auditRetentionDays }),
    apiKeys: new ApiKeys(store, clock),
  };
}
