/**
 * The one parser for YAML or JSON text a caller sends (manifests, patches): every limit is
 * checked before parsing (size, characters) or while the text is lexed, composed and turned into
 * values (documents, nesting, anchors and aliases, nodes after alias expansion, scalar sizes), so
 * no text can stall or exhaust the process. JSON is parsed as the YAML it is (one path, one set of
 * limits). A refusal names the limit, the document and the line/column, and never echoes the
 * caller's text or the parser's own messages.
 *
 * What comes back is plain data (objects, arrays, strings, finite numbers, booleans, null) with no
 * shared references, deep-frozen: guardrails, redaction, audit and the write all read the same
 * value, and none of them can change what another one sees.
 *
 * Decisions: YAML 1.2 core schema only. Duplicate keys are refused (also `a` and `"a"`, or `1` and
 * `"1"`, which are one key once the value is JSON): with two values for one field, what the
 * guardrails judge and what the API server keeps could differ, and the API server's strict field
 * validation (kubectl's default) refuses them too. Merge keys (`<<`), tags other than the core
 * ones (`!!binary`, `!!js/...`, custom), %YAML/%TAG directives, collection or null keys and
 * .inf/.nan are refused rather than interpreted one way here and another way by kubectl.
 */
import { Composer, CST, type Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer, type Node, Parser } from 'yaml';

/** The limits every caller text is parsed within; PARSE_LIMITS holds the values, and says why. */
export interface ParseLimits {
  /** UTF-8 bytes of the text, checked before parsing. */
  maxBytes: number;
  /** Documents in the text (`---` separated), empty ones included. */
  maxDocuments: number;
  /** Maps and sequences nested in one another (a top-level map is 1), after alias expansion. */
  maxDepth: number;
  /** Keys, values, maps and sequences of all documents together, after alias expansion. */
  maxNodes: number;
  /** Characters of one key or string value. */
  maxScalarChars: number;
  /** Characters of all keys and strings together after alias expansion (aliases cannot inflate the text). */
  maxExpandedChars: number;
  /** Anchors (`&name`) in the text. */
  maxAnchors: number;
  /** Aliases (`*name`) in the text; each one is expanded into a copy, counted against maxNodes and maxExpandedChars. */
  maxAliases: number;
}

/**
 * The defaults every caller text is parsed with, and why:
 * - maxBytes 1 MiB: more than a person or agent sends in one call (a ConfigMap or Secret holds at
 *   most 1 MiB; etcd keeps objects up to 1.5 MiB), below the endpoint's body limit (2 MiB), and
 *   1 MiB of ConfigMap YAML parses in 0.4 to 0.7 s on a loaded 2-CPU machine.
 * - maxDocuments 100: room for the empty and comment-only documents of rendered charts
 *   (k8s_resources_apply itself takes at most 50 objects).
 * - maxDepth 100: deeper than the deepest CRD schemas (about 60 levels).
 * - maxNodes 100 000: a typical manifest spends 15 to 30 bytes a node, so 1 MiB holds 35 000 to
 *   70 000; the limit bites on node floods (`[0,0,0,...]`) and alias expansion.
 * - maxScalarChars 512 KiB: half what a ConfigMap may hold in all, twice every annotation together
 *   (256 KiB); also bounds the text masking redaction runs on each value.
 * - maxExpandedChars 1 MiB: alias expansion cannot make the value larger than the largest text.
 * - maxAnchors and maxAliases 16: real manifests (kubectl, Helm, Kustomize output) use none.
 */
export const PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxBytes: 1_048_576,
  maxDocuments: 100,
  maxDepth: 100,
  maxNodes: 100_000,
  maxScalarChars: 524_288,
  maxExpandedChars: 1_048_576,
  maxAnchors: 16,
  maxAliases: 16,
});

/** Which limit or rule refused the text. */
export type ParseRefusal =
  | 'bytes'
  | 'characters'
  | 'documents'
  | 'depth'
  | 'nodes'
  | 'scalar'
  | 'expanded'
  | 'anchors'
  | 'aliases'
  | 'alias'
  | 'duplicate-key'
  | 'merge-key'
  | 'key'
  | 'tag'
  | 'directive'
  | 'number'
  | 'syntax';

export interface ParseFailure {
  refusal: ParseRefusal;
  /** 1-based document number, when the failure is inside one. */
  document?: number;
  /** 1-based line and column of the place that was refused. */
  line?: number;
  column?: number;
  /** One line: what was refused and where, with no text of the caller's and no parser internals. */
  message: string;
}

