/**
 * Keeps Secret values away from the model, logs and audit: Secret data (and ConfigMap values
 * under secret-named keys such as DB_PASSWORD) becomes a size marker,
 * the last-applied annotation of a Secret (a full copy of its data) is replaced, and
 * credential-looking strings elsewhere are masked. managedFields is dropped as noise.
 */
import { createHash, createHmac } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import { isSecretKey, maskSecretsInText, REDACTED } from '../redact.ts';
import { deepCopy, isRecord, rec, setOwn, str } from './object-guards.ts';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const REDACTED_VALUE = '<redacted>';

/** Deeper than any real object (CRD schemas reach ~60); past it, content is cut rather than risked. */
const MAX_DEPTH = 200;
const TRUNCATED = '[TRUNCATED: too deep]';

/**
 * True for a Secret. Items of a SecretList come from the API without kind, so an object without
 * kind that has a string `type` and a data/stringData map is treated as a Secret too (no other
 * built-in kind has that shape); `impliedSecret` is set for items of a SecretList.
 */
export function isSecretObject(obj: Record<string, unknown>, impliedSecret = false): boolean {
  const kind = obj.kind;
  // Any spelling the resolver would take for a Secret (a manifest with `kind: secret` is refused by
  // the API server, but its text is still echoed and audited): fail closed.
  if (typeof kind === 'string' && /^secrets?$/i.test(kind.trim())) return true;
  if (kind !== undefined) return false;
  if (impliedSecret) return true;
  return typeof obj.type === 'string' && (isRecord(obj.data) || isRecord(obj.stringData)) && !('spec' in obj);
}

export function base64ByteLength(value: string): number {
  return Buffer.from(value, 'base64').length;
}

/** Deep copy of a Kubernetes object (or List) that is safe to show: see the module comment. */
export function redactObject(obj: Record<string, unknown>): Record<string, unknown> {
  const copy = deepCopy(obj);
  redactInPlace(copy, false, 0);
  return copy;
}

function redactInPlace(
  obj: Record<string, unknown>,
  impliedSecret: boolean,
  depth: number,
  impliedConfigMap = false,
): void {
  if (depth > MAX_DEPTH) {
    for (const key of Object.keys(obj)) delete obj[key];
    obj.truncated = TRUNCATED;
    return;
  }
  const secret = isSecretObject(obj, impliedSecret);
  const meta = rec(obj.metadata);
  if (meta) {
    delete meta.managedFields;
    const annotations = rec(meta.annotations);
    if (annotations) {
      for (const [key, value] of Object.entries(annotations)) {
        if (key === LAST_APPLIED_ANNOTATION) {
          annotations[key] = secret ? REDACTED_VALUE : redactLastApplied(value, depth);
        } else if (typeof value === 'string') {
          annotations[key] = maskSecretsInText(value);
        }
      }
    }
  }
  if (secret) {
    const data = rec(obj.data);
    if (data) {
      for (const [key, value] of Object.entries(data)) {
        data[key] = typeof value === 'string' ? `<redacted: ${base64ByteLength(value)} bytes>` : REDACTED_VALUE;
      }
    }
    const stringData = rec(obj.stringData);
    if (stringData) {
      for (const [key, value] of Object.entries(stringData)) {
        stringData[key] =
          typeof value === 'string' ? `<redacted: ${Buffer.byteLength(value, 'utf8')} bytes>` : REDACTED_VALUE;
      }
    }
    return;
  }
  if (obj.kind === 'ConfigMap' || (obj.kind === undefined && impliedConfigMap)) {
    maskConfigMapData(rec(obj.data), false);
    maskConfigMapData(rec(obj.binaryData), true);
  }
  const kind = str(obj.kind);
  const isList = Array.isArray(obj.items) && (kind === undefined || kind.endsWith('List'));
  for (const [key, child] of Object.entries(obj)) {
    if (key === 'metadata') continue;
    if (key === 'items' && isList && Array.isArray(child)) {
      for (const item of child) {
        if (isRecord(item)) redactInPlace(item, kind === 'SecretList', depth + 1, kind === 'ConfigMapList');
      }
    } else {
      obj[key] = redactNested(child, depth + 1);
    }
  }
}

