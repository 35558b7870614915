import { describe, expect, it } from 'vitest';
import { capJson, maskSecretsInText, REDACTED, redactSecrets } from '../../shared/domain/redact.ts';

describe('redaction', () => {
  it('replaces values of secret-named keys at any depth, keeps the rest', () => {
    const out = redactSecrets({
      name: 'web',
      password: 'hunter2',
      nested: { apiKey: 'k', client_secret: 's', tokens: ['a'], tokenCount: 3, passwordPolicy: 'strict' },
      env: [{ name: 'DB_PASSWORD', value: 'v' }],
    });
    expect(out).toEqual({
      name: 'web',
      password: REDACTED,
      nested: { apiKey: REDACTED, client_secret: REDACTED, tokens: REDACTED, tokenCount: 3, passwordPolicy: 'strict' },
      env: [{ name: 'DB_PASSWORD', value: 'v' }],
    });
  });

  it('masks credentials inside text', () => {
    const text = [
      'key AKIAIOSFODNN7EXAMPLE used',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'Authorization: Bearer abc.def-ghi_jkl',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
      'cmk_0123456789ab_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
      'password=swordfish',
    ].join('\n');
    const masked = maskSecretsInText(text);
    for (const secret of [
      'AKIAIOSFODNN7EXAMPLE',
      'wJalrXUtnFEMI',
      'abc.def-ghi_jkl',
      'MIIEow',
      'c2lnbmF0dXJl',
      'abcdefghijklmnop',
      'swordfish',
    ]) {
      expect(masked).not.toContain(secret);
    }
    expect(masked).toContain('key [REDACTED AWS KEY ID] used');
  });

  it('caps large values and says what it cut', () => {
    const capped = capJson({ manifest: 'x'.repeat(20_000), small: 1 }, 1000) as { manifest: string; small: number };
    expect(JSON.stringify(capped).length).toBeLessThan(1200);
    expect(capped.manifest).toMatch(/more chars]$/);
    expect(capped.small).toBe(1);
  });
});
