/**
 * A tool's JSON Schema as tools/list shows it, without the keywords that only restate JSON Schema's
 * defaults: `additionalProperties: {}` (any extra key is allowed anyway), `propertyNames: {type:
 * "string"}` (JSON keys are strings) and a nested empty `properties: {}`. zod writes them for loose
 * objects and records; a model reads them on every tools/list. The root keeps `properties`, which
 * some clients require of an input schema. Validates exactly what the original validates.
 */
export function compactJsonSchema<T extends Record<string, unknown>>(schema: T): T {
  return compact(schema, true) as T;
}

const DATA = new Set(['default', 'const', 'enum', 'examples']);

const isEmptyObject = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

function compact(node: unknown, root: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => compact(n, false));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && isEmptyObject(value)) continue;
    if (key === 'propertyNames' && isStringType(value)) continue;
    if (key === 'properties' && !root && isEmptyObject(value)) continue;
    // Under `properties` (and `$defs`), keys are names chosen by the tool, not keywords: keep them all;
    // `default`, `const`, `enum` and `examples` hold data, not schemas.
    out[key] = DATA.has(key)
      ? value
      : key === 'properties' || key === '$defs'
        ? compactMap(value)
        : compact(value, false);
  }
  return out;
}

function compactMap(map: unknown): unknown {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return map;
  return Object.fromEntries(Object.entries(map).map(([name, schema]) => [name, compact(schema, false)]));
}

function isStringType(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    Object.keys(v).length === 1 &&
    (v as Record<string, unknown>).type === 'string'
  );
}
