/**
 * Runs the MCP conformance suite (@modelcontextprotocol/conformance, from node_modules) against
 * the local host, started in this process on a free loopback port with the memory store.
 *
 *   npm run conformance [-- --verbose] [-- --out <dir>]
 *
 * Only the scenarios that apply to this server run (see docs/conformance.md for the list and
 * for why the others are out of scope). Each core scenario runs once per protocol revision, at
 * that revision's wire: 2025-11-25 (initialize handshake) and 2026-07-28 (stateless, per-request
 * _meta). The tasks extension scenarios (io.modelcontextprotocol/tasks) are not on the spec
 * timeline: the suite skips them under any --spec-version, so they run without it, and the suite
 * then speaks the 2026-07-28 wire (the extension's only era). The suite has no scenario for the
 * 2025-11-25 core tasks; test/e2e/tasks.test.ts covers those.
 *
 * Exit status: 0 when every in-scope check passes; 1 when any fails. A check counts as not
 * applicable, and does not fail the run, only when it is listed in NOT_APPLICABLE below AND the
 * suite's own evidence shows why: the suite reports "Tool <fixture> not found" for a test-only
 * fixture tool that the server's tools/list indeed lacks, or marks the check untestable (a missing
 * fixture tool, or no task because an earlier check of the same run was not applicable), or the
 * server answers -32601 for a capability it does not declare.
 * Warnings (SHOULD-level) are printed and do not fail the run. The whole run is bounded by
 * RUN_BUDGET_MS; a scenario the budget leaves no time for fails the run.
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
/** Extension scenarios: run without --spec-version (the suite then uses the 2026-07-28 wire). */
const EXTENSION = 'extension';
type Run = typeof MODERN | typeof LEGACY | typeof EXTENSION;
const RUNS = [LEGACY, MODERN, EXTENSION] as const;
const RUN_LABEL: Record<Run, string> = {
  [LEGACY]: LEGACY,
  [MODERN]: MODERN,
  [EXTENSION]: 'extension io.modelcontextprotocol/tasks (2026-07-28 wire)',
};

/**
 * The generic server scenarios (none needs prompts, resources or logging), and the tasks extension
 * scenarios for what the server implements: server-directed task creation, tasks/get, tasks/update,
 * tasks/cancel, the wire fields and the routing headers. Not run: tasks-mrtr-input (our tasks never
 * ask the client for input, so never report input_required), tasks-mrtr-composition (no MRTR tools)
 * and tasks-required-task-error (no tool requires a task: without the extension every task tool
 * answers synchronously, so the -32021 it checks cannot arise).
 */
