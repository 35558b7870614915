import { createHash } from 'node:crypto';
import * as z from 'zod';
import { runBounded } from '../../domain/concurrency.ts';
import {
  ALLOCATION_LIMITS,
  type AllocationInput,
  type ContainerUsage,
  nodePrice,
  type ResourceRates,
  type WorkloadRef,
  workloadOf,
} from '../../domain/cost/index.ts';
import type { Clock } from '../../ports/clock.ts';
import { ConditionFailedError, type Store, type StoreItem } from '../../ports/store.ts';
import { CorruptRecordError, decodeRecord } from './codec.ts';

/** Store writes of one call in flight at a time, at most. */
const WRITE_CONCURRENCY = 8;

/*
 * Usage samples (issue 14): metrics.k8s.io readings of every pod of a cluster, taken on a
 * schedule, for cost allocation (average and maximum usage over a window) and right-sizing (P95
 * of CPU and maximum of memory per workload container over up to 14 days, OOMKills).
 *
 * Layout: one partition per cluster and UTC hour, `usage#<cluster>#<YYYY-MM-DDTHH>`, holding
 *   `p#<namespace>/<pod>`  the pod's metadata (node, owner chain, labels, per-container requests,
 *                          restarts and last OOMKill), written once per hour and again when it changes;
 *   `n#<node>`             the node's instance type and allocatable CPU and memory, likewise;
 *   `s#<time>#<chunk>`     one sample: every pod's readings as `[ns/pod, cpu m, memory KiB, …]`
 *                          (per container, in the metadata's container order), split into chunks
 *                          of at most CHUNK_BYTES;
 *   `i#`                   the hour's index: the sample times whose chunks are all written. Readers
 *                          count only indexed samples, so a sample interrupted halfway is never half read.
 * Every item expires `retentionDays` after the end of its hour (default 14 days).
 *
 * Why time-major chunks and not one item per pod per sample. Measured with `itemBytes` (DynamoDB's
 * size rule) over the memory store: `npx vitest run test/integration/usage-samples.test.ts -t arithmetic`
 * prints `2063 items, 2211 KiB per hour; chunk 107 KiB per sample; metadata 464 B per item` for
 * 2,000 pods (1.5 containers each, three labels, Deployment owners), 50 nodes, a sample every 5 minutes:
 *   - per sample: one chunk of ~107 KiB (DynamoDB bills a write per started KB: ~110 WCU; Firestore: 1 write);
 *   - per hour: 12 chunks (~1,320 WCU) + 2,050 metadata items (1 WCU each, < 1 KB) + 12 index writes
 *     ≈ 3,400 WCU, so ≈ 81,000 write units a day (≈ $0.10 at $1.25 per million on demand);
 *     Firestore ≈ 24 × (2,050 + 24) ≈ 50,000 document writes a day;
 *   - one item per pod per sample would be 2,000 × 288 = 576,000 writes a day (≥ 1 WCU each, ≈ $0.72;
 *     as many Firestore writes) and 8 million items kept over 14 days, each repeating the pod's
 *     names, owner, labels and requests;
 *   - kept: 2,063 items and ~2.2 MiB per hour, ~693,000 items and ~740 MiB over 14 days; a 24 h
 *     allocation reads ~52 MiB, a 14-day right-sizing all of it, in 1 MB query pages, one hour at a time.
 * Metadata is rewritten within an hour only when it changes (a new OOMKill, a restart, a label). To
 * know what changed, a sample reads the hour's metadata back (~950 KB here: ~120 read units on
 * DynamoDB, 2,050 document reads on Firestore, which prices reads at a third of writes).
 * Bounds: USAGE_LIMITS (pods per sample, containers per pod, nodes, labels, samples per hour),
 * enforced where a sample is written; what does not fit is counted, never silently dropped.
 */