/** The last-applied annotation of a non-Secret is a JSON copy of the object: redact it the same way. */
function redactLastApplied(value: unknown, depth: number): unknown {
  if (typeof value !== 'string') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (isRecord(parsed)) {
      redactInPlace(parsed, false, depth + 1);
      return JSON.stringify(parsed);
    }
  } catch {
    // not JSON: fall through to text masking
  }
  return maskSecretsInText(value);
}

/**
 * ConfigMap data: a value whose key names a secret (DB_PASSWORD, api-key) becomes a size marker,
 * like a Secret value; other values are masked as text. binaryData is base64 and only sized.
 */
function maskConfigMapData(map: Record<string, unknown> | undefined, binary: boolean): void {
  if (!map) return;
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string') continue;
    if (isSecretKey(key) && value !== '') {
      const size = binary ? base64ByteLength(value) : Buffer.byteLength(value, 'utf8');
      map[key] = `<redacted: ${size} bytes>`;
    } else if (!binary) map[key] = maskSecretsInText(value);
  }
}

/**
 * Below the top level: objects embedded whole (a watch event's object, templates that carry
 * manifests) get the full treatment, so an embedded Secret is redacted too. In container specs
 * (pods, templates, cronjob templates) env values whose name says secret become [REDACTED];
 * other env values, args and command are masked as text.
 */
function redactNested(value: unknown, depth: number): unknown {
  if (Array.isArray(value)) {
    if (depth > MAX_DEPTH) return TRUNCATED;
    for (let i = 0; i < value.length; i++) value[i] = redactNested(value[i], depth + 1);
    return value;
  }
  if (!isRecord(value)) return value;
  if (depth > MAX_DEPTH) return TRUNCATED;
  if (typeof value.kind === 'string' && (isSecretObject(value) || isRecord(value.metadata))) {
    redactInPlace(value, false, depth);
    return value;
  }
  if (typeof value.image === 'string' || Array.isArray(value.env)) {
    for (const key of ['args', 'command']) {
      const list = value[key];
      if (Array.isArray(list)) value[key] = list.map((a) => (typeof a === 'string' ? maskSecretsInText(a) : a));
    }
    if (Array.isArray(value.env)) {
      for (const entry of value.env) {
        if (!isRecord(entry) || typeof entry.value !== 'string') continue;
        const name = str(entry.name) ?? '';
        entry.value = isSecretKey(name) && entry.value !== '' ? REDACTED : maskSecretsInText(entry.value);
      }
    }
  }
  for (const [key, child] of Object.entries(value)) value[key] = redactNested(child, depth + 1);
  return value;
}

/**
 * Redacts manifest text (YAML, multi-document YAML or JSON) before it is echoed or audited.
 * Parsed documents are redacted with redactObject and re-serialized (comments are dropped, since
 * they can hold secrets too). Text that does not parse is masked line by line.
 */
export function redactManifestText(text: string): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return `${JSON.stringify(redactParsed(JSON.parse(text)), null, 2)}\n`;
    } catch {
      // not JSON (may still be YAML flow style): try YAML below
    }
  }
  try {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return '';
    if (docs.some((d) => d.errors.length > 0)) return redactUnparsedText(text);
    const out: string[] = [];
    for (const doc of docs) {
      const value: unknown = doc.toJS();
      if ((value === null || value === undefined) && docs.length > 1) continue; // empty document
      out.push(stringify(redactParsed(value), { lineWidth: 0 }));
    }
    return out.join('---\n');
  } catch {
    return redactUnparsedText(text);
  }
}

