/**
 * The one redaction of cloudops-mcp. Every path that leaves the server (tool results, diffs and
 * dry-run echoes, audit arguments, operation records, logs, Slack messages) goes through this
 * module, and every rule lives here once:
 * - names (isSecretKey): which keys, env var names, flags and data keys hold a secret;
 * - kinds (isSecretKind, kindClaims): which objects are Secrets, read as the API server or the kind
 *   resolver could read them (any case, plural, `v1/` or `.group` forms, a `Kind` key, a YAML merge
 *   key), failing closed: when any reading says Secret, it is a Secret;
 * - text (maskSecretsInText): credential shapes in free text, logs, shell strings, connection strings;
 * - argv (maskArgv): the value of a secret flag, also when it is the next argument;
 * - structure (redactValue): Secret data, ConfigMap data, name/value pairs such as env entries,
 *   argv, annotations (JSON copies of objects such as last-applied-configuration are redacted
 *   inside), labels and every secret-named key, at any depth and inside List wrappers.
 * A false mask costs less than a leak: where a rule has to guess, it masks.
 */
import { isRecord, setOwn } from './k8s/object-guards.ts';

export const REDACTED = '[REDACTED]';
/** What a Secret's whole-value stand-ins (last-applied copy, non-string data) read. */
export const REDACTED_VALUE = '<redacted>';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Deeper than any real object (CRD schemas reach ~60); past it, content is cut rather than risked. */
const MAX_DEPTH = 200;
export const TRUNCATED = '[TRUNCATED: too deep]';

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/**
 * A name split into lower-case words: on every non-alphanumeric character and at camelCase and
 * ACRONYMWord boundaries (`DBPassword` -> db, password; `x-api-key` -> x, api, key).
 */
export function nameWords(name: string): string[] {
  return name
    .slice(0, 256)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A last word that says the value is about a secret, not the secret itself: PASSWORD_FILE holds a
 * path, passwordPolicy a policy, tokenCount a number, secretName and *SecretRef a reference.
 */
const NEUTRAL_LAST = new Set([
  'file',
  'files',
  'path',
  'paths',
  'dir',
  'ref',
  'refs',
  'name',
  'names',
  'policy',
  'policies',
  'length',
  'enabled',
  'disabled',
  'required',
  'count',
  'ttl',
  'expiry',
  'expiration',
  'expires',
  'seconds',
  'minutes',
  'hours',
  'days',
  'timeout',
  'type',
  'kind',
  'prefix',
  'suffix',
  'format',
  'algorithm',
  'size',
  'bits',
  'version',
  'rotation',
  'mode',
  'namespace',
]);
/** Names of locators that may embed credentials: only the credentials go, host and path stay. */
const LOCATOR_PHRASES = [
  'dsn',
  'database_url',
  'database_uri',
  'db_url',
  'db_uri',
  'jdbc_url',
  'connection_string',
  'connection_strings',
  'conn_str',
  'conn_string',
  'connectionstring',
];
/** Word sequences that make a name secret wherever they stand (SECRET_KEY_BASE, AWS_ACCESS_KEY_ID). */
const SECRET_PHRASES = [
  'secret_key',
  'private_key',
  'access_key',
  'api_key',
  'client_secret',
  'session_key',
  'signing_key',
  'encryption_key',
  'master_key',
  // Locators that may embed credentials (`dsn` and `connectionstring` are last words: SECRET_LAST).
  ...LOCATOR_PHRASES.filter((p) => p.includes('_')),
  'webhook_url',
  'secret_access',
];
/** A last word that names a secret (DB_PASS, REDIS_AUTH, SENTRY_DSN, X-Amz-Signature). */
const SECRET_LAST = new Set([
  'pass',
  'pw',
  'secret',
  'secrets',
  'token',
  'tokens',
  'credential',
  'credentials',
  'cred',
  'creds',
  'auth',
  'authorization',
  'cookie',
  'cookies',
  'dsn',
  'jwt',
  'salt',
  'otp',
  'signature',
  'sig',
  'bearer',
  'connectionstring',
]);
/** Glued names (PGPASSWORD, clientsecret, accesstoken, sshprivatekey). */
const PASSWORD_WORD = /(?:pass(?:word|wd|phrase)|passwort|kennwort)s?$/;
const GLUED_SECRET_END = /(?:secrets?|tokens?|apikeys?|credentials?|privatekey|secretkey|accesskey|masterkey)$/;
/** `*_KEY` is a secret (TLS_KEY, STRIPE_KEY, signingKey) unless the word before says what kind of key. */
const KEY_EXEMPT = new Set([
  'sort',
  'partition',
  'partitioning',
  'primary',
  'foreign',
  'routing',
  'hash',
  'range',
  'cache',
  'shard',
  'sharding',
  'group',
  'grouping',
  'object',
  'bucket',
  'dedup',
  'dedupe',
  'deduplication',
  'idempotency',
  'lookup',
  'index',
  'public',
  'row',
  'sequence',
  'composite',
  'unique',
  'natural',
  'label',
  'annotation',
  'topology',
  'authorized',
  'map',
  'hot',
  'field',
  'column',
  'message',
  'order',
  'join',
  'metric',
  'trace',
  'span',
  'feature',
  'flag',
  'config',
  'setting',
  'translation',
  'locale',
  'stream',
  'queue',
  'topic',
  'event',
  'match',
]);
/** MAX_TOKENS and friends count tokens of a language model. */
const TOKEN_COUNT_PREFIX = new Set([
  'max',
  'min',
  'num',
  'total',
  'input',
  'output',
  'prompt',
  'completion',
  'context',
]);

/**
 * True when a value under this name (object key, env var, flag, data key, label or annotation
 * key) must be masked. See docs of the corpus test for the names that must and must not be.
 * Plain `PWD` (the shell's working directory) and plain `key` (tolerations, selectors, key
 * references) are not secret; `*_PWD` and `*_KEY` are, except keys named for what they index
 * (SORT_KEY, topologyKey, PUBLIC_KEY). MONKEY, KEYSPACE, KEYBOARD are single words, not `*_KEY`.
 */
export function isSecretKey(name: string): boolean {
  const words = nameWords(name);
  const last = words.at(-1);
  if (last === undefined) return false;
  const prev = words.at(-2);
  if (prev !== undefined && NEUTRAL_LAST.has(last)) return false;
  const joined = `_${words.join('_')}_`;
  if (SECRET_PHRASES.some((p) => joined.includes(`_${p}_`))) return true;
  if (words.some((w) => PASSWORD_WORD.test(w))) return true;
  if (SECRET_LAST.has(last) || GLUED_SECRET_END.test(last)) {
    return !(last.startsWith('token') && prev !== undefined && TOKEN_COUNT_PREFIX.has(prev));
  }
  if (last === 'pwd') return prev !== undefined && prev !== 'old';
  if (last === 'key' || last === 'keys') return prev !== undefined && !KEY_EXEMPT.has(prev);
  return false;
}

function isLocatorName(name: string): boolean {
  const joined = `_${nameWords(name).join('_')}_`;
  return LOCATOR_PHRASES.some((p) => joined.includes(`_${p}_`));
}

/**
 * The value of a secret-named field, masked: `[REDACTED]`, except that a locator (DATABASE_URL,
 * SENTRY_DSN, a connection string) keeps what is not a credential when its form shows where the
 * credentials are (a URL's userinfo, `password=` / `Pwd=` pairs); an opaque one goes whole.
 */
export function maskNamedValue(name: string, value: string): string {
  if (alreadyMasked(value)) return value;
  if (!isLocatorName(name)) return REDACTED;
  if (/^\s*[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    // A user without password in a locator is a token (Sentry DSN, https://TOKEN@host).
    return maskSecretsInText(value.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)@/i, `$1${REDACTED}@`));
  }
  if (/[=;]/.test(value)) return maskSecretsInText(value);
  return REDACTED;
}

