/**
 * Listing 5,000 pods: the raw @kubernetes/client-node call an unbounded tool would make, against
 * the MCP tool `k8s_resources_list` (one bounded page, all pages, one page of full objects), all in
 * one process on 127.0.0.1 against the fake Kubernetes API server in test/support/fake-kube.
 * Prints times as ratios to the raw one-call list measured in the same run, two reference rows that
 * split one MCP page's time (the API server's page, one MCP call that does no Kubernetes work), and
 * the bytes (and rough tokens) each approach hands to a model. See bench/README.md.
 *
 *   node_modules/.bin/node bench/k8s-list.bench.ts    BENCH_R=<measured rounds>, default 20, after 3 warm-up
 *   rounds. Needs Node 22 (type stripping): the project's pinned node, not an older one on the PATH.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import os from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@modelcontextprotocol/client';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import { VERSION } from '../shared/version.ts';
import { FAKE_TOKEN, type FakeKube, startFakeKube } from '../test/support/fake-kube/index.ts';
import { connectClient } from '../test/support/mcp-client.ts';
import { gitCommit, machineFacts, resultsFile, type Stats, stats, table, writeJson } from './lib/report.ts';
import { captureWarnings, envInt, hardDeadline, runMain } from './lib/run.ts';

const PODS = 5000;
const NAMESPACE = 'big';
/** Page size of the raw client-node paging case (a2). */
const RAW_PAGE = 500;
const DEFAULT_R = 20;
const MAX_R = 1000;
const WARMUP = 3;
/** More pages than this in one full paging means the tool is not making progress: abort. */
const MAX_PAGES = 500;
/** No single operation (one list, or one full paging) may take longer than this. */
const OP_TIMEOUT_MS = 120_000;
/** Hard stop: the run never outlives this, whatever BENCH_R says. */
const DEADLINE_MS = 15 * 60_000;

type CaseId = 'a' | 'a2' | 'b' | 'c' | 'd' | 'ref-api' | 'ref-mcp';

/** What one run of a case did, checked and counted outside the timing. */
interface Outcome {
  /** Pods the case ended up with (names, for the paging cases; the page's rows otherwise). */
  items: number;
  /** MCP tools/call requests (0 for the raw cases). */
  toolCalls: number;
  /** Bytes a model would be handed: MCP text + JSON.stringify(structuredContent), summed over pages. */
  modelBytes: number;
  /** Largest single MCP response (text + structuredContent), to compare with the budget. */
  maxResponseBytes: number;
  /** Every name a paging case collected, checked after the clock stops. */
  names?: string[];
}

interface Case {
  id: CaseId;
  label: string;
  run: () => Promise<Outcome>;
  samples: number[];
  /** Requests the fake API server saw during the measured runs. */
  apiRequests: number;
  /** TCP connections the fake API server accepted during the measured runs. */
  apiConnections: number;
  toolCalls: number;
  last?: Outcome;
}

interface CaseResult extends Stats {
  id: CaseId;
  label: string;
  apiRequestsPerOp: number;
  apiConnectionsPerOp: number;
  toolCallsPerOp: number;
  itemsPerOp: number;
  /** Per operation, last measured run: MCP text + structuredContent bytes (0 for the raw cases). */
  modelBytes: number;
  maxResponseBytes: number;
  ratioP50: number;
  ratioMean: number;
}

const R = envInt('BENCH_R', { fallback: DEFAULT_R, min: 1, max: MAX_R });

async function bounded<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function fail(what: string, msg: string): never {
  throw new Error(`${what}: ${msg}`);
}

/** A case with its counters at zero. */
function newCase(id: CaseId, label: string, run: () => Promise<Outcome>): Case {
  return { id, label, run, samples: [], apiRequests: 0, apiConnections: 0, toolCalls: 0 };
}

/**
 * Calls `page` with no token, then with each continue token it returns, until it returns none;
 * aborts past MAX_PAGES pages. Returns the number of pages.
 */
