import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  resultFromTaskOutcome,
  type TaskEnabledSession,
} from '@modelcontextprotocol/ext-tasks/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { clustersFromConfig } from '../../shared/adapters/kube/index.ts';
import { LocalWorkflowEngine } from '../../shared/adapters/local/local-workflow-engine.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import type { Deps } from '../../shared/app/deps.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import type { Operation } from '../../shared/app/repos/operations.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { createMcpEndpoint, type McpEndpoint } from '../../shared/mcp/endpoint.ts';
import { defineTool, fail, ok } from '../../shared/tools/tool.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';
import { freePort } from '../support/local-host.ts';
import { connectClient, type Era } from '../support/mcp-client.ts';
import { startTestIssuer, type TestIssuer } from '../support/oauth-issuer.ts';
import { fetchDispatch } from '../support/task-dispatch.ts';

/*
 * MCP tasks end to end, both protocol eras, against the real endpoint (OAuth, Host/Origin checks,
 * the SDK's createMcpHandler and 2025 stateless lane) over HTTP, with the memory Store. The test
 * registers test-only tools that create Operations; the test itself then plays the workflow,
 * moving the operation on in the Store the way the step handlers do.
 */

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const EXT = 'io.modelcontextprotocol/tasks';
const RELATED = 'io.modelcontextprotocol/related-task';
/** The bound of a 2025 tasks/result wait in these tests (production: 20 s). */
const RESULT_WAIT_MS = 400;

const quiet = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

/** Test-only: starts an operation and answers at once, like delivery_rollouts_start. */
const slowOperation = defineTool({
  name: 'test_slow_operation',
  title: 'Test slow operation',
  description: 'Test-only: starts an operation the test then finishes.',
  group: 'ops',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({
    label: z.string().default('web'),
    approval: z.boolean().default(false).describe('start waiting for a human approver'),
  }),
  annotations: quiet,
  async handler(input, ctx) {
    const op = await ctx.deps.operations.create({
      id: ctx.deps.operations.newId(),
      kind: 'rollout',
      target: { cluster: 'test', namespace: 'default', kind: 'Deployment', name: input.label },
      requester: { subject: ctx.identity.subject, name: ctx.identity.name },
      status: input.approval ? 'input_required' : 'working',
      statusMessage: input.approval ? 'waiting for approval: production namespace' : 'starting',
      input: { label: input.label },
      changeHash: 'sha256:test',
      steps: [
        { name: 'apply', status: 'pending' },
        { name: 'verify', status: 'pending' },
      ],
      progress: { nextActions: [] },
      requests: {},
      ttlSeconds: 3600,
      pollIntervalMs: 50,
    });
    return ok(`Started ${op.id}.`, { operationId: op.id, status: op.status });
  },
});

/** Test-only: a task tool refusing its input (no operation is created). */
const refusingOperation = defineTool({
  name: 'test_refusing_operation',
  title: 'Test refusing operation',
  description: 'Test-only: a task tool whose guardrails refuse the request.',
  group: 'ops',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({}),
  annotations: quiet,
  handler: async () => fail('Refused by policy rule test/no: change the request.', { refused: true }),
});

/** Test-only: an ordinary tool without task support. */
const plainTool = defineTool({
  name: 'test_plain',
  title: 'Test plain tool',
  description: 'Test-only: answers at once; no task support.',
  group: 'ops',
  access: 'read',
  input: z.object({}),
  annotations: { ...quiet, readOnlyHint: true },
  handler: async () => ok('plain answer', { plain: true }),
});

/** Test-only: answers with structuredContent that fails its own output schema. */
const badOutput = defineTool({
  name: 'test_bad_output',
  title: 'Test bad output',
  description: 'Test-only: its result does not match its output schema.',
  group: 'ops',
  access: 'read',
  input: z.object({}),
  output: z.object({ n: z.number() }),
  annotations: { ...quiet, readOnlyHint: true },
  handler: async () => ok('n is not a number', { n: 'x' } as unknown as { n: number }),
});