const IN_SCOPE: Record<Run, string[]> = {
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
  [EXTENSION]: [
    'tasks-lifecycle',
    'tasks-capability-negotiation',
    'tasks-wire-fields',
    'tasks-request-state-removal',
    'tasks-request-headers',
    'tasks-dispatch-and-envelope',
    'tasks-status-notifications',
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

/** What a not-applicable verdict may rest on, besides the check itself. */
interface Evidence {
  /** The server's capabilities (server/discover). */
  caps: Capabilities;
  /** The names of the tools the server lists (tools/list on the 2026-07-28 wire). */
  tools: ReadonlySet<string>;
  /** The ids of the checks of the same scenario run already counted as not applicable. */
  excused: ReadonlySet<string>;
}

interface NotApplicable {
  reason: string;
  /** The evidence that the check could not apply to this server; without it the failure counts. */
  applies: (check: Check, ev: Evidence) => boolean;
}

const untestable = (c: Check) => c.details?.untestable === true;
const methodNotFound = (c: Check) => (c.details?.error as { code?: unknown } | undefined)?.code === -32601;

/**
 * The check stopped at a tools/call of a test-only fixture tool: the suite's error is the server's
 * -32602 "Tool <name> not found", and the server's tools/list has no such tool. `more` names the
 * other fixture tools the check would call after that one.
 */
function fixtureTool(tool: string, ...more: string[]): NotApplicable {
  const all = [tool, ...more];
  const names = all.length > 1 ? `s ${all.slice(0, -1).join(', ')} and ${all.at(-1)}` : ` ${tool}`;
  return {
    reason: `needs the test-only fixture tool${names} ("Tool ${tool} not found")`,
    applies: (c, ev) => c.errorMessage === `Tool ${tool} not found` && !ev.tools.has(tool),
  };
}

/**
 * The check needs the task an earlier check of the same run creates with a fixture tool, and the
 * suite says it had none (`evidence`); it counts only when that earlier check was itself excused.
 */
function taskFrom(prereq: string, tool: string, evidence: (c: Check) => boolean = untestable): NotApplicable {
  return {
    reason: `needs the task the fixture tool ${tool} creates in ${prereq} (suite: no task to use)`,
    applies: (c, ev) => evidence(c) && ev.excused.has(prereq),
  };
}

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
    applies: (c, ev) => ev.caps.prompts === undefined && methodNotFound(c),
  },
  'caching:sep-2549-resources-list-caching-hints': {
    reason: 'the server declares no resources capability, so resources/list is -32601 Method not found',
    applies: (c, ev) => ev.caps.resources === undefined && methodNotFound(c),
  },
  'caching:sep-2549-resources-templates-list-caching-hints': {
    reason: 'the server declares no resources capability, so resources/templates/list is -32601 Method not found',
    applies: (c, ev) => ev.caps.resources === undefined && methodNotFound(c),
  },
  // The tasks extension scenarios drive tasks through fixture tools the suite expects the server to
  // register (greet, slow_compute, failing_job, protocol_error_job); this server has only its own.
  'tasks-lifecycle:tasks-sync-tool-call': fixtureTool('greet'),
  'tasks-lifecycle:sep-2663-result-type-task-on-create': fixtureTool('slow_compute'),
  'tasks-lifecycle:sep-2663-tasks-get-status-working': taskFrom('sep-2663-result-type-task-on-create', 'slow_compute'),
  'tasks-lifecycle:sep-2663-tasks-get-status-completed': taskFrom(
    'sep-2663-result-type-task-on-create',
    'slow_compute',
  ),
  'tasks-lifecycle:sep-2663-tool-error-uses-completed-status': fixtureTool('failing_job'),
  'tasks-lifecycle:sep-2663-tasks-get-status-failed': fixtureTool('protocol_error_job'),
  'tasks-lifecycle:sep-2663-cancel-ack-empty-result': fixtureTool('slow_compute'),
  'tasks-lifecycle:tasks-cancel-terminal-idempotent-ack': fixtureTool('slow_compute'),
  'tasks-capability-negotiation:sep-2663-server-rejects-undeclared-client': fixtureTool('slow_compute'),
  'tasks-capability-negotiation:tasks-per-request-meta-opt-in': fixtureTool('slow_compute'),
  'tasks-wire-fields:tasks-wire-field-renames': fixtureTool('slow_compute'),
  'tasks-wire-fields:tasks-no-early-ttl-expiry': taskFrom('tasks-wire-field-renames', 'slow_compute'),
  'tasks-wire-fields:tasks-no-related-task-meta-on-inlined-result': fixtureTool('slow_compute'),
  'tasks-request-state-removal:tasks-request-state-removal-setup': fixtureTool('slow_compute'),
  'tasks-request-headers:tasks-headers-tolerate-mcp-method-on-tools-call': fixtureTool('greet'),
  'tasks-request-headers:sep-2663-routing-headers-accepted-on-tasks-get': fixtureTool('slow_compute'),
  'tasks-request-headers:sep-2663-server-rejects-mismatched-mcp-name-on-tasks-get': taskFrom(
    'sep-2663-routing-headers-accepted-on-tasks-get',
    'slow_compute',
    (c) => (c.errorMessage ?? '').startsWith('routing-task fixture from Check 2 unavailable'),
  ),
  'tasks-dispatch-and-envelope:tasks-server-directed-creation-no-hint': fixtureTool('failing_job'),
  'tasks-dispatch-and-envelope:sep-2663-legacy-task-param-ignored': fixtureTool('greet'),
  'tasks-dispatch-and-envelope:tasks-immediate-result-shortcut': fixtureTool('slow_compute'),
  'tasks-dispatch-and-envelope:tasks-result-type-complete-on-non-task-responses': fixtureTool(
    'greet',
    'slow_compute',
    'confirm_delete',
  ),
  'tasks-dispatch-and-envelope:sep-2663-durable-create-strong-consistency': fixtureTool('slow_compute'),
};

/** The suite's own per-scenario timeout; a scenario here takes 1-2 s. */
const PER_SCENARIO_TIMEOUT_MS = 20_000;
/** Kills a suite process that outlives its own timeout (startup included). */
const CHILD_KILL_MS = 30_000;
/** The whole run (about 30 s normally): scenarios left when it is spent are not run and fail the run. */
const RUN_BUDGET_MS = 120_000;

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

interface SuiteExit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed after killMs. */
  killed: boolean;
}