export const USAGE_LIMITS = {
  /** Pods stored per sample (the rest, in namespace/name order, are counted as omitted). */
  podsPerSample: 20_000,
  containersPerPod: 32,
  nodesPerSample: ALLOCATION_LIMITS.nodes,
  labelsPerPod: 32,
  /** All of one pod's label keys and values, in UTF-8 bytes. */
  labelBytesPerPod: 2048,
  /** One sample every 30 s at most; a 121st sample in an hour is refused. */
  samplesPerHour: 120,
  /** JSON bytes of one chunk of readings (the Store's item limit is 400 KB). */
  chunkBytes: 200 * 1024,
  /** Distinct pods a summary holds (the allocation's own cap). */
  summaryPods: ALLOCATION_LIMITS.pods,
  /** Container series one workloadSeries call returns, and readings in all. */
  series: 5000,
  seriesValues: 4_000_000,
  /** The longest range a read covers, in hours (31 days). */
  rangeHours: 31 * 24,
} as const;

export const DEFAULT_USAGE_RETENTION_DAYS = 14;

export interface UsageNode {
  name: string;
  /** The `node.kubernetes.io/instance-type` label. */
  instanceType?: string;
  /** Allocatable CPU (cores) and memory (bytes). */
  cpuCores: number;
  memoryBytes: number;
}

export interface UsageContainerMeta {
  name: string;
  cpuRequestCores: number;
  memoryRequestBytes: number;
  /** resources.limits, when set. */
  cpuLimitCores?: number;
  memoryLimitBytes?: number;
  /** status.containerStatuses[].restartCount. */
  restarts?: number;
  /** lastState.terminated.finishedAt of a termination with reason OOMKilled. */
  lastOomKilledAt?: string;
}

export interface UsagePodMeta {
  namespace: string;
  name: string;
  node?: string;
  owner?: WorkloadRef & { owner?: WorkloadRef };
  labels?: Record<string, string>;
  containers: UsageContainerMeta[];
}

/** One container's reading: metrics.k8s.io usage, in cores and bytes. */
export interface ContainerReading {
  cpuCores: number;
  memoryBytes: number;
}

export interface UsagePodSample extends UsagePodMeta {
  /** Per container, in `containers` order; null where metrics.k8s.io had no reading. */
  usage: Array<ContainerReading | null>;
}

export interface UsageSampleInput {
  cluster: string;
  /** Epoch ms of the reading. */
  at: number;
  nodes: UsageNode[];
  pods: UsagePodSample[];
  /** Pods the sampler already left out (beyond its own caps), added to what this write omits. */
  omittedPods?: number;
}

export interface UsageWriteResult {
  at: string;
  pods: number;
  nodes: number;
  omittedPods: number;
  omittedContainers: number;
  omittedLabels: number;
  chunks: number;
  /** Metadata items written (new or changed this hour). */
  metaWrites: number;
}

export class UsageSampleError extends Error {
  override name = 'UsageSampleError';
}

const WorkloadRefSchema = z.looseObject({ kind: z.string(), name: z.string() });

const PodMetaSchema = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  node: z.string().optional(),
  owner: WorkloadRefSchema.extend({ owner: WorkloadRefSchema.optional() }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  containers: z
    .array(
      z.looseObject({
        name: z.string(),
        cpuRequestCores: z.number().nonnegative(),
        memoryRequestBytes: z.number().nonnegative(),
        cpuLimitCores: z.number().nonnegative().optional(),
        memoryLimitBytes: z.number().nonnegative().optional(),
        restarts: z.number().int().nonnegative().optional(),
        lastOomKilledAt: z.string().optional(),
      }),
    )
    .max(USAGE_LIMITS.containersPerPod),
  h: z.string(),
});

const NodeMetaSchema = z.looseObject({
  name: z.string(),
  instanceType: z.string().optional(),
  cpuCores: z.number().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  h: z.string(),
});

const ChunkSchema = z.looseObject({
  at: z.string(),
  chunk: z.number().int().nonnegative(),
  rows: z.array(z.tuple([z.string()], z.number().nonnegative().nullable())),
});

const IndexSchema = z.looseObject({
  samples: z
    .array(
      z.looseObject({
        at: z.string(),
        chunks: z.number().int().nonnegative(),
        omittedPods: z.number().int().nonnegative().optional(),
      }),
    )
    .max(USAGE_LIMITS.samplesPerHour),
});

type StoredPodMeta = z.infer<typeof PodMetaSchema>;
type StoredNodeMeta = z.infer<typeof NodeMetaSchema>;
type StoredIndex = z.infer<typeof IndexSchema>;

