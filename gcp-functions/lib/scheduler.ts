import type { HttpFunction, Request as HttpRequest } from '@google-cloud/functions-framework';
import * as z from 'zod';
import type { Deps } from '../../shared/app/deps.ts';
import { ConfigError } from '../../shared/config/config.ts';
import type { ScheduledCheckOptions, ScheduledRun } from '../../shared/host/scheduled-check.ts';
import { gcpDeps } from './deps.ts';
import { type Env, GCP_REQUIRED_SETTINGS, hostLogger, loadGcpConfig, perColdStart } from './host.ts';
import { type JsonAnswer, privateFunction } from './private-function.ts';

/*
 * The scheduled checks on GCP: a Cloud Scheduler job per check POSTs its configured body
 * (`{"check":"drift"}`, `{"check":"cost"}`, `{"check":"usage"}`, Content-Type application/json) to
 * the check's function with an OIDC token of the scheduler's service account, and adds its own
 * headers: X-CloudScheduler: true, X-CloudScheduler-JobName, and, for a unix-cron job,
 * X-CloudScheduler-ScheduleTime (RFC 3339, UTC). A 2xx answer acknowledges the run; any other makes
 * Scheduler retry it per the job's retry config, with the same schedule time.
 * Reference: https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
 */

/** The checks a job can name; each function runs one. */
export type ScheduledCheckName = 'drift' | 'cost' | 'usage';

/** A request Cloud Scheduler would not send: 4xx, and the run is refused as a whole. */
export class SchedulerRequestError extends Error {
  override name = 'SchedulerRequestError';
  readonly status: 400 | 405 | 413 | 415;
  constructor(status: 400 | 405 | 413 | 415, message: string) {
    super(message);
    this.status = status;
  }
}

/** One run as the job sent it. */
export interface SchedulerCall {
  check: ScheduledCheckName;
  /** The job (X-CloudScheduler-JobName). */
  job: string;
  /** When the run was due (X-CloudScheduler-ScheduleTime); absent for a job not on a unix-cron schedule. */
  scheduleTime?: string;
  /**
   * What the check records as its request, `scheduler:<job>:<schedule time>`: the same for every retry
   * of one run (the time it was received for a job without a schedule time, so there one per attempt).
   */
  requestId: string;
}

/** The job's body is ours and tiny; anything larger is not from the job. */
const MAX_BODY_BYTES = 1024;
/** A job id, or a full job name (projects/…/locations/…/jobs/…). */
const JOB = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,499}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** application/json as the job is configured; octet-stream is Scheduler's default when it is not. */
const MEDIA = new Set(['application/json', 'application/octet-stream']);

/**
 * The run `req` asks for, when it is Cloud Scheduler's request for `check`; SchedulerRequestError
 * otherwise (the body of another check included: a job pointed at the wrong function is refused, not run).
 */
export function schedulerCall(req: HttpRequest, check: ScheduledCheckName, receivedAt: number): SchedulerCall {
  if (req.method !== 'POST') throw new SchedulerRequestError(405, 'Cloud Scheduler jobs POST to this function');
  if (req.get('x-cloudscheduler') !== 'true') {
    throw new SchedulerRequestError(400, 'not a Cloud Scheduler request (X-CloudScheduler: true is missing)');
  }
  const job = req.get('x-cloudscheduler-jobname') ?? '';
  if (!JOB.test(job)) throw new SchedulerRequestError(400, 'X-CloudScheduler-JobName: missing or not a job name');
  const time = req.get('x-cloudscheduler-scheduletime');
  if (time !== undefined && !(RFC3339.test(time) && Number.isFinite(Date.parse(time)))) {
    throw new SchedulerRequestError(400, 'X-CloudScheduler-ScheduleTime: not an RFC 3339 time');
  }
  const media = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!MEDIA.has(media)) {
    throw new SchedulerRequestError(415, 'the job body must be JSON (Content-Type: application/json)');
  }
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) throw new SchedulerRequestError(413, `the job body is over ${MAX_BODY_BYTES} bytes`);
  const expected = `the job body must be {"check":"${check}"}`;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new SchedulerRequestError(400, `${expected}: it is not JSON`);
  }
  const parsed = z.strictObject({ check: z.string().max(32) }).safeParse(body);
  if (!parsed.success) throw new SchedulerRequestError(400, `${expected} and nothing else`);
  if (parsed.data.check !== check) {
    throw new SchedulerRequestError(
      400,
      `${expected}: this function runs the ${check} check, the job asked for "${parsed.data.check}"`,
    );
  }
  return {
    check,
    job,
    ...(time ? { scheduleTime: time } : {}),
    requestId: `scheduler:${job}:${time ?? new Date(receivedAt).toISOString()}`,
  };
}

