import { describe, expect, it } from 'vitest';
import { maskSecretsInText, redactSecrets } from '../../shared/domain/redact.ts';

/**
 * Redaction runs on caller text (audit arguments, manifest values) and on cluster text (logs,
 * events). A pattern that backtracks quadratically lets one request stall the process: each shape
 * below was quadratic in some version of the text rules (`a-a-…` against the URL-credentials
 * pattern, `eyJ-eyJ-…` against the JWT pattern) or stresses a rule the same way. Linear rules mask
 * 512 KiB of any of them in tens of milliseconds; a quadratic one takes minutes. The bound is that
 * of a stall, 100 times what a linear rule needs, so a busy machine does not fail it.
 */
const SIZE = 512 * 1024;
const SHAPES = [
  'a-',
  'a:',
  'eyJ-',
  '-eyJ',
  'eyJa.',
  'a.',
  'x://a:',
  '--a ',
  '"a":',
  'password=',
  'mysql -p',
  'curl -u a:',
  '{name: a, value: ',
  '- --password\n',
  '\\"a\\":\\"',
  'jdbc:oracle:a:',
];

describe('redaction never stalls on hostile text', () => {
  for (const shape of SHAPES) {
    it(`${JSON.stringify(shape)} x ${SIZE / 1024} KiB`, () => {
      const text = shape.repeat(Math.ceil(SIZE / shape.length)).slice(0, SIZE);
      const started = performance.now();
      const masked = maskSecretsInText(text);
      redactSecrets({ env: [{ name: 'DB_PASSWORD', value: text }], note: text });
      const ms = performance.now() - started;
      expect(typeof masked).toBe('string');
      expect(ms).toBeLessThan(10_000);
    });
  }

  it('still masks a JWT and URL credentials found inside long runs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const text = `${'eyJ-'.repeat(10_000)} ${jwt} ${'a-'.repeat(10_000)} postgres://app:hunter2@db:5432/app`;
    const masked = maskSecretsInText(text);
    expect(masked).not.toContain('dozjgNryP4J3');
    expect(masked).not.toContain('hunter2');
    expect(masked).toContain('[REDACTED JWT]');
    expect(maskSecretsInText(`x-${jwt}.tail`)).toBe('x-[REDACTED JWT].tail');
  });
});
