import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  SecretAccessDeniedError,
  SecretNotFoundError,
  SecretReadError,
  type SecretReader,
} from '../../ports/secrets.ts';

/** Errors of GetSecretValue that no retry cures, by the name the service gives them. */
const NOT_FOUND = new Set(['ResourceNotFoundException']);
/** AccessDeniedException is IAM's (not modelled by the client); DecryptionFailure is KMS refusing the key. */
const DENIED = new Set(['AccessDeniedException', 'DecryptionFailure']);
/** A secret marked for deletion, a malformed id: the request is wrong, not the moment. */
const INVALID = new Set(['InvalidRequestException', 'InvalidParameterException', 'ValidationException']);

/**
 * Secrets Manager: the secret's current (AWSCURRENT) string value, or its binary value as UTF-8.
 * `name` is the secret's ARN (the host checks that form). Throttling, 5xx and network errors are
 * rethrown as they are: the same read may succeed later.
 */
export class SecretsManagerSecrets implements SecretReader {
  private readonly client: SecretsManagerClient;

  constructor(client: SecretsManagerClient) {
    this.client = client;
  }

  async read(name: string): Promise<string> {
    let out: GetSecretValueCommandOutput;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (err) {
      const type = (err as Error).name;
      if (NOT_FOUND.has(type)) throw new SecretNotFoundError(name, `secret ${name} does not exist`, { cause: err });
      if (DENIED.has(type)) {
        throw new SecretAccessDeniedError(name, `secret ${name} may not be read by this function (${type})`, {
          cause: err,
        });
      }
      if (INVALID.has(type)) throw new SecretReadError(name, `secret ${name} cannot be read (${type})`, { cause: err });
      throw err;
    }
    if (out.SecretString !== undefined) return out.SecretString;
    if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
    throw new SecretNotFoundError(name, `secret ${name} has no value`);
  }
}
