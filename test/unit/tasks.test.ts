import {
  CallToolResultV1Schema,
  CreateTaskResultV1Schema,
  TaskV1Schema,
} from '@modelcontextprotocol/ext-tasks/core/v1';
import {
  CallToolResultV2Schema,
  CreateTaskResultV2Schema,
  GetTaskResultV2Schema,
} from '@modelcontextprotocol/ext-tasks/core/v2';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { Operation, OperationStatus } from '../../shared/app/repos/operations.ts';
import {
  declaresTasksExtension,
  legacyTask,
  modernDetailedTask,
  modernTask,
  operationResult,
  refuseTaskAugmentation,
  TASKS_EXTENSION_ID,
  wantsTask,
} from '../../shared/mcp/tasks.ts';
import { defineTool, ok } from '../../shared/tools/tool.ts';

const op = (status: OperationStatus, extra: Partial<Operation> = {}): Operation => ({
  id: 'op-6f1c1f0e-1111-4222-8333-944445555666',
  kind: 'rollout',
  target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'web' },
  requester: { subject: 'alice', name: 'Alice' },
  status,
  statusMessage: `now ${status}`,
  input: {},
  changeHash: 'sha256:x',
  steps: [
    { name: 'canary 10%', status: 'done', detail: 'error rate 0.1%' },
    { name: 'full', status: status === 'completed' ? 'done' : 'pending' },
  ],
  progress: { nextActions: [] },
  requests: {},
  createdAt: '2026-11-21T10:00:00.000Z',
  updatedAt: '2026-11-21T10:05:00.000Z',
  ttlSeconds: 604_800,
  pollIntervalMs: 5000,
  ...extra,
});

const ALL: OperationStatus[] = ['working', 'input_required', 'completed', 'failed', 'cancelled'];

describe('operationResult', () => {
  it('summarises status, every step and the result, with the same data structured', () => {
    const r = operationResult(op('completed', { result: { replicas: 3 } }));
    expect(r.isError).toBeUndefined();
    const text = (r.content[0] as { text: string }).text;
    expect(text.split('\n')).toEqual([
      expect.stringMatching(
        /^op-6f1c1f0e-1111-4222-8333-944445555666 rollout deployment\/\S+ in \S+ on \S+: COMPLETED — now completed$/,
      ),
      '[x] canary 10%: error rate 0.1%',
      '[x] full',
      'Result: {"replicas":3}',
    ]);
    expect(r.structuredContent).toMatchObject({
      operationId: 'op-6f1c1f0e-1111-4222-8333-944445555666',
      kind: 'rollout',
      status: 'completed',
      statusMessage: 'now completed',
      steps: op('completed').steps,
      result: { replicas: 3 },
    });
  });

  it('is an error when the operation failed or was cancelled, and only then', () => {
    for (const s of ALL) expect(operationResult(op(s)).isError === true, s).toBe(s === 'failed' || s === 'cancelled');
  });

  it('leaves out the result of an operation that has none', () => {
    const r = operationResult(op('working'));
    expect(r.structuredContent).not.toHaveProperty('result');
    expect((r.content[0] as { text: string }).text).not.toContain('Result:');
  });

  it('is a valid CallToolResult in both eras', () => {
    for (const s of ALL) {
      expect(CallToolResultV1Schema.safeParse(operationResult(op(s))).success, s).toBe(true);
      expect(CallToolResultV2Schema.safeParse({ resultType: 'complete', ...operationResult(op(s)) }).success, s).toBe(
        true,
      );
    }
  });
});

describe('2025-11-25 task shape', () => {
  it('maps the operation record: ttl in ms, pollInterval, timestamps', () => {
    expect(legacyTask(op('working'))).toEqual({
      taskId: 'op-6f1c1f0e-1111-4222-8333-944445555666',
      status: 'working',
      statusMessage: 'now working',
      createdAt: '2026-11-21T10:00:00.000Z',
      lastUpdatedAt: '2026-11-21T10:05:00.000Z',
      ttl: 604_800_000,
      pollInterval: 5000,
    });
  });

  it('keeps the status, except waiting for a human approver, which is working (no input from the client)', () => {
    expect(ALL.map((s) => legacyTask(op(s)).status)).toEqual([
      'working',
      'working',
      'completed',
      'failed',
      'cancelled',
    ]);
  });

  it('validates against the ext-tasks 2025-11-25 schemas', () => {
    for (const s of ALL) {
      expect(TaskV1Schema.safeParse(legacyTask(op(s))).success, s).toBe(true);
      expect(CreateTaskResultV1Schema.safeParse({ task: legacyTask(op(s)) }).success, s).toBe(true);
    }
  });
});

