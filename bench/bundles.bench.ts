/**
 * Lambda bundles and the gateway's cost, in one run (issue 11 item 3):
 *
 *   npm run bench:bundles    BENCH_N=<fresh imports per bundle> (default 21), BENCH_CALLS=<measured calls> (default 1000),
 *                            BENCH_ONLY=bundles|overhead (one part only)
 *
 * 1. Bundles. Builds every function entry (cdk/bundling.ts FUNCTION_ENTRIES, and the tool function entries
 *    the stack deploys: one per toolset and the single layout's, cdk/tool-functions.ts) with exactly the
 *    esbuild options CDK gives NodejsFunction, then, in interleaved rounds, starts a fresh Node process per
 *    import: each imports one bundle (or an empty module, the baseline) and reports the import's time on
 *    its own clock. The bundles are written under node_modules/.cache, so a module left external
 *    (BUNDLE.externalModules) resolves from the project's node_modules, as from the runtime's, and its load
 *    is in the figure. Checks the limits: the gateway (the function `mcp`) at most 500 KB, its import at
 *    most 60 ms over the empty module's, and no tool implementation (shared/tools/<set>/*.tool.ts) inside
 *    it; every tool function bundle at most 1.5 MB.
 * 2. The gateway's warm tools/call overhead, in this process, for server_info and a 30 KB k8s_resources_list
 *    page from the fake API server, in interleaved rounds: (a) the tool's handler called directly; (r) the
 *    in-process ToolRunner, what a tool function runs per invocation (role, strict arguments, output
 *    schema); (b) the same call as a tools/call request through the local host's MCP endpoint (web Request
 *    in, Response out, no socket: what the gateway does per call, with the in-process runner and the memory
 *    store); (c) what one Lambda Invoke adds in serialization: the invocation and its result JSON-encoded to
 *    bytes and parsed back, as the gateway and the tool function's runtime do.
 *
 * Exits 1 when a limit is exceeded, so it can run as a check; it is not part of npm test (it takes about
 * two minutes and its timings depend on the machine). Writes bench/results/bundles-<timestamp>.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE, esbuildOptions, FUNCTION_ENTRIES } from '../cdk/bundling.ts';
import { ALL_TOOLS_ENTRY, toolCatalog, toolsetEntry } from '../cdk/tool-functions.ts';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import type { Identity } from '../shared/domain/identity.ts';
import { ParseCache } from '../shared/domain/input/index.ts';
import { InProcessToolRunner } from '../shared/mcp/tool-runner.ts';
import type { CallToolResultJson, ToolInvocation, ToolRunResult } from '../shared/ports/tool-runner.ts';
import { allTools } from '../shared/tools/index.ts';
import type { AnyTool } from '../shared/tools/tool.ts';
import { VERSION } from '../shared/version.ts';
import { type FakeKube, startFakeKube } from '../test/support/fake-kube/index.ts';
import { gitCommit, machineFacts, resultsFile, type Stats, stats, table, writeJson } from './lib/report.ts';
import { captureWarnings, envInt, hardDeadline } from './lib/run.ts';

const ROOT = join(import.meta.dirname, '..');
const KB = 1024;
/** The gateway is the function named `mcp` (the MCP endpoint; contract of issue 11), whatever file its entry is. */
const GATEWAY_ENTRY: string = FUNCTION_ENTRIES.mcp;
const LIMITS = { gatewayBytes: 500 * KB, gatewayImportOverEmptyMs: 60, toolBytes: 1.5 * KB * KB } as const;
const DEADLINE_MS = 10 * 60_000;
const EMPTY = '(empty module)';

const N = envInt('BENCH_N', { fallback: 21, min: 3, max: 500 });
const CALLS = envInt('BENCH_CALLS', { fallback: 1000, min: 10, max: 100_000 });
const WARMUP_CALLS = Math.min(200, CALLS);
/** BENCH_ONLY=bundles skips the overhead part (a quicker size/import check); BENCH_ONLY=overhead skips the bundles. */
const ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'bundles', 'overhead'].includes(ONLY)) {
  console.error(`BENCH_ONLY must be bundles or overhead; got "${ONLY}".`);
  process.exit(2);
}

