import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundedParse,
  PARSE_LIMITS,
  ParseCache,
  type ParseOutcome,
  type ParseRefusal,
} from '../../shared/domain/input/index.ts';

const L = PARSE_LIMITS;

function ok(out: ParseOutcome): readonly unknown[] {
  if (!out.ok) throw new Error(`expected a parse, got: ${out.error.message}`);
  return out.value.docs;
}

function refused(out: ParseOutcome, refusal: ParseRefusal): string {
  if (out.ok) throw new Error(`expected a ${refusal} refusal, got a parse`);
  expect(out.error.refusal, out.error.message).toBe(refusal);
  return out.error.message;
}

/** A flow sequence of n zeros: n + 1 nodes. */
const seqOf = (n: number) => `[${Array(n).fill('0').join(',')}]`;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const docs = (n: number) => Array.from({ length: n }, (_, i) => `a: ${i}\n`).join('---\n');
const anchored = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: &a${i} ${i}`).join('\n');
const aliased = (n: number) => `base: &b 1\n${Array.from({ length: n }, (_, i) => `k${i}: *b`).join('\n')}`;

describe('boundedParse: each limit, just under and just over', () => {
  it('bytes, counted in UTF-8 before anything is parsed', () => {
    // Just under in bytes, with each value under the scalar limit.
    const half = Math.floor((L.maxBytes - 20) / 2);
    const under = `a: "${'x'.repeat(half)}"\nb: "${'y'.repeat(L.maxBytes - 20 - half)}"\n`;
    expect(Buffer.byteLength(under)).toBeLessThanOrEqual(L.maxBytes);
    expect(ok(boundedParse(under))).toHaveLength(1);
    const over = `${under}${'#'.repeat(L.maxBytes - Buffer.byteLength(under) + 1)}`;
    expect(Buffer.byteLength(over)).toBe(L.maxBytes + 1);
    expect(refused(boundedParse(over), 'bytes')).toBe(`${L.maxBytes + 1} bytes; at most ${L.maxBytes} are accepted`);
    // Multi-byte characters count as their bytes, not as UTF-16 units.
    const wide = `# ${'é'.repeat(L.maxBytes / 2)}`;
    expect(wide.length).toBeLessThan(L.maxBytes);
    refused(boundedParse(wide), 'bytes');
  });

  it('documents, empty ones included', () => {
    expect(ok(boundedParse(docs(L.maxDocuments)))).toHaveLength(L.maxDocuments);
    expect(refused(boundedParse(docs(L.maxDocuments + 1)), 'documents')).toMatch(/^more than 100 documents/);
    expect(ok(boundedParse('---\n'.repeat(L.maxDocuments)))).toHaveLength(L.maxDocuments);
    refused(boundedParse('---\n'.repeat(L.maxDocuments + 1)), 'documents');
    refused(boundedParse('---\n'.repeat(200_000)), 'documents');
    // A caller may lower it (a patch is one document).
    ok(boundedParse('{"a": 1}', { maxDocuments: 1 }));
    refused(boundedParse('a: 1\n---\nb: 2\n', { maxDocuments: 1 }), 'documents');
  });

  it('nesting depth, of [ and { and of block collections', () => {
    expect(ok(boundedParse(nested(L.maxDepth)))).toHaveLength(1);
    refused(boundedParse(nested(L.maxDepth + 1)), 'depth');
    const braces = (d: number) => `${'{a: '.repeat(d - 1)}{}${'}'.repeat(d - 1)}`;
    ok(boundedParse(braces(L.maxDepth)));
    refused(boundedParse(braces(L.maxDepth + 1)), 'depth');
    const block = (d: number) =>
      `${Array.from({ length: d }, (_, i) => `${'  '.repeat(i)}k:`).join('\n')}\n${'  '.repeat(d)}v: 1\n`;
    ok(boundedParse(block(L.maxDepth - 1)));
    refused(boundedParse(block(L.maxDepth)), 'depth');
    // Unclosed and far too deep: refused while lexing, long before the end of the text.
    refused(boundedParse('['.repeat(500_000)), 'depth');
    refused(boundedParse('- '.repeat(400_000)), 'depth');
  });

  it('nodes: keys, values and collections of all documents, counted after alias expansion', () => {
    // The default, once (100 000 nodes take a while to compose); the boundary with a lower limit.
    expect(refused(boundedParse(seqOf(L.maxNodes)), 'nodes')).toMatch(/^more than 100000 keys and values/);
    const small = { maxNodes: 50 };
    ok(boundedParse(seqOf(49), small));
    refused(boundedParse(seqOf(50), small), 'nodes');
    // Across documents.
    ok(boundedParse(`${seqOf(24)}\n---\n${seqOf(24)}`, small));
    refused(boundedParse(`${seqOf(24)}\n---\n${seqOf(25)}`, small), 'nodes');
    // Expanded aliases count: the map, two keys, and the sequence of 10 nodes twice: 23.
    const viaAlias = `a: &x ${seqOf(9)}\nb: *x\n`;
    ok(boundedParse(viaAlias, { maxNodes: 23 }));
    refused(boundedParse(viaAlias, { maxNodes: 22 }), 'nodes');
  });

  it('scalar length, for values and keys', () => {
    const value = (n: number) => `a: "${'x'.repeat(n)}"`;
    expect(ok(boundedParse(value(L.maxScalarChars)))).toHaveLength(1);
    expect(refused(boundedParse(value(L.maxScalarChars + 1)), 'scalar')).toMatch(/longer than 524288 characters/);
    const block = (n: number) => `a: |\n  ${'y'.repeat(n - 1)}\n`;
    ok(boundedParse(block(L.maxScalarChars)));
    refused(boundedParse(block(L.maxScalarChars + 1)), 'scalar');
    ok(boundedParse(`{"${'k'.repeat(100)}": 1}`, { maxScalarChars: 100 }));
    refused(boundedParse(`{"${'k'.repeat(101)}": 1}`, { maxScalarChars: 100 }), 'scalar');
  });

  it('expanded characters: aliases cannot make the value larger than the text limit', () => {
    const big = (copies: number) =>
      `a: &x "${'z'.repeat(1000)}"\n${Array.from({ length: copies }, (_, i) => `c${i}: *x`).join('\n')}`;
    // 1 + 10 copies of 1000 characters, plus the keys (a, c0..c9: 21 characters).
    ok(boundedParse(big(10), { maxExpandedChars: 11_021 }));
    refused(boundedParse(big(10), { maxExpandedChars: 11_020 }), 'expanded');
  });

  it('anchors and aliases', () => {
    ok(boundedParse(anchored(L.maxAnchors)));
    expect(refused(boundedParse(anchored(L.maxAnchors + 1)), 'anchors')).toMatch(/^more than 16 anchors/);
    ok(boundedParse(aliased(L.maxAliases)));
    expect(refused(boundedParse(aliased(L.maxAliases + 1)), 'aliases')).toMatch(/^more than 16 aliases/);
  });
});