async function followPages(
  what: string,
  page: (cont: string | undefined) => Promise<string | undefined>,
): Promise<number> {
  let cont: string | undefined;
  let pages = 0;
  do {
    if (pages >= MAX_PAGES) fail(what, `still a continue token after ${MAX_PAGES} pages`);
    cont = await page(cont);
    pages++;
  } while (cont);
  return pages;
}

/** Every pod name, once, in order: what a complete listing must return. */
function checkAllNames(what: string, names: string[]): void {
  if (names.length !== PODS) fail(what, `collected ${names.length} names, expected ${PODS}`);
  if (new Set(names).size !== PODS) fail(what, `${PODS - new Set(names).size} duplicate name(s)`);
  const at = names.findIndex((n, i) => n !== podName(i));
  if (at >= 0) fail(what, `name ${at} is ${names[at]}, expected ${podName(at)} (the API pages in name order)`);
}

// ---------------------------------------------------------------------------------------------
// The fixture: 5,000 Running pods in namespace `big`, the shape of the integration test's.

function podName(i: number): string {
  return `p-${String(i).padStart(4, '0')}`;
}

function seed(fake: FakeKube): void {
  fake.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  for (let i = 0; i < PODS; i++) {
    fake.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName(i), namespace: NAMESPACE, labels: { app: NAMESPACE } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox:1.36' }] },
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
      },
    });
  }
}

/** TCP connections accepted per local port, by every server in this process (node:diagnostics_channel). */
const accepted = new Map<number, number>();
function onServerSocket(message: unknown): void {
  const port = (message as { socket?: Socket }).socket?.localPort;
  if (port !== undefined) accepted.set(port, (accepted.get(port) ?? 0) + 1);
}
const connectionsTo = (url: string) => accepted.get(Number(new URL(url).port)) ?? 0;

// ---------------------------------------------------------------------------------------------
// MCP: the official SDK client against the local host.

interface ToolPage {
  text: string;
  data: { count?: number; total?: number; continue?: string; items?: Array<{ name?: string }> };
  bytes: number;
}

async function listPage(client: Client, args: Record<string, unknown>): Promise<ToolPage> {
  const r = (await client.callTool({ name: 'k8s_resources_list', arguments: args })) as {
    isError?: boolean;
    content?: Array<{ type: string; text?: string }>;
    structuredContent?: ToolPage['data'];
  };
  const text = (r.content ?? []).map((c) => c.text ?? '').join('\n');
  if (r.isError) fail('k8s_resources_list', `tool error: ${text.slice(0, 300)}`);
  if (!r.structuredContent) fail('k8s_resources_list', 'no structuredContent');
  const data = r.structuredContent;
  return { text, data, bytes: Buffer.byteLength(text) + Buffer.byteLength(JSON.stringify(data)) };
}

function firstPageOutcome(what: string, page: ToolPage): Outcome {
  const n = page.data.items?.length ?? 0;
  if (n < 1 || n >= PODS) fail(what, `first page has ${n} items`);
  if (page.data.total !== PODS) fail(what, `total is ${page.data.total}, expected ${PODS}`);
  if (!page.data.continue) fail(what, 'no continue token on the first page');
  return { items: n, toolCalls: 1, modelBytes: page.bytes, maxResponseBytes: page.bytes };
}

async function mcpAllPages(client: Client): Promise<Outcome> {
  const names: string[] = [];
  let modelBytes = 0;
  let maxResponseBytes = 0;
  const pages = await followPages('(c) MCP full paging', async (cont) => {
    const page = await listPage(client, { kind: 'pods', namespace: NAMESPACE, ...(cont ? { continue: cont } : {}) });
    for (const item of page.data.items ?? []) names.push(item.name ?? '');
    modelBytes += page.bytes;
    maxResponseBytes = Math.max(maxResponseBytes, page.bytes);
    return page.data.continue;
  });
  return { items: names.length, toolCalls: pages, modelBytes, maxResponseBytes, names };
}

