import * as z from 'zod';
import { runBounded } from '../../domain/concurrency.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { DriftObjectResult, DriftState } from '../drift/types.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/** Store writes of one call in flight at a time, at most. */
const WRITE_CONCURRENCY = 8;

/** A finding as stored: the object's result of the last check that covered it. */
export interface StoredFinding extends DriftObjectResult {
  checkedAt: string;
  /** When the object was first seen not clean (kept across checks while it stays so). */
  firstSeenAt: string;
  /**
   * For an object that could not be compared (`error`) after it was drifted or deleted: that last
   * known drift, so its alert stays open instead of resolving while the cluster cannot be read.
   */
  lastDrift?: DriftObjectResult;
}

export type DriftCounts = { objects: number; clean: number; drifted: number; deleted: number; error: number };

const CountsSchema = z.looseObject({
  objects: z.number(),
  clean: z.number(),
  drifted: z.number(),
  deleted: z.number(),
  error: z.number(),
});

const ResultShape = {
  cluster: z.string(),
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  state: z.enum(['clean', 'drifted', 'deleted', 'error']),
  changes: z.array(
    z.looseObject({ path: z.string(), baseline: z.string(), live: z.string(), manager: z.string().optional() }),
  ),
  changesTotal: z.number(),
  error: z.string().optional(),
  restore: z.looseObject({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) }).optional(),
  restoreHint: z.string().optional(),
  ignored: z.number().optional(),
  ignoredReason: z.string().optional(),
};

export const StoredFindingSchema: z.ZodType<StoredFinding> = z.looseObject({
  ...ResultShape,
  checkedAt: z.string(),
  firstSeenAt: z.string(),
  lastDrift: z.looseObject(ResultShape).optional(),
}) as z.ZodType<StoredFinding>;

interface Summary {
  cluster: string;
  checkedAt: string;
  /** Counts of the last check of each namespace (`_` for cluster-scoped objects). */
  namespaces: Record<string, DriftCounts & { checkedAt: string }>;
  /** Findings of the last check that were not stored (over the per-cluster cap). */
  omitted?: number;
}

const SummarySchema: z.ZodType<Summary> = z.looseObject({
  cluster: z.string(),
  checkedAt: z.string(),
  namespaces: z.record(z.string(), CountsSchema.extend({ checkedAt: z.string() })),
  omitted: z.number().optional(),
});

const ContinueSchema = z.object({ c: z.string().max(253), a: z.string().max(2048).optional() }).strict();

export class InvalidContinueError extends Error {
  override name = 'InvalidContinueError';
}

export const DRIFT_FINDINGS_LIMITS = {
  /** Findings stored per cluster and check; the rest are counted in the summary. */
  perCluster: 5000,
  /** Namespaces with their own counts per cluster; the rest add up under `*`. */
  namespaces: 2000,
  /** Clusters listed. */
  clusters: 1000,
  /** Store queries one list call may make (a sparse state filter returns a continue token sooner). */
  queriesPerList: 20,
  pageMax: 200,
} as const;

const CLUSTERS_PK = 'drift-clusters';
const pkOf = (cluster: string) => `drift#${cluster}`;
const SUMMARY_SK = 's#summary';
const nsKey = (namespace: string) => namespace || '_';
const group = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : 'core');

/** The sort key of an object's finding: by namespace first, so one namespace's findings are one prefix. */
export function findingKey(o: { apiVersion: string; kind: string; namespace: string; name: string }): string {
  return `o#${nsKey(o.namespace)}/${group(o.apiVersion)}.${o.kind}/${o.name}`;
}

const zero = (): DriftCounts => ({ objects: 0, clean: 0, drifted: 0, deleted: 0, error: 0 });

/**
 * The current drift findings (objects not clean), one partition per cluster, each item expiring
 * `ttlSeconds` after the check that wrote it (a cluster no longer checked ages out). A check
 * replaces the findings of what it covered (a cluster, or one namespace of it); the summary keeps
 * the counts per namespace so a list can say how many objects are clean.
 */
