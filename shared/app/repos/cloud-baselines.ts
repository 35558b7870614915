import * as z from 'zod';
import { CLOUD_FACT_LIMITS, type CloudClusterFacts } from '../../domain/drift/index.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import { AppError } from '../errors.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/**
 * What an EKS or GKE cluster was when it was adopted (drift_baselines_adopt cloudCluster): the
 * cloud drift check compares the cluster's description with it. One item per cluster under one
 * partition, keyed by the cluster's id (`eks:<account>/<region>/<name>`, `gke:<project>/<location>/<name>`),
 * at most CLOUD_BASELINE_LIMITS.clusters of them. A removed baseline stays as a tombstone
 * (`removedAt`) until a check has cleared the cluster's findings and alerts, then goes.
 */
export interface CloudBaselineRecord {
  id: string;
  provider: 'eks' | 'gke';
  /** The cluster's own name. */
  name: string;
  facts: CloudClusterFacts;
  recordedAt: string;
  recordedBy: string;
  requestId: string;
  /** Set when the cluster no longer exists and its baseline was removed (a tombstone for the next check). */
  removedAt?: string;
}

export const CLOUD_BASELINE_LIMITS = {
  /** Cloud clusters watched; adopting one more is refused (two adoptions at once may pass it by one). */
  clusters: 500,
} as const;

const PK = 'cloud-baseline';
const L = CLOUD_FACT_LIMITS;
const text = z.string().max(L.textChars);
const count = z.number().int().min(0).max(1_000_000);
const names = (max: number) => z.array(text).max(max);

const EksFactsSchema = z.looseObject({
  provider: z.literal('eks'),
  version: text.optional(),
  nodegroups: z
    .array(
      z.looseObject({
        name: text,
        desiredSize: count.optional(),
        minSize: count.optional(),
        maxSize: count.optional(),
        version: text.optional(),
        instanceTypes: names(L.instanceTypes),
        capacityType: text.optional(),
      }),
    )
    .max(L.items)
    .optional(),
  addons: z
    .array(z.looseObject({ name: text, version: text.optional() }))
    .max(L.items)
    .optional(),
});

const GkeFactsSchema = z.looseObject({
  provider: z.literal('gke'),
  version: text.optional(),
  nodeVersion: text.optional(),
  autopilot: z.boolean(),
  nodePools: z
    .array(
      z.looseObject({
        name: text,
        version: text.optional(),
        machineType: text.optional(),
        autoscaling: z
          .looseObject({
            minNodeCount: count.optional(),
            maxNodeCount: count.optional(),
            totalMinNodeCount: count.optional(),
            totalMaxNodeCount: count.optional(),
            locationPolicy: text.optional(),
          })
          .optional(),
        initialNodeCountPerZone: count.optional(),
        zones: names(L.zones),
      }),
    )
    .max(L.items)
    .optional(),
});

export const CloudBaselineRecordSchema: z.ZodType<CloudBaselineRecord> = z.looseObject({
  id: z.string().regex(/^(eks|gke):[^/]{1,100}\/[^/]{1,64}\/[^/]{1,100}$/),
  provider: z.enum(['eks', 'gke']),
  name: text,
  facts: z.discriminatedUnion('provider', [EksFactsSchema, GkeFactsSchema]),
  recordedAt: z.string().max(40),
  recordedBy: z.string().max(300),
  requestId: z.string().max(200),
  removedAt: z.string().max(40).optional(),
}) as z.ZodType<CloudBaselineRecord>;

export class CloudBaselines {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Records (or replaces) a cluster's baseline; a new one past the limit is refused. */
  async record(input: Omit<CloudBaselineRecord, 'recordedAt' | 'removedAt'>): Promise<CloudBaselineRecord> {
    const rec: CloudBaselineRecord = { ...input, recordedAt: new Date(this.clock.now()).toISOString() };
    // What is written is what a read accepts: a record this repository could not read back is a bug here.
    CloudBaselineRecordSchema.parse(rec);
    if (!(await this.store.get(PK, rec.id))) {
      const page = await this.store.query({ pk: PK, limit: CLOUD_BASELINE_LIMITS.clusters });
      if (page.items.length >= CLOUD_BASELINE_LIMITS.clusters) {
        throw new AppError(
          `${CLOUD_BASELINE_LIMITS.clusters} cloud clusters are watched already, the most one server checks; adopt fewer`,
        );
      }
    }
    await this.store.put({ pk: PK, sk: rec.id, data: JSON.parse(JSON.stringify(rec)) });
    return rec;
  }

  async get(id: string): Promise<CloudBaselineRecord | undefined> {
    const item = await this.store.get(PK, id);
    return item ? decodeRecord(CloudBaselineRecordSchema, item.pk, item.sk, item.data) : undefined;
  }

  /**
   * Every cloud baseline (tombstones included). A corrupt record is left out and named in
   * `corruptIds` (its key is the cluster's id), so the check reports it instead of skipping it.
   */
  async list(): Promise<{ items: CloudBaselineRecord[]; corruptIds: string[] }> {
    const items: CloudBaselineRecord[] = [];
    const corruptIds: string[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.query({ pk: PK, limit: 1000, ...(after ? { after } : {}) });
      for (const i of page.items) {
        try {
          items.push(decodeRecord(CloudBaselineRecordSchema, i.pk, i.sk, i.data));
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          corruptIds.push(i.sk);
        }
      }
      after = page.lastKey;
    } while (after && items.length + corruptIds.length < CLOUD_BASELINE_LIMITS.clusters * 2);
    return { items, corruptIds };
  }

  /** Marks the baseline removed: the next check clears the cluster's findings, then forgets it. */
  async remove(rec: CloudBaselineRecord): Promise<void> {
    const gone: CloudBaselineRecord = { ...rec, removedAt: new Date(this.clock.now()).toISOString() };
    await this.store.put({ pk: PK, sk: rec.id, data: JSON.parse(JSON.stringify(gone)) });
  }

  /** Deletes a tombstone (only one: a cluster adopted again since is kept). */
  async forget(id: string): Promise<void> {
    const item = await this.store.get(PK, id);
    if (item && typeof item.data.removedAt === 'string') await this.store.delete(PK, id, { ifVersion: item.version });
  }
}
