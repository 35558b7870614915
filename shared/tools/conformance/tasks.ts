import { acceptedContent, inputRequired } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Deps } from '../../app/deps.ts';
import { isTerminal, type Operation } from '../../app/repos/operations.ts';
import { errorText } from '../../domain/errors.ts';
import { defineTool, ok, type ToolContext } from '../tool.ts';

/*
 * The task fixtures of the MCP conformance suite (io.modelcontextprotocol/tasks scenarios), on the
 * real task machinery: each starts an Operation in the Store, answers at once with its
 * operationId (as delivery_rollouts_start does), and the tool wrapper and the tasks layer turn it
 * into a task. A small in-process runner then plays the workflow's part, moving the operation on in
 * the Store and honouring the abort request that tasks/cancel and ops_operations_cancel set.
 */

const quiet = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

/** Longest a fixture job may run (the suite asks for 60 s; its runs are cancelled well before). */
const MAX_SECONDS = 120;
/** How often the runner re-reads the operation for an abort request. */
const TICK_MS = 100;

type Ending = (op: Operation) => void;

interface Job {
  name: string;
  label: string;
  seconds: number;
  statusMessage: string;
  end: Ending;
  /** Input to ask the client for first (elicitation requests by key); the job runs once all are answered. */
  ask?: Record<string, Record<string, unknown>>;
}

async function startJob(ctx: ToolContext, job: Job) {
  const { deps } = ctx;
  const op = await deps.operations.create({
    id: deps.operations.newId(),
    // The Operation record has one kind; a fixture is told apart by its target (cluster `conformance`).
    kind: 'rollout',
    target: { cluster: 'conformance', namespace: '-', kind: 'ConformanceFixture', name: job.label },
    requester: { subject: ctx.identity.subject, name: ctx.identity.name },
    status: job.ask ? 'input_required' : 'working',
    statusMessage: job.statusMessage,
    ...(job.ask ? { clientInput: { requests: job.ask, responses: {} } } : {}),
    input: { tool: job.name, label: job.label, seconds: job.seconds },
    changeHash: `fixture:${job.name}`,
    steps: [{ name: job.name, status: 'running', startedAt: new Date(deps.clock.now()).toISOString() }],
    progress: { nextActions: [] },
    requests: {},
    ttlSeconds: 3600,
    pollIntervalMs: 200,
  });
  runJob(deps, op.id, job.seconds * 1000, job.end);
  return ok(`Started ${job.name} as operation ${op.id}; follow it with its task or ops_operations_get.`, {
    operationId: op.id,
    status: op.status,
  });
}

/**
 * Plays the workflow: once the client has answered what the job asked (if anything), and `ms` have
 * passed, the operation ends as `end` says; an abort request ends it `cancelled` first (nothing to
 * roll back), and a job still waiting for its client after MAX_SECONDS fails. Timers are unref'd so
 * a closing host is never kept alive by a fixture.
 */
function runJob(deps: Deps, id: string, ms: number, end: Ending): void {
  const started = performance.now();
  let due = started + ms;
  const tick = async () => {
    const op = await deps.operations.get(id);
    if (!op || isTerminal(op.status)) return;
    const waiting = Object.keys(op.clientInput?.requests ?? {}).length > 0;
    if (waiting && !op.requests.abort) {
      if (performance.now() - started > MAX_SECONDS * 1000) {
        await deps.operations.update(id, (o) => {
          o.status = 'failed';
          o.statusMessage = `no answer from the client within ${MAX_SECONDS} s`;
          return undefined;
        });
        return;
      }
      due = performance.now() + ms;
      schedule(TICK_MS);
      return;
    }
    if (op.requests.abort) {
      await deps.operations.update(id, (o) => {
        o.status = 'cancelled';
        o.statusMessage = `cancelled by ${o.requests.abort?.by ?? 'request'}`;
        for (const s of o.steps) if (s.status === 'running') s.status = 'skipped';
        return undefined;
      });
      return;
    }
    if (performance.now() >= due) {
      await deps.operations.update(id, (o) => {
        end(o);
        for (const s of o.steps) {
          if (s.status !== 'running') continue;
          s.status = o.status === 'completed' ? 'done' : 'failed';
          s.endedAt = o.updatedAt;
        }
        return undefined;
      });
      return;
    }
    schedule(Math.min(TICK_MS, Math.max(0, due - performance.now())));
  };
  const schedule = (after: number) => {
    setTimeout(() => {
      tick().catch((err: unknown) => deps.log.error({ operationId: id, err: errorText(err) }, 'fixture job failed'));
    }, after).unref();
  };
  schedule(0);
}

export const slowComputeTool = defineTool({
  name: 'slow_compute',
  title: 'Slow compute (conformance fixture)',
  description: 'Conformance fixture: an operation that computes for `seconds` seconds, then completes.',
  group: 'core',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({
    seconds: z.number().min(0).max(MAX_SECONDS).default(1),
    label: z.string().max(100).default('compute'),
  }),
  annotations: quiet,
  handler: (input, ctx) =>
    startJob(ctx, {
      name: 'slow_compute',
      label: input.label,
      seconds: input.seconds,
      statusMessage: `computing ${input.label} for ${input.seconds} s`,
      end: (o) => {
        o.status = 'completed';
        o.statusMessage = `computed ${input.label}`;
        o.result = { label: input.label, seconds: input.seconds };
      },
    }),
});