const HOUR_MS = 3_600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
const pkOf = (cluster: string, hourMs: number) => `usage#${cluster}#${new Date(hourMs).toISOString().slice(0, 13)}`;
const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
const INDEX_SK = 'i#';
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const hashOf = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url').slice(0, 22);
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const finite = (v: number) => Number.isFinite(v) && v >= 0;

/** A pod as this repository keeps it: containers and labels within USAGE_LIMITS. */
function boundedPod(p: UsagePodSample): { pod: UsagePodSample; omittedContainers: number; omittedLabels: number } {
  const containers = p.containers.slice(0, USAGE_LIMITS.containersPerPod);
  let omittedLabels = 0;
  let labels: Record<string, string> | undefined;
  if (p.labels) {
    labels = {};
    let bytes = 0;
    let n = 0;
    for (const [k, v] of Object.entries(p.labels).sort(([a], [b]) => byKey(a, b))) {
      const size = utf8(k) + utf8(v);
      if (n >= USAGE_LIMITS.labelsPerPod || bytes + size > USAGE_LIMITS.labelBytesPerPod) {
        omittedLabels++;
        continue;
      }
      labels[k] = v;
      bytes += size;
      n++;
    }
  }
  return {
    pod: {
      ...p,
      containers: containers.map((c) => ({
        ...c,
        cpuRequestCores: finite(c.cpuRequestCores) ? c.cpuRequestCores : 0,
        memoryRequestBytes: finite(c.memoryRequestBytes) ? c.memoryRequestBytes : 0,
      })),
      usage: p.usage.slice(0, containers.length),
      ...(labels ? { labels } : {}),
    },
    omittedContainers: p.containers.length - containers.length,
    omittedLabels,
  };
}

function podMetaDoc(p: UsagePodSample): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    namespace: p.namespace,
    name: p.name,
    ...(p.node ? { node: p.node } : {}),
    ...(p.owner ? { owner: p.owner } : {}),
    ...(p.labels && Object.keys(p.labels).length ? { labels: p.labels } : {}),
    containers: p.containers.map((c) => ({
      name: c.name,
      cpuRequestCores: c.cpuRequestCores,
      memoryRequestBytes: c.memoryRequestBytes,
      ...(c.cpuLimitCores !== undefined && finite(c.cpuLimitCores) ? { cpuLimitCores: c.cpuLimitCores } : {}),
      ...(c.memoryLimitBytes !== undefined && finite(c.memoryLimitBytes)
        ? { memoryLimitBytes: c.memoryLimitBytes }
        : {}),
      ...(c.restarts !== undefined ? { restarts: c.restarts } : {}),
      ...(c.lastOomKilledAt ? { lastOomKilledAt: c.lastOomKilledAt } : {}),
    })),
  };
  return JSON.parse(JSON.stringify({ ...meta, h: hashOf(meta) })) as Record<string, unknown>;
}

function nodeMetaDoc(n: UsageNode): Record<string, unknown> {
  const meta = {
    name: n.name,
    ...(n.instanceType ? { instanceType: n.instanceType } : {}),
    cpuCores: finite(n.cpuCores) ? n.cpuCores : 0,
    memoryBytes: finite(n.memoryBytes) ? n.memoryBytes : 0,
  };
  return { ...meta, h: hashOf(meta) };
}

/** The readings of one pod as a chunk row: millicores and KiB, integers. */
function row(p: UsagePodSample): Array<string | number | null> {
  const out: Array<string | number | null> = [podKey(p)];
  for (let i = 0; i < p.containers.length; i++) {
    const r = p.usage[i];
    if (r && finite(r.cpuCores) && finite(r.memoryBytes))
      out.push(Math.round(r.cpuCores * 1000), Math.round(r.memoryBytes / 1024));
    else out.push(null, null);
  }
  return out;
}

/** One hour of samples as read back. */
export interface UsageHour {
  hour: string;
  nodes: Map<string, UsageNode>;
  /** Pod metadata by `namespace/name`. */
  pods: Map<string, UsagePodMeta>;
  /** The hour's complete samples, oldest first: readings per pod key, per container (null: none). */
  samples: Array<{ at: string; readings: Map<string, Array<ContainerReading | null>>; omittedPods: number }>;
  /** Records that failed their schema (left out). */
  corrupt: number;
}