function run(args: string[], killMs: number): Promise<SuiteExit> {
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
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

/** One 2026-07-28 request (no client capabilities) and its result. */
async function modernRequest(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { result?: Record<string, unknown> };
  if (!body.result) throw new Error(`${method} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.result;
}

async function discoverCapabilities(url: string): Promise<Capabilities> {
  const result = await modernRequest(url, 'server/discover');
  if (!result.capabilities || typeof result.capabilities !== 'object') {
    throw new Error(`server/discover answered without capabilities: ${JSON.stringify(result)}`);
  }
  return result.capabilities as Capabilities;
}

/** The names of the tools the server lists, all pages. */
async function listToolNames(url: string): Promise<Set<string>> {
  const names = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await modernRequest(url, 'tools/list', cursor === undefined ? {} : { cursor });
    for (const t of (result.tools ?? []) as { name?: unknown }[]) if (typeof t.name === 'string') names.add(t.name);
    if (typeof result.nextCursor !== 'string') return names;
    cursor = result.nextCursor;
  }
  throw new Error('tools/list: more than 50 pages');
}

interface ScenarioOutcome {
  version: Run;
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
  version: Run,
  scenario: string,
  outRoot: string,
  facts: Pick<Evidence, 'caps' | 'tools'>,
  opts: { verbose: boolean; killMs: number },
): Promise<ScenarioOutcome> {
  const outDir = join(outRoot, version);
  const before = new Set(safeReaddir(outDir));
  const res = await run(
    [
      'server',
      '--url',
      url,
      '--scenario',
      scenario,
      // The suite skips an extension scenario under any --spec-version (unless --force).
      ...(version === EXTENSION ? [] : ['--spec-version', version]),
      '--timeout',
      String(PER_SCENARIO_TIMEOUT_MS),
      '-o',
      outDir,
    ],
    opts.killMs,
  );
  const stdout = stripVTControlCharacters(res.stdout);
  if (opts.verbose) process.stdout.write(`${stdout}${stripVTControlCharacters(res.stderr)}`);
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
    const why = res.killed ? `killed after ${Math.round(opts.killMs / 1000)} s` : `exit ${res.code}`;
    console.log(`\n[${RUN_LABEL[version]}] ${scenario}\n  FAIL the suite wrote no results (${why})`);
    const tail = stripVTControlCharacters(`${res.stdout}\n${res.stderr}`).trim().split('\n').slice(-15).join('\n');
    if (tail) console.log(tail.replace(/^/gm, '       '));
    outcome.failed.push(`${scenario}: no results`);
    return outcome;
  }
  const checks = JSON.parse(readFileSync(join(outDir, dir, 'checks.json'), 'utf8')) as Check[];

  console.log(`\n[${RUN_LABEL[version]}] ${scenario}: ${passedLine}`);
  // Checks come in the order the scenario ran them, so an earlier check's verdict is known here.
  const excusedIds = new Set<string>();
  const evidence: Evidence = { ...facts, excused: excusedIds };
  for (const c of checks) {
    const key = `${scenario}:${c.id}`;
    const na = NOT_APPLICABLE[key];
    const excused = c.status === 'FAILURE' && na !== undefined && na.applies(c, evidence);
    if (excused) excusedIds.add(c.id);
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

function notRun(version: Run, scenario: string): ScenarioOutcome {
  return {
    version,
    scenario,
    passedLine: '(not run: budget spent)',
    failed: [`${scenario}: not run`],
    excused: [],
    warnings: [],
    staleExclusions: [],
    ok: false,
  };
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

  // The suite sends invalid requests on purpose; the server logs each at warn, so keep it to errors
  // unless --verbose.
  const logLevel = values.verbose ? 'warn' : 'error';
  const server: LocalServer = await startLocalServer({
    HOST: '127.0.0.1',
    PORT: '0',
    STORE: 'memory',
    LOG_LEVEL: logLevel,
  });

  const started = performance.now();
  const outcomes: ScenarioOutcome[] = [];
  try {
    const caps = await discoverCapabilities(server.url);
    const tools = await listToolNames(server.url);
    console.log(
      `MCP conformance ${conformanceVersion} against ${server.url} (node ${process.version}); results in ${outRoot}`,
    );
    for (const version of RUNS) {
      for (const scenario of IN_SCOPE[version]) {
        const left = RUN_BUDGET_MS - (performance.now() - started);
        if (left < 1000) {
          console.log(
            `\n[${RUN_LABEL[version]}] ${scenario}\n  FAIL not run: the ${RUN_BUDGET_MS / 1000} s budget is spent`,
          );
          outcomes.push(notRun(version, scenario));
          continue;
        }
        const killMs = Math.min(CHILD_KILL_MS, left);
        outcomes.push(
          await runScenario(
            server.url,
            version,
            scenario,
            outRoot,
            { caps, tools },
            { verbose: values.verbose, killMs },
          ),
        );
      }
    }
  } finally {
    await server.close();
  }

  console.log(`\nSummary (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  for (const version of RUNS) {
    console.log(`  ${RUN_LABEL[version]}`);
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