export class DriftFindings {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly ttlSeconds: number;

  constructor(store: Store, clock: Clock, opts: { ttlSeconds?: number } = {}) {
    this.store = store;
    this.clock = clock;
    this.ttlSeconds = opts.ttlSeconds ?? 7 * 86_400;
  }

  /** The findings stored for a cluster (one namespace when given), by findingKey. Corrupt records are left out. */
  async current(cluster: string, namespace?: string): Promise<Map<string, StoredFinding>> {
    const out = new Map<string, StoredFinding>();
    const prefix = namespace !== undefined ? `o#${nsKey(namespace)}/` : 'o#';
    let after: string | undefined;
    do {
      const page = await this.store.query({ pk: pkOf(cluster), prefix, limit: 1000, ...(after ? { after } : {}) });
      for (const item of page.items) {
        try {
          out.set(item.sk, decodeRecord(StoredFindingSchema, item.pk, item.sk, item.data));
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          await this.store.delete(item.pk, item.sk); // rewritten by this check if still not clean
        }
      }
      after = page.lastKey;
    } while (after && out.size < DRIFT_FINDINGS_LIMITS.perCluster * 2);
    return out;
  }

  /**
   * Replaces what a check covered: findings it did not report again are deleted, the ones it
   * reported written (at most DRIFT_FINDINGS_LIMITS.perCluster), and the summary's counts updated.
   */
  async replace(input: {
    cluster: string;
    /** The namespace the check covered; the whole cluster when absent. */
    namespace?: string;
    checkedAt: string;
    findings: StoredFinding[];
    counts: Map<string, DriftCounts>;
    previous: Map<string, StoredFinding>;
  }): Promise<void> {
    const pk = pkOf(input.cluster);
    const expiresAt = Math.floor(this.clock.now() / 1000) + this.ttlSeconds;
    const kept = input.findings.slice(0, DRIFT_FINDINGS_LIMITS.perCluster);
    const keys = new Set(kept.map(findingKey));
    const deletes = [...input.previous.keys()].filter((k) => !keys.has(k));
    await runBounded(
      [
        ...deletes.map((sk) => () => this.store.delete(pk, sk)),
        ...kept.map((f) => () => this.store.put({ pk, sk: findingKey(f), data: plain(f), expiresAt })),
      ],
      WRITE_CONCURRENCY,
    );

    const item = await this.store.get(pk, SUMMARY_SK);
    let summary: Summary = { cluster: input.cluster, checkedAt: input.checkedAt, namespaces: {} };
    if (item && input.namespace !== undefined) {
      try {
        summary = decodeRecord(SummarySchema, item.pk, item.sk, item.data);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
      }
    }
    summary.checkedAt = input.checkedAt;
    if (input.namespace !== undefined) delete summary.namespaces[nsKey(input.namespace)];
    for (const [ns, c] of input.counts) summary.namespaces[nsKey(ns)] = { ...c, checkedAt: input.checkedAt };
    const names = Object.keys(summary.namespaces);
    if (names.length > DRIFT_FINDINGS_LIMITS.namespaces) {
      // The namespaces with most findings keep their own counts; the others add up under `*`.
      const bad = (n: string) => {
        const c = summary.namespaces[n] as DriftCounts;
        return c.drifted + c.deleted + c.error;
      };
      const rest = names.sort((a, b) => bad(b) - bad(a)).slice(DRIFT_FINDINGS_LIMITS.namespaces - 1);
      const other = { ...zero(), checkedAt: input.checkedAt };
      for (const n of rest) {
        add(other, summary.namespaces[n] as DriftCounts);
        delete summary.namespaces[n];
      }
      summary.namespaces['*'] = other;
    }
    const omitted = input.findings.length - kept.length;
    if (omitted > 0) summary.omitted = omitted;
    else delete summary.omitted;
    await this.store.put({ pk, sk: SUMMARY_SK, data: plain(summary), expiresAt });
    await this.store.put({ pk: CLUSTERS_PK, sk: input.cluster, data: { cluster: input.cluster }, expiresAt });
  }