// ---------------------------------------------------------------------------------------------
// Output helpers.

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const fmtRatio = (r: number) => (r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtBytes = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  hardDeadline(DEADLINE_MS);
  const started = performance.now();

  const machine = machineFacts();
  const loadStart = os.loadavg()[0] ?? 0;
  console.log(
    `k8s-list: ${PODS} pods, ${WARMUP} warm-up + ${R} measured rounds, one operation per case per round, ` +
      `one at a time; node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu})`,
  );

  let fake: FakeKube | undefined;
  let server: LocalServer | undefined;
  let client: Client | undefined;
  const cases: Case[] = [];
  let budget = 0;
  let auditFailures = 0;
  const sizes = {
    /** JSON.stringify of the V1PodList client-node returns for all pods. */
    rawListJsonBytes: 0,
    /** The API server's response body for the same list, on the wire. */
    rawListWireBytes: 0,
    mcpFirstPageBytes: 0,
    mcpFirstPageItems: 0,
    mcpFullFirstPageBytes: 0,
    mcpFullFirstPageItems: 0,
    mcpAllPagesBytes: 0,
    mcpPages: 0,
    mcpMaxPageBytes: 0,
  };
  let seedMs = 0;
  const notes = new Set<string>();

  diagnostics_channel.subscribe('net.server.socket', onServerSocket);
  let mcpConnections = 0;
  let mcpConnectionsAt = 0;
  try {
    fake = await startFakeKube({ readyDelayMs: 100 });
    const kube = fake;
    const t0 = performance.now();
    seed(kube);
    seedMs = performance.now() - t0;

    // The SDK prints a startup console.warn per handler; collect it so it is reported once, at the end.
    server = await captureWarnings(
      (n) => notes.add(n),
      () =>
        startLocalServer({
          PORT: '0',
          STORE: 'memory',
          LOG_LEVEL: 'silent',
          KUBECONFIG: kube.kubeconfigPath,
        }),
    );
    budget = server.deps.config.outputBudgetBytes;
    client = await connectClient(server.url, 'modern');
    const mcp = client;

    // The raw client, built once as a long-lived tool process would hold it.
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);

    cases.push(
      newCase('a', '(a) client-node listNamespacedPod, one call (baseline)', async () => {
        const list = await core.listNamespacedPod({ namespace: NAMESPACE });
        if (list.items.length !== PODS) fail('(a)', `got ${list.items.length} pods, expected ${PODS}`);
        if (list.metadata?._continue) fail('(a)', 'unexpected continue token on an unlimited list');
        return { items: list.items.length, toolCalls: 0, modelBytes: 0, maxResponseBytes: 0 };
      }),
      newCase('a2', `(a2) client-node paging, limit=${RAW_PAGE}`, async () => {
        const names: string[] = [];
        await followPages('(a2)', async (cont) => {
          const list = await core.listNamespacedPod({
            namespace: NAMESPACE,
            limit: RAW_PAGE,
            ...(cont ? { _continue: cont } : {}),
          });
          for (const p of list.items) names.push(p.metadata?.name ?? '');
          return list.metadata?._continue;
        });
        return { items: names.length, toolCalls: 0, modelBytes: 0, maxResponseBytes: 0, names };
      }),
      newCase('b', '(b) MCP k8s_resources_list, first page (summary)', async () =>
        firstPageOutcome('(b)', await listPage(mcp, { kind: 'pods', namespace: NAMESPACE })),
      ),
      newCase('c', '(c) MCP k8s_resources_list, all pages (summary)', () => mcpAllPages(mcp)),
      newCase('d', "(d) MCP k8s_resources_list, first page, output 'full'", async () =>
        firstPageOutcome('(d)', await listPage(mcp, { kind: 'pods', namespace: NAMESPACE, output: 'full' })),
      ),
    );

    // Two reference rows, to see where the time of one MCP page goes: the API server's own cost
    // for a page of the size the tool asks for (plain fetch + JSON.parse, no client-node), and the
    // fixed cost of one MCP tools/call that does no Kubernetes work (server_info).
    const probe = await bounded('page size probe', listPage(mcp, { kind: 'pods', namespace: NAMESPACE }));
    const mcpPageSize = probe.data.items?.length;
    if (!mcpPageSize) fail('page size probe', 'the first MCP page has no items');
    const auth = { authorization: `Bearer ${FAKE_TOKEN}` };
    cases.push(
      newCase('ref-api', `ref: fetch + JSON.parse paging, limit=${mcpPageSize}`, async () => {
        const names: string[] = [];
        await followPages('(ref-api)', async (cont) => {
          const q = new URLSearchParams({ limit: String(mcpPageSize), ...(cont ? { continue: cont } : {}) });
          const res = await fetch(`${kube.url}/api/v1/namespaces/${NAMESPACE}/pods?${q}`, { headers: auth });
          if (res.status !== 200) fail('(ref-api)', `HTTP ${res.status}`);
          const list = (await res.json()) as {
            items?: Array<{ metadata?: { name?: string } }>;
            metadata?: { continue?: string };
          };
          for (const p of list.items ?? []) names.push(p.metadata?.name ?? '');
          return list.metadata?.continue;
        });
        return { items: names.length, toolCalls: 0, modelBytes: 0, maxResponseBytes: 0, names };
      }),
      newCase('ref-mcp', 'ref: MCP tools/call server_info', async () => {
        const r = await mcp.callTool({ name: 'server_info', arguments: {} });
        if (r.isError) fail('(ref-mcp)', `server_info failed: ${JSON.stringify(r.content).slice(0, 300)}`);
        return { items: 0, toolCalls: 1, modelBytes: 0, maxResponseBytes: 0 };
      }),
    );

    // Sizes, untimed: what the unbounded list weighs in client-node's JSON and on the wire.
    const all = await bounded('(a) size probe', core.listNamespacedPod({ namespace: NAMESPACE }));
    sizes.rawListJsonBytes = Buffer.byteLength(JSON.stringify(all));
    const wire = await bounded(
      'wire size probe',
      fetch(`${kube.url}/api/v1/namespaces/${NAMESPACE}/pods`, { headers: auth }),
    );
    if (wire.status !== 200) fail('wire size probe', `HTTP ${wire.status}`);
    sizes.rawListWireBytes = (await wire.arrayBuffer()).byteLength;

    // Interleaved rounds: every case sees the same JIT state, GC pressure and machine drift, so the
    // ratios to the raw list compare like with like. Each round starts one case further on.
    const k = cases.length;
    mcpConnectionsAt = connectionsTo(server.url);
    for (let round = 0; round < WARMUP + R; round++) {
      const measured = round >= WARMUP;
      for (let j = 0; j < k; j++) {
        const c = cases[(round + j) % k] as Case;
        kube.requests.length = 0; // the live request log: count this operation's API requests only
        const conns = connectionsTo(kube.url);
        const t = performance.now();
        const out = await bounded(c.label, c.run());
        const dt = performance.now() - t;
        if (out.names) checkAllNames(c.label, out.names); // warm-up rounds too: never time a wrong answer
        if (measured) {
          c.samples.push(dt);
          c.apiRequests += kube.requests.length;
          c.apiConnections += connectionsTo(kube.url) - conns;
          c.toolCalls += out.toolCalls;
          c.last = { ...out, names: undefined };
        }
      }
      const done = round + 1 - WARMUP;
      const t = ((performance.now() - started) / 1000).toFixed(1);
      console.log(measured ? `  round ${done}/${R} (${t} s)` : `  warm-up ${round + 1}/${WARMUP} (${t} s)`);
    }
    kube.requests.length = 0;
    mcpConnections = connectionsTo(server.url) - mcpConnectionsAt;
    auditFailures = server.deps.audit.failures;

    const byId = (id: CaseId) => cases.find((c) => c.id === id)?.last as Outcome;
    sizes.mcpFirstPageBytes = byId('b').modelBytes;
    sizes.mcpFirstPageItems = byId('b').items;
    sizes.mcpFullFirstPageBytes = byId('d').modelBytes;
    sizes.mcpFullFirstPageItems = byId('d').items;
    sizes.mcpAllPagesBytes = byId('c').modelBytes;
    sizes.mcpPages = byId('c').toolCalls;
    sizes.mcpMaxPageBytes = Math.max(
      byId('b').maxResponseBytes,
      byId('c').maxResponseBytes,
      byId('d').maxResponseBytes,
    );
  } finally {
    await client?.close().catch(() => {});
    await server?.close();
    await fake?.close();
    diagnostics_channel.unsubscribe('net.server.socket', onServerSocket);
  }

  const base = stats((cases[0] as Case).samples);
  const results: CaseResult[] = cases.map((c) => {
    const s = stats(c.samples);
    const last = c.last as Outcome;
    return {
      id: c.id,
      label: c.label,
      ...s,
      apiRequestsPerOp: c.apiRequests / c.samples.length,
      apiConnectionsPerOp: c.apiConnections / c.samples.length,
      toolCallsPerOp: c.toolCalls / c.samples.length,
      itemsPerOp: last.items,
      modelBytes: last.modelBytes,
      maxResponseBytes: last.maxResponseBytes,
      ratioP50: s.p50 / base.p50,
      ratioMean: s.mean / base.mean,
    };
  });

  console.log('');
  console.log(
    table(
      [
        ['case', 'pods', 'tools/call', 'API req', 'API TCP', 'p50 ms', 'p99 ms', 'mean ms', 'p50/(a)', 'mean/(a)'],
        ...results.map((r) => [
          r.label,
          fmtInt(r.itemsPerOp),
          r.toolCallsPerOp.toFixed(r.toolCallsPerOp % 1 === 0 ? 0 : 2),
          r.apiRequestsPerOp.toFixed(r.apiRequestsPerOp % 1 === 0 ? 0 : 2),
          r.apiConnectionsPerOp.toFixed(r.apiConnectionsPerOp % 1 === 0 ? 0 : 2),
          fmt(r.p50),
          fmt(r.p99),
          fmt(r.mean),
          fmtRatio(r.ratioP50),
          fmtRatio(r.ratioMean),
        ]),
      ],
      1,
    ),
  );
  const tokens = (b: number) => fmtInt(b / 4);
  console.log('\nwhat a model would be handed (tokens estimated as bytes / 4):');
  console.log(
    table(
      [
        ['response', 'pods', 'bytes', '~tokens'],
        [
          'raw client-node list, JSON.stringify (what an unbounded tool returns)',
          fmtInt(PODS),
          fmtBytes(sizes.rawListJsonBytes),
          tokens(sizes.rawListJsonBytes),
        ],
        ['  the same list on the wire from the API server', fmtInt(PODS), fmtBytes(sizes.rawListWireBytes), '-'],
        [
          'MCP first page, summary (text + structuredContent)',
          fmtInt(sizes.mcpFirstPageItems),
          fmtBytes(sizes.mcpFirstPageBytes),
          tokens(sizes.mcpFirstPageBytes),
        ],
        [
          "MCP first page, output 'full'",
          fmtInt(sizes.mcpFullFirstPageItems),
          fmtBytes(sizes.mcpFullFirstPageBytes),
          tokens(sizes.mcpFullFirstPageBytes),
        ],
        [
          `MCP all ${sizes.mcpPages} pages, summary, summed`,
          fmtInt(PODS),
          fmtBytes(sizes.mcpAllPagesBytes),
          tokens(sizes.mcpAllPagesBytes),
        ],
        ['MCP output budget (OUTPUT_BUDGET_BYTES)', '-', fmtBytes(budget), tokens(budget)],
      ],
      1,
    ),
  );
  console.log(
    `\nlargest single MCP response: ${fmtInt(sizes.mcpMaxPageBytes)} B of a ${fmtInt(budget)} B budget` +
      `${sizes.mcpMaxPageBytes > budget ? '  WARNING: over budget' : ''}; ` +
      `raw list / first page: ${(sizes.rawListJsonBytes / sizes.mcpFirstPageBytes).toFixed(0)}x the bytes.`,
  );
  const paging = results.find((r) => r.id === 'c') as CaseResult;
  const rawPaging = results.find((r) => r.id === 'a2') as CaseResult;
  const refApi = results.find((r) => r.id === 'ref-api') as CaseResult;
  const refMcp = results.find((r) => r.id === 'ref-mcp') as CaseResult;
  // Medians, not means: one GC pause or scheduler hiccup in a 20-sample mean moves it by milliseconds.
  const mcpP50Ms = paging.p50 / paging.toolCallsPerOp;
  const apiFloorP50Ms = refApi.p50 / refApi.apiRequestsPerOp;
  const perPage = {
    mcpP50Ms,
    rawP50Ms: rawPaging.p50 / rawPaging.apiRequestsPerOp,
    apiFloorP50Ms,
    mcpFloorP50Ms: refMcp.p50,
    restP50Ms: mcpP50Ms - apiFloorP50Ms - refMcp.p50,
  };
  console.log(
    `(c) one MCP page of ${fmtInt(PODS / paging.toolCallsPerOp)} pods, from the p50s: ${perPage.mcpP50Ms.toFixed(2)} ms = ` +
      `API page via fetch ${perPage.apiFloorP50Ms.toFixed(2)} + MCP call floor (server_info) ` +
      `${perPage.mcpFloorP50Ms.toFixed(2)} + the rest ${perPage.restP50Ms.toFixed(2)} (the server's kube client, ` +
      `summary rows, a ${fmtBytes(sizes.mcpFirstPageBytes)} result through both SDKs).`,
  );
  console.log(`(a2) one raw client-node page of ${RAW_PAGE} pods, from the p50: ${perPage.rawP50Ms.toFixed(2)} ms.`);
  const loadEnd = os.loadavg()[0] ?? 0;
  console.log(
    `load average (1 min) at start ${loadStart.toFixed(2)}, at end ${loadEnd.toFixed(2)} on ${machine.nproc} CPUs` +
      `${Math.max(loadStart, loadEnd) > machine.nproc ? ': other work was competing for the CPUs, expect noise' : ''}.`,
  );
  console.log(
    `TCP connections: the MCP host accepted ${mcpConnections} for all measured tools/call requests (keep-alive); ` +
      'API TCP counts the connections the fake API server accepted per operation.',
  );
  console.log(`seeding ${PODS} pods into the fake store took ${seedMs.toFixed(0)} ms (untimed).`);
  if (auditFailures > 0) console.log(`WARNING: ${auditFailures} audit write failure(s)`);
  for (const n of notes) console.log(`note: the server SDK warned at startup: ${n}`);

  const file = await resultsFile('k8s-list');
  const report = {
    benchmark: 'k8s-list',
    time: new Date().toISOString(),
    command: `BENCH_R=${R} node bench/k8s-list.bench.ts`,
    version: VERSION,
    commit: gitCommit(),
    machine: { ...machine, loadAvg1mStart: loadStart, loadAvg1mEnd: os.loadavg()[0] ?? 0 },
    settings: {
      pods: PODS,
      namespace: NAMESPACE,
      rounds: R,
      warmup: WARMUP,
      rawPageLimit: RAW_PAGE,
      outputBudgetBytes: budget,
      design:
        'interleaved rounds, one operation in flight at a time, performance.now() around each operation; ' +
        'fake-kube API server, local MCP host (memory store) and both clients in one process',
    },
    baseline: { id: 'a', ...base },
    cases: results,
    sizes: {
      ...sizes,
      rawListTokensEst: Math.round(sizes.rawListJsonBytes / 4),
      mcpFirstPageTokensEst: Math.round(sizes.mcpFirstPageBytes / 4),
      mcpAllPagesTokensEst: Math.round(sizes.mcpAllPagesBytes / 4),
    },
    perPage,
    samplesMs: Object.fromEntries(cases.map((c) => [c.id, c.samples.map((x) => Math.round(x * 100) / 100)])),
    mcpHostConnections: mcpConnections,
    auditWriteFailures: auditFailures,
    serverNotes: [...notes],
    seedMs,
    durationS: (performance.now() - started) / 1000,
  };
  await writeJson(file, report);
  console.log(`results: ${file} (${report.durationS.toFixed(1)} s)`);
}

runMain(main);
