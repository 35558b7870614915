import { open } from 'node:fs/promises';
import {
  SecretAccessDeniedError,
  SecretNotFoundError,
  SecretReadError,
  type SecretReader,
} from '../../ports/secrets.ts';

/** Larger than any kubeconfig or signing secret; a file past it is the wrong file. */
export const LOCAL_SECRET_MAX_BYTES = 1024 * 1024;

const FORMS = 'env:<VARIABLE> or file:<path>';

/** Whether `name` has a form LocalSecrets reads (the local host checks its settings with it). */
export function isLocalSecretName(name: string): boolean {
  return /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^file:.+/.test(name);
}

/**
 * Secrets for the local host (a laptop, a container): `env:NAME` reads an environment variable,
 * `file:PATH` a file (a mounted Docker or Kubernetes secret, for example /run/secrets/kubeconfig).
 */
export class LocalSecrets implements SecretReader {
  private readonly env: Record<string, string | undefined>;

  constructor(env: Record<string, string | undefined>) {
    this.env = env;
  }

  async read(name: string): Promise<string> {
    if (!isLocalSecretName(name)) throw new SecretReadError(name, `secret ${name}: local secrets are ${FORMS}`);
    if (name.startsWith('env:')) {
      const variable = name.slice(4);
      const value = this.env[variable];
      if (!value)
        throw new SecretNotFoundError(name, `secret ${name}: the environment variable ${variable} is not set`);
      return value;
    }
    return readBounded(name, name.slice(5));
  }
}

async function readBounded(name: string, path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SecretNotFoundError(name, `secret ${name}: no such file`, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new SecretAccessDeniedError(name, `secret ${name}: permission denied`, { cause: err });
    }
    throw err;
  }
  try {
    // One byte past the bound tells an oversized file from one exactly at it, without reading it all.
    const buf = Buffer.alloc(LOCAL_SECRET_MAX_BYTES + 1);
    let size = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, size, buf.length - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size === buf.length) break;
    }
    if (size > LOCAL_SECRET_MAX_BYTES) {
      throw new SecretReadError(name, `secret ${name}: larger than ${LOCAL_SECRET_MAX_BYTES} bytes`);
    }
    if (size === 0) throw new SecretNotFoundError(name, `secret ${name}: the file is empty`);
    return buf.subarray(0, size).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new SecretReadError(name, `secret ${name}: is a directory`, { cause: err });
    throw err;
  } finally {
    await file.close();
  }
}
