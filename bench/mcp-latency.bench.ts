/**
 * MCP round-trip latency on this machine, as ratios to a bare node:http echo server measured in
 * the same run. One process holds the client, the echo server, the MCP host (memory store and
 * embedded dynalite store in a temp DATA_DIR) and dynalite. See bench/README.md.
 *
 *   npm run bench             BENCH_N=<measured rounds>, default 500, after 50 warm-up rounds
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import type { FetchLike } from '@modelcontextprotocol/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import { VERSION } from '../shared/version.ts';
import { gitCommit, machineFacts, resultsFile, type Stats, stats, table, writeJson } from './lib/report.ts';
import { captureWarnings, envInt, hardDeadline, runMain } from './lib/run.ts';

const DEFAULT_N = 500;
const MAX_N = 10_000;
const WARMUP = 50;
/** Hard stop: the run never outlives this, whatever BENCH_N says. */
const DEADLINE_MS = 15 * 60_000;
const MODERN = '2026-07-28';

type StoreMode = 'memory' | 'dynalite';
type Era = '2026-07-28' | '2025-era';
type Op = 'echo' | 'tools/list' | 'tools/call server_info' | 'tools/call server_info after tools/list';
type Path = 'raw fetch' | 'SDK client';

interface CaseResult extends Stats {
  label: string;
  store: StoreMode | '-';
  era: Era | '-';
  negotiatedVersion?: string;
  path: Path;
  op: Op;
  /** HTTP requests the client sent per measured operation (1 means no hidden extra round trips). */
  httpRequestsPerOp: number;
  ratioP50: number;
  ratioP99: number;
}

interface SizeResult {
  store: StoreMode;
  era: Era;
  negotiatedVersion: string;
  op: Op;
  requestBodyBytes: number;
  responseBodyBytes: number;
}

const N = envInt('BENCH_N', { fallback: DEFAULT_N, min: 1, max: MAX_N });

// ---------------------------------------------------------------------------------------------
// Baseline: a bare node:http server that answers a POST with the body it received.

interface Echo {
  url: string;
  connections: () => number;
  close(): Promise<void>;
}

async function startEcho(): Promise<Echo> {
  let connections = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    });
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ECHO_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

async function echoOnce(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: ECHO_BODY,
  });
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength !== Buffer.byteLength(ECHO_BODY)) {
    throw new Error(`echo server answered HTTP ${res.status} with ${body.byteLength} bytes`);
  }
}

// ---------------------------------------------------------------------------------------------
// The MCP endpoint, started in this process.

async function startHost(
  mode: StoreMode,
  dataDir: string | undefined,
): Promise<{ server: LocalServer; notes: string[] }> {
  const env: Record<string, string> = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' };
  if (mode === 'memory') env.STORE = 'memory';
  else env.DATA_DIR = dataDir as string; // default STORE: embedded dynalite under DATA_DIR
  // The SDK prints a startup console.warn per handler; collect it so it is reported once.
  const notes: string[] = [];
  const server = await captureWarnings(
    (n) => notes.push(n),
    () => startLocalServer(env),
  );
  return { server, notes };
}

/** A 2026-07-28 request built by hand, to separate the server's cost from the SDK client's. */
function rawModernRequest(method: string, params: Record<string, unknown>, name?: string) {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'cloudops-bench', version: VERSION },
      },
    },
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name ? { 'mcp-name': name } : {}),
  };
  return { body, headers };
}

async function rawOnce(url: string, req: { body: string; headers: Record<string, string> }): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
  const msg = (await res.json()) as { result?: { isError?: boolean }; error?: { message?: string } };
  if (res.status !== 200 || !msg.result || msg.result.isError) {
    throw new Error(`MCP endpoint answered HTTP ${res.status}: ${JSON.stringify(msg).slice(0, 300)}`);
  }
}

interface Counted {
  fetch: FetchLike;
  requests: () => number;
  /** Sizes of the next exchange, read from a clone of the response outside any timing. */
  probeNext: () => Promise<{ requestBodyBytes: number; responseBodyBytes: number }>;
}

function countingFetch(): Counted {
  let requests = 0;
  let probe: ((s: { requestBodyBytes: number; responseBodyBytes: number }) => void) | undefined;
  const f: FetchLike = async (url, init) => {
    requests++;
    const res = await fetch(url, init);
    if (probe) {
      const done = probe;
      probe = undefined;
      const requestBodyBytes = typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0;
      const responseBodyBytes = (await res.clone().arrayBuffer()).byteLength;
      done({ requestBodyBytes, responseBodyBytes });
    }
    return res;
  };
  return {
    fetch: f,
    requests: () => requests,
    probeNext: () =>
      new Promise((resolve) => {
        probe = resolve;
      }),
  };
}

async function connectClient(url: string, mode: 'auto' | 'legacy') {
  const counted = countingFetch();
  const client = new Client({ name: 'cloudops-bench', version: VERSION }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: counted.fetch });
  const t0 = performance.now();
  await client.connect(transport);
  const connectMs = performance.now() - t0;
  const version = client.getNegotiatedProtocolVersion() ?? 'unknown';
  return { client, counted, connectMs, version };
}

