import type { Logger } from 'pino';
import type { Identity } from '../domain/identity.ts';
import type { ParseCache } from '../domain/input/index.ts';

/**
 * Who asks a use case for something, in which request: the same from every channel (an MCP tool's
 * context fits it as it is).
 */
export interface Call {
  identity: Identity;
  requestId: string;
  /** The request's logger (it carries the request id). */
  log: Logger;
  signal?: AbortSignal;
  /**
   * Caller text parsed in this request: manifests and patches are parsed through it, so the audit
   * record reads the same parsed value instead of parsing the text again.
   */
  parsed: ParseCache;
}
