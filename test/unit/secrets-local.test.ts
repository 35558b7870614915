import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretsManagerSecrets } from '../../shared/adapters/aws/secrets-manager.ts';
import { isLocalSecretName, LOCAL_SECRET_MAX_BYTES, LocalSecrets } from '../../shared/adapters/local/secrets.ts';
import {
  SecretAccessDeniedError,
  SecretNotFoundError,
  SecretReadError,
  type SecretReader,
} from '../../shared/ports/secrets.ts';
import { startFakeSecretsManager } from '../support/fake-secrets-manager.ts';

const dir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error a read ends in; its message names the secret, never a value. */
async function failure(reader: SecretReader, name: string): Promise<Error> {
  const err = await reader.read(name).then(
    () => new Error('read succeeded'),
    (e: unknown) => e as Error,
  );
  expect(err.message).toContain(name);
  return err;
}

describe('LocalSecrets (env:NAME, file:PATH)', () => {
  it('reads an environment variable and a file', async () => {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\n');
    const secrets = new LocalSecrets({ KUBE_YAML: 'apiVersion: v1' });
    expect(await secrets.read('env:KUBE_YAML')).toBe('apiVersion: v1');
    expect(await secrets.read(`file:${file}`)).toBe('apiVersion: v1\nkind: Config\n');
  });

  it('a missing variable, file or empty file is SecretNotFoundError; another form is refused', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const secrets = new LocalSecrets({ BLANK: '' });
    for (const name of ['env:UNSET_VARIABLE', 'env:BLANK', `file:${join(dir, 'nope')}`, `file:${empty}`]) {
      expect(await failure(secrets, name), name).toBeInstanceOf(SecretNotFoundError);
    }
    for (const name of ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:x', 'env:', 'env:A-B', 'KUBE_YAML']) {
      expect(isLocalSecretName(name), name).toBe(false);
      const err = await failure(secrets, name);
      expect(err).toBeInstanceOf(SecretReadError);
      expect(err.message).toContain('env:<VARIABLE> or file:<path>');
    }
  });

  it('an unreadable file is SecretAccessDeniedError; a directory or an oversized file is refused unread', async () => {
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(LOCAL_SECRET_MAX_BYTES + 1, 'a'));
    const exact = join(dir, 'exact');
    writeFileSync(exact, Buffer.alloc(LOCAL_SECRET_MAX_BYTES, 'b'));
    const secrets = new LocalSecrets({});
    expect((await secrets.read(`file:${exact}`)).length).toBe(LOCAL_SECRET_MAX_BYTES);
    const tooBig = await failure(secrets, `file:${big}`);
    expect(tooBig).toBeInstanceOf(SecretReadError);
    expect(tooBig.message).toContain(`larger than ${LOCAL_SECRET_MAX_BYTES} bytes`);
    expect(await failure(secrets, `file:${dir}`)).toBeInstanceOf(SecretReadError);
    // root reads any file whatever its mode: the check means something only for other users.
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      writeFileSync(locked, 'secret');
      chmodSync(locked, 0o000);
      expect(await failure(secrets, `file:${locked}`)).toBeInstanceOf(SecretAccessDeniedError);
    }
  });
});

describe('SecretsManagerSecrets (the real SDK client against the fake Secrets Manager)', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cloudops/kubeconfig-AbC123';

  it('reads the value; not found, denied and throttled each end as they should', async () => {
    const fake = await startFakeSecretsManager({ [ARN]: 'apiVersion: v1' });
    try {
      const secrets = new SecretsManagerSecrets(fake.client);
      expect(await secrets.read(ARN)).toBe('apiVersion: v1');
      const missing = `${ARN.slice(0, -6)}Zz9999`;
      expect(await failure(secrets, missing)).toBeInstanceOf(SecretNotFoundError);
      fake.failNext(1, { status: 400, type: 'AccessDeniedException', message: 'not authorized' });
      expect(await failure(secrets, ARN)).toBeInstanceOf(SecretAccessDeniedError);
      fake.failNext(1, { status: 400, type: 'DecryptionFailure', message: 'KMS refused' });
      expect(await failure(secrets, ARN)).toBeInstanceOf(SecretAccessDeniedError);
      // Passing failures stay what the SDK reported, so a caller can retry them.
      fake.failNext(1);
      const throttled = await secrets.read(ARN).catch((e: unknown) => e as Error);
      expect(throttled).not.toBeInstanceOf(SecretReadError);
      expect((throttled as Error).name).toBe('ThrottlingException');
    } finally {
      await fake.close();
    }
  });
});
