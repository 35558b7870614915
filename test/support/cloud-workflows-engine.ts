/**
 * A second workflow engine for tests: it interprets the generated Google Cloud Workflows YAML
 * (shared/workflows/<flow>.workflows.yaml) — the subset the generator emits: assign, call
 * (http.post to the step function, sys.sleep, subworkflows), switch, try/retry/except, return,
 * raise, next — and sends every http.post to the same step dispatcher the local engine calls, so
 * one scenario can run on both engines over the same step handlers and Deps.
 *
 * The step function's HTTP contract (what a GCP host will serve): 200 with the step's output, or
 * 500 with `{ "Error": <error name>, "Cause": <message> }`.
 *
 * Two ways to reach the step function (the options):
 * - `dispatch` (default): every http.post to TEST_STEP_URL calls the dispatcher in-process and is
 *   answered as the step endpoint answers (200 with the output, 500 `{Error, Cause}`).
 * - `http: { stepUrl, idToken(audience) }`: WORKFLOW_STEP_URL is `stepUrl` (a loopback http(s) URL,
 *   e.g. functions-framework serving the workflow-step function) and every http.post goes over real
 *   HTTP to it, with `Authorization: Bearer <idToken(audience)>` as `auth: {type: OIDC}` sends it (the
 *   audience is `auth.audience`, else the URL). Answers become what Workflows' http.post gives:
 *   2xx → `{code, headers, body}` (JSON bodies parsed); any other status raises
 *   `{message, code, tags: ["HttpError"], headers, body}`; no connection raises tags
 *   `["ConnectionFailedError"]`, a broken one `["ConnectionError"]`, the call's `timeout` `["TimeoutError"]`.
 * `run(flow, input)` runs one program outside the engine's own execution table (the Workflows
 * executions fake keeps its own); it settles with the return value, or rejects with `Raised` (the
 * value raised, as `error.payload` reports it) or `Aborted` (stopped).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InProcessExecutions } from '../../shared/adapters/local/local-workflow-engine.ts';
import type { ExecutionInfo, FlowName, StepEvent, WorkflowEngine } from '../../shared/ports/workflow.ts';

const DIR = join(import.meta.dirname, '..', '..', 'shared', 'workflows');
export const TEST_STEP_URL = 'https://workflow-step.test.invalid/step';
/** Steps one execution may take before it is stopped as a runaway loop. */
const MAX_STEPS = 100_000;

type Value = unknown;
type Vars = Map<string, Value>;
type StepList = Array<Record<string, Record<string, unknown>>>;
interface Subworkflow {
  params?: string[];
  steps: StepList;
}
type Program = Record<string, Subworkflow>;

/** An error raised inside the workflow (what `except: as: e` receives). */
export class Raised extends Error {
  readonly value: Value;
  constructor(value: Value) {
    super(typeof value === 'string' ? value : JSON.stringify(value));
    this.value = value;
  }
}
/** The execution was stopped (cancelled). */
export class Aborted extends Error {}
/** A reference to a subworkflow, as `${transient_error}` evaluates (a retry predicate). */
class SubworkflowRef {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

type Signal = { next: string } | { returned: Value } | undefined;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyError = (key: string) => new Raised({ message: `KeyError: key not found: ${key}`, tags: ['KeyError'] });
const typeError = (message: string) => new Raised({ message, tags: ['TypeError'] });

// ---- expressions ---------------------------------------------------------------------------------

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|>=|<=|[()[\],.<>+\-*/]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`cannot read expression at "${src.slice(TOKEN.lastIndex)}"`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

const BUILTINS: Record<string, (...args: Value[]) => Value> = {
  'map.get': (map, keys) => {
    const path = Array.isArray(keys) ? keys : [keys];
    let v: Value = map;
    for (const k of path) {
      if (typeof k !== 'string') throw typeError('map.get: keys must be strings');
      if (!isMap(v) || !Object.hasOwn(v, k)) return null;
      v = v[k];
    }
    return v;
  },
  default: (v, fallback) => (v === null || v === undefined ? fallback : v),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : isMap(v) ? Object.keys(v).length : 0),
};

