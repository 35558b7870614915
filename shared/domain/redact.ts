/**
 * Redaction of secret-looking values, used on every path that leaves the server: audit
 * records, logs and tool output. Keys that name a secret lose their value; strings that look
 * like credentials are masked wherever they appear.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /^(?:.*[_.-])?(?:pass(?:word|wd|phrase)?|secret|secrets|token|tokens|api[_-]?key|apikey|private[_-]?key|credentials?|authorization|cookie|session[_-]?key|client[_-]?secret|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|signing[_-]?secret|webhook[_-]?url)$/i;

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
  // scheme://user:password@host: the password goes, user and host stay.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']*:)(?!\[REDACTED)[^\s/"']+@/gi, `$1${REDACTED}@`],
  // After the patterns above, so a value they already masked is left as it is.
  [
    /\b((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)(?!\[REDACTED)("[^"]*"|'[^']*'|\S+)/gi,
    `$1${REDACTED}`,
  ],
];

/** "client_secret": "x" / 'api-key': 'x' in JSON or dict-like text; the key decides (isSecretKey). */
const QUOTED_FIELD = /(["'])([A-Za-z0-9_.-]{1,64})\1([ \t]*[:=][ \t]*)(["'])((?:(?!\4)[^\\\n]|\\.)*)\4/g;

/** Masks credentials inside free text (log lines, error messages, manifest and config values). */
export function maskSecretsInText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(QUOTED_FIELD, (whole, q: string, key: string, sep: string, vq: string, value: string) =>
    isSecretKey(key) && value !== '' && !value.startsWith('[REDACTED')
      ? `${q}${key}${q}${sep}${vq}${REDACTED}${vq}`
      : whole,
  );
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

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null) ?? 'null', 'utf8');

/** Key of the marker entry capJson adds to an object it left keys out of. */
export const OMITTED_KEY = '[omitted]';
/** Below this a value is not cut any further but left out (and counted). */
const MIN_ENTRY_BYTES = 96;

/**
 * Caps the UTF-8 JSON size of a value at `maxBytes` (for sizes of about 100 bytes and up): long
 * strings are cut, objects and arrays keep their smallest entries whole (in their own order) and
 * cut the larger ones to share what is left; entries that do not fit are left out and counted,
 * under the key "[omitted]" of an object or as a last string item of an array.
 */
export function capJson(value: unknown, maxBytes: number, depth = 0): unknown {
  const size = jsonBytes(value);
  if (size <= maxBytes) return value;
  if (typeof value === 'string') return cutJsonString(value, maxBytes);
  if (value === null || typeof value !== 'object' || depth > 64) return `[${size} bytes omitted]`;
  const isArray = Array.isArray(value);
  const entries: Array<[string, unknown]> = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const keyBytes = (k: string): number => (isArray ? 0 : jsonBytes(k) + 1); // "key":
  const sizes = entries.map(([k, v]) => keyBytes(k) + jsonBytes(v) + 1); // trailing ","
  const budget = maxBytes - 2 - 64; // braces, and room for the omitted marker
  // Smallest entries whole first (stable), so a large map does not crowd out small siblings.
  const order = sizes.map((_, i) => i).sort((a, b) => (sizes[a] ?? 0) - (sizes[b] ?? 0) || a - b);
  const keep = new Map<number, unknown>();
  let used = 0;
  let next = 0;
  for (; next < order.length; next++) {
    const i = order[next] as number;
    const s = sizes[i] ?? 0;
    if (used + s > budget) break;
    keep.set(i, entries[i]?.[1]);
    used += s;
  }
  // The rest (all larger than any kept whole) share what is left, cut, in their own order.
  const rest = order
    .slice(next)
    .sort((a, b) => a - b)
    .filter((i) => keyBytes(entries[i]?.[0] ?? '') + MIN_ENTRY_BYTES <= budget);
  let room = budget - used;
  for (let n = 0; n < rest.length; n++) {
    const i = rest[n] as number;
    const share = Math.floor(room / (rest.length - n)) - keyBytes(entries[i]?.[0] ?? '') - 1;
    if (share < MIN_ENTRY_BYTES) continue;
    const cut = capJson(entries[i]?.[1], share, depth + 1);
    const s = keyBytes(entries[i]?.[0] ?? '') + jsonBytes(cut) + 1;
    if (s > room) continue;
    keep.set(i, cut);
    room -= s;
  }
  const omitted = entries.length - keep.size;
  const kept = [...keep.keys()].sort((a, b) => a - b);
  if (isArray) {
    const out = kept.map((i) => keep.get(i));
    if (omitted > 0) out.push(`[${omitted} more ${omitted === 1 ? 'item' : 'items'} omitted]`);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const i of kept)
    Object.defineProperty(out, entries[i]?.[0] ?? '', {
      value: keep.get(i),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  if (omitted > 0) out[OMITTED_KEY] = `${omitted} more ${omitted === 1 ? 'key' : 'keys'} (${size} bytes in all)`;
  return out;
}

/** `text` cut so that its JSON form is at most `maxBytes`, with a note of how much was cut. */
function cutJsonString(text: string, maxBytes: number): string {
  const chars = Array.from(text);
  const fits = (n: number): boolean =>
    jsonBytes(`${chars.slice(0, n).join('')}… [${chars.length - n} more chars]`) <= maxBytes;
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('')}… [${chars.length - lo} more chars]`;
}
