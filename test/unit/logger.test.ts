import { describe, expect, it } from 'vitest';
import { createLogger, LOG_LINE_BYTES, LOG_STRING_BYTES } from '../../shared/logging/logger.ts';

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

  const MARK = /…\[truncated \d+ bytes\]$/;
  const cases: Array<[string, (log: ReturnType<typeof createLogger>) => void]> = [
    ['a 1 MB field', (log) => log.info({ args: { manifest: 'x'.repeat(1 << 20) } }, 'call')],
    [
      'a 10 KB tool name in a child binding',
      (log) => log.child({ tool: 't'.repeat(10_240), requestId: 'r' }).info('call'),
    ],
    [
      'a 5 KB header quoted in an error',
      (log) => log.warn({ err: new Error(`Mcp-Name header ${'n'.repeat(5120)} does not match`) }, 'mcp protocol error'),
    ],
    ['a 1 MB message', (log) => log.error(`request ${'m'.repeat(1 << 20)} failed`)],
    [
      'a huge JSON-RPC id among many fields',
      (log) =>
        log.info(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, `${i}`.repeat(7000)])), 'many'),
    ],
    ['a multi-byte user agent', (log) => log.info({ headers: { 'user-agent': '€'.repeat(20_000) } }, 'ua')],
    [
      'a deep nest of arrays',
      (log) => {
        let v: unknown = 'leaf';
        for (let i = 0; i < 5000; i++) v = [v];
        log.info({ deep: v }, 'deep');
      },
    ],
  ];
  for (const [what, write] of cases) {
    it(`bounds ${what}: every string capped with a visible marker, the line within its cap`, () => {
      const { log, records } = capture();
      write(log);
      const [rec] = records();
      expect(rec).toBeDefined();
      const line = JSON.stringify(rec);
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(LOG_LINE_BYTES + 2 * 1024);
      expect(line).not.toContain('\ufffd');
      const strings: string[] = [];
      const walk = (v: unknown): void => {
        if (typeof v === 'string') strings.push(v);
        else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
      };
      walk(rec);
      for (const s of strings) expect(Buffer.byteLength(s)).toBeLessThanOrEqual(LOG_STRING_BYTES);
      // Inputs over a cap show the cut; a 5 KB header fits under the string cap and is kept whole.
      const cut = strings.some((s) => MARK.test(s) || /omitted/.test(s));
      expect(cut).toBe(!what.includes('5 KB'));
    });
  }
});
