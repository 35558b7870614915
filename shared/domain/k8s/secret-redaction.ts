/**
 * Kubernetes entry points of the one redaction (shared/domain/redact.ts, where every rule lives):
 * objects and Lists for tool output, manifest text for apply echoes and audit, digests of Secret
 * values for drift baselines. Secret data becomes a size marker, the last-applied copy of a Secret
 * is replaced, other objects are redacted inside (env, argv, ConfigMap data, annotations, any
 * secret-named key). managedFields is dropped as noise.
 */
import { createHash, createHmac } from 'node:crypto';
import { stringify } from 'yaml';
import { boundedParse, type ParsedText } from '../input/index.ts';
import {
  isSecretObject,
  LAST_APPLIED_ANNOTATION,
  maskSecretsInText,
  needsStrictRedaction,
  REDACTED_VALUE,
  redactValue,
} from '../redact.ts';
import { isRecord, rec, setOwn } from './object-guards.ts';

export { isSecretObject, LAST_APPLIED_ANNOTATION, REDACTED_VALUE };

export function base64ByteLength(value: string): number {
  return Buffer.from(value, 'base64').length;
}

/**
 * Deep copy of a Kubernetes object (or List, or watch event) that is safe to show. `strict`
 * treats every object with data as a Secret (see needsStrictRedaction).
 */
export function redactObject(obj: Record<string, unknown>, opts: { strict?: boolean } = {}): Record<string, unknown> {
  return redactValue(obj, { dropManagedFields: true, strict: opts.strict === true }) as Record<string, unknown>;
}

/**
 * Parsed documents (values of a manifest) redacted for echo or audit. With the source text, a
 * Secret claimed by the text but not by the parsed value (a duplicate `kind` key the parser
 * resolved the other way) makes the redaction strict.
 */
export function redactDocuments(values: unknown[], sourceText?: string): unknown[] {
  const strict = sourceText !== undefined && needsStrictRedaction(sourceText, values);
  return values.map((v) => redactParsedValue(v, strict));
}

function redactParsedValue(value: unknown, strict: boolean): unknown {
  if (isRecord(value)) return redactObject(value, { strict });
  if (Array.isArray(value)) return value.map((v) => redactParsedValue(v, strict));
  if (typeof value === 'string') return maskSecretsInText(value);
  return value;
}

/**
 * Redacts manifest text (YAML, multi-document YAML or JSON) before it is echoed or audited. The
 * text is parsed with the bounded parser (shared/domain/input) and written out by
 * redactParsedManifest; text that does not parse is masked line by line. Where the request already
 * parsed the text (a ParseCache), call redactParsedManifest with that parse instead.
 */
export function redactManifestText(text: string): string {
  const parsed = boundedParse(text);
  return parsed.ok ? redactParsedManifest(parsed.value, text) : redactUnparsedText(text);
}

/**
 * Parsed manifest documents, redacted with redactObject and written out again: as JSON when the
 * text was one JSON document, else as YAML documents (comments are gone, since they can hold
 * secrets too). Empty documents of a multi-document text are left out.
 */
export function redactParsedManifest(parsed: Pick<ParsedText, 'docs' | 'format'>, sourceText?: string): string {
  const docs = redactDocuments([...parsed.docs], sourceText);
  if (parsed.format === 'json' && docs.length === 1) return `${JSON.stringify(docs[0], null, 2)}\n`;
  const out: string[] = [];
  for (const value of docs) {
    if ((value === null || value === undefined) && docs.length > 1) continue; // empty document
    out.push(stringify(value, { lineWidth: 0 }));
  }
  return out.join('---\n');
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