// ---------------------------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------------------------

/**
 * A kind as the resolver matches it: the part after a `group/version/` prefix, before a
 * `.group` hint, letters only, lower case (`kind: " SECRET"`, `secrets.v1`, `v1/Secret`).
 */
export function kindWord(kind: string): string {
  const tail = kind.slice(kind.lastIndexOf('/') + 1);
  return (tail.trim().split('.')[0] ?? '').toLowerCase().replace(/[^a-z]/g, '');
}

export function isSecretKind(kind: unknown): boolean {
  return typeof kind === 'string' && /^secrets?$/.test(kindWord(kind));
}

export function isConfigMapKind(kind: unknown): boolean {
  return typeof kind === 'string' && /^(?:configmaps?|cm)$/.test(kindWord(kind));
}

/**
 * Every kind an object claims: each key spelled `kind` in any case (JSON decoders differ on case)
 * and the kinds of objects merged in with a YAML merge key (`<<: *base`).
 */
export function kindClaims(obj: Record<string, unknown>, depth = 0): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (typeof value === 'string' && /^\s*kind\s*$/i.test(key)) out.push(value);
    else if (key === '<<' && depth < 8) {
      for (const base of Array.isArray(value) ? value : [value])
        if (isRecord(base)) out.push(...kindClaims(base, depth + 1));
    }
  }
  return out;
}

type Implied = 'secret' | 'configmap' | 'list-item' | undefined;

/**
 * True for a Secret: any kind claim that reads Secret, an item of a SecretList (`implied`), or an
 * object without kind shaped like one (stringData, or a string `type` with a data map and no
 * spec: items of a SecretList come from the API without kind).
 */
