import { type DestinationStream, type Logger, pino } from 'pino';
import { capStrings, capText, jsonBytes } from '../domain/bounds.ts';
import { errorText } from '../domain/errors.ts';
import { maskSecretsInText, redactSecrets } from '../domain/redact.ts';

export type { Logger };

/**
 * Structured JSON logs (pino). Every request logs through a child carrying `requestId` and
 * `caller`. Messages and every field of a log call (error texts included) go through the same
 * redaction as audit records: secret-named keys lose their values, credential-shaped strings are
 * masked. Header and token paths are also censored by pino itself.
 *
 * Every line is bounded too, since any field may carry what a caller sent (a tool name, an id, a
 * header, an SDK error quoting them): each string (message, field, child binding) is capped at
 * LOG_STRING_BYTES with a visible `…[truncated N bytes]`, and a line whose fields still exceed
 * LOG_LINE_BYTES has its largest fields replaced by their size.
 */
/** Cloud Logging's severity for each pino level: it reads `severity` from a JSON line on stdout. */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export function createLogger(
  level: string,
  destination?: DestinationStream,
  /** `severity`: add Cloud Logging's severity to every line (the GCP functions). */
  options: { severity?: boolean } = {},
): Logger {
  const levelField = options.severity
    ? (label: string) => ({ level: label, severity: SEVERITY[label] ?? 'DEFAULT' })
    : (label: string) => ({ level: label });
  const root = pino(
    {
      level,
      base: { service: 'cloudops-mcp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: levelField, log: redactLogFields, bindings: boundBindings },
      redact: {
        paths: ['authorization', 'headers.authorization', '*.authorization', 'token', '*.token', 'apiKey', '*.apiKey'],
        censor: '[REDACTED]',
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? boundText(a) : a)) as typeof args;
          method.apply(this, masked);
        },
      },
    },
    destination,
  );
  // pino runs its bindings formatter for the root only; children (request id, caller, tool) are
  // bounded here. Children inherit this method, and `this` is the logger being derived from.
  type ChildOf = (this: Logger, bindings: Record<string, unknown>, options?: unknown) => Logger;
  const pinoChild = root.child as unknown as ChildOf;
  const boundedChild: ChildOf = function (this: Logger, bindings, options) {
    return pinoChild.call(this, boundBindings(bindings), options);
  };
  root.child = boundedChild as unknown as Logger['child'];
  return root;
}

/** Each string in a log line is capped at this many UTF-8 bytes (marker included). */
export const LOG_STRING_BYTES = 8 * 1024;
/** The fields of one log line, as JSON, are held under this many bytes. */
export const LOG_LINE_BYTES = 64 * 1024;
const LIMITS = { maxBytes: LOG_STRING_BYTES, maxItems: 200, maxDepth: 16 };

/** Cut first (masking a megabyte would be wasted work), masked, then cut to the final size. */
function boundText(s: string): string {
  return capText(maskSecretsInText(capText(s, 4 * LOG_STRING_BYTES)), LOG_STRING_BYTES);
}

/**
 * An Error keeps its name and message (masked); everything else is redacted like an audit record;
 * then every string is capped, and the largest fields summarised while the line is too long.
 */
function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const value = v instanceof Error ? errorText(v) : v;
    // Strings are cut before redaction, so masking never walks more than a few times the cap.
    plain[k] = capStrings(value, { ...LIMITS, maxBytes: 4 * LOG_STRING_BYTES });
  }
  const bounded = capStrings(redactSecrets(plain), LIMITS) as Record<string, unknown>;
  return fitLine(bounded);
}

function boundBindings(bindings: Record<string, unknown>): Record<string, unknown> {
  return fitLine(capStrings(redactSecrets(bindings), { ...LIMITS, maxBytes: 1024 }) as Record<string, unknown>);
}

function fitLine(fields: Record<string, unknown>): Record<string, unknown> {
  if (jsonBytes(fields) <= LOG_LINE_BYTES) return fields;
  const sizes = Object.entries(fields)
    .map(([k, v]) => [k, jsonBytes(v)] as const)
    .sort((a, b) => b[1] - a[1]);
  const out = { ...fields };
  for (const [k, size] of sizes) {
    out[k] = `[${size} bytes omitted: log line over ${LOG_LINE_BYTES} bytes]`;
    if (jsonBytes(out) <= LOG_LINE_BYTES) break;
  }
  return out;
}