export interface PodUsageSummary extends UsagePodMeta {
  owner?: WorkloadRef & { owner?: WorkloadRef };
  workload: WorkloadRef;
  containers: Array<
    UsageContainerMeta & {
      /** Average and maximum of the readings in the range; absent without any. */
      usage?: ContainerUsage;
      readings: number;
      /** Distinct OOMKill times seen in the range. */
      oomKills: string[];
    }
  >;
  /** Sample times the pod was in. */
  samples: number;
  firstAt: string;
  lastAt: string;
}

export interface UsageSummary {
  cluster: string;
  from: string;
  to: string;
  /** Distinct sample times in the range: a pod in all of them ran all the covered hours. */
  sampleTimes: number;
  /** Hours of the range that have samples (an hour partly in the range counts its part). */
  coveredHours: number;
  /** By namespace and name; the latest metadata of each pod. */
  pods: PodUsageSummary[];
  /**
   * The latest reading of each node in the range, and the covered hours it was in a sample in (a
   * node is counted by the hour: one seen at 10:55 counts for 10:00-11:00).
   */
  nodes: Array<UsageNode & { hours: number }>;
  /** Pods the samples themselves left out (largest count of one sample). */
  omittedPods: number;
  corrupt: number;
  /** More than USAGE_LIMITS.summaryPods distinct pods: the rest are left out. */
  truncated?: boolean;
}

export interface ContainerSeries {
  namespace: string;
  workload: WorkloadRef;
  container: string;
  /** Every reading of the container in any pod of the workload, in time order: when, CPU, memory. */
  atMs: number[];
  cpuCores: number[];
  memoryBytes: number[];
  /** The latest requests and limits seen. */
  cpuRequestCores: number;
  memoryRequestBytes: number;
  cpuLimitCores?: number;
  memoryLimitBytes?: number;
  /** Distinct pods the readings came from. */
  pods: number;
  /** Nodes those pods ran on (names, sorted), for the price of what they request. */
  nodes: string[];
  oomKills: string[];
  firstAt: string;
  lastAt: string;
}

export interface RangeQuery {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Only this namespace's pods. */
  namespace?: string;
}

/**
 * The usage samples, one partition per cluster and hour (see the layout above). Reads check every
 * record's schema and leave out (and count) what fails.
 */
export class UsageSamples {
  private readonly store: Store;
  private readonly clock: Clock;
  readonly retentionDays: number;

