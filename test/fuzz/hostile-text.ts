/**
 * Hostile caller text for the fuzz tests: fast-check arbitraries of the attacks a bounded parser
 * must survive (alias bombs, deep nesting, huge key counts, document floods, control characters,
 * huge scalars, exotic tags, merge keys) plus random JSON and random mutations of a valid manifest.
 * Sizes stay below the endpoint's 2 MiB body limit, so every text reaches the tools.
 */
import fc from 'fast-check';
import { deploymentYaml } from '../support/k8s-harness.ts';

/** A valid Deployment the fuzz mutates; its name and labels match the one the tests create. */
export const validDeployment = (image = 'nginx:1.27.1'): string =>
  deploymentYaml('web', image, { replicas: 2 }).trimStart();

const laughs = fc
  .record({ width: fc.integer({ min: 2, max: 12 }), levels: fc.integer({ min: 3, max: 12 }) })
  .map(({ width, levels }) => {
    const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`];
    for (let i = 1; i < levels; i++)
      lines.push(
        `l${i}: &l${i} [${Array(width)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
  });

const deepNesting = fc
  .record({
    open: fc.constantFrom('[', '{"a":', '{a: ', '- ', '[{"b": '),
    depth: fc.integer({ min: 50, max: 200_000 }),
    closed: fc.boolean(),
  })
  .map(({ open, depth, closed }) => {
    const close = open.startsWith('[{') ? '}]' : open.startsWith('[') ? ']' : open.startsWith('{') ? '}' : '';
    return `${open.repeat(depth)}1${closed ? close.repeat(depth) : ''}`;
  });

const manyKeys = fc
  .record({ n: fc.integer({ min: 1000, max: 20_000 }), json: fc.boolean(), dup: fc.boolean() })
  .map(({ n, json, dup }) => {
    const keys = Array.from({ length: n }, (_, i) => `k${dup && i === n - 1 ? 0 : i}`);
    return json
      ? `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keys"},"data":{${keys.map((k) => `"${k}":"v"`).join(',')}}}`
      : `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keys}\ndata:\n${keys.map((k) => `  ${k}: v`).join('\n')}\n`;
  });

const manyDocuments = fc
  .record({ n: fc.integer({ min: 10, max: 20_000 }), empty: fc.boolean() })
  .map(({ n, empty }) =>
    Array.from({ length: n }, (_, i) =>
      empty ? '' : `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d${i}}\n`,
    ).join('---\n'),
  );

const controlChars = fc
  .record({
    code: fc.oneof(fc.integer({ min: 0, max: 31 }), fc.constantFrom(0x7f, 0x85, 0xfeff, 0xfffe, 0xd800, 0xdfff)),
    at: fc.nat(),
  })
  .map(({ code, at }) => {
    const text = validDeployment();
    const i = at % text.length;
    return `${text.slice(0, i)}${String.fromCharCode(code)}${text.slice(i)}`;
  });

/** Long values of characters that do not trip the text masker's known quadratic case (see the report). */
const hugeScalar = fc
  .record({
    n: fc.integer({ min: 10_000, max: 1_300_000 }),
    ch: fc.constantFrom('x', 'é', '😀', ' ', '"'),
    block: fc.boolean(),
  })
  .map(({ n, ch, block }) => {
    const body = ch.repeat(Math.max(1, Math.floor(n / Buffer.byteLength(ch))));
    const value = block ? `|\n    ${body}` : JSON.stringify(body);
    return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  v: ${value}\n`;
  });

const tags = fc
  .constantFrom(
    '!!binary aGVsbG8=',
    '!!js/function "function () { return process.exit(1) }"',
    '!!js/undefined ""',
    '!!python/object/apply:os.system ["id"]',
    '!<tag:yaml.org,2002:js/regexp> /x/',
    '!!set {a, b}',
    '!!omap [a: 1]',
    '!!timestamp 2001-12-14',
    '!custom value',
    '!!str 5',
    '!!int "12"',
  )
  .map((tagged) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tags}\ndata:\n  v: ${tagged}\n`);

const mergeKeys = fc.constantFrom(
  'base: &b {apiVersion: v1, kind: ConfigMap}\n<<: *b\nmetadata: {name: m}\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, <<: {namespace: kube-system}}\n',
  '{"<<": {"kind": "Secret"}, "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}}\n',
);

/** Random edits (insert, delete, replace, duplicate a slice) of a valid manifest. */
const mutated = fc
  .array(
    fc.record({
      op: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 40 }),
      text: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.constantFrom(
          ':',
          '- ',
          '  ',
          '\n',
          '[',
          '{',
          '}',
          ']',
          '&a ',
          '*a',
          '<<: ',
          '---\n',
          '"',
          "'",
          '#',
          '\t',
          '!!binary ',
        ),
      ),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((edits) => {
    let text = validDeployment('nginx:1.27.2');
    for (const e of edits) {
      const i = e.at % (text.length + 1);
      if (e.op === 'insert') text = `${text.slice(0, i)}${e.text}${text.slice(i)}`;
      else if (e.op === 'delete') text = `${text.slice(0, i)}${text.slice(i + e.len)}`;
      else if (e.op === 'replace') text = `${text.slice(0, i)}${e.text}${text.slice(i + e.text.length)}`;
      else text = `${text.slice(0, i)}${text.slice(i, i + e.len).repeat(3)}${text.slice(i)}`;
    }
    return text;
  });

const randomJson = fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v));
const randomText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }));

/** Every family, weighted towards the ones that exercise limits. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: laughs, weight: 2 },
  { arbitrary: deepNesting, weight: 2 },
  { arbitrary: manyKeys, weight: 1 },
  { arbitrary: manyDocuments, weight: 1 },
  { arbitrary: controlChars, weight: 1 },
  { arbitrary: hugeScalar, weight: 1 },
  { arbitrary: tags, weight: 1 },
  { arbitrary: mergeKeys, weight: 1 },
  { arbitrary: mutated, weight: 3 },
  { arbitrary: randomJson, weight: 2 },
  { arbitrary: randomText, weight: 2 },
);

/**
 * Strings for the other text arguments: selectors, names, filters, cursors. Long ones go far past
 * every argument's maxLength (200 000 characters): each string argument is bounded where it is
 * parsed, and a message quotes at most QUOTE_CHARS of a caller's value, so none can be echoed whole.
 * Lengths at the common limits (63, 253, 4096, 8192) reach the handlers too.
 */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '/',
    'a/b',
    '%2e%2e',
    '../../api',
    '\u0000',
    'app in (a,b',
    'a=b,,c!=',
    '!!',
    '=',
    'x'.repeat(200_000),
  ),
  fc.constantFrom(63, 128, 253, 512, 1024, 4096, 8192).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 200_000 }).map((n) => '['.repeat(n)),
  fc.base64String({ maxLength: 400 }),
);

/** What a tool error must never contain: stack traces and the YAML parser's own messages. */
export const INTERNALS: RegExp[] = [
  /\n\s+at \S+ \(/,
  /\bat (?:file|node):/,
  /YAMLParseError|YAMLException|ReferenceError|TypeError|RangeError/,
  /Excessive alias count|Map keys must be unique|Nested mappings are not allowed/,
  /\n\s*\^/, // a caret under a quoted source line
];
