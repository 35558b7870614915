import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { closestKey, editDistance, invalidArguments, strictInput } from '../../shared/mcp/strict-input.ts';
import { allTools } from '../../shared/tools/index.ts';

describe('edit distance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions as one edit each', () => {
    expect(editDistance('dryRun', 'dryRun')).toBe(0);
    expect(editDistance('dryrun', 'dryRun')).toBe(1);
    expect(editDistance('dyrRun', 'dryRun')).toBe(1);
    expect(editDistance('dryRn', 'dryRun')).toBe(1);
    expect(editDistance('dryRuns', 'dryRun')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('is a metric-like distance: symmetric, zero only for equal strings, bounded by the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (a, b) => {
        const d = editDistance(a, b);
        expect(editDistance(b, a)).toBe(d);
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
      }),
      { numRuns: 200 },
    );
  });

  it('stays cheap on huge caller-chosen keys', () => {
    expect(editDistance('x'.repeat(1_000_000), 'y'.repeat(1_000_000))).toBe(64);
  });
});

describe('closest key', () => {
  const valid = ['cluster', 'kind', 'apiVersion', 'namespace', 'name', 'labelSelector', 'maxCount', 'dryRun'];
  it('ignores case, _ and - and finds plausible misspellings', () => {
    for (const k of ['dryrun', 'DRYRUN', 'dry_run', 'dry-run', 'DryRun', 'dryRn', 'dyrRun', 'dryRuns'])
      expect(closestKey(k, valid), k).toBe('dryRun');
    expect(closestKey('namespce', valid)).toBe('namespace');
    expect(closestKey('labelselector', valid)).toBe('labelSelector');
    expect(closestKey('api_version', valid)).toBe('apiVersion');
  });
  it('suggests nothing for keys that are not close', () => {
    for (const k of ['force', 'zzz', 'selector', 'x', 'all']) expect(closestKey(k, valid), k).toBeUndefined();
  });
});

describe('strictInput', () => {
  it('refuses unknown keys at every depth, and parses valid input exactly like the original', () => {
    const schema = z.object({
      name: z.string(),
      opts: z
        .object({ deep: z.array(z.object({ a: z.number() })).optional() })
        .optional()
        .describe('options'),
      loose: z.object({}).passthrough().optional(),
      n: z.number().default(3),
    });
    const strict = strictInput(schema);
    const valid = { name: 'x', opts: { deep: [{ a: 1 }] }, loose: { anything: true } };
    expect(strict.parse(valid)).toEqual(schema.parse(valid));
    expect(strict.safeParse({ name: 'x', nmae: 'y' }).success).toBe(false);
    expect(strict.safeParse({ name: 'x', opts: { dep: [] } }).success).toBe(false);
    expect(strict.safeParse({ name: 'x', opts: { deep: [{ a: 1, b: 2 }] } }).success).toBe(false);
    // An explicit passthrough stays a choice of the tool.
    expect(strict.safeParse({ name: 'x', loose: { other: 1 } }).success).toBe(true);
    const json = strict['~standard'].jsonSchema.input({ target: 'draft-2020-12' }) as {
      additionalProperties?: boolean;
      properties: { opts: { description?: string; additionalProperties?: boolean } };
    };
    expect(json.additionalProperties).toBe(false);
    expect(json.properties.opts.additionalProperties).toBe(false);
    expect(json.properties.opts.description).toBe('options');
  });

  it('keeps every registered tool schema identical in tools/list except for additionalProperties: false', () => {
    for (const t of allTools) {
      const opts = { target: 'draft-2020-12' } as const;
      const before = JSON.stringify(t.input['~standard'].jsonSchema.input(opts));
      const after = JSON.stringify(strictInput(t.input)['~standard'].jsonSchema.input(opts));
      expect(after.replaceAll(',"additionalProperties":false', ''), t.name).toBe(before);
      expect(after, t.name).toContain('"additionalProperties":false');
    }
  });

  it('any extra key on any tool is refused, valid keys named, whatever the key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...allTools),
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.jsonValue({ maxDepth: 2 }),
        (tool, key, value) => {
          fc.pre(!(key in tool.input.shape) && key !== '__proto__');
          const message = invalidArguments(tool.name, strictInput(tool.input), { [key]: value });
          expect(message).toMatch(/^Invalid arguments for /);
          expect(message).toContain('unknown argument');
        },
      ),
      { numRuns: 150 },
    );
  });
});