describe('boundedParse: hostile constructs', () => {
  it('refuses the billion laughs, and any alias chain that expands past the limits', () => {
    const laughs = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ].join('\n');
    refused(boundedParse(laughs), 'aliases');
    // A chain of aliases within the counts is fine...
    const links = ['l0: &l0 [x, x]', ...Array.from({ length: 15 }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}]`)];
    ok(boundedParse(`${links.join('\n')}\n`));
    // ...but 16 aliases that multiply (8 x 8 copies of 2000 nodes) are refused once expanded.
    const wide = `a: &a ${seqOf(1999)}\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n`;
    refused(boundedParse(wide), 'nodes');
  });

  it('refuses an alias that refers to its own container, and one with no anchor before it', () => {
    expect(refused(boundedParse('a: &a [1, *a]'), 'alias')).toMatch(/contains it/);
    expect(refused(boundedParse('a: *nope\nb: &nope 1'), 'alias')).toMatch(/no anchor defined before it/);
  });

  it('gives aliases copies, not shared references, and freezes everything', () => {
    const [doc] = ok(boundedParse('a: &x {k: [1, 2]}\nb: *x\n')) as Array<Record<string, Record<string, unknown>>>;
    expect(doc?.b).toEqual(doc?.a);
    expect(doc?.b).not.toBe(doc?.a);
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(doc?.a?.k)).toBe(true);
    expect(() => {
      (doc as Record<string, unknown>).c = 1;
    }).toThrow(TypeError);
  });

  it('refuses duplicate keys, also spelled differently, where JSON would keep only one', () => {
    for (const text of ['a: 1\na: 2', '{"a": 1, "a": 2}', 'a: 1\n"a": 2', "{1: x, '1': y}", '{true: 1, "true": 2}']) {
      expect(refused(boundedParse(text), 'duplicate-key'), text).toMatch(/a key appears twice in one mapping/);
    }
    // The same key in sibling mappings is fine.
    ok(boundedParse('a: {k: 1}\nb: {k: 2}\n'));
  });

  it('refuses merge keys, tags beyond the core ones, directives, complex and null keys, .inf and .nan', () => {
    refused(boundedParse('base: &b {x: 1}\nm: {<<: *b, y: 2}\n'), 'merge-key');
    for (const tag of [
      '!!binary aGk=',
      '!!js/function "f"',
      '!custom 1',
      '!!set {a}',
      '!!omap [a: 1]',
      '!!timestamp 2001-01-01',
      '! x',
      '!<tag:example.com,2000:x> 1',
    ]) {
      refused(boundedParse(`a: ${tag}`), 'tag');
    }
    expect(ok(boundedParse('a: !!str 5\nb: !!int "7"\nc: !<tag:yaml.org,2002:str> 9\n'))).toEqual([
      { a: '5', b: 7, c: '9' },
    ]);
    refused(boundedParse('%YAML 1.1\n---\na: yes\n'), 'directive');
    refused(boundedParse('%TAG ! tag:example.com,2000:\n---\na: 1\n'), 'directive');
    refused(boundedParse('? [a, b]\n: c\n'), 'key');
    refused(boundedParse('? {a: 1}\n: c\n'), 'key');
    refused(boundedParse('~: 1'), 'key');
    refused(boundedParse('a: &k x\n*k : 1\n'), 'key');
    for (const n of ['.inf', '-.inf', '.nan', '.NaN']) refused(boundedParse(`a: ${n}`), 'number');
  });

  it('refuses raw control characters and unpaired surrogates, but not their escapes', () => {
    for (const c of ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f']) {
      const msg = refused(boundedParse(`a: b${c}c`), 'characters');
      expect(msg).toContain(`U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
      expect(msg).toContain('line 1, column 5');
    }
    refused(boundedParse('a: "\ud800"'), 'characters');
    refused(boundedParse('a: "x\udc00"'), 'characters');
    expect(ok(boundedParse('a: "\\u0000\\t\\ud83d\\ude00"'))).toEqual([{ a: '\u0000\t😀' }]);
    expect(ok(boundedParse('a: "😀"\r\nb: "\t"\r\n'))).toEqual([{ a: '😀', b: '\t' }]);
  });

  it('keeps __proto__ as an own key and never touches a prototype', () => {
    const [doc] = ok(boundedParse('{"__proto__": {"polluted": true}, "data": {"__proto__": "x"}}')) as Array<
      Record<string, unknown>
    >;
    expect(Object.keys(doc ?? {})).toEqual(['__proto__', 'data']);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('locates a refusal by document, line and column, and says only what and where', () => {
    const out = boundedParse('a: 1\n---\nb: 1\nc: 2\nb: 3\n');
    expect(out).toEqual({
      ok: false,
      error: {
        refusal: 'duplicate-key',
        document: 2,
        line: 5,
        column: 1,
        message: 'a key appears twice in one mapping (document 2, line 5, column 1)',
      },
    });
    const broken = boundedParse('a: [1, 2\nb: }');
    expect(broken.ok).toBe(false);
    if (!broken.ok) {
      expect(broken.error.refusal).toBe('syntax');
      expect(broken.error.message).toMatch(/^not valid YAML or JSON: .+ \(document 1, line \d+, column \d+\)$/);
    }
  });

  it('reads an empty text as no documents, and tells JSON from YAML for redaction', () => {
    expect(boundedParse('')).toEqual({ ok: true, value: { docs: [], format: 'yaml', bytes: 0 } });
    expect(boundedParse('  {"a": 1}')).toMatchObject({ ok: true, value: { format: 'json' } });
    expect(boundedParse('[1]\n')).toMatchObject({ ok: true, value: { format: 'json' } });
    expect(boundedParse('a: {"b": 1}')).toMatchObject({ ok: true, value: { format: 'yaml' } });
  });
});

