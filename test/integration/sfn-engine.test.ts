import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFunctionsEngine } from '../../shared/adapters/aws/sfn-engine.ts';

/**
 * A loopback server speaking the Step Functions wire protocol (awsJson1_0) for the three calls
 * the adapter makes, so the real @aws-sdk/client-sfn serializes and parses every exchange.
 */
function fakeSfn(): Promise<{
  url: string;
  calls: Array<{ target: string; body: Record<string, unknown> }>;
  server: Server;
}> {
  const executions = new Map<string, { status: string; output?: string; input: string }>();
  const calls: Array<{ target: string; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => {
      raw += d.toString();
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
      const body = JSON.parse(raw || '{}') as Record<string, string>;
      calls.push({ target, body });
      const send = (status: number, payload: unknown, type?: string) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        res.end(JSON.stringify(type ? { __type: type, message: String(payload) } : payload));
      };
      if (target === 'StartExecution') {
        const arn = `${String(body.stateMachineArn).replace(':stateMachine:', ':execution:')}:${body.name}`;
        if (executions.has(arn)) return send(400, `Execution Already Exists: '${arn}'`, 'ExecutionAlreadyExists');
        executions.set(arn, { status: 'RUNNING', input: String(body.input) });
        return send(200, { executionArn: arn, startDate: Date.now() / 1000 });
      }
      const e = executions.get(String(body.executionArn));
      if (!e) return send(400, `Execution does not exist: '${body.executionArn}'`, 'ExecutionDoesNotExist');
      if (target === 'DescribeExecution') {
        return send(200, {
          executionArn: body.executionArn,
          status: e.status,
          startDate: Date.now() / 1000,
          input: e.input,
          ...(e.output ? { output: e.output } : {}),
        });
      }
      if (target === 'StopExecution') {
        e.status = 'ABORTED';
        return send(200, { stopDate: Date.now() / 1000 });
      }
      return send(400, 'unknown operation', 'UnknownOperationException');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server }),
    ),
  );
}

describe('Step Functions engine (client-sfn against a loopback SFN endpoint)', () => {
  let sfn: Awaited<ReturnType<typeof fakeSfn>>;
  let engine: StepFunctionsEngine;
  const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:cloudops-rollout';

  beforeAll(async () => {
    sfn = await fakeSfn();
    const client = new SFNClient({
      region: 'eu-west-1',
      endpoint: sfn.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    engine = new StepFunctionsEngine(client, { rollout: machine });
  });
  afterAll(() => new Promise<void>((r) => sfn.server.close(() => r())));

  it('starts with the operation id as execution name; a retried start is idempotent', async () => {
    const first = await engine.start('rollout', 'op-123', { operationId: 'op-123' });
    expect(first).toEqual({
      executionId: `${machine.replace(':stateMachine:', ':execution:')}:op-123`,
      alreadyStarted: false,
    });
    const again = await engine.start('rollout', 'op-123', { operationId: 'op-123' });
    expect(again).toEqual({ executionId: first.executionId, alreadyStarted: true });
    expect(sfn.calls.filter((c) => c.target === 'StartExecution').map((c) => c.body)).toEqual([
      { stateMachineArn: machine, name: 'op-123', input: '{"operationId":"op-123"}' },
      { stateMachineArn: machine, name: 'op-123', input: '{"operationId":"op-123"}' },
    ]);
  });

  it('describes and stops executions; an unknown one is undefined', async () => {
    const { executionId } = await engine.start('rollout', 'op-456', { operationId: 'op-456' });
    expect(await engine.describe(executionId)).toEqual({ status: 'RUNNING' });
    await engine.stop(executionId, 'cancelled by alice');
    expect(await engine.describe(executionId)).toEqual({ status: 'ABORTED' });
    expect(await engine.describe(`${machine.replace(':stateMachine:', ':execution:')}:nope`)).toBeUndefined();
  });
});