export interface ParsedText {
  /** One value per document, in order; an empty document is null. */
  docs: readonly unknown[];
  /** 'json' when the text starts with `{` or `[` (redaction writes it back as JSON), else 'yaml'. */
  format: 'json' | 'yaml';
  /** UTF-8 bytes of the text. */
  bytes: number;
}

export type ParseOutcome = { ok: true; value: ParsedText } | { ok: false; error: ParseFailure };

/** Tags a manifest may carry: the YAML 1.2 core types, which JSON maps onto. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq']);
const isCoreTag = (tag: string): boolean => {
  if (tag.startsWith('!!')) return CORE_TAGS.has(tag.slice(2));
  const verbatim = /^!<tag:yaml\.org,2002:([a-z]+)>$/.exec(tag);
  return verbatim !== null && CORE_TAGS.has(verbatim[1] as string);
};

/**
 * Index of the first C0 control other than tab, LF and CR (JSON has none raw either) or lone UTF-16
 * surrogate (not Unicode), or -1.
 */
function badCharAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++; // a valid pair
    }
  }
  return -1;
}

/** The lexer's own markers (never in the text: raw C0 controls are refused first). */
const MARKERS = new Set(['\u0002', '\u0018', '\u001f']);

/** Fixed descriptions of the parser's error codes: its own messages quote the text, ours do not. */
const SYNTAX: Record<string, string> = {
  ALIAS_PROPS: 'an alias cannot carry an anchor or tag',
  BAD_ALIAS: 'an alias is malformed',
  BAD_COLLECTION_TYPE: 'a collection has the wrong type for its tag',
  BAD_DIRECTIVE: 'a directive is malformed',
  BAD_DQ_ESCAPE: 'a double-quoted string has an invalid escape',
  BAD_INDENT: 'the indentation is wrong',
  BAD_PROP_ORDER: 'anchors and tags must come before the value',
  BAD_SCALAR_START: 'a plain value starts with a reserved character (quote it)',
  BLOCK_AS_IMPLICIT_KEY: 'a block value cannot be a key',
  BLOCK_IN_FLOW: 'block syntax inside [ ] or { }',
  DUPLICATE_KEY: 'a key appears twice in one mapping',
  IMPOSSIBLE: 'the text is not valid YAML or JSON',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines',
  MULTIPLE_ANCHORS: 'a value has two anchors',
  MULTIPLE_DOCS: 'more than one document',
  MULTIPLE_TAGS: 'a value has two tags',
  NON_STRING_KEY: 'a key is not a string',
  TAB_AS_INDENT: 'a tab is used for indentation (use spaces)',
  TAG_RESOLVE_FAILED: 'a tagged value does not match its tag',
  UNEXPECTED_TOKEN: 'unexpected character or token',
};

class Refused extends Error {
  override name = 'Refused';
  readonly refusal: ParseRefusal;
  readonly reason: string;
  readonly offset: number | undefined;
  readonly document: number | undefined;
  constructor(refusal: ParseRefusal, reason: string, offset?: number, document?: number) {
    super(reason);
    this.refusal = refusal;
    this.reason = reason;
    this.offset = offset;
    this.document = document;
  }
}

/**
 * Parses `text` as YAML or JSON within `limits` (PARSE_LIMITS by default; a caller may lower
 * maxDocuments, e.g. to 1 for a patch). Never throws for any input.
 */
export function boundedParse(text: string, limits: Partial<ParseLimits> = {}): ParseOutcome {
  const L: ParseLimits = { ...PARSE_LIMITS, ...limits };
  try {
    return { ok: true, value: parse(text, L) };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: failure(text, err) };
    // The parser itself broke on some input: refuse it the same bounded way, saying nothing of why.
    return {
      ok: false,
      error: { refusal: 'syntax', message: 'the text could not be parsed as YAML or JSON' },
    };
  }
}

