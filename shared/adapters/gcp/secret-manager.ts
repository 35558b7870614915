import type { GoogleAuth } from 'google-auth-library';
import { CloudApiError } from '../../ports/cloud.ts';
import {
  SecretAccessDeniedError,
  SecretNotFoundError,
  SecretReadError,
  type SecretReader,
} from '../../ports/secrets.ts';
import { defaultGoogleAuth } from './google-auth.ts';
import { googleRest, type RestCall, restBase } from './google-rest.ts';

/**
 * Google Secret Manager over its REST API (`versions.access`), through google-auth-library as the
 * other GCP adapters: not @google-cloud/secret-manager, whose gRPC client and protos would be most of
 * a function's bundle for one GET. `name` is a version name, projects/P/secrets/S/versions/V (V a
 * number or `latest`); the host checks that form (GCP_SECRET_VERSION). A missing secret or version,
 * a refused read and a version that is not enabled (FAILED_PRECONDITION: disabled or destroyed) are
 * SecretReadErrors, which no retry cures; throttling, 5xx and the network
 * are rethrown as CloudApiErrors: the same read may succeed later.
 */

/** A Secret Manager version name. */
export const GCP_SECRET_VERSION =
  /^projects\/[a-z0-9][a-z0-9.:-]{0,62}\/secrets\/[A-Za-z0-9_-]{1,255}\/versions\/(latest|[1-9]\d{0,18})$/;

/** Secret Manager's payload limit (64 KiB): a larger answer is not a secret value. */
const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretManagerOptions {
  /** Default https://secretmanager.googleapis.com/v1 (tests: a loopback fake). */
  baseUrl?: string;
  auth?: GoogleAuth;
  /** Per read, token fetch included. Default 10 s. */
  timeoutMs?: number;
  /** For tests: the REST caller. */
  rest?: RestCall;
}

export class SecretManagerSecrets implements SecretReader {
  private readonly rest: RestCall;
  private readonly base: string;

  constructor(opts: SecretManagerOptions = {}) {
    this.base = restBase('SECRET_MANAGER_URL', opts.baseUrl, 'https://secretmanager.googleapis.com/v1');
    this.rest = opts.rest ?? googleRest(opts.auth ?? defaultGoogleAuth(), opts.timeoutMs ?? 10_000);
  }

  async read(name: string): Promise<string> {
    if (!GCP_SECRET_VERSION.test(name)) {
      throw new SecretReadError(
        name,
        `secret ${name.slice(0, 200)} is not a version name (projects/P/secrets/S/versions/latest)`,
      );
    }
    let out: { payload?: { data?: string } };
    try {
      out = await this.rest<{ payload?: { data?: string } }>(`read secret ${name}`, {
        url: `${this.base}/${name}:access`,
      });
    } catch (err) {
      if (err instanceof CloudApiError && err.code === 'NotFound') {
        throw new SecretNotFoundError(name, `secret ${name} does not exist or has no such version`, { cause: err });
      }
      if (err instanceof CloudApiError && err.code === 'Forbidden') {
        throw new SecretAccessDeniedError(
          name,
          `secret ${name} may not be read by this function (${err.providerCode})`,
          {
            cause: err,
          },
        );
      }
      if (err instanceof CloudApiError && err.providerCode === 'FAILED_PRECONDITION') {
        // The version is DISABLED or DESTROYED: it stays so until someone enables another.
        throw new SecretReadError(name, `secret ${name} cannot be read: ${err.message}`, { cause: err });
      }
      throw err;
    }
    const data = out.payload?.data;
    if (typeof data !== 'string' || data.length > (MAX_SECRET_BYTES * 4) / 3 + 4) {
      throw new SecretReadError(name, `secret ${name} answered no payload`);
    }
    return Buffer.from(data, 'base64').toString('utf8');
  }
}
