/**
 * Load: bursts of concurrent tools/call against the local host with its embedded DynamoDB store
 * (dynalite) and API-key authentication, half `server_info`, half a Kubernetes read
 * (`k8s_resources_list` of pods) against the fake API server in test/support/fake-kube. Prints
 * throughput, p50/p99 latency as ratios to the same calls sent one at a time in the same run, the
 * error rate by status, RSS before/after, Store reads of API keys, and audit records written vs
 * calls answered. See bench/README.md.
 *
 *   node_modules/.bin/node --expose-gc bench/load.bench.ts     BENCH_ROUNDS=<bursts>, default 10;
 *                                                 BENCH_CONCURRENCY=<calls per burst>, default 200
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import { startEmbeddedDynamo } from '../shared/adapters/local/embedded-dynamodb.ts';
import type { AuditEvent } from '../shared/app/repos/audit.ts';
import type { PutCondition, PutInput, QueryInput, Store } from '../shared/ports/store.ts';
import { VERSION } from '../shared/version.ts';
import { type FakeKube, startFakeKube } from '../test/support/fake-kube/index.ts';
import { gitCommit, machineFacts, resultsFile, type Stats, stats, table, writeJson } from './lib/report.ts';
import { captureWarnings, envInt, hardDeadline, runMain } from './lib/run.ts';

const ROUNDS = envInt('BENCH_ROUNDS', { fallback: 10, min: 1, max: 200 });
const CONCURRENCY = envInt('BENCH_CONCURRENCY', { fallback: 200, min: 1, max: 1000 });
/** Calls sent one at a time first: the baseline the burst latencies are divided by. */
const SEQUENTIAL = 100;
const KEYS = 20;
const PODS = 50;
const NAMESPACE = 'load';
const MODERN = '2026-07-28';
/** No single call may take longer than this: a stuck call fails the run instead of hanging it. */
const CALL_TIMEOUT_MS = 60_000;
const DEADLINE_MS = 10 * 60_000;

type Tool = 'server_info' | 'k8s_resources_list';
const ARGS: Record<Tool, Record<string, unknown>> = {
  server_info: {},
  k8s_resources_list: { kind: 'pods', namespace: NAMESPACE },
};

interface Call {
  tool: Tool;
  requestId: string;
  ms: number;
  status: number;
  /** 200 with a result that is not an error. */
  ok: boolean;
  /** A tool result with isError, or a JSON-RPC error: the text, for the report. */
  error?: string;
}

/** A Store that counts reads of API keys, and otherwise passes everything through. */
function countingStore(inner: Store): { store: Store; apiKeyReads: () => number } {
  let reads = 0;
  const store: Store = {
    kind: inner.kind,
    get: (pk, sk) => {
      if (pk === 'apikey') reads++;
      return inner.get(pk, sk);
    },
    put: (item: PutInput, c?: PutCondition) => inner.put(item, c),
    delete: (pk, sk, c) => inner.delete(pk, sk, c),
    query: (q: QueryInput) => inner.query(q),
    close: () => inner.close(),
  };
  return { store, apiKeyReads: () => reads };
}

