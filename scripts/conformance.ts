/**
 * Runs the MCP conformance suite (@modelcontextprotocol/conformance, from node_modules) against
 * the local host, started in this process on a free loopback port with the memory store and the
 * suite's fixture tools (MCP_CONFORMANCE_FIXTURES=1, shared/tools/conformance/).
 *
 *   npm run conformance [-- --verbose] [-- --out <dir>] [-- --only <scenario>[,<scenario>...]]
 *
 * Every scenario that applies to this server runs (docs/conformance.md lists the others and why).
 * Each core scenario runs once per protocol revision, at that revision's wire: 2025-11-25
 * (initialize handshake) and 2026-07-28 (stateless, per-request _meta). The tasks extension
 * scenarios (io.modelcontextprotocol/tasks) are not on the spec timeline: the suite skips them
 * under any --spec-version, so they run without it, and the suite then speaks the 2026-07-28 wire
 * (the extension's only era). The suite has no scenario for the 2025-11-25 core tasks;
 * test/e2e/tasks.test.ts covers those.
 *
 * Exit status: 0 when every check of every scenario run passes; 1 when any check fails. Nothing is
 * excused: a scenario that cannot pass here is not run, and is listed with its reason in the docs.
 * Warnings (SHOULD-level) are printed and do not fail the run. The whole run is bounded by
 * RUN_BUDGET_MS; a scenario the budget leaves no time for fails the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';
import { type LocalServer, startLocalServer } from '../local/server.ts';
import { conformanceTools } from '../shared/tools/conformance/index.ts';

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

/** The tools-call scenarios whose fixtures shared/tools/conformance/content.ts provides. */
const TOOLS_CALL = [
  'tools-call-with-progress',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-error',
];

/**
 * The multi-round-trip scenarios (SEP-2322), with the fixtures of shared/tools/conformance/mrtr.ts
 * and the prompt test_input_required_result_prompt.
 */
const INPUT_REQUIRED = [
  'input-required-result-basic-elicitation',
  'input-required-result-basic-sampling',
  'input-required-result-basic-list-roots',
  'input-required-result-request-state',
  'input-required-result-multiple-input-requests',
  'input-required-result-multi-round',
  'input-required-result-missing-input-response',
  'input-required-result-non-tool-request',
  'input-required-result-result-type',
  'input-required-result-unsupported-methods',
  'input-required-result-tampered-state',
  'input-required-result-capability-check',
  'input-required-result-ignore-extra-params',
  'input-required-result-validate-input',
];

/** The prompt and resource scenarios, with the fixtures of shared/tools/conformance/prompts-resources.ts. */
const PROMPTS_RESOURCES = [
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
];

/**
 * The scenarios run, per run: the generic server scenarios, the tools-call, prompt and resource
 * scenarios with the fixtures, and every tasks extension scenario. docs/conformance.md lists every
 * other server scenario and why it does not apply.
 */
