import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { ApiKeys } from '../domain/api-keys.ts';
import { AuditTrail } from '../domain/audit.ts';
import type { Deps } from '../mcp/tool.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { VERSION } from '../version.ts';

/** Wires the cloud-agnostic dependencies every host shares, around a Store the host built. */
export function buildDeps(config: Config, store: Store, log: Logger, clock: Clock = systemClock): Deps {
  return {
    config,
    store,
    clock,
    log,
    version: VERSION,
    audit: new AuditTrail({ store, clock, log, retentionDays: config.auditRetentionDays }),
    apiKeys: new ApiKeys(store, clock),
  };
}