/** Evaluates one `${...}` expression of the subset the generator writes. */
function evaluate(src: string, vars: Vars, env: Record<string, string>, program: Program): Value {
  const t = tokenize(src);
  let i = 0;
  const peek = () => t[i];
  const take = (want?: string) => {
    const tok = t[i++];
    if (tok === undefined || (want !== undefined && tok !== want))
      throw new Error(`expected ${want ?? 'a token'} in ${src}`);
    return tok;
  };
  const or = (): Value => {
    let v = and();
    while (peek() === 'or') {
      take();
      const r = and();
      v = v === true || r === true;
    }
    return v;
  };
  const and = (): Value => {
    let v = not();
    while (peek() === 'and') {
      take();
      const r = not();
      v = v === true && r === true;
    }
    return v;
  };
  const not = (): Value => {
    if (peek() === 'not') {
      take();
      return not() !== true;
    }
    return cmp();
  };
  const cmp = (): Value => {
    const l = add();
    const op = peek();
    if (!op || !['==', '!=', '<', '<=', '>', '>=', 'in'].includes(op)) return l;
    take();
    const r = add();
    if (op === '==') return JSON.stringify(l) === JSON.stringify(r);
    if (op === '!=') return JSON.stringify(l) !== JSON.stringify(r);
    if (op === 'in')
      return Array.isArray(r)
        ? r.some((x) => JSON.stringify(x) === JSON.stringify(l))
        : isMap(r) && Object.hasOwn(r, String(l));
    if (typeof l !== 'number' || typeof r !== 'number') throw typeError(`${op} compares numbers`);
    return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
  };
  const add = (): Value => {
    let v = postfix();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const r = postfix();
      v = op === '+' ? (v as number) + (r as number) : (v as number) - (r as number);
    }
    return v;
  };
  const postfix = (): Value => {
    const first = peek() ?? '';
    let name: string | undefined =
      /^[A-Za-z_]/.test(first) && !['true', 'false', 'null'].includes(first) ? first : undefined;
    let v = primary();
    for (;;) {
      if (peek() === '.') {
        take();
        const key = take();
        name = name === undefined ? undefined : `${name}.${key}`;
        if (name && (BUILTINS[name] || name === 'sys.get_env') && peek() === '(') continue;
        if (!isMap(v) || !Object.hasOwn(v, key)) {
          if (name && peek() === '(') continue;
          throw keyError(key);
        }
        v = v[key];
      } else if (peek() === '[') {
        take();
        const k = or();
        take(']');
        name = undefined;
        if (Array.isArray(v) && typeof k === 'number') {
          if (k < 0 || k >= v.length) throw new Raised({ message: `IndexError: ${k}`, tags: ['IndexError'] });
          v = v[k];
        } else if (isMap(v) && typeof k === 'string') {
          if (!Object.hasOwn(v, k)) throw keyError(k);
          v = v[k];
        } else throw typeError(`cannot index ${typeof v} with ${typeof k}`);
      } else if (peek() === '(') {
        take();
        const args: Value[] = [];
        while (peek() !== ')') {
          args.push(or());
          if (peek() === ',') take();
        }
        take(')');
        if (name === 'sys.get_env') v = env[String(args[0])] ?? null;
        else if (name && BUILTINS[name]) v = (BUILTINS[name] as (...a: Value[]) => Value)(...args);
        else throw new Error(`unknown function ${name} in ${src}`);
        name = undefined;
      } else return v;
    }
  };
  const primary = (): Value => {
    const tok = take();
    if (/^\d/.test(tok)) return Number(tok);
    if (tok.startsWith('"')) return JSON.parse(tok);
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (tok === 'null') return null;
    if (tok === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (tok === '[') {
      const list: Value[] = [];
      while (peek() !== ']') {
        list.push(or());
        if (peek() === ',') take();
      }
      take(']');
      return list;
    }
    if (tok === '-') return -(postfix() as number);
    if (vars.has(tok)) return vars.get(tok);
    if (program[tok]) return new SubworkflowRef(tok);
    // A namespace of functions (map, sys): resolved when the call is parsed.
    if (tok === 'map' || tok === 'sys' || BUILTINS[tok]) return undefined;
    throw keyError(tok);
  };
  const v = or();
  if (i !== t.length) throw new Error(`unexpected "${t[i]}" in ${src}`);
  return v;
}