interface Host {
  url: string;
  deps: Deps;
  issuer: TestIssuer;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startHost(): Promise<Host> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/mcp`;
  const issuer = await startTestIssuer(url);
  const env = {
    PORT: String(port),
    STORE: 'memory',
    LOG_LEVEL: 'info',
    PUBLIC_URL: url,
    OAUTH_ISSUER: issuer.issuer,
    OAUTH_JWKS_URL: issuer.jwksUrl,
  };
  const config = loadConfig(env);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const log = createLogger('info', sink);
  const store = new MemoryStore();
  let engine: LocalWorkflowEngine | undefined;
  const deps = buildDeps(config, store, log, {
    metrics: new PrometheusSource(config.prometheusUrl),
    clusters: clustersFromConfig(config, env),
    policy: loadPolicy(undefined),
    workflows: (d) => {
      engine = new LocalWorkflowEngine({ dispatch: (e) => dispatchStep(e, d), log });
      return engine;
    },
  });
  const endpoint: McpEndpoint = createMcpEndpoint({
    deps,
    tools: [slowOperation, refusingOperation, plainTool, badOutput],
    publicUrls: [new URL(url)],
    loopback: true,
    tasks: { resultWaitMs: RESULT_WAIT_MS, resultPollMs: 25, listPageSize: 2 },
  });
  const node = toNodeHandler({ fetch: (r: Request) => endpoint.fetch(r) });
  const http: Server = createServer((req, res) => {
    node(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', () => r()));
  return {
    url,
    deps,
    issuer,
    logs,
    async close() {
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      });
      await engine?.stopAll();
      await endpoint.close();
      await store.close();
      await issuer.close();
    },
  };
}

/* ---------- the workflow's side: moving an operation on in the Store ---------- */

async function finish(deps: Deps, id: string, how: 'completed' | 'failed' | 'cancelled'): Promise<Operation> {
  return deps.operations.update(id, (o) => {
    o.status = how;
    o.statusMessage =
      how === 'completed'
        ? 'rolled out'
        : how === 'failed'
          ? 'verify gate failed: error rate 9%'
          : 'cancelled; rolled back';
    o.steps = [
      { name: 'apply', status: 'done' },
      {
        name: 'verify',
        status: how === 'completed' ? 'done' : 'failed',
        detail: how === 'completed' ? 'healthy' : 'error rate 9%',
      },
    ];
    o.result = how === 'completed' ? { replicas: 3, image: 'web:2' } : { rolledBack: true };
    return undefined;
  });
}

/* ---------- raw JSON-RPC over fetch, with each era's framing ---------- */

interface RpcReply {
  status: number;
  body: {
    jsonrpc: string;
    id: unknown;
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: unknown };
  };
}

class Raw {
  private next = 1;
  readonly url: string;
  readonly token: string;
  constructor(url: string, token: string) {
    this.url = url;
    this.token = token;
  }

  private async post(body: Record<string, unknown>, headers: Record<string, string>): Promise<RpcReply> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${this.token}`,
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: this.next++, ...body }),
    });
    return { status: res.status, body: (await res.json()) as RpcReply['body'] };
  }

  /** 2025-11-25 on the stateless lane: the version header after an initialize. */
  legacy(method: string, params: Record<string, unknown> = {}): Promise<RpcReply> {
    return this.post({ method, params }, { 'mcp-protocol-version': LEGACY });
  }

  /** 2026-07-28: per-request _meta envelope and the Mcp-Method / Mcp-Name headers. */
  modern(method: string, params: Record<string, unknown> = {}, opts: { tasks?: boolean } = {}): Promise<RpcReply> {
    const name =
      typeof params.taskId === 'string' ? params.taskId : typeof params.name === 'string' ? params.name : undefined;
    return this.post(
      {
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'tasks-test', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': opts.tasks === false ? {} : { extensions: { [EXT]: {} } },
          },
        },
      },
      { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) },
    );
  }
}

/** The task id of a task-creation answer, either era; fails the test when the answer is no task. */
function createdTaskId(reply: RpcReply): string {
  const r = reply.body.result;
  const id = (r?.task as { taskId?: unknown } | undefined)?.taskId ?? r?.taskId;
  if (typeof id !== 'string') throw new Error(`not a task: ${JSON.stringify(reply.body)}`);
  return id;
}

const textOf = (result: Record<string, unknown> | undefined) =>
  ((result?.content as Array<{ text?: string }> | undefined) ?? []).map((c) => c.text ?? '').join('\n');

/** An error with the task id blanked, to compare "not yours" with "does not exist". */
const shapeOf = (reply: RpcReply, id: string) => ({
  status: reply.status,
  code: reply.body.error?.code,
  message: reply.body.error?.message.replaceAll(id, '<id>'),
  result: reply.body.result,
});