describe('boundedParse: properties', () => {
  it('reads any JSON text exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        // JSON.parse keeps the last of duplicate keys, which JSON.stringify never writes; "<<" is refused by design.
        fc.pre(!text.includes('"<<"'));
        const out = boundedParse(text);
        if (!out.ok) throw new Error(`${out.error.message} for ${text.slice(0, 200)}`);
        expect(out.value.docs).toEqual([JSON.parse(text)]);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, and a refusal never echoes the text or the parser', () => {
    const marker = 'Zq7MarkerValue';
    const hostile = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            '[',
            ']',
            '{',
            '}',
            ':',
            ',',
            '-',
            ' ',
            '\n',
            '&a',
            '*a',
            '!!binary',
            '<<',
            '---',
            '"',
            "'",
            '|',
            '>',
            '?',
            '#',
            '%',
            '\t',
            marker,
          ),
          { maxLength: 120 },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(hostile, (raw) => {
        const text = `${marker}: ${raw}`;
        const out = boundedParse(text);
        if (out.ok) return;
        expect(out.error.message.length).toBeLessThan(250);
        expect(out.error.message).not.toContain(marker);
        expect(out.error.message).not.toMatch(/\^|YAMLParseError|at line|\n|\s{2}/);
      }),
      { numRuns: 400 },
    );
  });
});

describe('ParseCache', () => {
  it('parses a text once per set of limits, and remembers refusals too', () => {
    const cache = new ParseCache();
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
    const first = cache.parse(text);
    expect(cache.parse(text)).toBe(first);
    expect(cache.parse([...text].join(''))).toBe(first); // equal text, another string
    expect(cache.parses).toBe(1);
    expect(cache.parse(text, { maxDocuments: 1 })).not.toBe(first);
    expect(cache.parses).toBe(2);
    const bad = cache.parse('a: [');
    expect(bad.ok).toBe(false);
    expect(cache.parse('a: [')).toBe(bad);
    expect(cache.parses).toBe(3);
  });
});