// ---- the engine ----------------------------------------------------------------------------------

/** What a running program checks between steps: whether it was stopped, and the sleeps to cut short. */
interface Run {
  aborted: boolean;
  wake: Set<() => void>;
}

/** The step function over real HTTP: its URL (the workflow's WORKFLOW_STEP_URL) and the ID tokens sent to it. */
export interface StepOverHttp {
  /** http(s) on loopback only (tests talk to 127.0.0.1 alone). */
  stepUrl: string;
  /** An OIDC ID token for `audience`, as Workflows mints one from the workflow's service account. */
  idToken: (audience: string) => Promise<string>;
}

export type CloudWorkflowsTestEngineOptions = {
  /** Every sys.sleep and retry delay lasts this long instead (as LOCAL_WORKFLOW_WAIT_MS does for the local engine). */
  waitMs?: number;
} & (
  | { dispatch: (event: StepEvent) => Promise<Record<string, unknown>>; http?: undefined }
  | { http: StepOverHttp; dispatch?: undefined }
);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export class CloudWorkflowsTestEngine implements WorkflowEngine {
  readonly name = 'cloud-workflows-test';
  private readonly executions = new InProcessExecutions();
  private readonly programs = new Map<FlowName, Program>();
  private readonly env: { WORKFLOW_STEP_URL: string };
  private readonly opts: CloudWorkflowsTestEngineOptions;
  /** Every step call made, for tests that compare engines. */
  readonly calls: string[] = [];

  constructor(opts: CloudWorkflowsTestEngineOptions) {
    this.opts = opts;
    if (opts.http) {
      let url: URL;
      try {
        url = new URL(opts.http.stepUrl);
      } catch {
        throw new Error(`http.stepUrl is not a URL: ${opts.http.stepUrl.slice(0, 100)}`);
      }
      if (!['http:', 'https:'].includes(url.protocol) || !LOOPBACK_HOSTS.has(url.hostname)) {
        throw new Error(`http.stepUrl must be an http(s) URL on loopback, not ${url.protocol}//${url.host}`);
      }
    }
    this.env = { WORKFLOW_STEP_URL: opts.http ? opts.http.stepUrl : TEST_STEP_URL };
  }

  private program(flow: FlowName): Program {
    let p = this.programs.get(flow);
    if (!p) {
      p = parse(readFileSync(join(DIR, `${flow}.workflows.yaml`), 'utf8')) as Program;
      if (!p.main) throw new Error(`${flow}.workflows.yaml has no main workflow`);
      this.programs.set(flow, p);
    }
    return p;
  }

  async start(flow: FlowName, name: string, input: Record<string, unknown>) {
    const executionId = `projects/test/locations/test/workflows/${flow}/executions/${name}`;
    const started = this.executions.start(
      executionId,
      () => this.run(flow, input),
      (err) => {
        const v = err instanceof Raised ? err.value : undefined;
        return isMap(v) && v.Error ? `${String(v.Error)}: ${String(v.Cause ?? '')}` : String((err as Error).message);
      },
    );
    return { executionId, alreadyStarted: !started };
  }

  /**
   * Runs `flow`'s main with `input` as its argument, outside this engine's execution table: the
   * result settles with what main returns, or rejects with Raised (an uncaught raise) or Aborted.
   */
  run(flow: FlowName, input: unknown): { result: Promise<Value>; abort: () => void } {
    const run: Run = { aborted: false, wake: new Set() };
    const result = this.call(this.program(flow), 'main', [structuredClone(input)], run, { steps: 0 });
    const abort = () => {
      run.aborted = true;
      for (const wake of run.wake) wake();
    };
    return { result, abort };
  }

  async describe(executionId: string): Promise<ExecutionInfo | undefined> {
    return this.executions.describe(executionId);
  }

  async stop(executionId: string, reason: string): Promise<void> {
    this.executions.stop(executionId, reason);
  }

  /** Stops every execution and waits for the steps they were running (the host closes the Store next). */
  async stopAll(): Promise<void> {
    await this.executions.stopAll();
  }

  private sleep(run: Run, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        run.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      run.wake.add(done);
    });
  }

  private async call(
    program: Program,
    name: string,
    args: Value[],
    run: Run,
    budget: { steps: number },
  ): Promise<Value> {
    const sub = program[name];
    if (!sub) throw new Error(`no subworkflow ${name}`);
    const vars: Vars = new Map((sub.params ?? []).map((p, i) => [p, args[i]]));
    const signal = await this.steps(program, sub.steps, vars, run, budget);
    if (signal && 'next' in signal) throw new Error(`${name}: next: ${signal.next} names no step`);
    return signal && 'returned' in signal ? signal.returned : null;
  }

  /** Runs a list of steps; a `next` to a step not in this list goes up to the enclosing one. */
  private async steps(
    program: Program,
    list: StepList,
    vars: Vars,
    run: Run,
    budget: { steps: number },
  ): Promise<Signal> {
    const index = new Map(list.map((s, i) => [Object.keys(s)[0] as string, i]));
    let i = 0;
    while (i < list.length) {
      if (run.aborted) throw new Aborted();
      if (++budget.steps > MAX_STEPS) throw new Error(`more than ${MAX_STEPS} steps: a runaway loop`);
      const [name, body] = Object.entries(list[i] as object)[0] as [string, Record<string, unknown>];
      const signal = await this.step(program, name, body, vars, run, budget);
      if (signal && 'returned' in signal) return signal;
      const target = signal?.next;
      if (target === 'end') return { returned: null };
      if (target === undefined) i++;
      else if (index.has(target)) i = index.get(target) as number;
      else return signal;
    }
    return undefined;
  }

  private value(v: unknown, vars: Vars, program: Program): Value {
    if (typeof v === 'string') {
      const m = /^\$\{([\s\S]*)\}$/.exec(v);
      return m ? evaluate(m[1] as string, vars, this.env, program) : v;
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x, vars, program));
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, vars, program)]));
    return v;
  }

  private assign(target: string, value: Value, vars: Vars): void {
    const keys = target.split('.');
    if (!keys.every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) throw new Error(`cannot assign to ${target}`);
    const [head, ...rest] = keys as [string, ...string[]];
    if (rest.length === 0) {
      vars.set(head, value);
      return;
    }
    let parent = vars.get(head);
    for (const k of rest.slice(0, -1)) {
      if (!isMap(parent)) throw keyError(k);
      parent = parent[k];
    }
    if (!isMap(parent)) throw typeError(`${target}: not a map`);
    parent[rest.at(-1) as string] = value;
  }

  private async step(
    program: Program,
    name: string,
    body: Record<string, unknown>,
    vars: Vars,
    run: Run,
    budget: { steps: number },
  ): Promise<Signal> {
    const next = typeof body.next === 'string' ? { next: body.next } : undefined;
    if ('try' in body) {
      const policy = body.retry as
        | {
            predicate: string;
            max_retries: number;
            backoff: { initial_delay: number; max_delay: number; multiplier: number };
          }
        | undefined;
      const inner = body.try as Record<string, unknown>;
      for (let attempt = 0; ; attempt++) {
        try {
          const signal = Array.isArray(inner.steps)
            ? await this.steps(program, inner.steps as StepList, vars, run, budget)
            : await this.step(program, `${name}.try`, inner, vars, run, budget);
          return signal ?? next;
        } catch (err) {
          if (!(err instanceof Raised)) throw err;
          if (policy && attempt < policy.max_retries) {
            const predicate = this.value(policy.predicate, vars, program);
            if (!(predicate instanceof SubworkflowRef))
              throw new Error(`${name}: retry predicate is not a subworkflow`);
            if ((await this.call(program, predicate.name, [err.value], run, budget)) === true) {
              const b = policy.backoff;
              const delay = Math.min(b.max_delay, b.initial_delay * b.multiplier ** attempt);
              await this.sleep(run, this.opts.waitMs ?? delay * 1000);
              if (run.aborted) throw new Aborted();
              continue;
            }
          }
          const except = body.except as { as: string; steps: StepList } | undefined;
          if (!except) throw err;
          vars.set(except.as, err.value);
          return (await this.steps(program, except.steps, vars, run, budget)) ?? next;
        }
      }
    }
    if ('assign' in body) {
      for (const pair of body.assign as Array<Record<string, unknown>>) {
        for (const [target, v] of Object.entries(pair))
          this.assign(target, structuredClone(this.value(v, vars, program)), vars);
      }
      return next;
    }
    if ('call' in body) {
      const fn = String(body.call);
      const args = (this.value(body.args ?? {}, vars, program) ?? {}) as Record<string, unknown>;
      let result: Value;
      if (fn === 'http.post') result = await this.post(args);
      else if (fn === 'sys.sleep') {
        await this.sleep(run, this.opts.waitMs ?? Number(args.seconds) * 1000);
        if (run.aborted) throw new Aborted();
        result = null;
      } else {
        const sub = program[fn];
        if (!sub) throw new Error(`${name}: call ${fn} is outside the subset this engine runs`);
        result = await this.call(
          program,
          fn,
          (sub.params ?? []).map((p) => args[p]),
          run,
          budget,
        );
      }
      if (typeof body.result === 'string') vars.set(body.result, result);
      return next;
    }
    if ('switch' in body) {
      for (const c of body.switch as Array<Record<string, unknown>>) {
        if (this.value(c.condition, vars, program) !== true) continue;
        if ('return' in c) return { returned: this.value(c.return, vars, program) };
        if ('raise' in c) throw new Raised(this.value(c.raise, vars, program));
        if (typeof c.next === 'string') return { next: c.next };
        throw new Error(`${name}: a switch condition without next, return or raise`);
      }
      return next;
    }
    if ('return' in body) return { returned: this.value(body.return, vars, program) };
    if ('raise' in body) throw new Raised(this.value(body.raise, vars, program));
    if ('steps' in body) return (await this.steps(program, body.steps as StepList, vars, run, budget)) ?? next;
    throw new Error(`${name}: a step this engine does not run: ${Object.keys(body).join(', ')}`);
  }

  /** http.post to the step function: dispatched in-process (or over HTTP), answered as the step endpoint answers. */
  private async post(args: Record<string, unknown>): Promise<Value> {
    if (args.url !== this.env.WORKFLOW_STEP_URL)
      throw new Error(`http.post to ${String(args.url)}, not the step function`);
    if (!isMap(args.auth) || args.auth.type !== 'OIDC')
      throw new Error('http.post to the step function without OIDC auth');
    const body = JSON.parse(JSON.stringify(args.body ?? {})) as StepEvent;
    this.calls.push(body.step);
    const timeoutMs = Number(args.timeout ?? 300) * 1000;
    if (this.opts.http) {
      const audience = typeof args.auth.audience === 'string' ? args.auth.audience : String(args.url);
      return this.executions.track(this.postOverHttp(this.opts.http, String(args.url), audience, body, timeoutMs));
    }
    const run = this.executions.track(this.opts.dispatch(body));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Raised({ message: 'request timed out', tags: ['TimeoutError'] })), timeoutMs);
    });
    try {
      const output = await Promise.race([run, timeout]);
      return { code: 200, headers: {}, body: JSON.parse(JSON.stringify(output)) };
    } catch (err) {
      if (err instanceof Raised) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      throw new Raised({
        message: 'HTTP server responded with error code 500',
        code: 500,
        tags: ['HttpError'],
        headers: {},
        body: { Error: e.name, Cause: e.message },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** One http.post over real HTTP with an ID token, answered or raised as Workflows' http.post does. */
  private async postOverHttp(
    http: StepOverHttp,
    url: string,
    audience: string,
    body: StepEvent,
    timeoutMs: number,
  ): Promise<Value> {
    const token = await http.idToken(audience);
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw new Raised({ message: 'request timed out', tags: ['TimeoutError'] });
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      const failed = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH';
      throw new Raised({
        message: `${failed ? 'ConnectionFailedError' : 'ConnectionError'}: ${(err as Error).message}`,
        tags: [failed ? 'ConnectionFailedError' : 'ConnectionError'],
      });
    }
    const headers = Object.fromEntries(res.headers.entries());
    let parsed: Value = text;
    if (/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 200 && res.status < 300) return { code: res.status, headers, body: parsed };
    throw new Raised({
      message: `HTTP server responded with error code ${res.status}`,
      code: res.status,
      tags: ['HttpError'],
      headers,
      body: parsed,
    });
  }
}