async function callTool(url: string, key: string, tool: Tool, requestId: string): Promise<Call> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: requestId,
    method: 'tools/call',
    params: {
      name: tool,
      arguments: ARGS[tool],
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'cloudops-load-bench', version: VERSION },
      },
    },
  });
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${key}`,
      'x-request-id': requestId,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let msg: { result?: { isError?: boolean; content?: Array<{ text?: string }> }; error?: { message?: string } } = {};
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    // Not JSON: counted as an error below.
  }
  const ok = res.status === 200 && msg.result !== undefined && msg.result.isError !== true;
  const error = ok
    ? undefined
    : (msg.error?.message ?? msg.result?.content?.[0]?.text ?? `HTTP ${res.status}: ${text.slice(0, 200)}`);
  return { tool, requestId, ms, status: res.status, ok, ...(error ? { error: error.slice(0, 300) } : {}) };
}

async function auditRecords(store: Store): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  const today = new Date();
  // Today and yesterday (a run across midnight UTC).
  for (const day of [today, new Date(today.getTime() - 86_400_000)]) {
    let after: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await store.query({
        pk: `audit#${day.toISOString().slice(0, 10)}`,
        limit: 1000,
        ...(after ? { after } : {}),
      });
      out.push(...res.items.map((i) => i.data as unknown as AuditEvent));
      after = res.lastKey;
      if (!after) break;
    }
  }
  return out;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const f1 = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  hardDeadline(DEADLINE_MS);
  const notes = new Set<string>();
  const dataDir = await mkdtemp(join(os.tmpdir(), 'cloudops-load-bench-'));
  let fake: FakeKube | undefined;
  let server: LocalServer | undefined;
  try {
    fake = await startFakeKube({ readyDelayMs: 10 });
    fake.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    for (let i = 0; i < PODS; i++) {
      fake.store.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p-${i}`, namespace: NAMESPACE, labels: { app: 'load' } },
        spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
        status: { phase: 'Running' },
      });
    }
    const embedded = await startEmbeddedDynamo({ dataDir, table: 'cloudops-mcp' });
    const counted = countingStore(embedded.store);
    const kubeconfig = fake.kubeconfigPath;
    server = await captureWarnings(
      (n) => notes.add(n),
      () =>
        startLocalServer(
          { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', AUTH: 'required', KUBECONFIG: kubeconfig },
          { store: counted.store },
        ),
    );
    const srv = server;
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++) keys.push((await srv.deps.apiKeys.create({ role: 'viewer', name: `k${i}` })).key);

    let n = 0;
    const one = (tool: Tool, phase: string) =>
      callTool(srv.url, keys[n % KEYS] as string, tool, `${phase}-${n++}`).catch(
        (err: unknown): Call => ({
          tool,
          requestId: `${phase}-${n}`,
          ms: CALL_TIMEOUT_MS,
          status: 0,
          ok: false,
          error: String(err).slice(0, 300),
        }),
      );
    const toolOf = (i: number): Tool => (i % 2 === 0 ? 'server_info' : 'k8s_resources_list');

    // Warm-up (JIT, discovery cache, key cache), then the one-at-a-time baseline.
    for (let i = 0; i < 20; i++) await one(toolOf(i), 'warm');
    const sequential: Call[] = [];
    const seqStart = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await one(toolOf(i), 'seq'));
    const seqSeconds = (performance.now() - seqStart) / 1000;

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const readsBefore = counted.apiKeyReads();
    const burst: Call[] = [];
    const burstStart = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      burst.push(...(await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => one(toolOf(i), 'load')))));
    }
    const burstSeconds = (performance.now() - burstStart) / 1000;
    const rssPeak = process.memoryUsage().rss;
    // With --expose-gc, "after" is what stays live once the bursts' garbage is collected.
    global.gc?.();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;
    const burstKeyReads = counted.apiKeyReads() - readsBefore;

    const unwritten = await srv.deps.audit.flush();
    const records = await auditRecords(srv.deps.store);
    const all = [...sequential, ...burst];
    const answered = all.filter((c) => c.status === 200);
    const perRequest = new Map<string, number>();
    for (const e of records) perRequest.set(e.requestId, (perRequest.get(e.requestId) ?? 0) + 1);
    const warm = 20;
    const missing = answered.filter((c) => !perRequest.has(c.requestId)).length;
    const duplicated = [...perRequest.values()].filter((v) => v > 1).length;

    const rows: string[][] = [['phase', 'tool', 'calls', 'ok', 'errors', 'p50 ms', 'p99 ms', 'p50/seq', 'p99/seq']];
    const seqStats = new Map<Tool, Stats>();
    const results: Array<Record<string, unknown>> = [];
    for (const tool of ['server_info', 'k8s_resources_list'] as Tool[]) {
      const s = stats(sequential.filter((c) => c.tool === tool).map((c) => c.ms));
      seqStats.set(tool, s);
    }
    for (const [phase, calls] of [
      ['one at a time', sequential],
      [`${CONCURRENCY} concurrent x ${ROUNDS}`, burst],
    ] as const) {
      for (const tool of ['server_info', 'k8s_resources_list'] as Tool[]) {
        const mine = calls.filter((c) => c.tool === tool);
        const s = stats(mine.map((c) => c.ms));
        const base = seqStats.get(tool) as Stats;
        const ok = mine.filter((c) => c.ok).length;
        rows.push([
          phase,
          tool,
          String(mine.length),
          String(ok),
          String(mine.length - ok),
          f1(s.p50),
          f1(s.p99),
          `${(s.p50 / base.p50).toFixed(1)}x`,
          `${(s.p99 / base.p99).toFixed(1)}x`,
        ]);
        results.push({ phase, tool, calls: mine.length, ok, ...s });
      }
    }

    const statuses = new Map<number, number>();
    for (const c of burst) statuses.set(c.status, (statuses.get(c.status) ?? 0) + 1);
    const errors = burst.filter((c) => !c.ok);
    const errorKinds = new Map<string, number>();
    for (const c of errors) {
      const k = `${c.status} ${c.tool}: ${(c.error ?? '').replace(/request [\w-]+/g, 'request …').slice(0, 120)}`;
      errorKinds.set(k, (errorKinds.get(k) ?? 0) + 1);
    }

    const summary = {
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      burstCalls: burst.length,
      throughputPerSecond: burst.length / burstSeconds,
      sequentialPerSecond: SEQUENTIAL / seqSeconds,
      errorRate: errors.length / burst.length,
      statuses: Object.fromEntries(statuses),
      rssMiB: { before: mib(rssBefore), afterBursts: mib(rssPeak), afterGc: mib(rssAfter), gcExposed: !!global.gc },
      heapUsedMiB: { before: mib(heapBefore), after: mib(heapAfter) },
      apiKeyStoreReadsDuringBursts: burstKeyReads,
      audit: {
        callsAnswered: answered.length,
        records: records.length,
        warmUpCallsAudited: warm,
        answeredWithoutRecord: missing,
        requestIdsWithMoreThanOneRecord: duplicated,
        unwrittenAfterFlush: unwritten,
        writeFailures: srv.deps.audit.failures,
      },
    };

    console.log(`cloudops-mcp ${VERSION} load bench, commit ${gitCommit() ?? 'unknown'}`);
    const m = machineFacts();
    console.log(`${m.nproc} CPUs (${m.cpu}), ${m.memGiB} GiB, ${m.platform}, Node ${m.node}`);
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `embedded dynalite store, API-key auth (${KEYS} keys), fake Kubernetes API (${PODS} pods); ` +
        `${SEQUENTIAL} calls one at a time, then ${ROUNDS} bursts of ${CONCURRENCY} concurrent calls\n`,
    );
    console.log(table(rows, 2));
    console.log('');
    console.log(
      `throughput: ${f1(summary.throughputPerSecond)} calls/s in bursts vs ${f1(summary.sequentialPerSecond)} calls/s one at a time (${(summary.throughputPerSecond / summary.sequentialPerSecond).toFixed(2)}x)`,
    );
    console.log(
      `error rate: ${(summary.errorRate * 100).toFixed(2)} % (${errors.length} of ${burst.length}); HTTP statuses: ${[
        ...statuses,
      ]
        .map(([s, c]) => `${s} x${c}`)
        .join(', ')}`,
    );
    for (const [k, c] of errorKinds) console.log(`  ${c} x ${k}`);
    console.log(
      `RSS: ${summary.rssMiB.before} MiB before the bursts, ${summary.rssMiB.afterBursts} MiB right after` +
        (global.gc
          ? `, ${summary.rssMiB.afterGc} MiB after a full GC`
          : ' (run with --expose-gc for the RSS after a full GC)') +
        `; heap used ${summary.heapUsedMiB.before} -> ${summary.heapUsedMiB.after} MiB`,
    );
    console.log(`API-key Store reads during the bursts: ${burstKeyReads} for ${burst.length} calls (${KEYS} keys)`);
    console.log(
      `audit: ${records.length} records for ${answered.length + warm} answered calls (${warm} warm-up); ` +
        `${missing} answered without a record, ${duplicated} request ids with more than one, ${unwritten} unwritten after flush, ` +
        `${srv.deps.audit.failures} write failures retried`,
    );
    if (notes.size) console.log(`\nSDK notes at startup: ${[...notes].join(' | ')}`);

    const file = await resultsFile('load');
    await writeJson(file, {
      benchmark: 'load',
      version: VERSION,
      commit: gitCommit(),
      machine: machineFacts(),
      loadavg: os.loadavg(),
      summary,
      results,
      errorKinds: Object.fromEntries(errorKinds),
    });
    console.log(`\nresults: ${file}`);
    if (missing > 0 || duplicated > 0) throw new Error('audit trail does not hold one record per answered call');
  } finally {
    await server?.close();
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runMain(main);