function redactParsed(value: unknown): unknown {
  if (isRecord(value)) return redactObject(value);
  if (Array.isArray(value)) return value.map(redactParsed);
  if (typeof value === 'string') return maskSecretsInText(value);
  return value;
}

const DATA_KEY_LINE = /^\s*(?:-\s+)?["']?(data|stringData|binaryData)["']?\s*:(.*)$/;
const LAST_APPLIED_LINE = /^\s*(?:-\s+)?["']?kubectl\.kubernetes\.io\/last-applied-configuration["']?\s*:(.*)$/;
const JSON_DATA_LINE = /^\s*"(?:data|stringData|binaryData)"\s*:/;
const KEY_LINE = /^(\s*)("[^"]*"|'[^']*'|[^\s:#][^:#]*?)\s*:(?:\s|$)/;

/**
 * Heuristic for text that is not valid YAML/JSON: credentials are masked, values under any
 * data/stringData/binaryData key and the last-applied annotation are replaced, and JSON-style
 * `"data": {...}` objects lose their values.
 */
export function redactUnparsedText(text: string): string {
  let masked = maskSecretsInText(text);
  masked = masked.replace(
    /("kubectl\.kubernetes\.io\/last-applied-configuration"\s*:\s*)"(?:[^"\\]|\\.)*("|$)/g,
    `$1"${REDACTED_VALUE}"`,
  );
  masked = masked.replace(
    /("(?:data|stringData|binaryData)"\s*:\s*)(\{[^{}]*(?:\}|$))/g,
    (_m, head: string, body: string) => {
      const values = body.replace(/("(?:[^"\\]|\\.)*"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]+)/g, `$1"${REDACTED_VALUE}"`);
      return `${head}${values}`;
    },
  );
  const out: string[] = [];
  let blockIndent = -1;
  let childIndent = -1;
  for (const line of masked.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (line.trim() === '') continue;
      if (indent > blockIndent) {
        if (childIndent < 0) childIndent = indent;
        const key = KEY_LINE.exec(line);
        if (key && indent === childIndent) out.push(`${key[1]}${key[2]}: ${REDACTED_VALUE}`);
        continue;
      }
      blockIndent = -1;
    }
    const data = DATA_KEY_LINE.exec(line);
    const rest = data ? data[2] : LAST_APPLIED_LINE.exec(line)?.[1];
    if (rest !== undefined && JSON_DATA_LINE.test(line) && rest.trim().startsWith('{')) {
      out.push(line); // a JSON object, its values were replaced above
      continue;
    }
    if (rest !== undefined) {
      const head = line.slice(0, line.length - rest.length);
      out.push(rest.trim() === '' ? head : `${head} ${REDACTED_VALUE}`);
      blockIndent = indent;
      childIndent = -1;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

/**
 * For a Secret, key -> sha256 hex of the value's bytes (data decoded from base64, stringData as
 * UTF-8; stringData wins on a shared key, as on the API server). With `hmacKey`, HMAC-SHA256 is
 * used instead, so a leaked baseline cannot be brute-forced for short passwords.
 */
export function secretValueDigests(
  obj: Record<string, unknown>,
  opts: { hmacKey?: string } = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isSecretObject(obj)) return out;
  const digest = (bytes: Buffer): string => digestBytes(bytes, opts.hmacKey);
  const data = rec(obj.data);
  if (data) {
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string') setOwn(out, key, digest(Buffer.from(value, 'base64')));
    }
  }
  const stringData = rec(obj.stringData);
  if (stringData) {
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === 'string') setOwn(out, key, digest(Buffer.from(value, 'utf8')));
    }
  }
  return out;
}

/** sha256 hex of bytes, or HMAC-SHA256 hex when a key is given. */
export function digestBytes(bytes: Buffer, hmacKey?: string): string {
  return hmacKey
    ? createHmac('sha256', hmacKey).update(bytes).digest('hex')
    : createHash('sha256').update(bytes).digest('hex');
}
