import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { CLIENT_INPUT_LIMITS } from '../../shared/mcp/tool-call.ts';
import { rpc, startFixtureServer } from '../support/fixture-host.ts';

/*
 * Multi-round-trip input (2026-07-28, SEP-2322) through the tool wrapper: a tool that declares
 * asksClient answers input_required and finishes on the retry with the answers; the requestState it
 * asked to keep comes back sealed by the server and is refused when altered, replayed to another
 * tool, or too large; inputResponses are bounded. A tool that does not ask ignores both.
 */

const ALL_CAPS = { elicitation: {}, sampling: {}, roots: {} };

interface Reply {
  status: number;
  body: {
    result?: Record<string, unknown> & { requestState?: string; inputRequests?: Record<string, { method: string }> };
    error?: { code: number; message: string; data?: Record<string, unknown> };
  };
}

/** A tools/call of a fixture tool, by a client declaring every capability a tool may ask for. */
const call = (url: string, name: string, extra: Record<string, unknown> = {}): Promise<Reply> =>
  rpc<Reply['body']>(url, 'tools/call', { name, arguments: {}, ...extra }, ALL_CAPS);

const accept = (content: Record<string, unknown>) => ({ action: 'accept', content });
const text = (r: Reply) => (r.body.result?.content as Array<{ text?: string }> | undefined)?.[0]?.text;

describe('a tool that asks its client (fixtures)', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startFixtureServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('completes over several rounds, the sealed state changing each round', async () => {
    const tool = 'test_input_required_result_multi_round';
    const r1 = await call(server.url, tool);
    expect(r1.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { step1: {} } });
    const s1 = r1.body.result?.requestState;
    expect(typeof s1).toBe('string');
    const r2 = await call(server.url, tool, { inputResponses: { step1: accept({ name: 'Ada' }) }, requestState: s1 });
    expect(r2.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { step2: {} } });
    const s2 = r2.body.result?.requestState;
    expect(s2).not.toBe(s1);
    const r3 = await call(server.url, tool, { inputResponses: { step2: accept({ color: 'teal' }) }, requestState: s2 });
    expect(r3.body.result).toMatchObject({ resultType: 'complete' });
    // The name came through the state the client carried, not through this round's answers.
    expect(text(r3)).toBe('Ada likes teal.');
    // Answering round 2 with round 1's state asks step 2 again: the state, not the answers, says where the call is.
    const stale = await call(server.url, tool, {
      inputResponses: { step2: accept({ color: 'teal' }) },
      requestState: s1,
    });
    expect(stale.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { step1: {} } });
  });

  it('refuses a tampered requestState, and one replayed to another tool (-32602)', async () => {
    const first = await call(server.url, 'test_input_required_result_request_state');
    const state = first.body.result?.requestState as string;
    const answers = { confirm: accept({ ok: true }) };
    const good = await call(server.url, 'test_input_required_result_request_state', {
      inputResponses: answers,
      requestState: state,
    });
    expect(text(good)).toMatch(/state-ok/);

    // One character of the payload changed: its MAC no longer matches.
    const [version, body, mac] = state.split('.') as [string, string, string];
    const flipped = `${version}.${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${mac}`;
    for (const bad of [`${state}-TAMPERED`, flipped, 'not-a-state']) {
      const r = await call(server.url, 'test_input_required_result_request_state', {
        inputResponses: answers,
        requestState: bad,
      });
      expect(r.body.error, bad).toMatchObject({ code: -32602, data: { reason: 'invalid_request_state' } });
      expect(r.body.error?.message).toMatch(/^Invalid or expired requestState/);
    }
    // Valid, but sealed for another tool.
    const replay = await call(server.url, 'test_input_required_result_tampered_state', {
      inputResponses: answers,
      requestState: state,
    });
    expect(replay.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/another tool/) });
    // Each refusal is audited like any call.
    const { events } = await server.deps.audit.list({ tool: 'test_input_required_result_request_state', limit: 10 });
    expect(events.filter((e) => e.outcome === 'error')).toHaveLength(3);
  });

  it('bounds inputResponses and requestState', async () => {
    const many = Object.fromEntries(
      Array.from({ length: CLIENT_INPUT_LIMITS.responses + 1 }, (_, i) => [`k${i}`, accept({ name: 'x' })]),
    );
    const tooMany = await call(server.url, 'test_input_required_result_elicitation', { inputResponses: many });
    expect(tooMany.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/at most 16/) });

    const big = { user_name: accept({ name: 'x'.repeat(CLIENT_INPUT_LIMITS.responseBytes) }) };
    const tooBig = await call(server.url, 'test_input_required_result_elicitation', { inputResponses: big });
    expect(tooBig.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/exceeds 65536 bytes/) });

    const longState = 'v1.'.padEnd(CLIENT_INPUT_LIMITS.stateChars + 1, 'A');
    const tooLong = await call(server.url, 'test_input_required_result_request_state', { requestState: longState });
    expect(tooLong.body.error).toMatchObject({ code: -32602, data: { reason: 'invalid_request_state' } });

    // Within the bounds, extra answers are ignored.
    const ok = await call(server.url, 'test_input_required_result_elicitation', {
      inputResponses: { user_name: accept({ name: 'Ada' }), extra: accept({}) },
    });
    expect(text(ok)).toBe('Hello, Ada!');
  });
});

describe('a tool that does not ask (no fixtures)', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({ HOST: '127.0.0.1', PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ignores inputResponses and requestState, however many or malformed', async () => {
    const plain = await call(server.url, 'server_info');
    expect(plain.body.result).toMatchObject({ resultType: 'complete' });
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, accept({})]));
    const withInput = await call(server.url, 'server_info', { inputResponses: many, requestState: 'forged' });
    expect(withInput.body.error).toBeUndefined();
    expect(withInput.body.result).toMatchObject({ resultType: 'complete' });
    expect(withInput.body.result?.isError).toBeUndefined();
  });
});
