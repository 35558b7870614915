import { describe, expect, it } from 'vitest';
import { capJson, maskSecretsInText, OMITTED_KEY, REDACTED, redactSecrets } from '../../shared/domain/redact.ts';

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
      // A name/value pair whose name says secret (env entries) is masked on every path, audit included.
      env: [{ name: 'DB_PASSWORD', value: REDACTED }],
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

  it('masks the password of scheme://user:password@host and keeps user and host', () => {
    const secret = 'hunter2SuperSecretValue';
    for (const [text, want] of [
      [`DATABASE_URL=postgres://app:${secret}@db:5432/app`, 'DATABASE_URL=postgres://app:[REDACTED]@db:5432/app'],
      [`amqp://guest:${secret}@rabbit/vhost and redis://:${secret}@cache:6379`, 'amqp://guest:[REDACTED]@rabbit/vhost'],
      [`mongodb+srv://u:p@ss${secret}@cluster0.example.net/db`, 'mongodb+srv://u:[REDACTED]@cluster0.example.net/db'],
    ] as const) {
      const masked = maskSecretsInText(text);
      expect(masked).toContain(want);
      expect(masked).not.toContain(secret);
      expect(maskSecretsInText(masked)).toBe(masked); // not masked twice
    }
    expect(maskSecretsInText('see https://example.com/a:b@c and http://host:8080/x')).toBe(
      'see https://example.com/a:b@c and http://host:8080/x',
    );
  });

  it('masks quoted JSON and dict keys that name a secret, and leaves other keys and masked values alone', () => {
    const secret = 'hunter2SuperSecretValue';
    const text = `{"apiKey": "${secret}", "password":"${secret}", 'client_secret': '${secret}', "region": "eu", "token": ""}`;
    const masked = maskSecretsInText(text);
    expect(masked).not.toContain(secret);
    expect(masked).toBe(
      `{"apiKey": "${REDACTED}", "password":"${REDACTED}", 'client_secret': '${REDACTED}', "region": "eu", "token": ""}`,
    );
    expect(maskSecretsInText(masked)).toBe(masked);
    expect(maskSecretsInText('{"token": "Bearer abcdefgh1234"}')).toBe(`{"token": "${REDACTED}"}`);
  });

  it('caps an object with many keys or an array with many items to the byte budget, counting what it left out', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 9000; i++) data[`k${i}`] = 'x'.repeat(90);
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'default' }, data };
    const capped = capJson(object, 20_000) as typeof object;
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThanOrEqual(20_000);
    expect(capped.metadata).toEqual(object.metadata);
    expect(capped.kind).toBe('ConfigMap');
    const kept = Object.keys(capped.data).filter((k) => k !== OMITTED_KEY);
    expect(kept.slice(0, 3)).toEqual(['k0', 'k1', 'k2']);
    expect(capped.data.k0).toBe('x'.repeat(90));
    expect(capped.data[OMITTED_KEY]).toMatch(new RegExp(`^${9000 - kept.length} more keys`));

    const list = Array.from({ length: 5000 }, (_, i) => ({ name: `pod-${i}` }));
    const cappedList = capJson(list, 3000) as unknown[];
    expect(Buffer.byteLength(JSON.stringify(cappedList))).toBeLessThanOrEqual(3000);
    expect(cappedList[0]).toEqual({ name: 'pod-0' });
    expect(cappedList.at(-1)).toBe(`[${5000 - (cappedList.length - 1)} more items omitted]`);

    for (const max of [120, 500, 2000, 10_000]) {
      const mixed = { a: 'é'.repeat(5000), b: [1, 'z'.repeat(900), { c: '"\n'.repeat(800) }], d: 1 };
      expect(Buffer.byteLength(JSON.stringify(capJson(mixed, max)))).toBeLessThanOrEqual(max);
    }
  });
});