describe('2026-07-28 task shape', () => {
  it('uses ttlMs and pollIntervalMs, in integer milliseconds', () => {
    const t = modernTask(op('working', { ttlSeconds: 1.5, pollIntervalMs: 250.4 }));
    expect(t).toMatchObject({ ttlMs: 1500, pollIntervalMs: 250 });
    expect(t).not.toHaveProperty('ttl');
    expect(t).not.toHaveProperty('pollInterval');
  });

  it('a failed operation is a completed task with an isError result (failed is for JSON-RPC errors)', () => {
    expect(ALL.map((s) => modernTask(op(s)).status)).toEqual([
      'working',
      'working',
      'completed',
      'completed',
      'cancelled',
    ]);
    const failed = modernDetailedTask(op('failed'));
    expect(failed.result).toMatchObject({ resultType: 'complete', isError: true });
    expect(failed).not.toHaveProperty('error');
  });

  it('inlines the result only when completed', () => {
    expect(modernDetailedTask(op('completed')).result).toMatchObject({
      resultType: 'complete',
      structuredContent: { status: 'completed' },
    });
    for (const s of ['working', 'input_required', 'cancelled'] as const) {
      expect(modernDetailedTask(op(s)), s).not.toHaveProperty('result');
    }
  });

  it('an operation that ended on a protocol-level error is failed with its error inline, no result', () => {
    const broken = op('failed', { result: { protocolError: { code: -32603, message: 'Internal error: crashed' } } });
    const detailed = modernDetailedTask(broken);
    expect(detailed).toMatchObject({ status: 'failed', error: { code: -32603, message: 'Internal error: crashed' } });
    expect(detailed).not.toHaveProperty('result');
    expect(modernTask(broken).status).toBe('failed');
    expect(GetTaskResultV2Schema.safeParse({ resultType: 'complete', ...detailed }).success).toBe(true);
    // A malformed marker is not an error object: the tool-level reading (completed, isError) stands.
    const odd = op('failed', { result: { protocolError: 'boom' } });
    expect(modernDetailedTask(odd)).toMatchObject({ status: 'completed', result: { isError: true } });
    // 2025-11-25 has no such distinction: failed either way.
    expect(legacyTask(broken).status).toBe('failed');
  });

  it('input_required is the client’s to answer only when the operation waits for its client', () => {
    const asking = op('input_required', {
      clientInput: {
        requests: {
          confirm: {
            method: 'elicitation/create',
            params: {
              mode: 'form',
              message: 'Delete?',
              requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } } },
            },
          },
        },
        responses: {},
      },
    });
    expect(modernDetailedTask(asking)).toMatchObject({
      status: 'input_required',
      inputRequests: { confirm: { method: 'elicitation/create' } },
    });
    expect(GetTaskResultV2Schema.safeParse({ resultType: 'complete', ...modernDetailedTask(asking) }).success).toBe(
      true,
    );
    // Waiting for a human approver, or with every question answered: working, nothing to answer.
    const answered = op('input_required', { clientInput: { requests: {}, responses: { confirm: {} } } });
    for (const o of [op('input_required'), answered]) {
      expect(modernDetailedTask(o)).toMatchObject({ status: 'working' });
      expect(modernDetailedTask(o)).not.toHaveProperty('inputRequests');
    }
    // 2025-11-25 clients would wait on tasks/result for requests that never come: working there too.
    expect(legacyTask(asking).status).toBe('working');
  });

  it('validates against the ext-tasks 2026-07-28 schemas', () => {
    for (const s of ALL) {
      const get = GetTaskResultV2Schema.safeParse({ resultType: 'complete', ...modernDetailedTask(op(s)) });
      expect(get.success, `${s}: ${get.error?.message}`).toBe(true);
      expect(CreateTaskResultV2Schema.safeParse({ resultType: 'task', ...modernTask(op(s)) }).success, s).toBe(true);
    }
  });
});

describe('who asked for a task', () => {
  const caps = (extensions: Record<string, unknown>) => ({
    _meta: { 'io.modelcontextprotocol/clientCapabilities': { extensions } },
  });

  it('2025-11-25: params.task present', () => {
    expect(wantsTask('legacy', { name: 't', task: {} })).toBe(true);
    expect(wantsTask('legacy', { name: 't', task: { ttl: 1000 } })).toBe(true);
    expect(wantsTask('legacy', { name: 't' })).toBe(false);
    expect(wantsTask('legacy', undefined)).toBe(false);
  });

  it('2026-07-28: the extension in the request capabilities; a legacy params.task means nothing', () => {
    expect(wantsTask('modern', { name: 't', ...caps({ [TASKS_EXTENSION_ID]: {} }) })).toBe(true);
    expect(wantsTask('modern', { name: 't', task: {} })).toBe(false);
    expect(wantsTask('modern', { name: 't', ...caps({ 'io.example/other': {} }) })).toBe(false);
    expect(wantsTask('modern', { name: 't', ...caps({ [TASKS_EXTENSION_ID]: null }) })).toBe(false);
  });

  it('declaresTasksExtension reads a capabilities object defensively', () => {
    expect(declaresTasksExtension({ extensions: { [TASKS_EXTENSION_ID]: {} } })).toBe(true);
    for (const bad of [undefined, null, [], {}, { extensions: [] }, { extensions: { [TASKS_EXTENSION_ID]: true } }]) {
      expect(declaresTasksExtension(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('refuses task augmentation only for 2025 calls to tools without task support', () => {
    const base = {
      group: 'ops' as const,
      access: 'read' as const,
      input: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: async () => ok('x'),
    };
    const plain = defineTool({ ...base, name: 'a_b_get', title: 'A', description: 'A' });
    const taskTool = defineTool({ ...base, name: 'a_b_start', title: 'B', description: 'B', taskSupport: 'optional' });
    expect(refuseTaskAugmentation('legacy', plain, { task: {} })).toMatch(/a_b_get does not support task execution/);
    expect(refuseTaskAugmentation('legacy', plain, {})).toBeUndefined();
    expect(refuseTaskAugmentation('legacy', taskTool, { task: {} })).toBeUndefined();
    expect(refuseTaskAugmentation('legacy', undefined, { task: {} })).toBeUndefined();
    expect(refuseTaskAugmentation('modern', plain, { task: {} })).toBeUndefined();
  });
});
