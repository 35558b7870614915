/**
 * The secret-reading port: a host reads a few secrets (a kubeconfig, the Slack signing secret) by
 * the name its configuration gives. AWS reads Secrets Manager (shared/adapters/aws/secrets-manager.ts),
 * the local host reads environment variables and files (shared/adapters/local/secrets.ts), a GCP host
 * will read Secret Manager. What a name looks like is the adapter's business, checked at the host.
 */
export interface SecretReader {
  /**
   * The secret's current value as text. Throws SecretNotFoundError or SecretAccessDeniedError, which
   * no retry cures; any other error (throttling, the network) may pass, and the same read may succeed
   * later.
   */
  read(name: string): Promise<string>;
}

/** A secret read that cannot succeed as configured. Names the secret, never its value. */
export class SecretReadError extends Error {
  override name = 'SecretReadError';
  readonly secret: string;
  constructor(secret: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.secret = secret;
  }
}

/** No such secret, or it has no current value. */
export class SecretNotFoundError extends SecretReadError {
  override name = 'SecretNotFoundError';
}

/** The secret exists (or may) but this host may not read it, or may not decrypt it. */
export class SecretAccessDeniedError extends SecretReadError {
  override name = 'SecretAccessDeniedError';
}
