import { describe, expect, it } from 'vitest';
import { boundLogText, boundRows, boundText, maskLogText } from '../../shared/domain/k8s/index.ts';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('boundRows', () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ name: `pod-${i}`, status: 'Running' }));
  const rowBytes = bytes(JSON.stringify(rows[0])); // every row has the same size

  it('keeps everything when the rows fit, and reports their JSON size', () => {
    const out = boundRows(rows, 10_000);
    expect(out.rows).toHaveLength(10);
    expect(out.omitted).toBe(0);
    expect(out.bytes).toBe(bytes(JSON.stringify(rows)));
  });

  it('keeps rows that fit exactly at the budget and drops the row one byte over', () => {
    const threeRows = bytes(JSON.stringify(rows.slice(0, 3)));
    expect(threeRows).toBe(2 + 3 * rowBytes + 2);
    const exact = boundRows(rows, threeRows);
    expect(exact).toEqual({ rows: rows.slice(0, 3), omitted: 7, bytes: threeRows });
    const under = boundRows(rows, threeRows - 1);
    expect(under.rows).toHaveLength(2);
    expect(under.omitted).toBe(8);
    expect(under.bytes).toBe(bytes(JSON.stringify(rows.slice(0, 2))));
  });

  it('always keeps one row, even when it alone is over budget', () => {
    const huge = [{ name: 'x'.repeat(5000) }, { name: 'small' }];
    const out = boundRows(huge, 100);
    expect(out.rows).toEqual([huge[0]]);
    expect(out.omitted).toBe(1);
    expect(out.bytes).toBe(bytes(JSON.stringify([huge[0]])));
  });

  it('measures UTF-8 bytes, not characters', () => {
    const wide = [{ msg: '日本語のログ' }, { msg: '日本語のログ' }]; // 6 chars, 18 bytes each
    const one = bytes(JSON.stringify([wide[0]]));
    expect(one).toBe(JSON.stringify([wide[0]]).length + 12);
    const out = boundRows(wide, one + 10); // room for 10 more characters but not 10 more bytes' worth of a row
    expect(out.rows).toHaveLength(1);
    expect(boundRows(wide, bytes(JSON.stringify(wide))).rows).toHaveLength(2);
  });

  it('handles no rows', () => {
    expect(boundRows([], 100)).toEqual({ rows: [], omitted: 0, bytes: 2 });
  });
});

describe('boundText', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `2026-11-21T12:00:${String(i % 60).padStart(2, '0')}Z line ${i}`);
  const log = `${lines.join('\n')}\n`;

  it('returns text that fits unchanged', () => {
    expect(boundText(log, bytes(log), 'start')).toEqual({ text: log, truncated: false, omittedBytes: 0 });
  });

  it('cuts logs from the start on a line boundary, keeping the newest lines, and says how to see more', () => {
    const out = boundText(log, 500, 'start');
    expect(out.truncated).toBe(true);
    expect(bytes(out.text)).toBeLessThanOrEqual(500);
    expect(out.text.endsWith('line 99\n')).toBe(true);
    const firstKept = out.text.split('\n')[0] ?? '';
    expect(lines).toContain(firstKept); // a whole line, not a fragment
    const keptLines = out.text.split('\n').length - 1;
    expect(bytes(out.text) + out.omittedBytes).toBe(bytes(log));
    // one more line would not have fitted
    expect(bytes(lines.slice(99 - keptLines).join('\n')) + 1).toBeGreaterThan(500);
    expect(out.notice).toContain(
      `omitted the oldest ${100 - keptLines} lines (${out.omittedBytes.toLocaleString('en-US')} bytes)`,
    );
    expect(out.notice).toContain('to fit the 500-byte output budget; showing the newest');
    expect(out.notice).toContain('sinceSeconds or tailLines');
  });

  it('cuts from the end when asked, keeping the beginning', () => {
    const out = boundText(log, 500, 'end');
    expect(out.text.startsWith('2026-11-21T12:00:00Z line 0\n')).toBe(true);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(bytes(out.text)).toBeLessThanOrEqual(500);
    expect(out.text + log.slice(out.text.length)).toBe(log);
    expect(out.notice).toContain('omitted the last');
    expect(boundText(log, 500, 'end', { hint: 'Use describe for details.' }).notice).toContain(
      'Use describe for details.',
    );
  });

  it('keeps a line that ends exactly at the budget', () => {
    const text = 'aaaa\nbbbb\ncccc\n'; // 15 bytes, lines of 5
    expect(boundText(text, 10, 'start').text).toBe('bbbb\ncccc\n');
    expect(boundText(text, 9, 'start').text).toBe('cccc\n');
    expect(boundText(text, 10, 'end').text).toBe('aaaa\nbbbb\n');
    expect(boundText(text, 9, 'end').text).toBe('aaaa\n');
  });

  it('cuts inside a single line longer than the budget, never inside a UTF-8 character', () => {
    const emoji = '🚀'.repeat(100); // 4 bytes each
    const start = boundText(`header\n${emoji}`, 10, 'start');
    expect(start.text).toBe('🚀🚀'); // 8 bytes: a third rocket would need 12
    expect(start.notice).toContain('shown cut');
    const end = boundText(`${emoji}\nfooter`, 10, 'end');
    expect(end.text).toBe('🚀🚀');
    expect(end.text).not.toContain('\uFFFD');
    const mixed = boundText(`ab${'é'.repeat(10)}`, 5, 'start');
    expect(mixed.text).toBe('éé');
    expect(mixed.omittedBytes).toBe(bytes(`ab${'é'.repeat(10)}`) - 4);
  });

  it('counts bytes as UTF-8 for the line cut as well', () => {
    const text = 'ログ一\nログ二\nログ三\n'; // 10 bytes per line
    const out = boundText(text, 25, 'start');
    expect(out.text).toBe('ログ二\nログ三\n');
    expect(out.omittedBytes).toBe(10);
    expect(out.notice).toContain('oldest 1 line (10 bytes)');
  });

  it('returns nothing for a zero budget', () => {
    const out = boundText('abc\n', 0, 'start');
    expect(out).toMatchObject({ text: '', truncated: true, omittedBytes: 4 });
  });
});

