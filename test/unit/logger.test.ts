import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';

function capture() {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (s: string) => lines.push(s) });
  return { log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
const KEY = 'cmk_abcdef123456_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('logger', () => {
  it('masks credentials in every field, not only in the message, and keeps the rest', () => {
    const { log, records } = capture();
    log.error(
      { err: `GET /x failed: Authorization: Bearer ${JWT} password=hunter2`, headers: { 'x-api-key': KEY }, tool: 't' },
      `request with ${KEY} failed`,
    );
    log.warn({ err: new Error(`token=${KEY}`) }, 'an Error object');
    const text = JSON.stringify(records());
    for (const secret of [JWT, KEY, 'hunter2']) expect(text).not.toContain(secret);
    const [first, second] = records();
    expect(first).toMatchObject({ level: 'error', tool: 't', headers: { 'x-api-key': '[REDACTED]' } });
    expect(String(first?.err)).toContain('GET /x failed');
    expect(String(first?.msg)).toContain('[REDACTED API KEY]');
    expect(second?.err).toBe('Error: token=[REDACTED API KEY]');
  });

  it('leaves child bindings (request id, caller) on every line', () => {
    const { log, records } = capture();
    log.child({ requestId: 'r-1', caller: 'alice' }).info({ status: 200 }, 'request');
    expect(records()[0]).toMatchObject({ requestId: 'r-1', caller: 'alice', status: 200, msg: 'request' });
  });
});