const IN_SCOPE: Record<Run, string[]> = {
  [LEGACY]: [
    'server-initialize',
    'server-session-lifecycle',
    'ping',
    'tools-list',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
    'json-schema-2020-12',
    ...TOOLS_CALL,
    ...PROMPTS_RESOURCES,
  ],
  [MODERN]: [
    'server-stateless',
    'tools-list',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
    'http-header-validation',
    'http-custom-header-server-validation',
    'json-schema-2020-12',
    'caching',
    ...INPUT_REQUIRED,
    ...TOOLS_CALL,
    ...PROMPTS_RESOURCES,
    'sep-2164-resource-not-found',
  ],
  [EXTENSION]: [
    'tasks-lifecycle',
    'tasks-capability-negotiation',
    'tasks-wire-fields',
    'tasks-request-state-removal',
    'tasks-request-headers',
    'tasks-dispatch-and-envelope',
    'tasks-mrtr-input',
    'tasks-mrtr-composition',
    'tasks-required-task-error',
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

/** Suite processes at once. */
const CONCURRENCY = 3;
/** The suite's own per-scenario timeout; a scenario here takes 1-2 s. */
const PER_SCENARIO_TIMEOUT_MS = 20_000;
/** Kills a suite process that outlives its own timeout (startup included). */
const CHILD_KILL_MS = 30_000;
/**
 * A ceiling for a hung run, not a speed check (about 60 s on an idle 2-CPU machine, longer beside
 * another CPU-heavy job): scenarios left when it is spent are not run and fail the run.
 */
const RUN_BUDGET_MS = 300_000;

const root = fileURLToPath(new URL('../', import.meta.url));
const conformanceDir = join(root, 'node_modules', '@modelcontextprotocol', 'conformance');
const conformanceBin = join(conformanceDir, 'dist', 'index.js');
const conformanceVersion = (
  JSON.parse(readFileSync(join(conformanceDir, 'package.json'), 'utf8')) as { version: string }
).version;

const mark = (status: Check['status']) =>
  (({ SUCCESS: 'ok  ', FAILURE: 'FAIL', WARNING: 'warn', SKIPPED: 'skip', INFO: 'info' }) as const)[status];

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
  /** Checks that passed (SUCCESS). */
  passed: number;
  /** What to print for this run (scenarios run concurrently; their reports print in order). */
  log: string[];
  failed: string[];
  warnings: string[];
  ok: boolean;
}

async function runScenario(
  url: string,
  version: Run,
  scenario: string,
  outRoot: string,
  opts: { verbose: boolean; killMs: number },
): Promise<ScenarioOutcome> {
  // One directory per run, so concurrent runs never see each other's results.
  const outDir = join(outRoot, version, scenario);
  const t0 = performance.now();
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
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const log: string[] = [];
  const say = (line: string) => log.push(line);
  const stdout = stripVTControlCharacters(res.stdout);
  if (opts.verbose) say(`${stdout}${stripVTControlCharacters(res.stderr)}`);
  const passedLine = stdout.split('\n').find((l) => l.startsWith('Passed:')) ?? '(no "Passed:" line)';
  const outcome: ScenarioOutcome = {
    version,
    scenario,
    passedLine,
    passed: 0,
    log,
    failed: [],
    warnings: [],
    ok: false,
  };

  const dir = safeReaddir(outDir).find(
    (d) => d.startsWith(`server-${scenario}-`) && existsSync(join(outDir, d, 'checks.json')),
  );
  if (!dir) {
    const why = res.killed ? `killed after ${Math.round(opts.killMs / 1000)} s` : `exit ${res.code}`;
    say(`\n[${RUN_LABEL[version]}] ${scenario}\n  FAIL the suite wrote no results (${why})`);
    const tail = stripVTControlCharacters(`${res.stdout}\n${res.stderr}`).trim().split('\n').slice(-15).join('\n');
    if (tail) say(tail.replace(/^/gm, '       '));
    outcome.failed.push(`${scenario}: no results`);
    return outcome;
  }
  const checks = JSON.parse(readFileSync(join(outDir, dir, 'checks.json'), 'utf8')) as Check[];

  say(`\n[${RUN_LABEL[version]}] ${scenario} (${seconds} s): ${passedLine}`);
  for (const c of checks) {
    const key = `${scenario}:${c.id}`;
    if (c.status === 'SUCCESS') outcome.passed++;
    if (c.status === 'FAILURE') outcome.failed.push(key);
    if (c.status === 'WARNING') outcome.warnings.push(key);
    const why =
      c.status === 'FAILURE' || c.status === 'WARNING'
        ? ` - ${oneLine(c.errorMessage ?? String(c.details?.message ?? ''))}`
        : '';
    say(`  ${mark(c.status)} ${c.id}${why}`);
  }
  outcome.ok = outcome.failed.length === 0;
  return outcome;
}

function notRun(version: Run, scenario: string): ScenarioOutcome {
  return {
    version,
    scenario,
    passedLine: '(not run: budget spent)',
    passed: 0,
    log: [`\n[${RUN_LABEL[version]}] ${scenario}\n  FAIL not run: the ${RUN_BUDGET_MS / 1000} s budget is spent`],
    failed: [`${scenario}: not run`],
    warnings: [],
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
    options: { verbose: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' } },
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
    MCP_CONFORMANCE_FIXTURES: '1',
  });

  const started = performance.now();
  const outcomes: ScenarioOutcome[] = [];
  try {
    // The fixture tools must be served, or every scenario that needs one would fail for that alone.
    const tools = await listToolNames(server.url);
    const missing = conformanceTools.map((t) => t.name).filter((n) => !tools.has(n));
    if (missing.length) throw new Error(`the server does not list the fixture tools ${missing.join(', ')}`);
    console.log(
      `MCP conformance ${conformanceVersion} against ${server.url} (node ${process.version}); results in ${outRoot}`,
    );
    // Scenario runs are independent (each suite process opens its own exchanges, and writes its
    // results to its own directory), and mostly wait on timers: run a few at a time.
    // --only: a subset while working on a scenario; the full run is what the docs report.
    const only = values.only ? new Set(values.only.split(',').map((x) => x.trim())) : undefined;
    const queue = RUNS.flatMap((version) => IN_SCOPE[version].map((scenario) => ({ version, scenario }))).filter(
      (q) => !only || only.has(q.scenario),
    );
    if (queue.length === 0) throw new Error(`--only ${values.only}: no scenario in scope has that name`);
    const results: ScenarioOutcome[] = new Array(queue.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < queue.length; i = next++) {
        const { version, scenario } = queue[i] as (typeof queue)[number];
        const left = RUN_BUDGET_MS - (performance.now() - started);
        results[i] =
          left < 1000
            ? notRun(version, scenario)
            : await runScenario(server.url, version, scenario, outRoot, {
                verbose: values.verbose,
                killMs: Math.min(CHILD_KILL_MS, left),
              });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const o of results) {
      for (const line of o.log) console.log(line);
      outcomes.push(o);
    }
  } finally {
    await server.close();
  }

  console.log(`\nSummary (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  for (const version of RUNS) {
    console.log(`  ${RUN_LABEL[version]}`);
    for (const o of outcomes.filter((x) => x.version === version)) {
      const extra = [o.warnings.length ? `${o.warnings.length} warning(s)` : ''].filter(Boolean).join(', ');
      console.log(
        `    ${o.ok ? 'PASS' : 'FAIL'}  ${o.scenario.padEnd(42)} ${o.passedLine}${extra ? `  [${extra}]` : ''}`,
      );
    }
  }
  const failed = outcomes.flatMap((o) => o.failed);
  if (failed.length) {
    console.log(`\n${failed.length} check(s) failed:\n${failed.map((f) => `  ${f}`).join('\n')}`);
    return 1;
  }
  const checks = outcomes.reduce((n, o) => n + o.passed, 0);
  console.log(`\nAll ${outcomes.length} scenario runs passed (${checks} checks, none excused).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('conformance failed to run:', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
