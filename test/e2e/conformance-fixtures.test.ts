import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { clustersFromConfig } from '../../shared/adapters/kube/index.ts';
import { LocalWorkflowEngine } from '../../shared/adapters/local/local-workflow-engine.ts';
import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { PrometheusSource } from '../../shared/adapters/prometheus.ts';
import { buildDeps } from '../../shared/app/deps.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { loadPolicy } from '../../shared/config/policy-file.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { createMcpEndpoint } from '../../shared/mcp/endpoint.ts';
import { conformanceTools } from '../../shared/tools/conformance/index.ts';
import { allTools } from '../../shared/tools/index.ts';
import { dispatchStep } from '../../shared/workflows/index.ts';
import { type RpcReply, rpc, startFixtureServer } from '../support/fixture-host.ts';

/*
 * The conformance suite's fixtures (shared/tools/conformance): served only with
 * MCP_CONFORMANCE_FIXTURES=1 on a loopback host, absent otherwise, never among the server's own
 * tools; the task fixtures run on Operations in the Store, like a rollout.
 */

const EXT = 'io.modelcontextprotocol/tasks';
const FIXTURE_NAMES = conformanceTools.map((t) => t.name);

async function toolNames(url: string): Promise<string[]> {
  const r = await rpc(url, 'tools/list');
  return ((r.body.result?.tools ?? []) as Array<{ name: string }>).map((t) => t.name);
}

const withTasks = { extensions: { [EXT]: {} } };

describe('conformance fixtures are refused off loopback', () => {
  it('config refuses MCP_CONFORMANCE_FIXTURES=1 unless HOST is loopback', () => {
    for (const HOST of ['0.0.0.0', '10.0.0.5', 'example.com', '::']) {
      expect(() => loadConfig({ HOST, MCP_CONFORMANCE_FIXTURES: '1' }), HOST).toThrow(/MCP_CONFORMANCE_FIXTURES/);
    }
    for (const HOST of ['127.0.0.1', 'localhost', '::1']) {
      expect(loadConfig({ HOST, MCP_CONFORMANCE_FIXTURES: '1' }).conformanceFixtures, HOST).toBe(true);
    }
    expect(loadConfig({ HOST: '127.0.0.1' }).conformanceFixtures).toBe(false);
  });

  it('the endpoint refuses the flag on a host that is not loopback (a Lambda host)', async () => {
    const env = { HOST: '127.0.0.1', MCP_CONFORMANCE_FIXTURES: '1' };
    const config = loadConfig(env);
    const store = new MemoryStore();
    const log = createLogger('silent');
    try {
      const deps = buildDeps(config, store, log, {
        metrics: new PrometheusSource(config.prometheusUrl),
        clusters: clustersFromConfig(config, env),
        policy: loadPolicy(undefined),
        workflows: (d) => new LocalWorkflowEngine({ dispatch: (e) => dispatchStep(e, d), log }),
      });
      expect(() =>
        createMcpEndpoint({
          deps,
          tools: allTools,
          publicUrls: [new URL('https://mcp.example.com/mcp')],
          loopback: false,
        }),
      ).toThrow(/loopback host only/);
    } finally {
      await store.close();
    }
  });

  it('no fixture is one of the server’s own tools (README table, tool snapshots)', () => {
    const own = new Set(allTools.map((t) => t.name));
    expect(FIXTURE_NAMES.filter((n) => own.has(n))).toEqual([]);
  });
});

describe('without the flag', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({ HOST: '127.0.0.1', PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('no fixture tool, prompt or resource is served', async () => {
    const names = await toolNames(server.url);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => FIXTURE_NAMES.includes(n))).toEqual([]);
    const greet = await rpc(server.url, 'tools/call', { name: 'greet', arguments: { name: 'x' } });
    expect(greet.body.error).toMatchObject({ code: -32602, message: 'Tool greet not found' });
    const discover = await rpc(server.url, 'server/discover');
    const caps = discover.body.result?.capabilities as Record<string, unknown>;
    expect(caps.prompts).toBeUndefined();
    expect(caps.resources).toBeUndefined();
    expect((await rpc(server.url, 'prompts/list')).body.error?.code).toBe(-32601);
  });
});