describe('maskLogText', () => {
  it('masks what maskSecretsInText masks', () => {
    const out = maskLogText('GET /health Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl');
    expect(out).not.toContain('c2lnbmF0dXJl');
  });

  it('masks credentials that are common in logs', () => {
    const secrets = [
      'hunter2-db',
      'Zm9vYmFyYmF6',
      'cl13nt-s3cr3t',
      'qwerty-refresh',
      'AIzaSyA1234567890abcdefghijklmnopqrstuv',
      'gho_16C7e42F292c6912E7710c838347Ae178B4a',
      'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      'rabbitpass',
      'k3y-from-query',
      'abcXYZ123apikey',
    ];
    const log = [
      'connecting with DB_PASSWORD=hunter2-db',
      '{"level":"info","msg":"login","password":"Zm9vYmFyYmF6","user":"bob"}',
      "config loaded: {'client_secret': 'cl13nt-s3cr3t', 'region': 'eu-west-1'}",
      'refresh_token=qwerty-refresh expires_in=3600',
      'maps key AIzaSyA1234567890abcdefghijklmnopqrstuv',
      'gh token gho_16C7e42F292c6912E7710c838347Ae178B4a',
      'charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      'amqp://guest:rabbitpass@rabbitmq.shop.svc:5672/',
      'GET /callback?code=1&access_token=k3y-from-query&state=x',
      'X-Api-Key: abcXYZ123apikey',
    ].join('\n');
    const out = maskLogText(log);
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).toContain('"user":"bob"');
    expect(out).toContain("'region': 'eu-west-1'");
    expect(out).toContain('expires_in=3600');
    expect(out).toContain('amqp://guest:[REDACTED]@rabbitmq.shop.svc:5672/');
    expect(out).toContain('code=1&access_token=[REDACTED]&state=x');
  });

  it('leaves ordinary log lines alone', () => {
    const log = [
      'I1121 12:00:00.000000       1 controller.go:120] synced deployment shop/web',
      'tokens_used=512 token_count=3 passwordless=true',
      '{"level":"warn","msg":"retrying","attempt":3}',
    ].join('\n');
    expect(maskLogText(log)).toBe(log);
  });

  it('boundLogText masks before cutting, so a cut cannot leave part of a credential', () => {
    const token = 'A1b2C3d4'.repeat(12);
    const log = `starting\nAuthorization: Bearer ${token}`;
    // Cutting first would keep the last 30 bytes of the token itself.
    expect(boundText(log, 30, 'start').text).toBe(token.slice(-30));
    const out = boundLogText(log, 30);
    expect(out.truncated).toBe(true);
    expect(out.text).not.toContain('A1b2');
    expect(out.text.endsWith('[REDACTED]')).toBe(true);
  });
});
