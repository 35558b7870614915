import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlowName, StepEvent } from '../../../shared/ports/workflow.ts';
import { Aborted, CloudWorkflowsTestEngine, Raised, type StepOverHttp } from '../cloud-workflows-engine.ts';
import { checkBearer, sendJson } from './compute.ts';
import { type FakeGoogleTokens, listenLoopback } from './identity.ts';

/**
 * A loopback Workflow Executions API v1 (REST) whose executions really run: each one interprets the
 * generated Cloud Workflows YAML of its workflow's flow with the test interpreter
 * (test/support/cloud-workflows-engine.ts), its http.post calls reaching the step function
 * in-process or over HTTP to the workflow's WORKFLOW_STEP_URL with an ID token.
 *
 * Built from https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions
 * (Execution: argument "a JSON string", "The size limit is 32KB"; labels: at most 64, keys and values
 * at most 63 of lowercase letters, digits, `_` and `-`, keys starting with a letter; result a JSON
 * string, present only when SUCCEEDED; error {payload, context} only when FAILED or CANCELLED; states
 * ACTIVE, SUCCEEDED, FAILED, CANCELLED, QUEUED, UNAVAILABLE), .../executions/create, get, cancel and
 * list (pageSize default 100, at most 1000 for BASIC and 100 for FULL, larger values coerced down;
 * newest first; a pageToken only with the parameters it came with; view BASIC by default: name,
 * startTime, endTime, duration, state, workflowRevisionId) and https://cloud.google.com/apis/design/errors:
 * - `POST /v1/{workflow}/executions` body Execution (`argument`, `labels`, `callLogLevel`; any other
 *   field is 400 `Invalid JSON payload received. Unknown name ...`, a non-JSON body 400); an argument
 *   that is not JSON, or a JSON value that is not an object or null, or longer than 32 KB → 400
 *   INVALID_ARGUMENT; bad labels → 400; an unknown workflow → 404 NOT_FOUND;
 * - `GET /v1/{execution}` (unknown → 404), `POST /v1/{execution}:cancel` (ACTIVE → CANCELLED; an
 *   execution already over → 400 FAILED_PRECONDITION);
 * - `GET /v1/{workflow}/executions?filter=&pageSize=&pageToken=&view=`: the filter is AIP-160
 *   comparisons joined by AND over `state`, `executionId` and `labels.<key>` with `=` or `!=` and a
 *   quoted value; anything else is 400 INVALID_ARGUMENT (the real API understands more: refused here
 *   rather than ignored);
 * - a bearer token from FakeGoogleTokens with the cloud-platform scope (401 none/unknown/expired, 403
 *   without the scope); a workflow with `invokers` refuses others with 403 PERMISSION_DENIED
 *   `Permission 'workflows.executions.<verb>' denied on resource '...' (or it may not exist).`
 * Simpler than the real API: see README.md.
 */

export interface FakeWorkflow {
  /** projects/P/locations/L/workflows/W */
  name: string;
  /** The generated YAML it runs (shared/workflows/<flow>.workflows.yaml). */
  flow: FlowName;
  /**
   * How its http.post reaches the step function: in-process (`dispatch`), or over HTTP (`http`: the
   * workflow's WORKFLOW_STEP_URL and the ID tokens its service account would send).
   */
  steps: { dispatch: (event: StepEvent) => Promise<Record<string, unknown>> } | { http: StepOverHttp };
  /** Principals with roles/workflows.invoker; every valid token when absent. */
  invokers?: string[];
}

export type FakeExecutionState = 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface FakeExecution {
  name: string;
  workflow: string;
  state: FakeExecutionState;
  argument: string;
  labels: Record<string, string>;
  callLogLevel: string;
  createTime: string;
  startTime: string;
  endTime?: string;
  result?: string;
  error?: { payload: string; context: string };
  /** Stops the running program (cancel). */
  abort: () => void;
  /** Settles when the program has ended (whatever the state). */
  done: Promise<void>;
}

