/**
 * Runs the MCP conformance suite (@modelcontextprotocol/conformance, from node_modules) against
 * the local host, started in this process on a free loopback port with the memory store.
 *
 *   npm run conformance [-- --verbose] [-- --out <dir>]
 *
 * Only the scenarios that apply to this server run (see docs/conformance.md for the list and
 * for why the others are out of scope). Each scenario runs once per protocol revision, at that
 * revision's wire: 2025-11-25 (initialize handshake) and 2026-07-28 (stateless, per-request _meta).
 *
 * Exit status: 0 when every in-scope check passes; 1 when any fails. A check counts as not
 * applicable, and does not fail the run, only when it is listed in NOT_APPLICABLE below AND the
 * suite's own evidence shows why (the suite marked it untestable because a test-only fixture
 * tool is missing, or the server does not declare the capability the check exercises).
 * Warnings (SHOULD-level) are printed and do not fail the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';
import { type LocalServer, startLocalServer } from '../local/server.ts';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
type SpecVersion = typeof MODERN | typeof LEGACY;

/** The generic server scenarios: none needs test-only fixture tools, prompts, resources or logging. */
const IN_SCOPE: Record<SpecVersion, string[]> = {
  [LEGACY]: [
    'server-initialize',
    'server-session-lifecycle',
    'ping',
    'tools-list',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
  ],
  [MODERN]: [
    'server-stateless',
    'tools-list',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
    'http-header-validation',
    'caching',
    'input-required-result-unsupported-methods',
  ],
};

interface Check {
  id: string;
  name?: string;
  description?: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: Record<string, unknown>;
}

interface Capabilities {
  prompts?: unknown;
  resources?: unknown;
}

interface NotApplicable {
  reason: string;
  /** The evidence that the check could not apply to this server; without it the failure counts. */
  applies: (check: Check, caps: Capabilities) => boolean;
}

const untestable = (c: Check) => c.details?.untestable === true;
const methodNotFound = (c: Check) => (c.details?.error as { code?: unknown } | undefined)?.code === -32601;

/** Checks, as `<scenario>:<check-id>` (the suite's baseline syntax), that cannot apply to this server. */
const NOT_APPLICABLE: Record<string, NotApplicable> = {
  'server-stateless:sep-2575-server-rejects-undeclared-capability': {
    reason: 'needs the test-only fixture tool test_missing_capability',
    applies: untestable,
  },
  'server-stateless:sep-2575-missing-capability-http-400': {
    reason: 'needs the test-only fixture tool test_missing_capability',
    applies: untestable,
  },
  'server-stateless:sep-2575-http-server-no-independent-requests-on-stream': {
    reason: 'needs the test-only fixture tool test_streaming_elicitation',
    applies: untestable,
  },
  'server-stateless:sep-2575-server-no-log-without-loglevel': {
    reason: 'needs the test-only fixture tool test_logging_tool',
    applies: untestable,
  },
  'caching:sep-2549-prompts-list-caching-hints': {
    reason: 'the server declares no prompts capability, so prompts/list is -32601 Method not found',
    applies: (c, caps) => caps.prompts === undefined && methodNotFound(c),
  },
  'caching:sep-2549-resources-list-caching-hints': {
    reason: 'the server declares no resources capability, so resources/list is -32601 Method not found',
    applies: (c, caps) => caps.resources === undefined && methodNotFound(c),
  },
  'caching:sep-2549-resources-templates-list-caching-hints': {
    reason: 'the server declares no resources capability, so resources/templates/list is -32601 Method not found',
    applies: (c, caps) => caps.resources === undefined && methodNotFound(c),
  },
};

const PER_SCENARIO_TIMEOUT_MS = 30_000;
const CHILD_KILL_MS = 120_000;

const root = fileURLToPath(new URL('../', import.meta.url));
const conformanceDir = join(root, 'node_modules', '@modelcontextprotocol', 'conformance');
const conformanceBin = join(conformanceDir, 'dist', 'index.js');
const conformanceVersion = (
  JSON.parse(readFileSync(join(conformanceDir, 'package.json'), 'utf8')) as { version: string }
).version;