function parse(text: string, L: ParseLimits): ParsedText {
  // Before parsing: size (a UTF-16 length above the limit is over it in bytes too), then characters.
  if (text.length > L.maxBytes) throw new Refused('bytes', sizeReason(Buffer.byteLength(text, 'utf8'), L));
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > L.maxBytes) throw new Refused('bytes', sizeReason(bytes, L));
  const bad = badCharAt(text);
  if (bad >= 0) {
    const code = text.charCodeAt(bad);
    const what =
      code >= 0xd800 ? 'an unpaired UTF-16 surrogate (not valid Unicode)' : `the control character ${codePoint(code)}`;
    throw new Refused('characters', `${what} is not allowed`, bad);
  }

  const lexer = new Lexer();
  const parser = new Parser();
  const composer = new Composer({
    version: '1.2',
    schema: 'core',
    merge: false,
    uniqueKeys: false, // checked in O(n) below; the parser's own check is quadratic in the key count
    strict: true,
    prettyErrors: false,
    intAsBigInt: false,
  });
  const state: BuildState = { nodes: 0, chars: 0, L, anchors: new Map(), expanding: 0, document: 0 };
  const docs: unknown[] = [];
  let lexNodes = 0;
  let anchors = 0;
  let aliases = 0;
  let docStarts = 0;

  const take = (doc: Document.Parsed): void => {
    state.document = docs.length + 1;
    if (state.document > L.maxDocuments) throw new Refused('documents', `more than ${L.maxDocuments} documents`);
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw new Refused(
        'syntax',
        `not valid YAML or JSON: ${SYNTAX[problem.code] ?? 'unsupported syntax'}`,
        problem.pos[0],
        state.document,
      );
    }
    state.anchors = new Map();
    docs.push(build(doc.contents, state, 0, new Set()));
  };
  const feed = (tokens: Iterable<CST.Token>): void => {
    for (const token of tokens) for (const doc of composer.next(token)) take(doc);
  };

  for (const lexeme of lexer.lex(text)) {
    const at = parser.offset;
    if (!MARKERS.has(lexeme)) {
      const type = CST.tokenType(lexeme);
      switch (type) {
        case 'doc-start':
          // Documents are counted exactly when composed; this stops a stream of empty ones early.
          if (++docStarts > L.maxDocuments) throw new Refused('documents', `more than ${L.maxDocuments} documents`, at);
          break;
        case 'directive-line':
          throw new Refused('directive', '%YAML and %TAG directives are not supported', at);
        case 'tag':
          if (!isCoreTag(lexeme))
            throw new Refused(
              'tag',
              'only the core tags !!str, !!int, !!float, !!bool, !!null, !!map, !!seq are supported',
              at,
            );
          break;
        case 'anchor':
          if (++anchors > L.maxAnchors) throw new Refused('anchors', `more than ${L.maxAnchors} anchors (&name)`, at);
          break;
        case 'alias':
          if (++aliases > L.maxAliases) throw new Refused('aliases', `more than ${L.maxAliases} aliases (*name)`, at);
          lexNodes++;
          break;
        case 'single-quoted-scalar':
        case 'double-quoted-scalar':
        case 'flow-map-start':
        case 'flow-seq-start':
        case 'seq-item-ind':
          lexNodes++;
          break;
      }
    } else if (lexeme === '\u001f') lexNodes++; // a plain or block scalar follows
    // Each lexeme is at most two nodes of the value (a sequence item and its scalar): past twice the
    // limit the exact count cannot fit, so stop before composing the rest.
    if (lexNodes > 2 * L.maxNodes) throw new Refused('nodes', nodesReason(L), at);
    feed(parser.next(lexeme));
    // The parser's stack holds the document, each open collection, and at most two more entries.
    if (parser.stack.length > L.maxDepth + 3) throw new Refused('depth', depthReason(L), at);
  }
  feed(parser.end());
  for (const doc of composer.end()) take(doc);
  // Errors outside any document (after the last one, say) are kept by the composer, not by a document.
  const info = composer.streamInfo();
  const stray = info.errors[0] ?? info.warnings[0];
  if (stray)
    throw new Refused('syntax', `not valid YAML or JSON: ${SYNTAX[stray.code] ?? 'unsupported syntax'}`, stray.pos[0]);
  return { docs: Object.freeze(docs), format: /^\uFEFF?\s*[[{]/.test(text) ? 'json' : 'yaml', bytes };
}

interface BuildState {
  nodes: number;
  chars: number;
  L: ParseLimits;
  /** Anchor name -> node, in document order (an alias takes the last one before it). */
  anchors: Map<string, Node>;
  /** > 0 while an alias is being expanded: anchors seen again there are not redefined. */
  expanding: number;
  document: number;
}

/** Turns one composed node into plain frozen data, checking the limits that apply after expansion. */
function build(node: unknown, s: BuildState, depth: number, open: Set<unknown>): unknown {
  if (node === null || node === undefined) {
    count(s, undefined);
    return null;
  }
  const start = (node as { range?: [number, number, number] }).range?.[0];
  if (isAlias(node)) {
    const target = s.anchors.get(node.source);
    if (!target) throw new Refused('alias', 'an alias names no anchor defined before it', start, s.document);
    if (open.has(target)) throw new Refused('alias', 'an alias refers to a value that contains it', start, s.document);
    s.expanding++;
    try {
      return build(target, s, depth, open);
    } finally {
      s.expanding--;
    }
  }
  const anchor = (node as { anchor?: string }).anchor;
  if (anchor && s.expanding === 0) s.anchors.set(anchor, node as Node);
  if (isScalar(node)) {
    count(s, start);
    return scalarValue(node.value, s, start);
  }
  if (!isMap(node) && !isSeq(node)) throw new Refused('syntax', 'not valid YAML or JSON', start, s.document);
  if (depth + 1 > s.L.maxDepth) throw new Refused('depth', depthReason(s.L), start, s.document);
  count(s, start);
  open.add(node);
  try {
    if (isSeq(node)) return Object.freeze(node.items.map((item) => build(item, s, depth + 1, open)));
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) throw new Refused('syntax', 'not valid YAML or JSON', start, s.document);
      const key = keyOf(pair.key, s);
      const at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? start;
      if (key === '<<')
        throw new Refused('merge-key', 'merge keys (<<) are not supported: write the fields out', at, s.document);
      // Two spellings of one key (a and "a", 1 and "1") are one key once the value is JSON.
      if (seen.has(key)) throw new Refused('duplicate-key', 'a key appears twice in one mapping', at, s.document);
      seen.add(key);
      const value = build(pair.value, s, depth + 1, open);
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return Object.freeze(out);
  } finally {
    open.delete(node);
  }
}