export interface FakeWorkflowExecutions {
  /** Base URL (`http://127.0.0.1:<port>/v1`), for the adapter's baseUrl. */
  url: string;
  /** Every execution, by name. */
  executions: Map<string, FakeExecution>;
  /** Requests received, `METHOD path?query`. */
  requests: string[];
  /** Cancels every running execution and waits for the step calls they were making. */
  stopAll(): Promise<void>;
  /** stopAll, then closes the server. */
  stop(): Promise<void>;
}

export const MAX_ARGUMENT_BYTES = 32 * 1024;
const MAX_BODY_BYTES = 512 * 1024;
const WORKFLOW = /^projects\/[^/]+\/locations\/[^/]+\/workflows\/[^/]+$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const CALL_LOG_LEVELS = ['CALL_LOG_LEVEL_UNSPECIFIED', 'LOG_ALL_CALLS', 'LOG_ERRORS_ONLY', 'LOG_NONE'];
const STATES = ['ACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED', 'UNAVAILABLE', 'STATE_UNSPECIFIED'];

type Cmp = { field: string; op: '=' | '!='; value: string };

/** AIP-160 comparisons joined by AND; undefined when the filter is anything else. */
export function parseExecutionsFilter(filter: string): Cmp[] | undefined {
  const out: Cmp[] = [];
  for (const part of filter.trim().split(/\s+AND\s+/)) {
    const m = /^(state|executionId|labels\.[a-z][a-z0-9_]{0,62})\s*(!=|=)\s*"((?:[^"\\]|\\.)*)"$/.exec(part.trim());
    if (!m) return undefined;
    out.push({ field: m[1] as string, op: m[2] as Cmp['op'], value: (m[3] as string).replace(/\\(.)/g, '$1') });
  }
  return out;
}

