/**
 * Redaction of secret-looking values, used on every path that leaves the server: audit
 * records, logs and tool output. Keys that name a secret lose their value; strings that look
 * like credentials are masked wherever they appear.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /^(?:.*[_-])?(?:pass(?:word|wd|phrase)?|secret|secrets|token|tokens|api[_-]?key|apikey|private[_-]?key|credentials?|authorization|cookie|session[_-]?key|client[_-]?secret|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|signing[_-]?secret|webhook[_-]?url)$/i;

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, '[REDACTED AWS KEY ID]'],
  [
    /(aws_secret_access_key|secretAccessKey|AWS_SECRET_ACCESS_KEY)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/g,
    `$1$2${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g, '[REDACTED JWT]'],
  [/\bcmk_[A-Za-z0-9]+_[A-Za-z0-9_-]{20,}\b/g, '[REDACTED API KEY]'],
  [
    /\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|ghp_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,})\b/g,
    '[REDACTED TOKEN]',
  ],
  [/https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g, '[REDACTED SLACK WEBHOOK]'],
  // After the patterns above, so a value they already masked is left as it is.
  [
    /\b((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)(?!\[REDACTED)("[^"]*"|'[^']*'|\S+)/gi,
    `$1${REDACTED}`,
  ],
];

/** Masks credentials inside free text (log lines, error messages). */
export function maskSecretsInText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Deep copy with secret-named keys replaced and credential-looking strings masked. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[TRUNCATED]';
  if (typeof value === 'string') return maskSecretsInText(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Caps the JSON size of a value for storage: long strings are cut, deep objects summarized. */
export function capJson(value: unknown, maxBytes: number): unknown {
  const json = JSON.stringify(value ?? null);
  if (json.length <= maxBytes) return value;
  if (typeof value === 'string') return `${value.slice(0, maxBytes)}… [${value.length - maxBytes} more chars]`;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    const per = Math.max(64, Math.floor(maxBytes / Math.max(1, Object.keys(value).length)));
    for (const [k, v] of Object.entries(value)) out[k] = capJson(v, per);
    return out;
  }
  return { truncated: true, bytes: json.length, preview: json.slice(0, maxBytes) };
}