type Role = 'gateway' | 'tool' | 'other';
interface Target {
  key: string;
  entry: string;
  role: Role;
}

const median = (xs: number[]) => stats(xs).p50;
const kb = (b: number) => `${(b / KB).toFixed(0)} KB`;
const ms = (x: number) => x.toFixed(3);

// ---------------------------------------------------------------------------------------------
// 1. Bundles

/**
 * FUNCTION_ENTRIES, then the tool function entries the stack deploys in any layout: one per toolset
 * of the manifest (perTool and perToolset) and the single layout's bundle of every tool.
 */
function targets(): Target[] {
  const byEntry = new Map<string, string>(Object.entries(FUNCTION_ENTRIES).map(([k, e]) => [e as string, k]));
  const toolEntries = new Set([ALL_TOOLS_ENTRY]);
  for (const toolset of new Set(toolCatalog().map((t) => t.toolset))) {
    byEntry.set(toolsetEntry(toolset), `tools/${toolset}`);
    toolEntries.add(toolsetEntry(toolset));
  }
  byEntry.set(ALL_TOOLS_ENTRY, 'tools (single)');
  return [...byEntry].map(([entry, key]) => ({
    key,
    entry,
    role: entry === GATEWAY_ENTRY ? 'gateway' : toolEntries.has(entry) ? 'tool' : 'other',
  }));
}

/** The esbuild invocation NodejsFunction makes from these options (see its buildEsbuildArgs), plus a metafile. */
async function bundle(t: Target, outDir: string): Promise<{ file: string; meta: Metafile }> {
  const outfile = join(outDir, t.key.replace(/[^A-Za-z0-9-]+/g, '_'), 'index.mjs');
  const res = await build({ ...esbuildOptions(join(ROOT, t.entry), ROOT), outfile });
  return { file: outfile, meta: res.metafile };
}

/** What a bundle is made of: bytes in the output per npm package (or `shared/` etc.), and the tool implementations in it. */
function composition(meta: Metafile): { packages: [string, number][]; toolModules: string[] } {
  const out = Object.values(meta.outputs)[0];
  const perPackage = new Map<string, number>();
  const toolModules: string[] = [];
  for (const [input, { bytesInOutput }] of Object.entries(out?.inputs ?? {})) {
    const path = relative(ROOT, join(process.cwd(), input)).replace(/\\/g, '/');
    const nm = path.lastIndexOf('node_modules/');
    let owner: string;
    if (nm >= 0) {
      const parts = path.slice(nm + 'node_modules/'.length).split('/');
      owner = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
    } else {
      owner = `${path.split('/')[0]}/`;
      if (/^shared\/tools\/[^/]+\/[^/]+\.tool\.ts$/.test(path)) toolModules.push(path);
    }
    perPackage.set(owner, (perPackage.get(owner) ?? 0) + bytesInOutput);
  }
  return { packages: [...perPackage].sort((a, b) => b[1] - a[1]), toolModules: toolModules.sort() };
}

/** One fresh process importing one module; returns [import ms on the child's clock, process wall ms]. */
function importOnce(file: string): Promise<[number, number]> {
  const code = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // A clean environment: what a Lambda sandbox has, not this shell's settings.
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (status) => {
      const wall = performance.now() - started;
      if (status !== 0) reject(new Error(`import of ${file} exited ${status}: ${err.slice(0, 2000)}`));
      else resolve([Number(out), wall]);
    });
  });
}