const googleErr = (res: ServerResponse, code: number, status: string, message: string) =>
  sendJson(res, code, { error: { code, message, status } });

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeWorkflowExecutions(opts: {
  tokens: FakeGoogleTokens;
  workflows: FakeWorkflow[];
  /** Every sys.sleep and retry delay lasts this long instead (the interpreter's waitMs). */
  waitMs?: number;
}): Promise<FakeWorkflowExecutions> {
  const workflows = new Map(
    opts.workflows.map((w) => {
      if (!WORKFLOW.test(w.name)) throw new Error(`not a workflow name: ${w.name}`);
      const engine = new CloudWorkflowsTestEngine({
        ...('http' in w.steps ? { http: w.steps.http } : { dispatch: w.steps.dispatch }),
        ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
      });
      return [w.name, { ...w, engine }];
    }),
  );
  const executions = new Map<string, FakeExecution>();
  const requests: string[] = [];

  const view = (e: FakeExecution, full: boolean) => {
    const basic = {
      name: e.name,
      startTime: e.startTime,
      ...(e.endTime ? { endTime: e.endTime } : {}),
      ...(e.endTime ? { duration: `${(Date.parse(e.endTime) - Date.parse(e.startTime)) / 1000}s` } : {}),
      state: e.state,
      workflowRevisionId: '000001-a1b',
    };
    if (!full) return basic;
    return {
      ...basic,
      argument: e.argument,
      ...(e.result !== undefined ? { result: e.result } : {}),
      ...(e.error ? { error: e.error } : {}),
      callLogLevel: e.callLogLevel,
      labels: e.labels,
      createTime: e.createTime,
      status: { currentSteps: [] },
    };
  };

  const end = (e: FakeExecution, state: FakeExecutionState, more: Partial<FakeExecution>) => {
    if (e.state !== 'ACTIVE') return;
    Object.assign(e, { state, endTime: new Date().toISOString(), ...more });
  };

  const create = (res: ServerResponse, workflowName: string, raw: string) => {
    const w = workflows.get(workflowName);
    if (!w) return googleErr(res, 404, 'NOT_FOUND', `Resource '${workflowName}' was not found`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return googleErr(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Expected an object.');
    }
    for (const k of Object.keys(body)) {
      if (!['argument', 'labels', 'callLogLevel'].includes(k)) {
        return googleErr(
          res,
          400,
          'INVALID_ARGUMENT',
          `Invalid JSON payload received. Unknown name "${k}" at 'execution': Cannot find field.`,
        );
      }
    }
    const argument = body.argument ?? '';
    if (typeof argument !== 'string') {
      return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid value at 'execution.argument' (TYPE_STRING)`);
    }
    if (Buffer.byteLength(argument, 'utf8') > MAX_ARGUMENT_BYTES) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', 'Execution argument size exceeds the limit of 32KB.');
    }
    let input: unknown = null;
    if (argument !== '') {
      try {
        input = JSON.parse(argument);
      } catch {
        return googleErr(res, 400, 'INVALID_ARGUMENT', 'Execution argument is not a valid JSON value.');
      }
      if (typeof input !== 'object' || Array.isArray(input)) {
        return googleErr(res, 400, 'INVALID_ARGUMENT', 'Execution argument must be a JSON object or null.');
      }
    }
    const labels = body.labels ?? {};
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid value at 'execution.labels'`);
    }
    const entries = Object.entries(labels);
    if (entries.length > 64) return googleErr(res, 400, 'INVALID_ARGUMENT', 'At most 64 labels are allowed.');
    for (const [k, v] of entries) {
      if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
        return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid label ${k}=${String(v).slice(0, 70)}.`);
      }
    }
    const callLogLevel = body.callLogLevel ?? 'CALL_LOG_LEVEL_UNSPECIFIED';
    if (typeof callLogLevel !== 'string' || !CALL_LOG_LEVELS.includes(callLogLevel)) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid value at 'execution.call_log_level'`);
    }
    const now = new Date().toISOString();
    const { result, abort } = w.engine.run(w.flow, input);
    const e: FakeExecution = {
      name: `${workflowName}/executions/${randomUUID()}`,
      workflow: workflowName,
      state: 'ACTIVE',
      argument,
      labels: labels as Record<string, string>,
      callLogLevel,
      createTime: now,
      startTime: now,
      abort,
      done: Promise.resolve(),
    };
    e.done = result.then(
      (value) => end(e, 'SUCCEEDED', { result: JSON.stringify(value ?? null) }),
      (err: unknown) => {
        if (err instanceof Aborted) return; // cancel set the state
        if (err instanceof Raised) {
          const payload = typeof err.value === 'string' ? err.value : JSON.stringify(err.value);
          return end(e, 'FAILED', { error: { payload, context: `Uncaught error: ${payload}` } });
        }
        // The interpreter met something outside its subset: a failure the test must see.
        const message = err instanceof Error ? err.message : String(err);
        const payload = JSON.stringify({ message, tags: ['InterpreterError'] });
        return end(e, 'FAILED', { error: { payload, context: message } });
      },
    );
    executions.set(e.name, e);
    return sendJson(res, 200, view(e, true));
  };

  const list = (res: ServerResponse, workflowName: string, q: URLSearchParams) => {
    if (!workflows.has(workflowName))
      return googleErr(res, 404, 'NOT_FOUND', `Resource '${workflowName}' was not found`);
    const filter = q.get('filter') ?? '';
    const cmps = filter.trim() ? parseExecutionsFilter(filter) : [];
    if (!cmps) return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid filter: ${filter.slice(0, 200)}`);
    for (const c of cmps) {
      if (c.field === 'state' && !STATES.includes(c.value)) {
        return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid filter: unknown state ${c.value.slice(0, 40)}`);
      }
    }
    const viewName = q.get('view') ?? 'BASIC';
    if (!['BASIC', 'FULL', 'EXECUTION_VIEW_UNSPECIFIED'].includes(viewName)) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid value for view: ${viewName.slice(0, 40)}`);
    }
    const full = viewName === 'FULL';
    const sizeRaw = q.get('pageSize');
    const asked = sizeRaw === null ? 100 : Number(sizeRaw);
    if (!Number.isInteger(asked) || asked < 0) {
      return googleErr(res, 400, 'INVALID_ARGUMENT', `Invalid value for pageSize: ${String(sizeRaw).slice(0, 20)}`);
    }
    const size = Math.min(asked === 0 ? 100 : asked, full ? 100 : 1000);
    let offset = 0;
    const token = q.get('pageToken');
    if (token) {
      let d: { o?: unknown; f?: unknown; v?: unknown } = {};
      try {
        d = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {}
      if (!Number.isInteger(d.o) || d.f !== filter || d.v !== viewName) {
        return googleErr(res, 400, 'INVALID_ARGUMENT', 'Invalid page token.');
      }
      offset = d.o as number;
    }
    const field = (e: FakeExecution, f: string) =>
      f === 'state' ? e.state : f === 'executionId' ? e.name.split('/').at(-1) : e.labels[f.slice('labels.'.length)];
    const all = [...executions.values()]
      .filter((e) => e.workflow === workflowName)
      .filter((e) => cmps.every((c) => (field(e, c.field) === c.value) === (c.op === '=')))
      .reverse(); // newest first
    const page = all.slice(offset, offset + size);
    const next =
      offset + size < all.length
        ? Buffer.from(JSON.stringify({ o: offset + size, f: filter, v: viewName })).toString('base64url')
        : undefined;
    return sendJson(res, 200, {
      ...(page.length ? { executions: page.map((e) => view(e, full)) } : {}),
      ...(next ? { nextPageToken: next } : {}),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://workflowexecutions.googleapis.com');
    const grant = checkBearer(req, res, opts.tokens);
    if (!grant) return;
    const m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/workflows\/[^/]+)\/executions(?:\/([^/:]+)(:cancel)?)?$/.exec(
      url.pathname,
    );
    if (!m) return googleErr(res, 404, 'NOT_FOUND', `Not found: ${url.pathname.slice(0, 200)}`);
    const [, workflowName = '', id, cancel] = m;
    const verb = cancel ? 'cancel' : id ? 'get' : req.method === 'POST' ? 'create' : 'list';
    const expected = verb === 'cancel' || verb === 'create' ? 'POST' : 'GET';
    if (req.method !== expected) return googleErr(res, 405, 'UNIMPLEMENTED', `Method ${req.method} not allowed`);
    const w = workflows.get(workflowName);
    const resource = id ? `${workflowName}/executions/${id}` : workflowName;
    if (w?.invokers && !w.invokers.includes(grant.principal)) {
      return googleErr(
        res,
        403,
        'PERMISSION_DENIED',
        `Permission 'workflows.executions.${verb}' denied on resource '${resource}' (or it may not exist).`,
      );
    }
    if (verb === 'create') {
      const raw = await readBody(req);
      if (raw === undefined) return googleErr(res, 413, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit.');
      return create(res, workflowName, raw);
    }
    if (verb === 'list') return list(res, workflowName, url.searchParams);
    const e = executions.get(resource);
    if (!e) return googleErr(res, 404, 'NOT_FOUND', `Resource '${resource}' was not found`);
    if (verb === 'get') return sendJson(res, 200, view(e, true));
    await readBody(req);
    if (e.state !== 'ACTIVE') {
      return googleErr(res, 400, 'FAILED_PRECONDITION', `Execution ${resource} is not active (state ${e.state}).`);
    }
    end(e, 'CANCELLED', {
      error: { payload: 'Execution was cancelled', context: 'Execution was cancelled by a request.' },
    });
    e.abort();
    return sendJson(res, 200, view(e, true));
  };

  const listening = await listenLoopback((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) googleErr(res, 500, 'INTERNAL', `fake: ${(err as Error).message}`);
    });
  });

  const stopAll = async () => {
    for (const e of executions.values()) {
      if (e.state !== 'ACTIVE') continue;
      end(e, 'CANCELLED', { error: { payload: 'Execution was cancelled', context: 'fake shutting down' } });
      e.abort();
    }
    await Promise.all([...executions.values()].map((e) => e.done));
    await Promise.all([...workflows.values()].map((w) => w.engine.stopAll()));
  };

  return {
    url: `http://127.0.0.1:${listening.port}/v1`,
    executions,
    requests,
    stopAll,
    async stop() {
      await stopAll();
      await listening.close();
    },
  };
}
