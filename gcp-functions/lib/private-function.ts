import type { HttpFunction, Request as HttpRequest, Response as HttpResponse } from '@google-cloud/functions-framework';
import { ConfigError } from '../../shared/config/config.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { type Env, perColdStart } from './host.ts';
import { sendResponse } from './http.ts';
import { InvokerRejectedError, type OidcInvoker, oidcVerifierFromEnv } from './oidc.ts';

/*
 * A Cloud Function only one caller may invoke (a workflow step: the workflows service account; a
 * scheduled check: the scheduler's): the caller's ID token is checked before anything else runs, and
 * every answer is JSON. The refusals say what was wrong and are logged; nothing else happens.
 */

/** What the function answers: a status and a JSON body. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

export interface PrivateFunctionOptions {
  env: Env;
  /** The host's logger (refusals are logged here). */
  logger: Logger;
  /** For tests: the clock the token's expiry is judged by. */
  now?: () => number;
}

/** The function: OIDC first (401/403, or 503 when the issuer's keys cannot be read), then `handle`. */
export function privateFunction(
  opts: PrivateFunctionOptions,
  handle: (req: HttpRequest, invoker: OidcInvoker) => Promise<JsonAnswer>,
): HttpFunction {
  const { logger } = opts;
  // Built on the first call: a bad OIDC setting is that call's 500 (and the log's), not a crash at load.
  const verifier = perColdStart(async () => oidcVerifierFromEnv(opts.env, opts.now ? { now: opts.now } : {}));
  return async (req, res) => {
    let invoker: OidcInvoker;
    try {
      invoker = await (await verifier()).verify(req.get('authorization'));
    } catch (err) {
      await sendJson(res, refusal(logger, err));
      return;
    }
    let answer: JsonAnswer;
    try {
      answer = await handle(req, invoker);
    } catch (err) {
      // A handler answers its own failures; this is the fault of ours it did not foresee.
      const e = err instanceof Error ? err : new Error(String(err));
      logger.error({ errorName: e.name, errorMessage: e.message, stack: e.stack }, 'invocation failed');
      answer = { status: 500, body: { error: 'internal', message: 'the function failed; see its log' } };
    }
    await sendJson(res, answer);
  };
}

/** Writes a JSON answer (a 401 says which scheme it wants). */
export function sendJson(res: HttpResponse, answer: JsonAnswer): Promise<void> {
  const headers: Record<string, string> = answer.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return sendResponse(res, Response.json(answer.body, { status: answer.status, headers }));
}

function refusal(logger: Logger, err: unknown): JsonAnswer {
  if (err instanceof InvokerRejectedError) {
    logger.warn({ status: err.status, reason: err.message }, 'caller refused');
    return {
      status: err.status,
      body: { error: err.status === 401 ? 'unauthenticated' : 'forbidden', message: err.message },
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof ConfigError) {
    logger.error({ errorName: e.name, errorMessage: e.message }, 'the function is misconfigured');
    return {
      status: 500,
      body: { error: 'misconfigured', message: 'the function cannot check its callers; see its log' },
    };
  }
  logger.error({ errorName: e.name, errorMessage: e.message }, 'caller could not be checked');
  return { status: 503, body: { error: 'unavailable', message: 'the caller could not be checked; try again' } };
}