export function isSecretObject(obj: Record<string, unknown>, impliedSecret: boolean | Implied = false): boolean {
  const claims = kindClaims(obj);
  if (claims.some(isSecretKind)) return true;
  if (claims.length > 0) return false;
  if (impliedSecret === true || impliedSecret === 'secret') return true;
  if (obj.stringData !== undefined) return true;
  const dataShaped = isRecord(obj.data) && !('spec' in obj);
  return dataShaped && (typeof obj.type === 'string' || impliedSecret === 'list-item');
}

/** `kind: secret` and its spellings in text (YAML, JSON, escaped JSON inside a string). */
const SECRET_KIND_TEXT = /kind\\?["']?[ \t]*:[ \t]*\\?["']?[ \t]*(?:[\w.-]*\/)?[ \t]*secrets?(?![\w-])/gi;

/** How many times text claims `kind: Secret`. */
export function secretClaimsInText(text: string): number {
  return text.match(SECRET_KIND_TEXT)?.length ?? 0;
}

/** How many Secret kind claims a parsed value holds (structure, and text inside its strings). */
export function secretClaimsInValue(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH) return 0;
  if (typeof value === 'string') return secretClaimsInText(value);
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + secretClaimsInValue(v, depth + 1), 0);
  if (!isRecord(value)) return 0;
  let n = 0;
  for (const [key, v] of Object.entries(value)) {
    n += secretClaimsInText(key);
    if (typeof v === 'string' && /^\s*kind\s*$/i.test(key)) n += isSecretKind(v) ? 1 : 0;
    else n += secretClaimsInValue(v, depth + 1);
  }
  return n;
}

/**
 * Whether parsed documents must be redacted strictly: the source text claims a Secret more often
 * than the parsed value shows (a duplicate `kind` key whose other reading the parser dropped, a
 * comment): then every object with data or stringData is treated as a Secret.
 */
export function needsStrictRedaction(sourceText: string, parsed: unknown): boolean {
  return secretClaimsInText(sourceText) > secretClaimsInValue(parsed);
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    '[REDACTED PRIVATE KEY]',
  ],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, '[REDACTED AWS KEY ID]'],
  [
    /(aws_secret_access_key|secretAccessKey|AWS_SECRET_ACCESS_KEY)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/g,
    `$1$2${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\bcmk_[A-Za-z0-9]+_[A-Za-z0-9_-]{20,}\b/g, '[REDACTED API KEY]'],
  [
    /\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36})\b/g,
    '[REDACTED TOKEN]',
  ],
  [/https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g, '[REDACTED SLACK WEBHOOK]'],
  // scheme://user:password@host: the password goes, user and host stay.
  // The scheme is bounded ({0,31}): unbounded, every `a-a-a-…` position rescanned to the end (quadratic).
  [/\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@"']*:)(?!\[REDACTED)[^\s/"']+@/gi, `$1${REDACTED}@`],
  // jdbc:oracle:thin:user/password@host
  [/(jdbc:oracle:[a-z]+:[^/@\s:;"']+\/)(?!\[REDACTED)[^@\s"']+@/gi, `$1${REDACTED}@`],
  // ADO.NET / ODBC / JDBC connection strings: `...;Password=x;`, `Pwd=x;...` (values may hold spaces).
  [/(;[ \t]*(?:user[ \t]+)?(?:password|pwd|passwd)[ \t]*=[ \t]*)(?!\[REDACTED)[^;\r\n"']*/gi, `$1${REDACTED}`],
  [/(^|[\s"'])((?:password|pwd|passwd)[ \t]*=[ \t]*)(?!\[REDACTED)[^;\r\n"']{0,256}(?=;)/gim, `$1$2${REDACTED}`],
  // After the patterns above, so a value they already masked is left as it is.
  [
    /\b((?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)(?!\[REDACTED)("[^"\n]*"|'[^'\n]*'|\S+)/gi,
    `$1${REDACTED}`,
  ],
];

/** Maximal runs of base64url segments joined by dots. It never fails once started, so it never backtracks: linear. */
const DOTTED_RUN = /[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*/g;

/**
 * JWTs (`eyJ…` header, payload, signature; each segment at least 5 characters). A regex such as
 * /\beyJ[\w-]{5,}\.…/ restarts at every `eyJ` and rescans to the end of the run, which makes
 * `eyJ-eyJ-…` quadratic; this walks each dotted run's segments once.
 */
function maskJwts(text: string): string {
  if (!text.includes('eyJ')) return text;
  return text.replace(DOTTED_RUN, (run) => {
    if (!run.includes('eyJ')) return run;
    const segs = run.split('.');
    const out: string[] = [];
    let i = 0;
    while (i < segs.length) {
      const seg = segs[i] as string;
      // The header starts at a word boundary inside its segment: the run's start, or after a '-'.
      const dash = seg.indexOf('-eyJ');
      const at = seg.startsWith('eyJ') ? 0 : dash >= 0 ? dash + 1 : -1;
      const payload = segs[i + 1] ?? '';
      const signature = segs[i + 2] ?? '';
      if (at >= 0 && seg.length - at >= 8 && payload.length >= 5 && signature.length >= 5) {
        out.push(`${seg.slice(0, at)}[REDACTED JWT]`);
        i += 3;
        continue;
      }
      out.push(seg);
      i++;
    }
    return out.join('.');
  });
}

/** "client_secret": "x" / 'api-key': 'x' in JSON or dict-like text; the key decides (isSecretKey). */
const QUOTED_FIELD = /(["'])([A-Za-z0-9_.-]{1,64})\1([ \t]*[:=][ \t]*)(["'])((?:(?!\4)[^\\\n]|\\.)*)\4/g;
/** DB_PASSWORD=x, access_token=x, X-Api-Key: x, PGPASSWORD=x in a shell string, query strings. */
const BARE_FIELD =
  /(^|[\s?&;,{("'`])([A-Za-z0-9_.-]{1,64})([ \t]*[:=][ \t]*)(\\"(?:[^"\\\n]|\\[^"\n])*\\"|"[^"\n]*"|'[^'\n]*'|[^\s&;,"'`)}?]+)/gm;
