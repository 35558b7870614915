/**
 * Masking for container logs: maskSecretsInText (which covers quoted JSON fields and URL
 * credentials) plus patterns common in logs: compound key names like DB_PASSWORD=, more token formats.
 */
import { isSecretKey, maskSecretsInText, REDACTED } from '../redact.ts';
import type { BoundedText } from './output-budget.ts';
import { boundText } from './output-budget.ts';

const LOG_PATTERNS: Array<[RegExp, string]> = [
  // Google API keys, GitHub OAuth/user/server/refresh tokens, Stripe and npm tokens.
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, '[REDACTED TOKEN]'],
  [/\bgh[ousr]_[A-Za-z0-9]{30,}\b/g, '[REDACTED TOKEN]'],
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g, '[REDACTED TOKEN]'],
  [/\bnpm_[A-Za-z0-9]{36}\b/g, '[REDACTED TOKEN]'],
];

/** DB_PASSWORD=x, access_token=x, X-Api-Key: x (headers, env dumps, query strings). */
const BARE_FIELD = /(^|[\s?&;,{(])([A-Za-z0-9_.-]{1,64})([ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s&;,"')}]+)/gm;

export function maskLogText(text: string): string {
  let out = maskSecretsInText(text);
  for (const [pattern, replacement] of LOG_PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(BARE_FIELD, (whole, lead: string, key: string, sep: string, value: string) =>
    isSecretKey(key) && !value.startsWith('[REDACTED') && !/^(?:Bearer|Basic)$/i.test(value)
      ? `${lead}${key}${sep}${REDACTED}`
      : whole,
  );
  return out;
}

/** maskLogText then boundText(…, 'start'): masking first, so a cut never leaves half a credential. */
export function boundLogText(text: string, budgetBytes: number): BoundedText {
  return boundText(maskLogText(text), budgetBytes, 'start');
}