interface BundleRow {
  target: string;
  entry: string;
  role: Role | 'baseline';
  bytes: number;
  gzipBytes: number;
  importMs: Stats;
  processMs: Stats;
  importMinusEmptyMs: number;
  processRatio: number;
  toolModules: string[];
  topPackages: { name: string; bytes: number }[];
  /** The limits this bundle broke, in words; empty when it is within them. */
  exceeded: string[];
}

async function measureBundles(dir: string): Promise<BundleRow[]> {
  const list = targets();
  const built = new Map<string, { file: string; meta: Metafile }>();
  for (const t of list) built.set(t.key, await bundle(t, dir));
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, 'export const handler = async () => ({});\n');
  const keys = [EMPTY, ...list.map((t) => t.key)];
  const fileOf = (k: string) => (k === EMPTY ? empty : (built.get(k)?.file as string));

  for (const k of keys) await importOnce(fileOf(k)); // warm the OS file cache, unmeasured
  const samples = new Map(keys.map((k) => [k, { imp: [] as number[], wall: [] as number[] }]));
  for (let round = 0; round < N; round++) {
    // Rotate the order every round so no target always runs first.
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + round) % keys.length] as string;
      const [imp, wall] = await importOnce(fileOf(k));
      samples.get(k)?.imp.push(imp);
      samples.get(k)?.wall.push(wall);
    }
  }
  const base = samples.get(EMPTY) as { imp: number[]; wall: number[] };
  const baseImport = median(base.imp);
  const baseWall = median(base.wall);
  return keys.map((k) => {
    const t = list.find((x) => x.key === k);
    const s = samples.get(k) as { imp: number[]; wall: number[] };
    const file = fileOf(k);
    const bytes = statSync(file).size;
    const comp = t ? composition(built.get(k)?.meta as Metafile) : { packages: [], toolModules: [] };
    const importMs = stats(s.imp);
    const row: BundleRow = {
      target: k,
      entry: t?.entry ?? '-',
      role: t?.role ?? 'baseline',
      bytes,
      gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length,
      importMs,
      processMs: stats(s.wall),
      importMinusEmptyMs: importMs.p50 - baseImport,
      processRatio: median(s.wall) / baseWall,
      toolModules: comp.toolModules,
      topPackages: comp.packages.slice(0, 8).map(([name, b]) => ({ name, bytes: b })),
      exceeded: [],
    };
    if (row.role === 'gateway') {
      if (bytes > LIMITS.gatewayBytes) row.exceeded.push(`size ${kb(bytes)} > ${kb(LIMITS.gatewayBytes)}`);
      if (row.importMinusEmptyMs > LIMITS.gatewayImportOverEmptyMs)
        row.exceeded.push(
          `import ${row.importMinusEmptyMs.toFixed(1)} ms over the empty module's > ${LIMITS.gatewayImportOverEmptyMs} ms`,
        );
      if (row.toolModules.length > 0)
        row.exceeded.push(`holds ${row.toolModules.length} tool implementations (e.g. ${row.toolModules[0]})`);
    }
    if (row.role === 'tool' && bytes > LIMITS.toolBytes)
      row.exceeded.push(`size ${kb(bytes)} > ${kb(LIMITS.toolBytes)}`);
    // Every server is given the @cfworker/json-schema validator; Ajv in a bundle means BUNDLE.alias stopped applying.
    if (comp.packages.some(([name]) => name === 'ajv'))
      row.exceeded.push('bundles Ajv (the _shims alias in cdk/bundling.ts no longer applies)');
    return row;
  });
}