const mark = (status: Check['status'], excused: boolean) =>
  excused
    ? 'n/a '
    : ({ SUCCESS: 'ok  ', FAILURE: 'FAIL', WARNING: 'warn', SKIPPED: 'skip', INFO: 'info' } as const)[status];

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // process.execPath: the pinned Node 22 that runs this script (the suite needs Node >= 22).
    const child = spawn(process.execPath, [conformanceBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_KILL_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function discoverCapabilities(url: string): Promise<Capabilities> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'server/discover',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
  const body = (await res.json()) as { result?: { capabilities?: Capabilities } };
  if (!body.result?.capabilities) throw new Error(`server/discover failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.result.capabilities;
}

interface ScenarioOutcome {
  version: SpecVersion;
  scenario: string;
  passedLine: string;
  failed: string[];
  excused: string[];
  warnings: string[];
  staleExclusions: string[];
  ok: boolean;
}

async function runScenario(
  url: string,
  version: SpecVersion,
  scenario: string,
  outRoot: string,
  caps: Capabilities,
  verbose: boolean,
): Promise<ScenarioOutcome> {
  const outDir = join(outRoot, version);
  const before = new Set(safeReaddir(outDir));
  const res = await run([
    'server',
    '--url',
    url,
    '--scenario',
    scenario,
    '--spec-version',
    version,
    '--timeout',
    String(PER_SCENARIO_TIMEOUT_MS),
    '-o',
    outDir,
  ]);
  const stdout = stripVTControlCharacters(res.stdout);
  if (verbose) process.stdout.write(`${stdout}${stripVTControlCharacters(res.stderr)}`);
  const passedLine = stdout.split('\n').find((l) => l.startsWith('Passed:')) ?? '(no "Passed:" line)';
  const outcome: ScenarioOutcome = {
    version,
    scenario,
    passedLine,
    failed: [],
    excused: [],
    warnings: [],
    staleExclusions: [],
    ok: false,
  };

  const dir = safeReaddir(outDir).find((d) => !before.has(d) && d.startsWith(`server-${scenario}-`));
  if (!dir) {
    console.log(`  FAIL ${scenario}: the suite wrote no results (exit ${res.code})`);
    const tail = stripVTControlCharacters(`${res.stdout}\n${res.stderr}`).trim().split('\n').slice(-15).join('\n');
    console.log(tail.replace(/^/gm, '       '));
    outcome.failed.push(`${scenario}: no results`);
    return outcome;
  }
  const checks = JSON.parse(readFileSync(join(outDir, dir, 'checks.json'), 'utf8')) as Check[];

  console.log(`\n[${version}] ${scenario}: ${passedLine}`);
  for (const c of checks) {
    const key = `${scenario}:${c.id}`;
    const na = NOT_APPLICABLE[key];
    const excused = c.status === 'FAILURE' && na !== undefined && na.applies(c, caps);
    if (c.status === 'FAILURE') (excused ? outcome.excused : outcome.failed).push(key);
    if (c.status === 'WARNING') outcome.warnings.push(key);
    if (na && c.status === 'SUCCESS') outcome.staleExclusions.push(key);
    const why = excused
      ? ` (not applicable: ${na?.reason})`
      : c.status === 'FAILURE' || c.status === 'WARNING'
        ? ` - ${oneLine(c.errorMessage ?? String(c.details?.message ?? ''))}`
        : '';
    console.log(`  ${mark(c.status, excused)} ${c.id}${why}`);
  }
  outcome.ok = outcome.failed.length === 0;
  return outcome;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const oneLine = (s: string) => {
  const l = s.replace(/\s+/g, ' ').trim();
  return l.length > 220 ? `${l.slice(0, 217)}...` : l;
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { verbose: { type: 'boolean', default: false }, out: { type: 'string' } },
    allowPositionals: false,
  });
  const outRoot = values.out ?? mkdtempSync(join(os.tmpdir(), 'cloudops-conformance-'));

  // The server SDK prints a startup notice through console.warn; keep it out of the report.
  const warn = console.warn;
  console.warn = () => {};
  let server: LocalServer;
  try {
    // The suite sends invalid requests on purpose; the server logs each at warn, so keep it to errors
    // unless --verbose.
    const logLevel = values.verbose ? 'warn' : 'error';
    server = await startLocalServer({ HOST: '127.0.0.1', PORT: '0', STORE: 'memory', LOG_LEVEL: logLevel });
  } finally {
    console.warn = warn;
  }

  const outcomes: ScenarioOutcome[] = [];
  try {
    const caps = await discoverCapabilities(server.url);
    console.log(
      `MCP conformance ${conformanceVersion} against ${server.url} (node ${process.version}); results in ${outRoot}`,
    );
    for (const version of [LEGACY, MODERN] as const) {
      for (const scenario of IN_SCOPE[version]) {
        outcomes.push(await runScenario(server.url, version, scenario, outRoot, caps, values.verbose));
      }
    }
  } finally {
    await server.close();
  }

  console.log('\nSummary');
  for (const version of [LEGACY, MODERN] as const) {
    console.log(`  ${version}`);
    for (const o of outcomes.filter((x) => x.version === version)) {
      const extra = [
        o.excused.length ? `${o.excused.length} not applicable` : '',
        o.warnings.length ? `${o.warnings.length} warning(s)` : '',
      ]
        .filter(Boolean)
        .join(', ');
      console.log(
        `    ${o.ok ? 'PASS' : 'FAIL'}  ${o.scenario.padEnd(42)} ${o.passedLine}${extra ? `  [${extra}]` : ''}`,
      );
    }
  }
  const stale = outcomes.flatMap((o) => o.staleExclusions);
  if (stale.length) {
    console.log(`\nNow passing, remove from NOT_APPLICABLE in scripts/conformance.ts: ${stale.join(', ')}`);
  }
  const failed = outcomes.flatMap((o) => o.failed);
  if (failed.length) {
    console.log(`\n${failed.length} in-scope check(s) failed:\n${failed.map((f) => `  ${f}`).join('\n')}`);
    return 1;
  }
  console.log(`\nAll ${outcomes.length} in-scope scenario runs passed.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('conformance failed to run:', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