describe('MCP tasks over the Operation store', () => {
  let host: Host;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    host = await startHost();
    alice = await host.issuer.token({ sub: 'alice', scope: 'cloudops:write', name: 'Alice' });
    bob = await host.issuer.token({ sub: 'bob', scope: 'cloudops:write', name: 'Bob' });
  });
  afterAll(async () => {
    await host?.close();
  });

  const connect = (era: Era, token: string): Promise<Client> =>
    connectClient(host.url, era, { authorization: `Bearer ${token}` });

  describe('2025-11-25: tasks in core', () => {
    it('initialize declares the tasks capability; tools/list marks task tools execution.taskSupport optional', async () => {
      const client = await connect('legacy', alice);
      try {
        expect(client.getServerCapabilities()?.tasks).toEqual({
          list: {},
          cancel: {},
          requests: { tools: { call: {} } },
        });
        const { tools } = await client.listTools();
        const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
        expect(byName.test_slow_operation?.execution).toEqual({ taskSupport: 'optional' });
        expect(byName.test_refusing_operation?.execution).toEqual({ taskSupport: 'optional' });
        expect(byName.test_plain?.execution).toBeUndefined();
      } finally {
        await client.close();
      }
    });

    it('the ext-tasks requester runs a task tool as a task, polls it and gets the final result', async () => {
      const client = await connect('legacy', alice);
      const session = createTaskSessionFromClient(client, { endpointId: 'tasks-test-legacy' });
      try {
        const execution = await session.callTool(
          'test_slow_operation',
          { label: 'api' },
          { task: { preference: 'prefer' } },
        );
        expect(execution.kind).toBe('task');
        const taskId = execution.handle?.taskId as string;
        expect(taskId).toMatch(/^op-/);
        const op = await host.deps.operations.require(taskId);
        expect(op.requester.subject).toBe('alice');
        // The workflow finishes a moment later; the requester is polling tasks/get meanwhile.
        setTimeout(() => void finish(host.deps, taskId, 'completed'), 150);
        const { outcome, lastTask } = await execution.settle();
        expect(outcome.status).toBe('completed');
        expect(lastTask?.status).toBe('completed');
        const result = resultFromTaskOutcome(outcome) as Record<string, unknown>;
        expect(result.isError).toBeUndefined();
        expect(result.structuredContent).toMatchObject({
          operationId: taskId,
          status: 'completed',
          steps: [
            { name: 'apply', status: 'done' },
            { name: 'verify', status: 'done' },
          ],
          result: { replicas: 3, image: 'web:2' },
        });
        expect((result._meta as Record<string, unknown>)[RELATED]).toEqual({ taskId });
      } finally {
        await session.close();
        await client.close();
      }
    });

    it('task wire: CreateTaskResult, tasks/get working then completed, tasks/result with related-task _meta', async () => {
      const raw = new Raw(host.url, alice);
      const created = await raw.legacy('tools/call', {
        name: 'test_slow_operation',
        arguments: {},
        task: { ttl: 60_000 },
      });
      expect(created.status).toBe(200);
      const task = created.body.result?.task as Record<string, unknown>;
      const taskId = task.taskId as string;
      const op = await host.deps.operations.require(taskId);
      expect(task).toEqual({
        taskId,
        status: 'working',
        statusMessage: 'starting',
        createdAt: op.createdAt,
        lastUpdatedAt: op.updatedAt,
        ttl: 3_600_000,
        pollInterval: 50,
      });
      expect(created.body.result?._meta).toMatchObject({
        [RELATED]: { taskId },
        'io.modelcontextprotocol/model-immediate-response': expect.stringContaining(`Started ${taskId}`),
      });

      const working = await raw.legacy('tasks/get', { taskId });
      expect(working.body.result).toMatchObject({ taskId, status: 'working', pollInterval: 50 });
      expect(working.body.result?._meta).toBeUndefined();

      const done = await finish(host.deps, taskId, 'completed');
      const completed = await raw.legacy('tasks/get', { taskId });
      expect(completed.body.result).toMatchObject({ taskId, status: 'completed', lastUpdatedAt: done.updatedAt });

      const result = await raw.legacy('tasks/result', { taskId });
      expect(result.body.result?.isError).toBeUndefined();
      expect(result.body.result?._meta).toEqual({ [RELATED]: { taskId } });
      expect(result.body.result?.structuredContent).toMatchObject({ operationId: taskId, status: 'completed' });
      expect(textOf(result.body.result)).toContain(
        `${taskId} rollout deployment/web in default on test: COMPLETED — rolled out`,
      );
      expect(textOf(result.body.result)).toContain('[x] verify: healthy');
    });

    it('a failed operation: task failed, and its result has isError', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(
        await raw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }),
      );
      await finish(host.deps, taskId, 'failed');
      const got = await raw.legacy('tasks/get', { taskId });
      expect(got.body.result).toMatchObject({ status: 'failed', statusMessage: 'verify gate failed: error rate 9%' });
      const result = await raw.legacy('tasks/result', { taskId });
      expect(result.body.result?.isError).toBe(true);
      expect(result.body.result?.structuredContent).toMatchObject({ status: 'failed', result: { rolledBack: true } });
      expect(textOf(result.body.result)).toContain('[!] verify: error rate 9%');
    });

    it('tasks/list shows only the caller’s tasks, paged with opaque cursors', async () => {
      const aliceClient = await connect('legacy', alice);
      const bobClient = await connect('legacy', bob);
      const aliceSession = createTaskSessionFromClient(aliceClient, { endpointId: 'alice-list' });
      try {
        const bobRaw = new Raw(host.url, bob);
        const bobTask = createdTaskId(
          await bobRaw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }),
        );
        const aliceRaw = new Raw(host.url, alice);
        const mine: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await aliceRaw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} });
          mine.push(createdTaskId(r));
        }
        // Page size is 2 in this host: walk every page through the requester's own tasks/list.
        const listed: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await aliceSession.listTasks(cursor);
          expect(page.tasks.length).toBeLessThanOrEqual(2);
          listed.push(...page.tasks.map((t) => t.taskId));
          cursor = page.nextCursor;
        } while (cursor);
        expect(listed).toEqual(expect.arrayContaining(mine));
        expect(listed).not.toContain(bobTask);
        const aliceOps = await host.deps.operations.list({ subject: 'alice', limit: 100 });
        expect(listed.sort()).toEqual(aliceOps.items.map((o) => o.id).sort());

        const bobList = await bobRaw.legacy('tasks/list');
        const bobTasks = (bobList.body.result?.tasks ?? []) as Array<{ taskId: string }>;
        expect(bobTasks.map((t) => t.taskId)).toEqual([bobTask]);

        const bad = await aliceRaw.legacy('tasks/list', { cursor: 'not-a-cursor' });
        expect(bad.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/Invalid cursor/) });
      } finally {
        await aliceSession.close();
        await aliceClient.close();
        await bobClient.close();
      }
    });

    it('another user’s tasks/get, tasks/result and tasks/cancel are refused exactly like an unknown task', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(
        await raw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }),
      );
      const bobRaw = new Raw(host.url, bob);
      const unknown = 'op-00000000-0000-4000-8000-000000000000';
      for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
        const theirs = await bobRaw.legacy(method, { taskId });
        const missing = await bobRaw.legacy(method, { taskId: unknown });
        expect(theirs.body.error?.code, method).toBe(-32602);
        expect(shapeOf(theirs, taskId), method).toEqual(shapeOf(missing, unknown));
      }
      expect((await host.deps.operations.require(taskId)).requests.abort).toBeUndefined();
    });

    it('tasks/cancel asks the workflow to stop (abort request on the operation); an ended task cannot be cancelled', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(
        await raw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }),
      );
      const cancelled = await raw.legacy('tasks/cancel', { taskId });
      expect(cancelled.body.result).toMatchObject({
        taskId,
        status: 'working',
        statusMessage: 'cancel requested by Alice; rolling back',
      });
      const op = await host.deps.operations.require(taskId);
      expect(op.requests.abort).toMatchObject({ by: 'Alice', reason: 'tasks/cancel by Alice' });

      await finish(host.deps, taskId, 'cancelled');
      const got = await raw.legacy('tasks/get', { taskId });
      expect(got.body.result?.status).toBe('cancelled');
      const result = await raw.legacy('tasks/result', { taskId });
      expect(result.body.result?.isError).toBe(true);
      const again = await raw.legacy('tasks/cancel', { taskId });
      expect(again.body.error).toMatchObject({
        code: -32602,
        message: `Cannot cancel task ${taskId}: already in terminal status 'cancelled'`,
      });
    });

    it('tasks/result waits for the task within its bound, then answers with the task state instead of blocking', async () => {
      const raw = new Raw(host.url, alice);
      const start = async () =>
        createdTaskId(await raw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }));

      // Ends while tasks/result waits: the answer is the final result.
      const ending = await start();
      setTimeout(() => void finish(host.deps, ending, 'completed'), 100);
      const final = await raw.legacy('tasks/result', { taskId: ending });
      expect(final.body.result?.structuredContent).toMatchObject({ operationId: ending, status: 'completed' });

      // Still running at the bound: the current task state, clearly not a final result.
      const running = await start();
      const t0 = performance.now();
      const pending = await raw.legacy('tasks/result', { taskId: running });
      const waited = performance.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(RESULT_WAIT_MS - 20);
      expect(waited).toBeLessThan(RESULT_WAIT_MS + 2000);
      expect(pending.body.result).toMatchObject({ taskId: running, status: 'working', pollInterval: 50 });
      expect(pending.body.result?._meta).toEqual({ [RELATED]: { taskId: running } });
      expect(textOf(pending.body.result)).toContain('This is not its final result');
    });

    it('an operation waiting for a human approver is reported as working, with what it waits for', async () => {
      const raw = new Raw(host.url, alice);
      const created = await raw.legacy('tools/call', {
        name: 'test_slow_operation',
        arguments: { approval: true },
        task: {},
      });
      const task = created.body.result?.task as { taskId: string; status: string; statusMessage: string };
      expect(task).toMatchObject({ status: 'working', statusMessage: 'waiting for approval: production namespace' });
      expect((await host.deps.operations.require(task.taskId)).status).toBe('input_required');
    });

    it('a client that asks for no task gets the plain tool result, with the operationId to follow', async () => {
      const client = await connect('legacy', alice);
      try {
        const result = await client.callTool({ name: 'test_slow_operation', arguments: {} });
        const sc = result.structuredContent as { operationId: string; status: string };
        expect(sc.status).toBe('working');
        expect(sc.operationId).toMatch(/^op-/);
        expect(await host.deps.operations.get(sc.operationId)).toBeDefined();
      } finally {
        await client.close();
      }
    });

    it('params.task on a tool without task support: -32601; a refused task tool answers with its error, no task', async () => {
      const raw = new Raw(host.url, alice);
      const plain = await raw.legacy('tools/call', { name: 'test_plain', arguments: {}, task: {} });
      expect(plain.body.error).toMatchObject({
        code: -32601,
        message: expect.stringMatching(/does not support task execution/),
      });
      // A receiver that accepts a task-augmented request MUST answer with a CreateTaskResult; a
      // refusal created no task, so it is a JSON-RPC error that carries the tool's own message.
      const refused = await raw.legacy('tools/call', { name: 'test_refusing_operation', arguments: {}, task: {} });
      expect(refused.body.result).toBeUndefined();
      expect(refused.body.error).toMatchObject({
        code: -32000,
        message: 'Refused by policy rule test/no: change the request.',
      });
      const { events } = await host.deps.audit.list({ tool: 'test_refusing_operation', limit: 1 });
      expect(events[0]).toMatchObject({ outcome: 'error', error: expect.stringContaining('test/no') });
    });

    it('an ended task cannot be cancelled (-32602), and that attempt is audited too', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(
        await raw.legacy('tools/call', { name: 'test_slow_operation', arguments: {}, task: {} }),
      );
      await finish(host.deps, taskId, 'completed');
      const r = await raw.legacy('tasks/cancel', { taskId });
      expect(r.body.error).toMatchObject({
        code: -32602,
        message: expect.stringContaining("terminal status 'completed'"),
      });
      const { events } = await host.deps.audit.list({ tool: 'tasks/cancel', limit: 50 });
      const mine = events.filter((e) => (e.args as { taskId?: string }).taskId === taskId);
      expect(mine.map((e) => e.outcome)).toEqual(['error']);
    });

    it('when the task handle cannot be made, the caller gets the tool result (with its operationId) and the call is audited', async () => {
      const raw = new Raw(host.url, alice);
      const ops = host.deps.operations;
      const realGet = ops.get.bind(ops);
      let failNext = true;
      ops.get = async (id: string) => {
        if (failNext) {
          failNext = false;
          throw new Error('ProvisionedThroughputExceededException: slow down');
        }
        return realGet(id);
      };
      try {
        const r = await raw.legacy('tools/call', {
          name: 'test_slow_operation',
          arguments: { label: 'nohandle' },
          task: {},
        });
        expect(r.status).toBe(200);
        expect(r.body.result).toMatchObject({ structuredContent: { operationId: expect.stringMatching(/^op-/) } });
        const { events } = await host.deps.audit.list({ tool: 'test_slow_operation', limit: 5 });
        expect(events.find((e) => (e.args as { label?: string }).label === 'nohandle')).toMatchObject({
          outcome: 'ok',
        });
      } finally {
        ops.get = realGet;
      }
    });
  });

  describe('2026-07-28: the io.modelcontextprotocol/tasks extension', () => {
    it('server/discover advertises the extension (not capabilities.tasks); tools carry no execution field', async () => {
      const raw = new Raw(host.url, alice);
      const discover = await raw.modern('server/discover');
      const caps = discover.body.result?.capabilities as Record<string, unknown>;
      expect(caps.extensions).toEqual({ [EXT]: {} });
      expect(caps.tasks).toBeUndefined();
      const list = await raw.modern('tools/list');
      const tools = (list.body.result?.tools ?? []) as Array<Record<string, unknown>>;
      expect(tools.map((t) => t.name)).toContain('test_slow_operation');
      for (const tool of tools) expect(tool.execution).toBeUndefined();
    });

    it('the ext-tasks requester (V2 raw path) gets a task and settles it from tasks/get', async () => {
      const client = await connect('modern', alice);
      const session: TaskEnabledSession = createTaskSessionFromClient(client, {
        endpointId: 'tasks-test-modern',
        rawDispatch: fetchDispatch(host.url, alice),
        v2RequestFraming: {
          protocolVersion: MODERN,
          clientInfo: { name: 'tasks-test', version: '1' },
          clientCapabilities: {},
        },
      });
      try {
        const execution = await session.callTool('test_slow_operation', { label: 'worker' });
        expect(execution.kind).toBe('task');
        const taskId = execution.handle?.taskId as string;
        setTimeout(() => void finish(host.deps, taskId, 'completed'), 150);
        const { outcome } = await execution.settle();
        expect(outcome.status).toBe('completed');
        const result = resultFromTaskOutcome(outcome) as Record<string, unknown>;
        expect(result).toMatchObject({
          resultType: 'complete',
          structuredContent: { operationId: taskId, status: 'completed', result: { replicas: 3, image: 'web:2' } },
        });

        // A failed operation is a tool-level error: completed, with isError in the result.
        const failing = await session.callTool('test_slow_operation', { label: 'worker-2' });
        const failingId = failing.handle?.taskId as string;
        setTimeout(() => void finish(host.deps, failingId, 'failed'), 100);
        const failed = await failing.settle();
        expect(failed.outcome.status).toBe('completed');
        expect(resultFromTaskOutcome(failed.outcome)).toMatchObject({ isError: true });
      } finally {
        await session.close();
        await client.close();
      }
    });

    it('task wire: flat CreateTaskResult, tasks/get working then completed with the result inline', async () => {
      const raw = new Raw(host.url, alice);
      const created = await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} });
      const r = created.body.result as Record<string, unknown>;
      const taskId = r.taskId as string;
      const op = await host.deps.operations.require(taskId);
      expect(r).toMatchObject({
        resultType: 'task',
        taskId,
        status: 'working',
        statusMessage: 'starting',
        createdAt: op.createdAt,
        lastUpdatedAt: op.updatedAt,
        ttlMs: 3_600_000,
        pollIntervalMs: 50,
      });
      for (const legacyKey of ['task', 'ttl', 'pollInterval', 'result'])
        expect(r[legacyKey], legacyKey).toBeUndefined();
      // SDK 2.4 validates every tools/call result as a CallToolResult and adds an empty `content`;
      // nothing else of a tool result rides along (docs/decisions.md, "Requests through the SDK").
      expect(r.content).toEqual([]);
      expect(r.structuredContent).toBeUndefined();

      const working = await raw.modern('tasks/get', { taskId });
      expect(working.body.result).toMatchObject({ resultType: 'complete', taskId, status: 'working' });
      expect(working.body.result?.result).toBeUndefined();

      await finish(host.deps, taskId, 'completed');
      const completed = await raw.modern('tasks/get', { taskId });
      expect(completed.body.result).toMatchObject({ resultType: 'complete', taskId, status: 'completed' });
      const inline = completed.body.result?.result as Record<string, unknown>;
      expect(inline).toMatchObject({
        resultType: 'complete',
        structuredContent: { operationId: taskId, status: 'completed' },
      });
      expect(inline.isError).toBeUndefined();
      expect(textOf(inline)).toContain('[x] apply');
      expect((inline._meta as Record<string, unknown> | undefined)?.[RELATED]).toBeUndefined();
    });

    it('a failed operation is completed with result.isError; a cancelled one is cancelled, without a result', async () => {
      const raw = new Raw(host.url, alice);
      const start = async () =>
        createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
      const failed = await start();
      await finish(host.deps, failed, 'failed');
      const f = await raw.modern('tasks/get', { taskId: failed });
      expect(f.body.result).toMatchObject({ status: 'completed', statusMessage: 'verify gate failed: error rate 9%' });
      expect(f.body.result?.result).toMatchObject({ isError: true, structuredContent: { status: 'failed' } });
      expect(f.body.result?.error).toBeUndefined();

      const cancelled = await start();
      await finish(host.deps, cancelled, 'cancelled');
      const c = await raw.modern('tasks/get', { taskId: cancelled });
      expect(c.body.result).toMatchObject({ status: 'cancelled', statusMessage: 'cancelled; rolled back' });
      expect(c.body.result?.result).toBeUndefined();
    });

    it('tasks/cancel acknowledges and sets the abort request; an ended task gets the same empty ack', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
      const ack = await raw.modern('tasks/cancel', { taskId });
      expect(ack.status).toBe(200);
      expect(ack.body.result).toMatchObject({ resultType: 'complete' });
      expect(Object.keys(ack.body.result ?? {}).sort()).toEqual(['_meta', 'resultType']);
      expect((await host.deps.operations.require(taskId)).requests.abort).toMatchObject({ by: 'Alice' });
      const still = await raw.modern('tasks/get', { taskId });
      expect(still.body.result).toMatchObject({
        status: 'working',
        statusMessage: 'cancel requested by Alice; rolling back',
      });

      await finish(host.deps, taskId, 'cancelled');
      const again = await raw.modern('tasks/cancel', { taskId });
      expect(again.body.result).toMatchObject({ resultType: 'complete' });
    });

    it('tasks/cancel takes the write role, like ops_operations_cancel, and every attempt is audited', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
      // The same person with a token cut down to read-only (what an agent may be handed).
      const readOnly = await host.issuer.token({ sub: 'alice', scope: 'cloudops:read', name: 'Alice' });
      const refused = await new Raw(host.url, readOnly).modern('tasks/cancel', { taskId });
      expect(refused.body.error?.message).toMatch(/needs the operator role; you have viewer/);
      expect((await host.deps.operations.require(taskId)).requests.abort).toBeUndefined();
      await raw.modern('tasks/cancel', { taskId });
      expect((await host.deps.operations.require(taskId)).requests.abort).toMatchObject({ by: 'Alice' });
      const { events } = await host.deps.audit.list({ tool: 'tasks/cancel', caller: 'alice', limit: 50 });
      const mine = events.filter((e) => (e.args as { taskId?: string }).taskId === taskId);
      expect(mine.map((e) => [e.outcome, e.roles, e.args])).toEqual([
        ['ok', ['operator'], { taskId }],
        ['denied', ['viewer'], { taskId }],
      ]);
      await finish(host.deps, taskId, 'cancelled');
    });

    it('tasks are their requester’s: an admin or approver reviews others’ operations with ops_*, not tasks/get', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
      for (const scope of ['cloudops:admin', 'cloudops:approve']) {
        const other = new Raw(host.url, await host.issuer.token({ sub: `rev-${scope}`, scope, name: 'Reviewer' }));
        const got = await other.modern('tasks/get', { taskId });
        expect(got.body.error?.code, scope).toBe(-32602);
        const legacyList = await other.legacy('tasks/list');
        expect(JSON.stringify(legacyList.body.result), scope).not.toContain(taskId);
      }
      await finish(host.deps, taskId, 'completed');
    });

    it('another user’s tasks/get, tasks/update and tasks/cancel are refused exactly like an unknown task', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
      const bobRaw = new Raw(host.url, bob);
      const unknown = 'op-00000000-0000-4000-8000-000000000000';
      for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
        const params = method === 'tasks/update' ? { inputResponses: {} } : {};
        const theirs = await bobRaw.modern(method, { taskId, ...params });
        const missing = await bobRaw.modern(method, { taskId: unknown, ...params });
        expect(theirs.body.error?.code, method).toBe(-32602);
        expect(shapeOf(theirs, taskId), method).toEqual(shapeOf(missing, unknown));
      }
      expect((await host.deps.operations.require(taskId)).requests.abort).toBeUndefined();
    });

    it('tasks/update is acknowledged and its responses ignored when the task waits for no client input (an approval)', async () => {
      const raw = new Raw(host.url, alice);
      const taskId = createdTaskId(
        await raw.modern('tools/call', { name: 'test_slow_operation', arguments: { approval: true } }),
      );
      const got = await raw.modern('tasks/get', { taskId });
      expect(got.body.result).toMatchObject({
        status: 'working',
        statusMessage: 'waiting for approval: production namespace',
      });
      expect(got.body.result?.inputRequests).toBeUndefined();
      const update = await raw.modern('tasks/update', {
        taskId,
        inputResponses: { approval: { action: 'accept', content: { approve: true } } },
      });
      expect(update.body.result).toMatchObject({ resultType: 'complete' });
      const op = await host.deps.operations.require(taskId);
      expect(op.status).toBe('input_required');
      expect(op.clientInput).toBeUndefined();
      expect(host.logs).toContainEqual(
        expect.objectContaining({ taskId, keys: ['approval'], msg: expect.stringMatching(/ignored/) }),
      );
    });

    it('without the extension: a plain tool result with the operationId, and tasks/* are -32021 (HTTP 400)', async () => {
      const client = await connect('modern', alice);
      try {
        const result = await client.callTool({ name: 'test_slow_operation', arguments: {} });
        const sc = result.structuredContent as { operationId: string; status: string };
        expect(sc).toMatchObject({ operationId: expect.stringMatching(/^op-/), status: 'working' });
        const raw = new Raw(host.url, alice);
        for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
          const params = method === 'tasks/update' ? { inputResponses: {} } : {};
          const refused = await raw.modern(method, { taskId: sc.operationId, ...params }, { tasks: false });
          expect(refused.status, method).toBe(400);
          expect(refused.body.error, method).toMatchObject({
            code: -32021,
            data: { requiredCapabilities: { extensions: { [EXT]: {} } } },
          });
        }
      } finally {
        await client.close();
      }
    });

    it('tasks/result and tasks/list do not exist on 2026-07-28; a sync tool is never promoted to a task', async () => {
      const raw = new Raw(host.url, alice);
      for (const method of ['tasks/result', 'tasks/list']) {
        const r = await raw.modern(method, method === 'tasks/result' ? { taskId: 'op-x' } : {});
        expect(r.body.error?.code, method).toBe(-32601);
      }
      const plain = await raw.modern('tools/call', { name: 'test_plain', arguments: {}, task: { ttl: 1000 } });
      expect(plain.body.result).toMatchObject({ resultType: 'complete', structuredContent: { plain: true } });
      expect(plain.body.result?.taskId).toBeUndefined();
    });
  });

  it('a result the SDK turns into an error (it fails its output schema) is audited as an error', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const raw = new Raw(host.url, alice);
      const r =
        era === 'modern'
          ? await raw.modern('tools/call', { name: 'test_bad_output', arguments: {} })
          : await raw.legacy('tools/call', { name: 'test_bad_output', arguments: {} });
      expect(r.body.result?.isError, era).toBe(true);
    }
    const { events } = await host.deps.audit.list({ tool: 'test_bad_output', limit: 5 });
    expect(events.map((e) => e.outcome)).toEqual(['error', 'error']);
    expect(events[0]?.error).toMatch(/validation/i);
  });

  it('every tasks/* request is logged with its caller and task; tools/call that created a task is audited, reads are not', async () => {
    const raw = new Raw(host.url, alice);
    const taskId = createdTaskId(await raw.modern('tools/call', { name: 'test_slow_operation', arguments: {} }));
    await raw.modern('tasks/get', { taskId });
    await new Raw(host.url, bob).legacy('tasks/get', { taskId });
    expect(host.logs).toContainEqual(
      expect.objectContaining({ msg: 'task created', caller: 'Alice', taskId, era: 'modern' }),
    );
    expect(host.logs).toContainEqual(
      expect.objectContaining({ msg: 'task request', caller: 'Alice', method: 'tasks/get', taskId, status: 'working' }),
    );
    expect(host.logs).toContainEqual(
      expect.objectContaining({
        msg: 'task request refused',
        caller: 'Bob',
        method: 'tasks/get',
        taskId,
        code: -32602,
      }),
    );
    const audit = await host.deps.audit.list({ limit: 50 });
    const calls = audit.events.filter((e) => e.tool === 'test_slow_operation');
    expect(calls.length).toBeGreaterThan(0);
    // Reading a task changes nothing and is only logged; tasks/cancel (a rollback) is audited, see above.
    expect(audit.events.filter((e) => e.tool.startsWith('tasks/') && e.tool !== 'tasks/cancel')).toEqual([]);
  });
});