function count(s: BuildState, offset: number | undefined): void {
  if (++s.nodes > s.L.maxNodes) throw new Refused('nodes', nodesReason(s.L), offset, s.document);
}

function scalarValue(value: unknown, s: BuildState, offset: number | undefined): unknown {
  if (typeof value === 'string') {
    chars(s, value.length, offset);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new Refused('number', '.inf and .nan have no JSON form and are not accepted', offset, s.document);
    return value;
  }
  if (typeof value === 'boolean' || value === null) return value;
  throw new Refused('tag', 'only strings, numbers, booleans and null are accepted as values', offset, s.document);
}

function chars(s: BuildState, n: number, offset: number | undefined): void {
  if (n > s.L.maxScalarChars)
    throw new Refused('scalar', `a key or value is longer than ${s.L.maxScalarChars} characters`, offset, s.document);
  s.chars += n;
  if (s.chars > s.L.maxExpandedChars)
    throw new Refused(
      'expanded',
      `keys and values come to more than ${s.L.maxExpandedChars} characters once aliases are expanded`,
      offset,
      s.document,
    );
}

/** A mapping key as JSON will have it: strings, numbers and booleans; anything else is refused. */
function keyOf(key: unknown, s: BuildState): string {
  const offset = (key as { range?: [number, number, number] } | null)?.range?.[0];
  if (isScalar(key)) {
    const v = key.value;
    count(s, offset);
    if (typeof v === 'string') {
      chars(s, v.length, offset);
      return v;
    }
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') {
      const k = String(v);
      chars(s, k.length, offset);
      return k;
    }
  }
  throw new Refused(
    'key',
    'a mapping key must be a string, number or boolean (not null, an alias or a collection)',
    offset,
    s.document,
  );
}

function failure(text: string, err: Refused): ParseFailure {
  const where: string[] = [];
  const out: ParseFailure = { refusal: err.refusal, message: '' };
  if (err.document !== undefined) {
    out.document = err.document;
    where.push(`document ${err.document}`);
  }
  if (err.offset !== undefined && err.offset >= 0) {
    const { line, column } = lineColumn(text, err.offset);
    out.line = line;
    out.column = column;
    where.push(`line ${line}, column ${column}`);
  }
  out.message = `${err.reason}${where.length ? ` (${where.join(', ')})` : ''}`;
  return out;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.min(offset, text.length);
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

const sizeReason = (bytes: number, L: ParseLimits): string => `${bytes} bytes; at most ${L.maxBytes} are accepted`;
const nodesReason = (L: ParseLimits): string => `more than ${L.maxNodes} keys and values (aliases counted expanded)`;
const depthReason = (L: ParseLimits): string => `nested deeper than ${L.maxDepth} levels`;
const codePoint = (code: number): string => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