  constructor(store: Store, clock: Clock, opts: { retentionDays?: number } = {}) {
    this.store = store;
    this.clock = clock;
    const days = opts.retentionDays ?? DEFAULT_USAGE_RETENTION_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 90)
      throw new UsageSampleError('usage sample retention must be a whole number of days from 1 to 90');
    this.retentionDays = days;
  }

  /** Stores one sample of a cluster. Throws UsageSampleError when the hour already holds samplesPerHour samples. */
  async write(input: UsageSampleInput): Promise<UsageWriteResult> {
    if (!Number.isFinite(input.at)) throw new UsageSampleError('a sample needs its time');
    const now = this.clock.now();
    if (input.at > now + 10 * 60_000)
      throw new UsageSampleError("a sample's time is more than 10 minutes ahead of this server's clock");
    if (input.at < now - this.retentionDays * 86_400_000)
      throw new UsageSampleError(`a sample older than the retention (${this.retentionDays} days) is not stored`);
    const hour = hourOf(input.at);
    const pk = pkOf(input.cluster, hour);
    const at = new Date(input.at).toISOString();
    const expiresAt = Math.floor((hour + HOUR_MS) / 1000) + this.retentionDays * 86_400;

    const index = await this.readIndex(pk);
    const others = index.data.samples.filter((s) => s.at !== at);
    if (others.length >= USAGE_LIMITS.samplesPerHour)
      throw new UsageSampleError(
        `cluster ${input.cluster} already has ${USAGE_LIMITS.samplesPerHour} samples in the hour of ${at} ` +
          '(one every 30 s at most): sample less often',
      );

    const sorted = [...input.pods].sort((a, b) => byKey(podKey(a), podKey(b)));
    const kept = sorted.slice(0, USAGE_LIMITS.podsPerSample);
    let omittedContainers = 0;
    let omittedLabels = 0;
    const pods = kept.map((p) => {
      const b = boundedPod(p);
      omittedContainers += b.omittedContainers;
      omittedLabels += b.omittedLabels;
      return b.pod;
    });
    const nodes = [...input.nodes].sort((a, b) => byKey(a.name, b.name)).slice(0, USAGE_LIMITS.nodesPerSample);
    const omittedPods = (input.omittedPods ?? 0) + (sorted.length - kept.length);

    // Metadata first, so a sample in the index always finds its pods' metadata.
    const stored = new Map<string, string>();
    for (const prefix of ['p#', 'n#']) {
      let after: string | undefined;
      do {
        const page = await this.store.query({ pk, prefix, limit: 1000, ...(after ? { after } : {}) });
        for (const i of page.items) stored.set(i.sk, typeof i.data.h === 'string' ? i.data.h : '');
        after = page.lastKey;
      } while (after);
    }
    const writes: Array<() => Promise<unknown>> = [];
    for (const p of pods) {
      const doc = podMetaDoc(p);
      const sk = `p#${podKey(p)}`;
      if (stored.get(sk) !== doc.h) writes.push(() => this.store.put({ pk, sk, data: doc, expiresAt }));
    }
    for (const n of nodes) {
      const doc = nodeMetaDoc(n);
      const sk = `n#${n.name}`;
      if (stored.get(sk) !== doc.h) writes.push(() => this.store.put({ pk, sk, data: doc, expiresAt }));
    }
    const metaWrites = writes.length;
    await runBounded(writes, WRITE_CONCURRENCY);

    const chunks: Array<Array<Array<string | number | null>>> = [[]];
    let bytes = 0;
    for (const p of pods) {
      const r = row(p);
      const size = utf8(JSON.stringify(r)) + 1;
      if (bytes + size > USAGE_LIMITS.chunkBytes && (chunks.at(-1)?.length ?? 0) > 0) {
        chunks.push([]);
        bytes = 0;
      }
      chunks.at(-1)?.push(r);
      bytes += size;
    }
    await runBounded(
      chunks.map(
        (rows, chunk) => () =>
          this.store.put({
            pk,
            sk: `s#${at}#${String(chunk).padStart(3, '0')}`,
            data: { at, chunk, rows },
            expiresAt,
          }),
      ),
      WRITE_CONCURRENCY,
    );

    // The index last: the sample counts for readers once all its chunks are written.
    const entry = { at, chunks: chunks.length, ...(omittedPods ? { omittedPods } : {}) };
    for (let attempt = 0; ; attempt++) {
      const current = attempt === 0 ? index : await this.readIndex(pk);
      const samples = [...current.data.samples.filter((s) => s.at !== at), entry].sort((a, b) => byKey(a.at, b.at));
      if (samples.length > USAGE_LIMITS.samplesPerHour)
        throw new UsageSampleError(
          `cluster ${input.cluster} already has ${USAGE_LIMITS.samplesPerHour} samples in the hour of ${at}`,
        );
      try {
        await this.store.put(
          { pk, sk: INDEX_SK, data: { samples }, expiresAt },
          current.version === undefined ? { ifAbsent: true } : { ifVersion: current.version },
        );
        break;
      } catch (err) {
        if (!(err instanceof ConditionFailedError) || attempt >= 4) throw err;
      }
    }
    return {
      at,
      pods: pods.length,
      nodes: nodes.length,
      omittedPods,
      omittedContainers,
      omittedLabels,
      chunks: chunks.length,
      metaWrites,
    };
  }

  private async readIndex(pk: string): Promise<{ data: StoredIndex; version?: number }> {
    const item = await this.store.get(pk, INDEX_SK);
    if (!item) return { data: { samples: [] } };
    try {
      return { data: decodeRecord(IndexSchema, item.pk, item.sk, item.data), version: item.version };
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      // A corrupt index is replaced: the hour's earlier samples are no longer counted.
      return { data: { samples: [] }, version: item.version };
    }
  }

  /** The hours of a range, oldest first, each read whole (namespace-filtered when asked). */
  async *hours(cluster: string, q: RangeQuery): AsyncGenerator<UsageHour> {
    checkRange(q);
    for (let hour = hourOf(q.from); hour < q.to; hour += HOUR_MS) {
      const h = await this.readHour(cluster, hour, q);
      if (h) yield h;
    }
  }

  private async readHour(cluster: string, hour: number, q: RangeQuery): Promise<UsageHour | undefined> {
    const pk = pkOf(cluster, hour);
    const index = await this.store.get(pk, INDEX_SK);
    if (!index) return undefined;
    const out: UsageHour = {
      hour: new Date(hour).toISOString(),
      nodes: new Map(),
      pods: new Map(),
      samples: [],
      corrupt: 0,
    };
    let samples: StoredIndex['samples'];
    try {
      samples = decodeRecord(IndexSchema, index.pk, index.sk, index.data).samples;
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      out.corrupt++;
      return out;
    }
    const wanted = samples.filter((s) => {
      const t = Date.parse(s.at);
      return t >= q.from && t < q.to;
    });
    if (!wanted.length) return undefined;
    const each = async (prefix: string, fn: (i: StoreItem) => void) => {
      let after: string | undefined;
      do {
        const page = await this.store.query({ pk, prefix, limit: 1000, ...(after ? { after } : {}) });
        for (const i of page.items) {
          try {
            fn(i);
          } catch (err) {
            if (!(err instanceof CorruptRecordError)) throw err;
            out.corrupt++;
          }
        }
        after = page.lastKey;
      } while (after);
    };
    await each('n#', (i) => {
      const n: StoredNodeMeta = decodeRecord(NodeMetaSchema, i.pk, i.sk, i.data);
      out.nodes.set(n.name, {
        name: n.name,
        ...(n.instanceType ? { instanceType: n.instanceType } : {}),
        cpuCores: n.cpuCores,
        memoryBytes: n.memoryBytes,
      });
    });
    const nsPrefix = q.namespace !== undefined ? `${q.namespace}/` : '';
    await each(`p#${nsPrefix}`, (i) => {
      const p: StoredPodMeta = decodeRecord(PodMetaSchema, i.pk, i.sk, i.data);
      const { h: _h, ...meta } = p;
      out.pods.set(podKey(p), meta as UsagePodMeta);
    });
    for (const s of wanted) {
      const readings = new Map<string, Array<ContainerReading | null>>();
      for (let c = 0; c < s.chunks; c++) {
        const sk = `s#${s.at}#${String(c).padStart(3, '0')}`;
        const item = await this.store.get(pk, sk);
        if (!item) {
          out.corrupt++;
          continue;
        }
        let rows: z.infer<typeof ChunkSchema>['rows'];
        try {
          rows = decodeRecord(ChunkSchema, item.pk, item.sk, item.data).rows;
        } catch (err) {
          if (!(err instanceof CorruptRecordError)) throw err;
          out.corrupt++;
          continue;
        }
        for (const [key, ...values] of rows) {
          if (nsPrefix && !key.startsWith(nsPrefix)) continue;
          const list: Array<ContainerReading | null> = [];
          for (let v = 0; v + 1 < values.length; v += 2) {
            const cpu = values[v];
            const mem = values[v + 1];
            list.push(
              typeof cpu === 'number' && typeof mem === 'number'
                ? { cpuCores: cpu / 1000, memoryBytes: mem * 1024 }
                : null,
            );
          }
          readings.set(key, list);
        }
      }
      out.samples.push({ at: s.at, readings, omittedPods: s.omittedPods ?? 0 });
    }
    return out;
  }

  /**
   * Per pod over the range: average and maximum usage per container (for the allocation's
   * max(request, usage)), the latest metadata, OOMKills seen, and how many sample times it was in.
   */
  async summarize(cluster: string, q: RangeQuery): Promise<UsageSummary> {
    interface Acc {
      meta: UsagePodMeta;
      samples: number;
      firstAt: string;
      lastAt: string;
      c: Map<string, { sumCpu: number; maxCpu: number; sumMem: number; maxMem: number; n: number; oom: Set<string> }>;
    }
    const pods = new Map<string, Acc>();
    const nodes = new Map<string, UsageNode & { hours: number }>();
    let sampleTimes = 0;
    let coveredHours = 0;
    let corrupt = 0;
    let omittedPods = 0;
    let truncated = false;
    for await (const h of this.hours(cluster, q)) {
      corrupt += h.corrupt;
      const start = Date.parse(h.hour);
      const overlap = h.samples.length ? (Math.min(start + HOUR_MS, q.to) - Math.max(start, q.from)) / HOUR_MS : 0;
      coveredHours += overlap;
      for (const [name, n] of h.nodes) nodes.set(name, { ...n, hours: (nodes.get(name)?.hours ?? 0) + overlap });
      for (const s of h.samples) {
        sampleTimes++;
        omittedPods = Math.max(omittedPods, s.omittedPods);
        for (const [key, readings] of s.readings) {
          const meta = h.pods.get(key);
          if (!meta) continue;
          let acc = pods.get(key);
          if (!acc) {
            if (pods.size >= USAGE_LIMITS.summaryPods) {
              truncated = true;
              continue;
            }
            acc = { meta, samples: 0, firstAt: s.at, lastAt: s.at, c: new Map() };
            pods.set(key, acc);
          }
          acc.meta = meta;
          acc.samples++;
          acc.lastAt = s.at;
          meta.containers.forEach((c, i) => {
            let a = acc.c.get(c.name);
            if (!a) {
              a = { sumCpu: 0, maxCpu: 0, sumMem: 0, maxMem: 0, n: 0, oom: new Set() };
              acc.c.set(c.name, a);
            }
            if (c.lastOomKilledAt && Date.parse(c.lastOomKilledAt) >= q.from) a.oom.add(c.lastOomKilledAt);
            const r = readings[i];
            if (!r) return;
            a.n++;
            a.sumCpu += r.cpuCores;
            a.sumMem += r.memoryBytes;
            a.maxCpu = Math.max(a.maxCpu, r.cpuCores);
            a.maxMem = Math.max(a.maxMem, r.memoryBytes);
          });
        }
      }
    }
    const out: PodUsageSummary[] = [];
    for (const key of [...pods.keys()].sort(byKey)) {
      const acc = pods.get(key) as Acc;
      out.push({
        ...acc.meta,
        workload: workloadOf(acc.meta),
        containers: acc.meta.containers.map((c) => {
          const a = acc.c.get(c.name);
          return {
            ...c,
            ...(a && a.n > 0
              ? {
                  usage: {
                    cpuCoresAvg: a.sumCpu / a.n,
                    cpuCoresMax: a.maxCpu,
                    memoryBytesAvg: a.sumMem / a.n,
                    memoryBytesMax: a.maxMem,
                  },
                }
              : {}),
            readings: a?.n ?? 0,
            oomKills: [...(a?.oom ?? [])].sort(byKey),
          };
        }),
        samples: acc.samples,
        firstAt: acc.firstAt,
        lastAt: acc.lastAt,
      });
    }
    return {
      cluster,
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      sampleTimes,
      coveredHours,
      pods: out,
      nodes: [...nodes.values()].sort((a, b) => byKey(a.name, b.name)),
      omittedPods,
      corrupt,
      ...(truncated ? { truncated } : {}),
    };
  }

  /**
   * Every reading per workload container over the range (all the workload's pods together), for
   * right-sizing: P95 of CPU and maximum of memory, OOMKills, the latest requests. Bounded by
   * USAGE_LIMITS.series and seriesValues (`truncated` says when either was reached).
   */
  async workloadSeries(
    cluster: string,
    q: RangeQuery,
  ): Promise<{
    series: ContainerSeries[];
    /** The latest reading of every node the series name. */
    nodes: UsageNode[];
    sampleTimes: number;
    corrupt: number;
    truncated?: boolean;
  }> {
    const series = new Map<string, ContainerSeries & { podSet: Set<string>; nodeSet: Set<string> }>();
    const nodes = new Map<string, UsageNode>();
    let values = 0;
    let sampleTimes = 0;
    let corrupt = 0;
    let truncated = false;
    for await (const h of this.hours(cluster, q)) {
      corrupt += h.corrupt;
      for (const [name, n] of h.nodes) nodes.set(name, n);
      for (const s of h.samples) {
        sampleTimes++;
        for (const [key, readings] of s.readings) {
          const meta = h.pods.get(key);
          if (!meta) continue;
          const workload = workloadOf(meta);
          meta.containers.forEach((c, i) => {
            const id = `${meta.namespace}/${workload.kind}/${workload.name}/${c.name}`;
            let sr = series.get(id);
            if (!sr) {
              if (series.size >= USAGE_LIMITS.series) {
                truncated = true;
                return;
              }
              sr = {
                namespace: meta.namespace,
                workload,
                container: c.name,
                atMs: [],
                cpuCores: [],
                memoryBytes: [],
                cpuRequestCores: c.cpuRequestCores,
                memoryRequestBytes: c.memoryRequestBytes,
                pods: 0,
                nodes: [],
                oomKills: [],
                firstAt: s.at,
                lastAt: s.at,
                podSet: new Set(),
                nodeSet: new Set(),
              };
              series.set(id, sr);
            }
            sr.cpuRequestCores = c.cpuRequestCores;
            sr.memoryRequestBytes = c.memoryRequestBytes;
            if (c.cpuLimitCores !== undefined) sr.cpuLimitCores = c.cpuLimitCores;
            else delete sr.cpuLimitCores;
            if (c.memoryLimitBytes !== undefined) sr.memoryLimitBytes = c.memoryLimitBytes;
            else delete sr.memoryLimitBytes;
            sr.lastAt = s.at;
            if (
              c.lastOomKilledAt &&
              Date.parse(c.lastOomKilledAt) >= q.from &&
              !sr.oomKills.includes(c.lastOomKilledAt)
            )
              sr.oomKills.push(c.lastOomKilledAt);
            const r = readings[i];
            if (!r) return;
            if (values >= USAGE_LIMITS.seriesValues) {
              truncated = true;
              return;
            }
            values++;
            sr.podSet.add(key);
            if (meta.node) sr.nodeSet.add(meta.node);
            sr.atMs.push(Date.parse(s.at));
            sr.cpuCores.push(r.cpuCores);
            sr.memoryBytes.push(r.memoryBytes);
          });
        }
      }
    }
    const out = [...series.entries()]
      .sort(([a], [b]) => byKey(a, b))
      .map(([, { podSet, nodeSet, ...sr }]) => ({
        ...sr,
        pods: podSet.size,
        nodes: [...nodeSet].sort(byKey),
        oomKills: sr.oomKills.sort(byKey),
      }));
    const named = new Set(out.flatMap((sr) => sr.nodes));
    return {
      series: out,
      nodes: [...nodes.values()].filter((n) => named.has(n.name)).sort((a, b) => byKey(a.name, b.name)),
      sampleTimes,
      corrupt,
      ...(truncated ? { truncated } : {}),
    };
  }
}