function printBundles(rows: BundleRow[]): void {
  console.log(
    `\nbundles: esbuild ${BUNDLE.format}, ${BUNDLE.target}, minify=${BUNDLE.minify}, sourcemap=${BUNDLE.sourceMap}; ` +
      `${N} fresh imports each, Node ${process.versions.node}`,
  );
  console.log(
    `limits: gateway <= ${kb(LIMITS.gatewayBytes)}, import <= empty + ${LIMITS.gatewayImportOverEmptyMs} ms, ` +
      `no tool implementation; tool bundles <= ${kb(LIMITS.toolBytes)}; others: reported only\n`,
  );
  const head = [
    'function',
    'role',
    'bundle',
    'gzip',
    'tool modules',
    'import p50 ms',
    'min..max',
    'import-empty ms',
    'process p50 ms',
    'process/empty',
    'limits',
  ];
  const body = rows.map((r) => {
    const isBase = r.role === 'baseline';
    return [
      r.target,
      r.role,
      isBase ? '-' : kb(r.bytes),
      isBase ? '-' : kb(r.gzipBytes),
      isBase ? '-' : String(r.toolModules.length),
      r.importMs.p50.toFixed(1),
      `${r.importMs.min.toFixed(1)}..${r.importMs.max.toFixed(1)}`,
      isBase ? '-' : r.importMinusEmptyMs.toFixed(1),
      r.processMs.p50.toFixed(1),
      `${r.processRatio.toFixed(2)}x`,
      r.role === 'gateway' || r.role === 'tool' ? (r.exceeded.length ? 'EXCEEDED' : 'ok') : '-',
    ];
  });
  console.log(table([head, ...body], 2));
  console.log('\nlargest parts (bytes in the minified output):');
  for (const r of rows.filter((x) => x.role !== 'baseline')) {
    console.log(
      `  ${r.target}: ${r.topPackages
        .slice(0, 5)
        .map((p) => `${p.name} ${kb(p.bytes)}`)
        .join(', ')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// 2. The gateway's warm tools/call overhead

const MODERN = '2026-07-28';
const NAMESPACE = 'bench';
/** Pods in the namespace: one k8s_resources_list page of them is about 30 KB of result. */
const PODS = 180;

function seed(kube: FakeKube): void {
  kube.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  for (let i = 0; i < PODS; i++) {
    kube.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `web-${String(i).padStart(4, '0')}`, namespace: NAMESPACE, labels: { app: 'web' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx:1.27.0' }] },
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
      },
    });
  }
}

interface CallCase {
  tool: AnyTool;
  args: Record<string, unknown>;
}

/** The local host's identity for an unauthenticated loopback caller, which the endpoint also uses. */
const CALLER: Identity = { subject: 'local', name: 'bench', roles: ['admin'], method: 'local' };

/** A 2026-07-28 tools/call as a web Request, what the Lambda host hands the endpoint. */
function toolsCallRequest(url: string, name: string, args: Record<string, unknown>, id: number): Request {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'cloudops-bench', version: VERSION },
      },
    },
  });
  return new Request(url, {
    method: 'POST',
    headers: {
      // The endpoint checks Host (DNS rebinding); the Lambda host's request carries API Gateway's.
      host: new URL(url).host,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body,
  });
}

interface Message {
  invocation: ToolInvocation;
  result: ToolRunResult;
}

interface OverheadRow {
  tool: string;
  /** The tool's handler, arguments parsed beforehand. */
  direct: Stats;
  /** The in-process ToolRunner: what a tool function does per invocation (role, strict arguments, output schema). */
  runner: Stats;
  /** A tools/call request through the MCP endpoint (which calls the in-process runner). */
  gateway: Stats;
  /** JSON -> bytes -> JSON of the invocation and of its result: once each way, as over a Lambda Invoke. */
  serialize: Stats;
  invocationBytes: number;
  resultBytes: number;
}

/** Encodes and decodes one message the way the Invoke path does: JSON text, UTF-8 bytes, and back. */
function roundTrip(value: unknown): number {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  JSON.parse(new TextDecoder().decode(bytes));
  return bytes.byteLength;
}

async function measureOverhead(): Promise<{ rows: OverheadRow[]; warnings: string[] }> {
  const warnings: string[] = [];
  const kube = await startFakeKube({ readyDelayMs: 100 });
  let server: LocalServer | undefined;
  try {
    seed(kube);
    server = await captureWarnings(
      (w) => warnings.push(w),
      () =>
        startLocalServer({
          PORT: '0',
          STORE: 'memory',
          LOG_LEVEL: 'silent',
          KUBECONFIG: kube.kubeconfigPath,
          K8S_TIMEOUT_MS: '20000',
        }),
    );
    const s = server;
    const byName = new Map(allTools.map((t) => [t.name, t]));
    const cases: CallCase[] = [
      { tool: byName.get('server_info') as AnyTool, args: {} },
      {
        tool: byName.get('k8s_resources_list') as AnyTool,
        args: { kind: 'pods', namespace: NAMESPACE, limit: PODS },
      },
    ];
    let seq = 0;
    const direct = async (c: CallCase) => {
      const input = c.tool.input.parse(c.args);
      const requestId = `bench-${++seq}`;
      const res = await c.tool.handler(input, {
        deps: s.deps,
        identity: CALLER,
        requestId,
        log: s.deps.log,
        parsed: new ParseCache(),
      });
      if (res.isError) throw new Error(`${c.tool.name} failed: ${JSON.stringify(res).slice(0, 300)}`);
      return res;
    };
    const viaGateway = async (c: CallCase) => {
      const res = await s.endpoint.fetch(toolsCallRequest(s.url, c.tool.name, c.args, ++seq), {
        requestId: `bench-${seq}`,
      });
      const msg = (await res.json()) as { result?: { isError?: boolean }; error?: unknown };
      if (res.status !== 200 || !msg.result || msg.result.isError)
        throw new Error(`${c.tool.name} through the endpoint: HTTP ${res.status} ${JSON.stringify(msg).slice(0, 300)}`);
    };
    // A realistic invocation and result of each tool, in the shape of the ToolRunner port's messages.
    const messages: Message[] = await Promise.all(
      cases.map(async (c) => ({
        invocation: {
          v: 1,
          tool: c.tool.name,
          args: c.args,
          caller: { subject: 'oauth|6f1c2a9e', name: 'dana@example.com', roles: ['operator'], method: 'oauth' },
          requestId: 'a3d7f5c2-4b1e-4f0a-9c8d-2e6b7a1f0c3d',
          deadlineMs: Date.now() + 29_000,
        },
        result: { v: 1, ok: true, result: (await direct(c)) as CallToolResultJson },
      })),
    );

    const runner = new InProcessToolRunner(allTools, s.deps);
    const viaRunner = async (m: Message) => {
      const res = await runner.run({ ...m.invocation, requestId: `bench-${++seq}` });
      if (!res.ok || res.result.isError) throw new Error(`runner: ${JSON.stringify(res).slice(0, 300)}`);
    };

    type Path = 'direct' | 'runner' | 'gateway';
    const paths: [Path, (c: CallCase, m: Message) => Promise<unknown>][] = [
      ['direct', (c) => direct(c)],
      ['runner', (_c, m) => viaRunner(m)],
      ['gateway', (c) => viaGateway(c)],
    ];
    const samples = cases.map(() => ({
      direct: [] as number[],
      runner: [] as number[],
      gateway: [] as number[],
      ser: [] as number[],
    }));
    for (let round = 0; round < WARMUP_CALLS + CALLS; round++) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i] as CallCase;
        const m = messages[i] as Message;
        const out = samples[i] as (typeof samples)[number];
        // Rotate which path goes first, so none always meets the others' garbage.
        for (let j = 0; j < paths.length; j++) {
          const [path, run] = paths[(j + round) % paths.length] as (typeof paths)[number];
          const t0 = performance.now();
          await run(c, m);
          if (round >= WARMUP_CALLS) out[path].push(performance.now() - t0);
        }
        const t0 = performance.now();
        roundTrip(m.invocation);
        roundTrip(m.result);
        if (round >= WARMUP_CALLS) out.ser.push(performance.now() - t0);
      }
    }
    const rows = cases.map((c, i) => {
      const out = samples[i] as (typeof samples)[number];
      const m = messages[i] as Message;
      return {
        tool: c.tool.name,
        direct: stats(out.direct),
        runner: stats(out.runner),
        gateway: stats(out.gateway),
        serialize: stats(out.ser),
        invocationBytes: roundTrip(m.invocation),
        resultBytes: roundTrip(m.result),
      };
    });
    return { rows, warnings };
  } finally {
    await server?.close();
    await kube.close();
  }
}

function printOverhead(rows: OverheadRow[]): void {
  console.log(
    `\ngateway tools/call overhead: ${CALLS} measured calls per path after ${WARMUP_CALLS} warm-up, interleaved; ` +
      'ms; (a) the handler called directly, (r) the in-process ToolRunner (what a tool function runs per ' +
      'invocation), (b) tools/call through the MCP endpoint (in-process runner, memory store), (c) the invocation ' +
      "and its result JSON-encoded to bytes and parsed back; (b)-(r) is the gateway's own work\n",
  );
  const head = [
    'tool',
    'inv B',
    'result B',
    '(a) p50',
    '(a) p90',
    '(r) p50',
    '(b) p50',
    '(b) p90',
    '(c) p50',
    '(b)-(a) p50',
    '(b)-(r) p50',
    '(b)/(a)',
    '((b)+(c))/(a)',
  ];
  const body = rows.map((r) => [
    r.tool,
    r.invocationBytes.toLocaleString('en'),
    r.resultBytes.toLocaleString('en'),
    ms(r.direct.p50),
    ms(r.direct.p90),
    ms(r.runner.p50),
    ms(r.gateway.p50),
    ms(r.gateway.p90),
    ms(r.serialize.p50),
    ms(r.gateway.p50 - r.direct.p50),
    ms(r.gateway.p50 - r.runner.p50),
    `${(r.gateway.p50 / r.direct.p50).toFixed(1)}x`,
    `${((r.gateway.p50 + r.serialize.p50) / r.direct.p50).toFixed(1)}x`,
  ]);
  console.log(table([head, ...body], 1));
}

// ---------------------------------------------------------------------------------------------

/** Resolves to the exit code: 1 when a limit is exceeded. */
async function main(): Promise<number> {
  if (!process.versions.node.startsWith('22.')) {
    console.error(
      `warning: Node ${process.versions.node}; Lambda runs Node 22 (run through npm to use the pinned node@22)`,
    );
  }
  const hardStop = hardDeadline(DEADLINE_MS, 'bench deadline reached; stopping', 3);
  // Under node_modules: a module the bundle leaves external (BUNDLE.externalModules, e.g. an AWS SDK the
  // Lambda runtime provides) then resolves from the project's node_modules, as it would from the runtime's.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'cloudops-bundles-'));
  try {
    const bundles = ONLY === 'overhead' ? [] : await measureBundles(dir);
    if (bundles.length) printBundles(bundles);
    const overhead = ONLY === 'bundles' ? { rows: [], warnings: [] } : await measureOverhead();
    if (overhead.rows.length) printOverhead(overhead.rows);

    const out = await resultsFile('bundles');
    await writeJson(out, {
      bench: 'bundles',
      runs: N,
      calls: CALLS,
      commit: gitCommit(),
      machine: machineFacts(),
      loadAverage: os.loadavg(),
      bundle: BUNDLE,
      limits: LIMITS,
      rows: bundles,
      overhead: overhead.rows,
      serverWarnings: overhead.warnings,
    });
    console.log(`\nwrote ${out}`);

    const failed = bundles.filter((r) => r.exceeded.length > 0);
    for (const r of failed) console.error(`LIMIT EXCEEDED: ${r.target} (${r.entry}): ${r.exceeded.join('; ')}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(hardStop);
  }
}

// process.exit: the fake API server's and the host's keep-alive sockets would otherwise hold the process open.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(2);
  },
);