/** QUOTED_FIELD inside a JSON string: `{\"password\":\"x\"}`. */
const ESCAPED_QUOTED_FIELD = /\\(["'])([A-Za-z0-9_.-]{1,64})\\\1([ \t]*[:=][ \t]*)\\(["'])((?:(?!\\\4)[^\n])*?)\\\4/g;
/**
 * Clients that take a password in a short flag (their argv form is handled by maskArgv): mysql's
 * glued -pSECRET, redis-cli -a SECRET, sshpass -p SECRET, curl -u user:SECRET, in text on one line.
 */
const COMMAND_PATTERNS: Array<[RegExp, string]> = [
  [/(\b(?:mysql\w*|mariadb[\w-]*)\b[^\n]{0,400}?["'\s,]-p)(?!\[REDACTED)([^\s"',\]\\]+)/g, `$1${REDACTED}`],
  [/(\b(?:redis|valkey)-cli\b[^\n]{0,400}?["'\s,]-a["'\s,]+)(?!\[REDACTED)([^\s"',\]\\]+)/g, `$1${REDACTED}`],
  [/(\bsshpass\b[^\n]{0,400}?["'\s,]-p["'\s,]+)(?!\[REDACTED)([^\s"',\]\\]+)/g, `$1${REDACTED}`],
  [
    /(\bcurl\b[^\n]{0,400}?["'\s,](?:-u|--user|--proxy-user)["'\s,=]+[^\s"':,\]\\]+:)(?!\[REDACTED)([^\s"',\]\\]+)/g,
    `$1${REDACTED}`,
  ],
];
/** `--password hunter2`, `-token abc` in a command line held as one string. */
const FLAG_VALUE = /(^|[\s"'`])(--?[A-Za-z][\w.-]{0,63})([ \t]+)(?![-[])("[^"\s]*"|'[^'\s]*'|[^\s"'`]+)/gm;
/** `"--password", "x"`: a flag and its value as neighbouring items of a JSON or flow array. */
const JSON_ARGV_PAIR = /(["'])(--?[A-Za-z][\w.-]{0,63})\1([ \t]*,[ \t\r\n]*)(["'])((?:(?!\4)[^\\\n]|\\.)*)\4/g;
/** `- --password` then `- x` at the same indentation: a flag and its value in a YAML block list. */
const YAML_ARGV_PAIR = /^([ \t]*-[ \t]+)["']?(--?[A-Za-z][\w.-]{0,63})["']?[ \t]*\r?\n([ \t]*)-[ \t]+(?!-)(\S.*)$/gm;
/** A `{...}` without nested braces: a JSON or flow-style object to look for name/value pairs in. */
const FLAT_OBJECT = /\{[^{}]{0,4000}\}/g;
const PAIR_NAME = /(["']?)(?:name|key)\1[ \t]*:[ \t]*(["']?)([^"',}\s]+)\2/i;
const PAIR_VALUE = /((["']?)value\2[ \t]*:[ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^,}\s][^,}\n]*)/gi;

/**
 * What every rule below needs at least one of (a separator, a PEM fence, a token prefix, a flag):
 * text without any (most label values, names, plain data) is returned at once.
 */
const MAYBE_SECRET =
  /[=:@]|-----|eyJ|\bA[A-Z]{3}[A-Z0-9]{16}\b|xox|gh[pousr]_|github_pat_|glpat-|AIza|[sr]k_(?:live|test)|npm_|cmk_|bearer|basic|(?:^|[\s"'`,])-/i;

/**
 * DB_PASSWORD=x and friends. The value of a field whose name is not secret is searched too
 * (`note: DB_PASSWORD=x`), so a match never hides a secret field inside it.
 */
function maskBareFields(text: string, depth: number): string {
  return text.replace(BARE_FIELD, (whole, lead: string, key: string, sep: string, value: string) => {
    if (!isSecretKey(key)) {
      const inner = depth < 4 && value.length > 2 ? maskBareFields(value, depth + 1) : value;
      return inner === value ? whole : `${lead}${key}${sep}${inner}`;
    }
    if (alreadyMasked(value) || /^(?:Bearer|Basic|["']{2}|true|false)$/i.test(value)) return whole;
    if (value.startsWith('\\"')) return `${lead}${key}${sep}\\"${maskNamedValue(key, value.slice(2, -2))}\\"`;
    return `${lead}${key}${sep}${maskQuoted(key, value)}`;
  });
}

const alreadyMasked = (value: string): boolean => /^["']?[[<]redacted/i.test(value);

/**
 * Masks credentials inside free text (log lines, error messages, event messages, shell strings,
 * manifest and config values, Slack text). Idempotent: masking masked text changes nothing.
 */
export function maskSecretsInText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  out = maskJwts(out);
  out = out.replace(QUOTED_FIELD, (whole, q: string, key: string, sep: string, vq: string, value: string) =>
    isSecretKey(key) && value !== '' && !alreadyMasked(value)
      ? `${q}${key}${q}${sep}${vq}${maskNamedValue(key, value)}${vq}`
      : whole,
  );
  out = out.replace(ESCAPED_QUOTED_FIELD, (whole, q: string, key: string, sep: string, vq: string, value: string) =>
    isSecretKey(key) && value !== '' && !alreadyMasked(value)
      ? `\\${q}${key}\\${q}${sep}\\${vq}${maskNamedValue(key, value)}\\${vq}`
      : whole,
  );
  out = maskBareFields(out, 0);
  for (const [pattern, replacement] of COMMAND_PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(FLAG_VALUE, (whole, lead: string, flag: string, sep: string, value: string) =>
    isSecretKey(flag) && !alreadyMasked(value) ? `${lead}${flag}${sep}${maskQuoted(flag, value)}` : whole,
  );
  // argv written out: ["--password", "x"] in JSON, `- --password` then `- x` in YAML.
  out = out.replace(JSON_ARGV_PAIR, (whole, q: string, flag: string, sep: string, vq: string, value: string) =>
    isSecretKey(flag) && value !== '' && !value.startsWith('-') && !alreadyMasked(value)
      ? `${q}${flag}${q}${sep}${vq}${maskNamedValue(flag, value)}${vq}`
      : whole,
  );
  out = out.replace(YAML_ARGV_PAIR, (whole, head: string, flag: string, indent: string, value: string) =>
    isSecretKey(flag) && head.replace(/-[\s\S]*$/, '') === indent && !alreadyMasked(value)
      ? whole.slice(0, whole.length - value.length) + maskQuoted(flag, value)
      : whole,
  );
  if (/value/i.test(out)) {
    out = out.replace(FLAT_OBJECT, (segment) => {
      const name = PAIR_NAME.exec(segment)?.[3];
      return name !== undefined && isSecretKey(name) ? maskPairValue(segment, name) : segment;
    });
    out = maskYamlPairs(out);
  }
  return out;
}

/** A value as written in text, maybe quoted: masked inside its quotes. */
function maskQuoted(name: string, value: string): string {
  const quote = /^(["']).*\1$/s.test(value) ? value[0] : '';
  const inner = quote ? value.slice(1, -1) : value;
  return `${quote}${maskNamedValue(name, inner)}${quote}`;
}

function maskPairValue(segment: string, name: string): string {
  return segment.replace(PAIR_VALUE, (whole, head: string, _q: string, value: string) => {
    if (alreadyMasked(value) || value.trim() === '' || value === '""' || value === "''") return whole;
    return `${head}${maskQuoted(name, value.trim())}`;
  });
}

/** How far a name/value pair's siblings are looked for (bounds the work on hostile text). */
const SIBLING_SCAN = 64;
const YAML_KEY_LINE = /^([ \t]*)(-[ \t]+)?(["']?)([\w.-]+)\3[ \t]*:(?:[ \t]+(.*))?$/;

/**
 * YAML block mappings where a `name:` (or `key:`) sibling names a secret: the `value:` sibling
 * (before or after it, block scalars included) is masked. Env entries, JSON-patch values, Helm
 * style name/value lists.
 */
function maskYamlPairs(text: string): string {
  const lines = text.split('\n');
  if (lines.length < 2) return text;
  const parsed = lines.map((line) => {
    const m = YAML_KEY_LINE.exec(line);
    if (!m) return undefined;
    return {
      column: (m[1]?.length ?? 0) + (m[2]?.length ?? 0),
      item: m[2] !== undefined,
      key: m[4] as string,
      value: (m[5] ?? '').trim(),
    };
  });
  const indentOf = (line: string): number => line.length - line.trimStart().length;
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const p = parsed[i];
    if (!p || !/^(?:name|key)$/i.test(p.key)) continue;
    const name = p.value.replace(/^["']|["']$/g, '');
    if (!name || !isSecretKey(name)) continue;
    // Siblings: same column, up to a shallower line or the start of the next list item.
    const siblings: number[] = [];
    for (let j = i - 1; j >= Math.max(0, i - SIBLING_SCAN) && !p.item; j--) {
      const line = lines[j] as string;
      if (line.trim() === '') continue;
      const q = parsed[j];
      if (q && q.column === p.column) {
        siblings.push(j);
        if (q.item) break;
        continue;
      }
      if (indentOf(line) > p.column) continue;
      break;
    }
    for (let j = i + 1; j < Math.min(lines.length, i + SIBLING_SCAN); j++) {
      const line = lines[j] as string;
      if (line.trim() === '') continue;
      const q = parsed[j];
      if (q && q.column === p.column && !q.item) {
        siblings.push(j);
        continue;
      }
      if (indentOf(line) > p.column) continue;
      break;
    }
    for (const j of siblings) {
      const q = parsed[j];
      if (!q || !/^value$/i.test(q.key) || alreadyMasked(q.value) || q.value === '""' || q.value === "''") continue;
      lines[j] = (lines[j] as string).replace(
        /^([ \t]*(?:-[ \t]+)?["']?value["']?[ \t]*:)[ \t]*(.*)$/i,
        (_m, head: string, value: string) => `${head} ${maskQuoted(name, value.trim())}`,
      );
      changed = true;
      // A block scalar or nested value: its more-indented lines go too.
      for (let k = j + 1; k < lines.length; k++) {
        const next = lines[k] as string;
        if (next.trim() !== '' && indentOf(next) <= q.column) break;
        if (next.trim() !== '') lines[k] = `${' '.repeat(q.column + 2)}${REDACTED}`;
      }
    }
  }
  return changed ? lines.join('\n') : text;
}

// ---------------------------------------------------------------------------------------------
// argv
// ---------------------------------------------------------------------------------------------

/** Clients whose glued `-p<password>` is a password (their `-p` alone prompts). */
const GLUED_P_PASSWORD = /^(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlpump|mysqlsh|mariadb[\w-]*)$/;
/** Short flags that take a password as the next argument, per command. */
const SHORT_SECRET_FLAGS: Record<string, readonly string[]> = {
  'redis-cli': ['a'],
  'valkey-cli': ['a'],
  sshpass: ['p'],
};
/** Flags whose value is `user:password` (only the password goes). */
const USERINFO_FLAGS: Record<string, readonly string[]> = { curl: ['u', 'user', 'proxy-user'], wget: [] };

function secretFlag(cmd: string, dash: string, name: string): boolean {
  if (dash === '-' && name.length === 1) return SHORT_SECRET_FLAGS[cmd]?.includes(name) === true;
  return isSecretKey(name);
}

/** How maskArgv and digestSecretArgv rewrite: a secret value (with its flag name), and any other argument. */
interface ArgvRewrite {
  secret(value: string, flag: string): string;
  other(arg: string): string;
}

const MASK: ArgvRewrite = { secret: (value, flag) => maskNamedValue(flag, value), other: maskSecretsInText };

/** `user:password`: the password is the secret, the user stays. */
function userinfo(value: string, flag: string, r: ArgvRewrite): string {
  const colon = value.indexOf(':');
  if (colon < 0 || alreadyMasked(value.slice(colon + 1))) return r.other(value);
  return `${value.slice(0, colon)}:${r.secret(value.slice(colon + 1), flag)}`;
}

/**
 * A command line as an argument vector: the value of a secret-named flag is masked, given as
 * `--password=x` or as the NEXT argument (`--password x`, unless that one is itself a `--flag`);
 * `curl -u user:pass` keeps the user; every argument is also masked as text (shell strings such
 * as `sh -c "PGPASSWORD=x psql ..."`). Decision: a bare `-p` is not a password flag (psql, ssh,
 * redis-cli use it for the port; mysql's `-p` alone prompts), except glued `-pSECRET` for the
 * mysql family and `-a`/`-p` of redis-cli/sshpass.
 */
export function maskArgv(argv: readonly unknown[]): unknown[] {
  return rewriteArgv(argv, MASK);
}

/**
 * argv with each secret value (as maskArgv finds them) replaced by `digestOf(value)` and every
 * other argument as it was: for diffs and drift baselines, where a changed secret must still show
 * as a change.
 */
export function digestSecretArgv(argv: readonly unknown[], digestOf: (value: string) => string): unknown[] {
  return rewriteArgv(argv, { secret: digestOf, other: (arg) => arg });
}

function rewriteArgv(argv: readonly unknown[], r: ArgvRewrite): unknown[] {
  const cmd = typeof argv[0] === 'string' ? (argv[0].trim().split('/').at(-1) ?? '') : '';
  const out: unknown[] = [];
  let pending: { kind: 'secret' | 'userinfo'; flag: string } | undefined;
  for (const arg of argv) {
    if (typeof arg !== 'string') {
      out.push(arg);
      pending = undefined;
      continue;
    }
    if (pending && !arg.startsWith('--') && arg !== '') {
      out.push(pending.kind === 'userinfo' ? userinfo(arg, pending.flag, r) : r.secret(arg, pending.flag));
      pending = undefined;
      continue;
    }
    pending = undefined;
    const withValue = /^(--?)([A-Za-z][\w.-]*)=([\s\S]*)$/.exec(arg);
    if (withValue) {
      const [, dash = '', name = '', value = ''] = withValue;
      if (USERINFO_FLAGS[cmd]?.includes(name)) out.push(`${dash}${name}=${userinfo(value, name, r)}`);
      else if (value !== '' && secretFlag(cmd, dash, name)) out.push(`${dash}${name}=${r.secret(value, name)}`);
      else out.push(r.other(arg));
      continue;
    }
    if (GLUED_P_PASSWORD.test(cmd) && /^-p.+/s.test(arg)) {
      out.push(`-p${r.secret(arg.slice(2), 'password')}`);
      continue;
    }
    const flag = /^(--?)([A-Za-z][\w.-]*)$/.exec(arg);
    if (flag) {
      const [, dash = '', name = ''] = flag;
      if (USERINFO_FLAGS[cmd]?.includes(name)) pending = { kind: 'userinfo', flag: name };
      else if (secretFlag(cmd, dash, name)) pending = { kind: 'secret', flag: name };
      out.push(arg);
      continue;
    }
    out.push(r.other(arg));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------------

export interface RedactOptions {
  /**
   * Treat every object with data or stringData as a Secret: set when the source text claimed a
   * Secret that the parsed value does not show (see needsStrictRedaction).
   */
  strict?: boolean;
  /** Leave out metadata.managedFields (noise in tool output). */
  dropManagedFields?: boolean;
}

interface Walk {
  strict: boolean;
  drop: boolean;
}

/**
 * Keys that, under a secret-named key, hold a reference or a setting rather than the secret
 * (`secret: {secretName, items: [{key, path}]}`, `serviceAccountToken: {audience, path}`).
 */
const REFERENCE_KEYS = new Set([
  'name',
  'namespace',
  'secretName',
  'key',
  'path',
  'optional',
  'defaultMode',
  'mode',
  'audience',
  'expirationSeconds',
  'kind',
  'apiVersion',
  'type',
  'algorithm',
  'encoding',
  'size',
  'rotationPolicy',
]);
const PAIR_NAME_KEYS = ['name', 'Name', 'key', 'Key'];
const PAIR_VALUE_KEYS = new Set(['value', 'Value']);
const ARGV_KEYS = new Set(['args', 'command', 'argv']);

/** A scalar worth masking: empty strings and plain booleans say nothing and stay. */
const maskable = (v: unknown): boolean =>
  (typeof v === 'string' && v !== '' && v !== 'true' && v !== 'false') ||
  typeof v === 'number' ||
  typeof v === 'bigint';

/**
 * Deep copy with every rule of this module applied: the one structural redaction, used for
 * Kubernetes objects and Lists, audit arguments, log fields, operation records and diffs. Never
 * changes its input.
 */
export function redactValue(value: unknown, opts: RedactOptions = {}): unknown {
  return walk(value, { strict: opts.strict === true, drop: opts.dropManagedFields === true }, 0, undefined, undefined);
}

/** redactValue under the name audit records and the logger import. */
export function redactSecrets(value: unknown): unknown {
  return redactValue(value);
}

/** `secretName`: set (to the key, or '' when inherited) when the value sits under a secret-named key. */
function walk(value: unknown, w: Walk, depth: number, implied: Implied, secretName: string | undefined): unknown {
  if (depth > MAX_DEPTH) return TRUNCATED;
  const secret = secretName !== undefined;
  if (typeof value === 'string')
    return secret && maskable(value) ? maskNamedValue(secretName, value) : maskSecretsInText(value);
  if (typeof value === 'number' || typeof value === 'bigint') return secret ? REDACTED : value;
  if (Array.isArray(value)) {
    if (secret && value.length > 0 && value.every((v) => !isRecord(v) && !Array.isArray(v))) return REDACTED;
    return value.map((v) => walk(v, w, depth + 1, undefined, secret ? '' : undefined));
  }
  if (!isRecord(value)) return value;
  return walkObject(value, w, depth, implied, secret);
}

function walkObject(
  obj: Record<string, unknown>,
  w: Walk,
  depth: number,
  implied: Implied,
  underSecretName: boolean,
): Record<string, unknown> {
  const claims = kindClaims(obj);
  const secret = isSecretObject(obj, implied) || (w.strict && (obj.data !== undefined || obj.stringData !== undefined));
  const configMap = !secret && (claims.some(isConfigMapKind) || (claims.length === 0 && implied === 'configmap'));
  const listClaims = claims.map(kindWord).filter((k) => k.endsWith('list'));
  const isList = Array.isArray(obj.items) && (claims.length === 0 || listClaims.length > 0);
  const itemKinds = listClaims.map((k) => k.slice(0, -'list'.length));
  const itemImplied: Implied = itemKinds.some((k) => /^secrets?$/.test(k))
    ? 'secret'
    : itemKinds.some((k) => /^(?:configmaps?|cm)$/.test(k))
      ? 'configmap'
      : 'list-item';
  const pairName = PAIR_NAME_KEYS.map((k) => obj[k]).find((v): v is string => typeof v === 'string');
  const pairSecret = pairName !== undefined && isSecretKey(pairName);

  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    let v: unknown;
    if (key === 'metadata' && isRecord(value)) v = walkMetadata(value, w, depth + 1, secret);
    else if (secret && (key === 'data' || key === 'stringData' || key === 'binaryData')) {
      v = sizeMarkers(value, key !== 'stringData');
    } else if (configMap && (key === 'data' || key === 'binaryData') && isRecord(value)) {
      v = configMapData(value, key === 'binaryData', w, depth + 1);
    } else if (key === 'items' && isList && Array.isArray(value)) {
      v = value.map((item) => walk(item, w, depth + 1, itemImplied, undefined));
    } else if (ARGV_KEYS.has(key) && Array.isArray(value)) {
      v = maskArgv(value).map((a) =>
        typeof a === 'string' ? a : walk(a, w, depth + 1, undefined, underSecretName ? '' : undefined),
      );
    } else if (pairSecret && PAIR_VALUE_KEYS.has(key)) {
      v = walk(value, w, depth + 1, undefined, pairName);
    } else {
      const inherited = underSecretName && !REFERENCE_KEYS.has(key) ? '' : undefined;
      v = walk(value, w, depth + 1, undefined, isSecretKey(key) ? key : inherited);
    }
    setOwn(out, key, v);
  }
  return out;
}

function walkMetadata(meta: Record<string, unknown>, w: Walk, depth: number, secret: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'managedFields' && w.drop) continue;
    if (key === 'annotations' && isRecord(value)) {
      const annotations: Record<string, unknown> = {};
      for (const [name, text] of Object.entries(value)) {
        let v: unknown;
        if (name.trim().toLowerCase() === LAST_APPLIED_ANNOTATION && secret) v = REDACTED_VALUE;
        else if (typeof text === 'string' && /^\s*[{[]/.test(text) && !isSecretKey(name)) {
          v = redactEmbeddedJson(text, w, depth + 1, secret);
        } else v = walk(text, w, depth + 1, undefined, isSecretKey(name) ? name : undefined);
        setOwn(annotations, name, v);
      }
      setOwn(out, key, annotations);
      continue;
    }
    setOwn(out, key, walk(value, w, depth + 1, undefined, isSecretKey(key) ? key : undefined));
  }
  return out;
}

/**
 * An annotation holding a JSON copy of an object (last-applied-configuration, and the like from
 * other tools) is redacted inside and kept as JSON; a Secret's copies go whole.
 */
function redactEmbeddedJson(text: string, w: Walk, depth: number, secret: boolean): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return secret ? REDACTED_VALUE : maskSecretsInText(text);
  }
  if (secret && secretClaimsInValue(parsed) > 0) return REDACTED_VALUE;
  const strict = w.strict || needsStrictRedaction(text, parsed);
  const redacted = walk(parsed, { ...w, strict, drop: false }, depth, secret ? 'secret' : undefined, undefined);
  return `${JSON.stringify(redacted)}${text.endsWith('\n') ? '\n' : ''}`;
}

/** A Secret's data/stringData: each value becomes its size; anything but a map of strings goes whole. */
function sizeMarkers(value: unknown, base64: boolean): unknown {
  if (value === null || value === undefined) return value;
  if (!isRecord(value)) return REDACTED_VALUE;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    setOwn(out, key, typeof v === 'string' ? sizeMarker(v, base64) : REDACTED_VALUE);
  }
  return out;
}

const sizeMarker = (value: string, base64: boolean): string =>
  `<redacted: ${base64 ? Buffer.from(value, 'base64').length : Buffer.byteLength(value, 'utf8')} bytes>`;

/**
 * ConfigMap data: a value whose key names a secret (DB_PASSWORD, api-key) becomes a size marker,
 * like a Secret value; other values are masked as text. binaryData is base64 and only sized.
 */
function configMapData(map: Record<string, unknown>, binary: boolean, w: Walk, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(map)) {
    let v: unknown;
    if (typeof value !== 'string') v = walk(value, w, depth + 1, undefined, isSecretKey(key) ? key : undefined);
    else if (value !== '' && isSecretKey(key)) {
      const shown = binary ? REDACTED : maskNamedValue(key, value);
      v = shown === REDACTED ? sizeMarker(value, binary) : shown;
    } else v = binary ? value : maskSecretsInText(value);
    setOwn(out, key, v);
  }
  return out;
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