/**
 * Gen2's default timeout, assumed when FUNCTION_TIMEOUT_SEC (the function's timeout_seconds) is not
 * set: Cloud Run tells a function its timeout nowhere, so a shorter guess only delivers less.
 */
const DEFAULT_TIMEOUT_S = 60;
/** Gen2's longest timeout for an HTTP function. */
const MAX_TIMEOUT_S = 3600;

/** How long an invocation may run: FUNCTION_TIMEOUT_SEC, or gen2's default. */
export function functionTimeoutMs(env: Env): number {
  const raw = env.FUNCTION_TIMEOUT_SEC?.trim();
  if (!raw) return DEFAULT_TIMEOUT_S * 1000;
  const s = Number(raw);
  if (!(Number.isInteger(s) && s >= 1 && s <= MAX_TIMEOUT_S)) {
    throw new ConfigError(`Invalid configuration:\n  FUNCTION_TIMEOUT_SEC: an integer from 1 to ${MAX_TIMEOUT_S}`);
  }
  return s * 1000;
}

/** What one check's function is: its check, its name in the log, what it reaches and what it runs. */
export interface ScheduledCheckSpec<S extends object> {
  check: ScheduledCheckName;
  fn: string;
  /** What the function reaches, each with its default (readSecret: Secret Manager). */
  parts: Omit<Parameters<typeof gcpDeps>[2], 'readSecret'>;
  /** The check (shared/host/scheduled-check.ts). */
  run: (d: Deps, run: ScheduledRun) => Promise<S>;
}

/** A GCP check function's options: the shared ones, and the clock its remaining time is read on. */
export type GcpCheckOptions<K extends keyof ScheduledCheckOptions> = Pick<
  ScheduledCheckOptions,
  'env' | 'readSecret' | K
> & {
  now?: () => number;
};

/**
 * A scheduled check's function: OIDC, then Cloud Scheduler's request (4xx for one it would not send),
 * then the check within the function's time. 200 with the summary (counts, never findings' values);
 * 500 when the check could not run, so Scheduler retries and the error is in the log.
 */
export function scheduledCheckFunction<S extends object>(
  opts: GcpCheckOptions<never>,
  spec: ScheduledCheckSpec<S>,
): HttpFunction {
  const logger = hostLogger(opts.env, spec.fn);
  const now = opts.now ?? Date.now;
  const deps = perColdStart(() =>
    gcpDeps(loadGcpConfig(opts.env, GCP_REQUIRED_SETTINGS.scheduledCheck), opts.env, {
      ...spec.parts,
      readSecret: opts.readSecret,
    }),
  );
  return privateFunction(
    { env: opts.env, logger, ...(opts.now ? { now: opts.now } : {}) },
    async (req): Promise<JsonAnswer> => {
      const receivedAt = now();
      let call: SchedulerCall;
      try {
        call = schedulerCall(req, spec.check, receivedAt);
      } catch (err) {
        if (!(err instanceof SchedulerRequestError)) throw err;
        logger.warn({ status: err.status, reason: err.message }, 'request refused');
        return { status: err.status, body: { error: 'bad_request', message: err.message } };
      }
      const at = { job: call.job, scheduleTime: call.scheduleTime, requestId: call.requestId };
      try {
        const endAt = receivedAt + functionTimeoutMs(opts.env);
        const d = await deps();
        const summary = await spec.run(d, {
          requestId: call.requestId,
          remainingMs: () => endAt - now(),
          log: d.log.child({ requestId: call.requestId }),
        });
        logger.info({ ...at, summary }, `${spec.check} check done`);
        return { status: 200, body: { job: call.job, scheduleTime: call.scheduleTime, ...summary } };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        logger.error({ ...at, errorName: e.name, errorMessage: e.message }, `${spec.check} check failed`);
        return {
          status: 500,
          body: { error: e.name, message: `the ${spec.check} check could not run; see the function's log` },
        };
      }
    },
  );
}