async function listTools(client: Client): Promise<void> {
  // Bypass the client's response cache (the server allows 2026 clients to keep tools/list for
  // 5 minutes): every measured tools/list must reach the server.
  const r = await client.listTools(undefined, { cacheMode: 'bypass' });
  if (!r.tools.some((t) => t.name === 'server_info')) throw new Error('tools/list did not list server_info');
}

async function callServerInfo(client: Client): Promise<void> {
  const r = await client.callTool({ name: 'server_info', arguments: {} });
  if (r.isError) throw new Error(`server_info failed: ${JSON.stringify(r.content).slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------

/** One measured case: an operation, its labels, and where its HTTP requests are counted. */
interface Case {
  meta: Omit<CaseResult, keyof Stats | 'ratioP50' | 'ratioP99' | 'label' | 'httpRequestsPerOp'>;
  label: string;
  /** Untimed work done right before each timed run. */
  before?: () => Promise<void>;
  run: () => Promise<void>;
  /** HTTP requests sent so far by this case's client (raw cases send exactly one per run). */
  requests?: () => number;
  /** One extra exchange whose body sizes are recorded (SDK cases only). */
  probe?: () => Promise<{ requestBodyBytes: number; responseBodyBytes: number }>;
  samples: number[];
  httpRequests: number;
}

const fmt = (ms: number) => ms.toFixed(2);
const fmtRatio = (r: number) => `${r.toFixed(1)}x`;

async function main(): Promise<void> {
  hardDeadline(DEADLINE_MS);
  const started = performance.now();

  const machine = machineFacts();
  console.log(
    `mcp-latency: ${WARMUP} warm-up + ${N} measured rounds, one request per case per round, one at a time; ` +
      `node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu})`,
  );

  const echo = await startEcho();
  const hosts: Array<{ mode: StoreMode; server: LocalServer; dataDir?: string }> = [];
  const clients: Client[] = [];
  const notes = new Set<string>();
  const cases: Case[] = [];
  const connects: Array<{ store: StoreMode; era: Era; negotiatedVersion: string; connectMs: number }> = [];
  const sizes: SizeResult[] = [];
  const audit: Array<{ store: StoreMode; kind: string; writeFailures: number }> = [];
  let echoConnections = 0;

  try {
    cases.push({
      meta: { store: '-', era: '-', path: 'raw fetch', op: 'echo' },
      label: 'echo',
      run: () => echoOnce(echo.url),
      samples: [],
      httpRequests: 0,
    });

    for (const mode of ['memory', 'dynalite'] as const) {
      const dataDir = mode === 'dynalite' ? await mkdtemp(join(os.tmpdir(), 'cloudops-bench-')) : undefined;
      const { server, notes: startNotes } = await startHost(mode, dataDir).catch(async (err: unknown) => {
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
        throw err;
      });
      hosts.push({ mode, server, ...(dataDir ? { dataDir } : {}) });
      for (const n of startNotes) notes.add(n);
      const url = server.url;

      const raw = [
        ['tools/list', rawModernRequest('tools/list', {})],
        [
          'tools/call server_info',
          rawModernRequest('tools/call', { name: 'server_info', arguments: {} }, 'server_info'),
        ],
      ] as const;
      for (const [op, req] of raw) {
        cases.push({
          meta: { store: mode, era: MODERN, negotiatedVersion: MODERN, path: 'raw fetch', op },
          label: `${mode} ${MODERN} raw ${op}`,
          run: () => rawOnce(url, req),
          samples: [],
          httpRequests: 0,
        });
      }

      const eras = [
        [MODERN, 'auto'],
        ['2025-era', 'legacy'],
      ] as const;
      for (const [era, negotiation] of eras) {
        // One client per case, as an agent would hold one: the list case lists, the call case lists
        // once at start and then calls. The third case (memory store only) lists before every call,
        // untimed, to show what a fresh tools/list costs the next call on the client side.
        const kinds: Array<'list' | 'call' | 'call-after-list'> =
          mode === 'memory' ? ['list', 'call', 'call-after-list'] : ['list', 'call'];
        for (const kind of kinds) {
          const { client, counted, connectMs, version } = await connectClient(url, negotiation);
          clients.push(client);
          if (era === MODERN && version !== MODERN) {
            throw new Error(`versionNegotiation 'auto' negotiated ${version}, expected ${MODERN}`);
          }
          if (era === '2025-era' && version === MODERN) throw new Error(`'legacy' negotiated ${version}`);
          connects.push({ store: mode, era, negotiatedVersion: version, connectMs });
          if (kind === 'call') await listTools(client);
          const op: Op =
            kind === 'list'
              ? 'tools/list'
              : kind === 'call'
                ? 'tools/call server_info'
                : 'tools/call server_info after tools/list';
          const run = kind === 'list' ? () => listTools(client) : () => callServerInfo(client);
          cases.push({
            meta: { store: mode, era, negotiatedVersion: version, path: 'SDK client', op },
            label: `${mode} ${version} SDK ${op}`,
            ...(kind === 'call-after-list' ? { before: () => listTools(client) } : {}),
            run,
            requests: counted.requests,
            ...(kind === 'call-after-list'
              ? {}
              : {
                  probe: async () => {
                    const probed = counted.probeNext();
                    await run();
                    return probed;
                  },
                }),
            samples: [],
            httpRequests: 0,
          });
        }
      }
    }

    // Interleaved rounds: every case sees the same JIT state, GC pressure and machine drift, so the
    // ratios to the echo baseline compare like with like. Each round starts one case further on.
    const k = cases.length;
    const progressEvery = Math.max(1, Math.ceil(N / 4));
    for (let round = 0; round < WARMUP + N; round++) {
      const measured = round >= WARMUP;
      for (let j = 0; j < k; j++) {
        const c = cases[(round + j) % k] as Case;
        if (c.before) await c.before();
        const before = c.requests?.() ?? 0;
        const t0 = performance.now();
        await c.run();
        const dt = performance.now() - t0;
        if (measured) {
          c.samples.push(dt);
          c.httpRequests += c.requests ? c.requests() - before : 1;
        }
      }
      const done = round + 1 - WARMUP;
      if (measured && (done % progressEvery === 0 || done === N)) {
        console.log(`  ${done}/${N} rounds (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
    }

    for (const c of cases) {
      if (!c.probe || c.meta.store === '-' || c.meta.era === '-') continue;
      sizes.push({
        store: c.meta.store,
        era: c.meta.era,
        negotiatedVersion: c.meta.negotiatedVersion ?? c.meta.era,
        op: c.meta.op,
        ...(await c.probe()),
      });
    }
    for (const h of hosts) {
      audit.push({ store: h.mode, kind: h.server.deps.store.kind, writeFailures: h.server.deps.audit.failures });
    }
    echoConnections = echo.connections();
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const h of hosts) {
      await h.server.close();
      if (h.dataDir) await rm(h.dataDir, { recursive: true, force: true });
    }
    await echo.close();
  }

  const base = stats((cases[0] as Case).samples);
  const results: CaseResult[] = cases.map((c) => {
    const s = stats(c.samples);
    return {
      label: c.label,
      ...c.meta,
      ...s,
      httpRequestsPerOp: c.httpRequests / c.samples.length,
      ratioP50: s.p50 / base.p50,
      ratioP99: s.p99 / base.p99,
    };
  });

  console.log('');
  console.log(
    table(
      [
        ['store', 'protocol', 'client', 'request', 'HTTP/op', 'p50 ms', 'p99 ms', 'mean ms', 'p50/echo', 'p99/echo'],
        ...results.map((r) => [
          r.store,
          r.era === '-' ? '-' : (r.negotiatedVersion ?? r.era),
          r.path,
          r.op,
          r.httpRequestsPerOp.toFixed(2),
          fmt(r.p50),
          fmt(r.p99),
          fmt(r.mean),
          fmtRatio(r.ratioP50),
          fmtRatio(r.ratioP99),
        ]),
      ],
      4,
    ),
  );
  console.log(
    `\necho server: ${echoConnections} TCP connection(s) for ${WARMUP + N} requests (keep-alive), ` +
      `${Buffer.byteLength(ECHO_BODY)}-byte body each way.`,
  );
  console.log('body sizes of one exchange through the SDK client (memory store):');
  for (const s of sizes.filter((x) => x.store === 'memory')) {
    console.log(
      `  ${s.negotiatedVersion.padEnd(10)}  ${s.op.padEnd(22)}  response ${String(s.responseBodyBytes).padStart(5)} B` +
        `  request ${String(s.requestBodyBytes).padStart(4)} B`,
    );
  }
  for (const a of audit) {
    if (a.writeFailures > 0) console.log(`WARNING: ${a.writeFailures} audit write failure(s) with store ${a.kind}`);
  }
  for (const n of notes) console.log(`note: the server SDK warned at startup: ${n}`);

  const file = await resultsFile('mcp-latency');
  const report = {
    benchmark: 'mcp-latency',
    time: new Date().toISOString(),
    command: `BENCH_N=${N} npm run bench`,
    version: VERSION,
    commit: gitCommit(),
    machine,
    settings: {
      n: N,
      warmup: WARMUP,
      design: 'interleaved rounds, one request in flight at a time, keep-alive, performance.now() around each call',
    },
    baseline: { ...base, echoConnections, bodyBytes: Buffer.byteLength(ECHO_BODY) },
    cases: results,
    sizes,
    connects,
    audit,
    serverNotes: [...notes],
    durationS: (performance.now() - started) / 1000,
  };
  await writeJson(file, report);
  console.log(`results: ${file} (${report.durationS.toFixed(1)} s)`);
}

runMain(main);