  /**
   * One page of findings, newest check's, ordered by cluster, namespace, kind and name, with the
   * counts of the clusters (and namespace) asked about.
   */
  async list(q: {
    cluster?: string;
    namespace?: string;
    state?: DriftState;
    limit: number;
    continue?: string;
  }): Promise<{
    items: StoredFinding[];
    counts: DriftCounts;
    clusters: Array<{ cluster: string; checkedAt: string }>;
    omitted?: number;
    next?: string;
  }> {
    const limit = Math.max(1, Math.min(DRIFT_FINDINGS_LIMITS.pageMax, Math.floor(q.limit)));
    let start: z.infer<typeof ContinueSchema> | undefined;
    if (q.continue) {
      try {
        start = ContinueSchema.parse(JSON.parse(Buffer.from(q.continue.slice(0, 4096), 'base64url').toString('utf8')));
      } catch {
        throw new InvalidContinueError('the continue token is not one this list returned; list again without it');
      }
    }
    let clusters: string[];
    if (q.cluster !== undefined) clusters = [q.cluster];
    else {
      const page = await this.store.query({ pk: CLUSTERS_PK, limit: DRIFT_FINDINGS_LIMITS.clusters });
      clusters = page.items.map((i) => i.sk);
    }
    const counts = zero();
    const checked: Array<{ cluster: string; checkedAt: string }> = [];
    let omitted = 0;
    for (const cluster of clusters) {
      const item = await this.store.get(pkOf(cluster), SUMMARY_SK);
      if (!item) continue;
      let s: Summary;
      try {
        s = decodeRecord(SummarySchema, item.pk, item.sk, item.data);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        continue;
      }
      checked.push({ cluster, checkedAt: s.checkedAt });
      omitted += s.omitted ?? 0;
      for (const [ns, c] of Object.entries(s.namespaces))
        if (q.namespace === undefined || ns === nsKey(q.namespace)) add(counts, c);
    }
    const items: StoredFinding[] = [];
    let from = start ? clusters.indexOf(start.c) : 0;
    if (start && from < 0)
      throw new InvalidContinueError('the continue token names a cluster no longer listed; list again without it');
    let after = start?.a;
    let queries = 0;
    const prefix = q.namespace !== undefined ? `o#${nsKey(q.namespace)}/` : 'o#';
    for (; from < clusters.length; from++, after = undefined) {
      const cluster = clusters[from] as string;
      for (;;) {
        if (items.length >= limit || queries >= DRIFT_FINDINGS_LIMITS.queriesPerList)
          return { items, counts, clusters: checked, ...(omitted ? { omitted } : {}), next: token(cluster, after) };
        queries++;
        const page = await this.store.query({
          pk: pkOf(cluster),
          prefix,
          limit: limit - items.length,
          ...(after ? { after } : {}),
        });
        for (const i of page.items) {
          after = i.sk;
          try {
            const f = decodeRecord(StoredFindingSchema, i.pk, i.sk, i.data);
            if (!q.state || f.state === q.state) items.push(f);
          } catch (err) {
            if (!(err instanceof CorruptRecordError)) throw err;
          }
        }
        if (!page.lastKey) break;
        after = page.lastKey;
      }
    }
    return { items, counts, clusters: checked, ...(omitted ? { omitted } : {}) };
  }
}

function token(cluster: string, after: string | undefined): string {
  return Buffer.from(JSON.stringify({ c: cluster, ...(after ? { a: after } : {}) })).toString('base64url');
}

function add(into: DriftCounts, c: DriftCounts): void {
  into.objects += c.objects;
  into.clean += c.clean;
  into.drifted += c.drifted;
  into.deleted += c.deleted;
  into.error += c.error;
}

function plain(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
