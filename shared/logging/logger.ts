import { type DestinationStream, type Logger, pino } from 'pino';
import { maskSecretsInText } from '../domain/redact.ts';

export type { Logger };

/**
 * Structured JSON logs (pino). Every request logs through a child carrying `requestId` and
 * `caller`. Header and token fields are redacted by path; free-text messages are masked.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cloudops-mcp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
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