/**
 * The allocation's input from a summary: the covered hours as the window, each node priced by its
 * instance type and charged for the hours it was seen, each pod for its share of the sample times
 * (a pod in half of them ran half the covered hours). Throws UsageSampleError without samples.
 */
export function allocationInputOf(
  summary: UsageSummary,
  opts: { prices: Readonly<Record<string, number>>; usage?: 'avg' | 'max'; labelKey?: string; rates?: ResourceRates },
): AllocationInput {
  if (summary.sampleTimes === 0 || summary.coveredHours <= 0)
    throw new UsageSampleError(
      `no usage samples of cluster ${summary.cluster} between ${summary.from} and ${summary.to}: sample usage first`,
    );
  const windowHours = summary.coveredHours;
  return {
    windowHours,
    nodes: summary.nodes.map((n) => ({ ...n, price: nodePrice(n.instanceType, opts.prices) })),
    pods: summary.pods.map((p) => ({ ...p, hours: (windowHours * p.samples) / summary.sampleTimes })),
    ...(opts.usage ? { usage: opts.usage } : {}),
    ...(opts.labelKey !== undefined ? { labelKey: opts.labelKey } : {}),
    ...(opts.rates ? { rates: opts.rates } : {}),
  };
}

function checkRange(q: RangeQuery): void {
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to) || q.to <= q.from)
    throw new UsageSampleError('a usage range needs from before to');
  if (q.to - q.from > USAGE_LIMITS.rangeHours * HOUR_MS)
    throw new UsageSampleError(`a usage range covers at most ${USAGE_LIMITS.rangeHours} hours`);
}