describe('with MCP_CONFORMANCE_FIXTURES=1 on loopback', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const settle = async (taskId: string) => {
    for (let i = 0; i < 100; i++) {
      const r = await rpc(server.url, 'tasks/get', { taskId }, withTasks);
      const status = r.body.result?.status;
      if (status === 'completed' || status === 'failed' || status === 'cancelled') return r.body.result ?? {};
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error(`task ${taskId} did not settle`);
  };

  it('lists every fixture beside the server’s own tools', async () => {
    const names = await toolNames(server.url);
    for (const n of [...FIXTURE_NAMES, 'server_info']) expect(names, n).toContain(n);
  });

  it('slow_compute is a task on an Operation in the Store, and tasks/cancel ends it cancelled', async () => {
    const created = await rpc(
      server.url,
      'tools/call',
      { name: 'slow_compute', arguments: { seconds: 0.2 } },
      withTasks,
    );
    const taskId = created.body.result?.taskId as string;
    expect(created.body.result).toMatchObject({ resultType: 'task', status: 'working' });
    const op = await server.deps.operations.require(taskId);
    expect(op).toMatchObject({ status: 'working', target: { cluster: 'conformance', name: 'compute' } });
    expect(await settle(taskId)).toMatchObject({
      status: 'completed',
      result: { structuredContent: { status: 'completed' } },
    });

    const long = await rpc(server.url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } }, withTasks);
    const longId = long.body.result?.taskId as string;
    expect((await rpc(server.url, 'tasks/cancel', { taskId: longId }, withTasks)).body.result).toMatchObject({
      resultType: 'complete',
    });
    expect(await settle(longId)).toMatchObject({ status: 'cancelled' });
    expect((await server.deps.operations.require(longId)).status).toBe('cancelled');
  });

  it('failing_job is a completed task with isError; protocol_error_job a failed task with its error', async () => {
    const failing = await rpc(server.url, 'tools/call', { name: 'failing_job', arguments: {} }, withTasks);
    expect(await settle(failing.body.result?.taskId as string)).toMatchObject({
      status: 'completed',
      result: { isError: true },
    });
    const broken = await rpc(server.url, 'tools/call', { name: 'protocol_error_job', arguments: {} }, withTasks);
    const ended = await settle(broken.body.result?.taskId as string);
    expect(ended).toMatchObject({ status: 'failed', error: { code: -32603 } });
    expect(ended.result).toBeUndefined();
  });

  it('a task that waits for its client: input_required with inputRequests, resumed by tasks/update, audited', async () => {
    const created = await rpc(server.url, 'tools/call', { name: 'multi_input', arguments: {} }, withTasks);
    const taskId = created.body.result?.taskId as string;
    expect(created.body.result).toMatchObject({ resultType: 'task', status: 'input_required' });
    const asked = await rpc(server.url, 'tasks/get', { taskId }, withTasks);
    expect(asked.body.result).toMatchObject({ status: 'input_required' });
    expect(Object.keys(asked.body.result?.inputRequests as object).sort()).toEqual(['confirm', 'name']);

    // One answer (and one for a key nobody asked for): acknowledged; only the other question is left.
    const partial = await rpc(
      server.url,
      'tasks/update',
      {
        taskId,
        inputResponses: { name: { action: 'accept', content: { name: 'Ada' } }, stray: { action: 'decline' } },
      },
      withTasks,
    );
    expect(partial.body.result).toEqual({ resultType: 'complete', _meta: expect.any(Object) });
    const left = await rpc(server.url, 'tasks/get', { taskId }, withTasks);
    expect(left.body.result).toMatchObject({ status: 'input_required' });
    expect(Object.keys(left.body.result?.inputRequests as object)).toEqual(['confirm']);

    await rpc(
      server.url,
      'tasks/update',
      { taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } },
      withTasks,
    );
    const done = await settle(taskId);
    expect(done).toMatchObject({ status: 'completed', result: { resultType: 'complete' } });
    expect((done.result as { isError?: boolean }).isError).toBeUndefined();
    const op = await server.deps.operations.require(taskId);
    expect(op.clientInput?.responses).toMatchObject({
      name: { content: { name: 'Ada' } },
      confirm: { action: 'accept' },
    });
    const { events } = await server.deps.audit.list({ tool: 'tasks/update', limit: 10 });
    const mine = events.filter((e) => (e.args as { taskId?: string }).taskId === taskId);
    expect(mine.map((e) => (e.args as { keys: string[] }).keys)).toEqual([['confirm'], ['name']]);
  });

  it('a task-only tool refuses a client without tasks: -32021 on 2026-07-28, -32601 on 2025-11-25', async () => {
    const modern = await rpc(server.url, 'tools/call', { name: 'failing_job', arguments: {} });
    expect(modern.status).toBe(400);
    expect(modern.body.error).toMatchObject({ code: -32021 });
    expect(JSON.stringify(modern.body.error)).toContain(EXT);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'failing_job', arguments: {} },
      }),
    });
    expect(((await res.json()) as RpcReply<{ error?: { code: number } }>['body']).error).toMatchObject({
      code: -32601,
    });
  });

  it('a tool can ask its client first, then run as a task with the answer', async () => {
    const caps = { elicitation: {}, ...withTasks };
    const ask = await rpc(server.url, 'tools/call', { name: 'test_tool_with_task', arguments: {} }, caps);
    expect(ask.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { user_name: {} } });
    expect(ask.body.result?.taskId).toBeUndefined();
    const run = await rpc(
      server.url,
      'tools/call',
      {
        name: 'test_tool_with_task',
        arguments: {},
        inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } },
      },
      caps,
    );
    expect(run.body.result).toMatchObject({ resultType: 'task' });
    const done = await settle(run.body.result?.taskId as string);
    expect(JSON.stringify(done.result)).toContain('Hello, Alice!');
  });

  it('a tool that needs a client capability is refused with -32021 (HTTP 400) when the request lacks it', async () => {
    const refused = await rpc(server.url, 'tools/call', { name: 'test_missing_capability', arguments: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: -32021 });
    const allowed = await rpc(
      server.url,
      'tools/call',
      { name: 'test_missing_capability', arguments: {} },
      { sampling: {} },
    );
    expect(allowed.body.result).toMatchObject({ resultType: 'complete' });
    // Both are audited, like any call.
    const { events } = await server.deps.audit.list({ tool: 'test_missing_capability', limit: 5 });
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'error']);
  });

  it('a tool that needs input from the client asks for it (input_required), then runs on the retry', async () => {
    const caps = { elicitation: {} };
    const ask = await rpc(server.url, 'tools/call', { name: 'test_streaming_elicitation', arguments: {} }, caps);
    expect(ask.body.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { name: { method: 'elicitation/create' } },
    });
    const retry = await rpc(
      server.url,
      'tools/call',
      {
        name: 'test_streaming_elicitation',
        arguments: {},
        inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } },
      },
      caps,
    );
    expect(retry.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text' }] });
  });
});
