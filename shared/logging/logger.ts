import { type DestinationStream, type Logger, pino } from 'pino';
import { errorText } from '../domain/audit.ts';
import { maskSecretsInText, redactSecrets } from '../domain/redact.ts';

export type { Logger };

/**
 * Structured JSON logs (pino). Every request logs through a child carrying `requestId` and
 * `caller`. Messages and every field of a log call (error texts included) go through the same
 * redaction as audit records: secret-named keys lose their values, credential-shaped strings are
 * masked. Header and token paths are also censored by pino itself.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cloudops-mcp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactLogFields },
      redact: {
        paths: ['authorization', 'headers.authorization', '*.authorization', 'token', '*.token', 'apiKey', '*.apiKey'],
        censor: '[REDACTED]',
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskSecretsInText(a) : a)) as typeof args;
          method.apply(this, masked);
        },
      },
    },
    destination,
  );
}

/** An Error keeps its name and message (masked); everything else is redacted like an audit record. */
function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) plain[k] = v instanceof Error ? errorText(v) : v;
  return redactSecrets(plain) as Record<string, unknown>;
}
