import { describe, expect, it } from 'vitest';
import { QUOTE_CHARS, quoted } from '../../shared/domain/text.ts';
import { registeredSchemas } from '../../shared/mcp/endpoint.ts';
import { allTools } from '../../shared/tools/index.ts';

// Every caller string is bounded where it is parsed (issue 9 items 2 and 3): each string property of
// each tool's input, as tools/list publishes it, has a maxLength, and the endpoint's validation
// refuses one character more. Manifest and patch text are the exception: the bounded parser limits
// them (1 MiB, PARSE_LIMITS) and says which limit it met.

const PARSER_BOUNDED = new Set(['manifest', 'patch']);

type Schema = {
  type?: string | string[];
  maxLength?: number;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

/** Every string-typed schema in `s`, by path (`gates.metrics[].query`). */
function strings(s: Schema | undefined, path: string, out: Array<[string, Schema]>): Array<[string, Schema]> {
  if (!s || typeof s !== 'object') return out;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('string') && s.enum === undefined && s.const === undefined) out.push([path, s]);
  for (const [k, v] of Object.entries(s.properties ?? {})) strings(v, path ? `${path}.${k}` : k, out);
  if (s.items) strings(s.items, `${path}[]`, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    strings(s.additionalProperties, `${path}{}`, out);
  for (const list of [s.anyOf, s.oneOf, s.allOf]) for (const v of list ?? []) strings(v, path, out);
  return out;
}

const published = (tool: (typeof allTools)[number]): Schema =>
  (
    registeredSchemas(tool).input as unknown as {
      '~standard': { jsonSchema: { input(o: { target: string }): Schema } };
    }
  )['~standard'].jsonSchema.input({ target: 'draft-2020-12' });

/** Sets `value` at a dotted path of `args` (arrays get one element). */
function withValue(path: string, value: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at: Record<string, unknown> = root;
  const parts = path.split('.');
  for (const [i, raw] of parts.entries()) {
    const isArray = raw.endsWith('[]');
    // `tags{}`: a value of a string map (tags, labels, dimensions), under the key `k`.
    const isMap = raw.endsWith('{}');
    const key = isArray || isMap ? raw.slice(0, -2) : raw;
    if (i === parts.length - 1) {
      at[key] = isArray ? [value] : isMap ? { k: value } : value;
      break;
    }
    const next: Record<string, unknown> = {};
    at[key] = isArray ? [next] : next;
    at = next;
  }
  return root;
}

describe('every string argument of every tool is bounded', () => {
  const rows = allTools.flatMap((t) => strings(published(t), '', []).map(([path, s]) => ({ tool: t, path, s })));

  it('finds the string arguments (the walk sees nested ones)', () => {
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.map((r) => `${r.tool.name}.${r.path}`)).toContain('delivery_rollouts_start.gates.metrics[].query');
  });

  it('each has a maxLength in tools/list (manifest and patch text excepted: the bounded parser limits them)', () => {
    const unbounded = rows
      .filter(({ path, s }) => s.maxLength === undefined && !PARSER_BOUNDED.has(path))
      .map(({ tool, path }) => `${tool.name}.${path}`);
    expect(unbounded).toEqual([]);
  });

  it('validation refuses one character past each maxLength, naming the argument', () => {
    for (const { tool, path, s } of rows) {
      if (s.maxLength === undefined) continue;
      const r = registeredSchemas(tool).strict.safeParse(withValue(path, 'a'.repeat(s.maxLength + 1)));
      expect(r.success, `${tool.name}.${path}`).toBe(false);
      const issues = r.success ? [] : r.error.issues;
      expect(
        issues.some(
          (i) => i.code === 'too_big' && i.path.join('.').replace(/\.0/g, '[]') === path.replace(/\{\}$/, '.k'),
        ),
        `${tool.name}.${path}: ${JSON.stringify(issues).slice(0, 300)}`,
      ).toBe(true);
    }
  });

  it('the limits are the sensible ones: images 512, operation ids 128, Kubernetes names 253', () => {
    const limit = (tool: string, path: string) =>
      rows.find((r) => r.tool.name === tool && r.path === path)?.s.maxLength;
    expect(limit('delivery_rollouts_start', 'image')).toBe(512);
    expect(limit('delivery_rollouts_plan', 'image')).toBe(512);
    for (const t of ['ops_operations_get', 'delivery_rollouts_get', 'ops_approvals_decide', 'ops_operations_cancel'])
      expect(limit(t, 'operationId'), t).toBe(128);
    expect(limit('k8s_resources_delete', 'name')).toBe(253);
  });
});

describe('quoted: a caller value in a message', () => {
  it('is whole when short', () => {
    expect(quoted('nginx:1.28')).toBe('nginx:1.28');
    expect(quoted('x'.repeat(QUOTE_CHARS))).toBe('x'.repeat(QUOTE_CHARS));
  });

  it('is its start, an ellipsis and how much was left out when long', () => {
    const q = quoted('x'.repeat(100_000));
    expect(q).toBe(`${'x'.repeat(QUOTE_CHARS)}…(99,800 more characters)`);
  });

  it('never splits a surrogate pair', () => {
    const q = quoted(`${'x'.repeat(QUOTE_CHARS - 1)}😀😀`);
    expect(q.startsWith(`${'x'.repeat(QUOTE_CHARS - 1)}…`)).toBe(true);
    expect(q).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