export const failingJobTool = defineTool({
  name: 'failing_job',
  title: 'Failing job (conformance fixture)',
  description:
    'Conformance fixture: an operation that fails (a tool-level error) after about a second. Runs only as a task.',
  group: 'core',
  access: 'write',
  taskSupport: 'required',
  input: z.object({}),
  annotations: quiet,
  handler: (_input, ctx) =>
    startJob(ctx, {
      name: 'failing_job',
      label: 'failing-job',
      seconds: 1,
      statusMessage: 'running a job that will fail',
      end: (o) => {
        o.status = 'failed';
        o.statusMessage = 'the job failed: the fixture always fails';
        o.result = { error: 'the fixture always fails' };
      },
    }),
});

export const protocolErrorJobTool = defineTool({
  name: 'protocol_error_job',
  title: 'Protocol error job (conformance fixture)',
  description: 'Conformance fixture: an operation that ends on an internal (protocol-level) error.',
  group: 'core',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({}),
  annotations: quiet,
  handler: (_input, ctx) =>
    startJob(ctx, {
      name: 'protocol_error_job',
      label: 'protocol-error-job',
      seconds: 0.5,
      statusMessage: 'running a job that will hit an internal error',
      end: (o) => {
        o.status = 'failed';
        o.statusMessage = 'the job hit an internal error';
        // An operation that ended on a protocol-level error (shared/mcp/tasks.ts, operationProtocolError).
        o.result = { protocolError: { code: -32603, message: 'Internal error: the fixture job crashed' } };
      },
    }),
});

const confirmRequest = (message: string) => ({
  method: 'elicitation/create',
  params: {
    mode: 'form',
    message,
    requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] },
  },
});

/** What the client answered for `key`, as the text of a result. */
const answer = (o: Operation, key: string) => JSON.stringify(o.clientInput?.responses[key] ?? null).slice(0, 200);

export const confirmDeleteTool = defineTool({
  name: 'confirm_delete',
  title: 'Confirm delete (conformance fixture)',
  description:
    'Conformance fixture: a task that asks its client to confirm (elicitation) and completes once answered. Deletes nothing.',
  group: 'core',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({ filename: z.string().max(200).default('file.txt') }),
  annotations: quiet,
  handler: (input, ctx) =>
    startJob(ctx, {
      name: 'confirm_delete',
      label: input.filename,
      seconds: 0,
      statusMessage: `waiting for the client to confirm deleting ${input.filename}`,
      ask: { confirm: confirmRequest(`Delete ${input.filename}?`) },
      end: (o) => {
        o.status = 'completed';
        o.statusMessage = `answered: ${answer(o, 'confirm')} (nothing is deleted: a fixture)`;
        o.result = { filename: input.filename, answer: o.clientInput?.responses.confirm ?? null };
      },
    }),
});

export const multiInputTool = defineTool({
  name: 'multi_input',
  title: 'Multi input (conformance fixture)',
  description:
    'Conformance fixture: a task that asks its client two questions at once and completes once both are answered.',
  group: 'core',
  access: 'write',
  taskSupport: 'optional',
  input: z.object({}),
  annotations: quiet,
  handler: (_input, ctx) =>
    startJob(ctx, {
      name: 'multi_input',
      label: 'multi-input',
      seconds: 0,
      statusMessage: 'waiting for the client to answer two questions',
      ask: {
        name: {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: 'What is your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          },
        },
        confirm: confirmRequest('Go ahead?'),
      },
      end: (o) => {
        o.status = 'completed';
        o.statusMessage = `answered: name ${answer(o, 'name')}, confirm ${answer(o, 'confirm')}`;
        o.result = { answers: o.clientInput?.responses ?? {} };
      },
    }),
});

/**
 * Asks its client for a name first (a 2026-07-28 multi-round-trip elicitation, ToolContext.clientInput),
 * then runs as a task whose result carries that name.
 */
export const toolWithTaskTool = defineTool({
  name: 'test_tool_with_task',
  title: 'test_tool_with_task (conformance fixture)',
  description: 'Conformance fixture: asks the client for a name, then greets it from a task.',
  group: 'core',
  access: 'write',
  taskSupport: 'required',
  asksClient: true,
  input: z.object({}),
  annotations: quiet,
  handler: async (_input, ctx) => {
    const answered = acceptedContent(ctx.clientInput?.responses, 'user_name');
    if (!answered && ctx.clientInput) {
      return ctx.clientInput.ask({
        user_name: inputRequired.elicit({
          message: 'What is your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        }),
      });
    }
    const name = typeof answered?.name === 'string' ? answered.name.slice(0, 100) : 'nobody';
    return startJob(ctx, {
      name: 'test_tool_with_task',
      label: 'greeting',
      seconds: 0.2,
      statusMessage: `greeting ${name}`,
      end: (o) => {
        o.status = 'completed';
        o.statusMessage = `Hello, ${name}!`;
        o.result = { greeting: `Hello, ${name}!` };
      },
    });
  },
});
