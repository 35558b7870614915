/**
 * Strict tool inputs: every object in a tool's input schema refuses keys it does not declare, and
 * the refusal names the closest valid key. A misspelled `dryRun` must never be dropped silently
 * (which would run the real write); tools/list shows `additionalProperties: false` for the same reason.
 */
import * as z from 'zod';
import { closestName, editDistance } from '../domain/did-you-mean.ts';

type Schema = z.ZodType;

/** Case, `_`, `-` and spaces do not count: `dry_run`, `DryRun` and `dry-run` all mean `dryRun`. */
const normalize = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

export { editDistance };

/** The valid key closest to `key` (case-insensitive), when one is close enough to be a misspelling. */
export function closestKey(key: string, valid: readonly string[]): string | undefined {
  return closestName(key, valid, normalize);
}

const quoteKey = (key: string) => `\`${key.length > 60 ? `${key.slice(0, 60)}…` : key}\``;

/** What to tell the caller about keys an object does not take: a did-you-mean each, or the valid keys. */
export function unknownKeysMessage(keys: readonly string[], valid: readonly string[]): string {
  const shown = keys.slice(0, 5);
  const parts = shown.map((key) => {
    const near = closestKey(key, valid);
    return near ? `${quoteKey(key)} (did you mean ${quoteKey(near)}?)` : quoteKey(key);
  });
  const more = keys.length > shown.length ? ` and ${keys.length - shown.length} more` : '';
  const noun = keys.length === 1 ? 'unknown argument' : 'unknown arguments';
  const allNear = shown.every((key) => closestKey(key, valid) !== undefined);
  const list = valid.length ? valid.map((v) => `\`${v}\``).join(', ') : 'none';
  return `${noun} ${parts.join(', ')}${more}${allNear ? '' : `; valid arguments: ${list}`}`;
}

const strictCache = new WeakMap<Schema, Schema>();

/**
 * The same schema with every plain object (nested ones too, inside optional, default, nullable,
 * array, union, record and pipe) made strict, its unknown-key error naming the closest valid key.
 * Objects that explicitly take other keys (`.passthrough()`, `.catchall(...)`) keep doing so.
 * Schemas without objects are returned unchanged. Parsing a valid input gives the same output.
 */
export function strictInput<S extends Schema>(schema: S): S {
  return strict(schema) as S;
}

function strict(schema: Schema): Schema {
  const cached = strictCache.get(schema);
  if (cached) return cached;
  const out = rebuild(schema);
  strictCache.set(schema, out);
  return out;
}

function rebuild(schema: Schema): Schema {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const swap = (patch: Record<string, unknown>): Schema => {
    const copy = schema.clone({ ...def, ...patch } as never) as Schema;
    const meta = z.globalRegistry.get(schema);
    if (meta) z.globalRegistry.add(copy, meta);
    return copy;
  };
  switch (def.type) {
    case 'object': {
      const shape = (schema as z.ZodObject).shape as Record<string, Schema>;
      const next: Record<string, Schema> = {};
      for (const [key, value] of Object.entries(shape)) next[key] = strict(value);
      const catchall = def.catchall as Schema | undefined;
      // A declared catchall (passthrough, catchall(x)) is a choice: keep it, only strictify inside.
      if (catchall && catchall._zod.def.type !== 'never') return swap({ shape: next });
      const valid = Object.keys(shape);
      const error = (iss: { code?: string; keys?: string[] }) =>
        iss.code === 'unrecognized_keys' ? unknownKeysMessage(iss.keys ?? [], valid) : undefined;
      return swap({ shape: next, catchall: z.never(), error });
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch': {
      const inner = def.innerType as Schema;
      const next = strict(inner);
      return next === inner ? schema : swap({ innerType: next });
    }
    case 'array': {
      const element = def.element as Schema;
      const next = strict(element);
      return next === element ? schema : swap({ element: next });
    }
    case 'record': {
      const value = def.valueType as Schema;
      const next = strict(value);
      return next === value ? schema : swap({ valueType: next });
    }
    case 'union': {
      const options = def.options as Schema[];
      const next = options.map(strict);
      return next.every((o, i) => o === options[i]) ? schema : swap({ options: next });
    }
    case 'pipe': {
      const inSchema = def.in as Schema;
      const next = strict(inSchema);
      return next === inSchema ? schema : swap({ in: next });
    }
    default:
      return schema;
  }
}

/** A validation issue (zod's, or any Standard Schema's) as the caller should read it: where, then what. */
export interface InputIssue {
  message: string;
  code?: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
}

export function describeIssues(issues: readonly InputIssue[]): string {
  const lines = issues.slice(0, 10).map((iss) => {
    const path = (iss.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    if (iss.code === 'unrecognized_keys') return path ? `${path}: ${iss.message}` : iss.message;
    return `${path ? `\`${path}\`` : 'arguments'}: ${iss.message}`;
  });
  if (issues.length > 10) lines.push(`and ${issues.length - 10} more problems`);
  return lines.join('; ');
}

/**
 * Parses one tools/call's arguments with the tool's strict input schema: the parsed value (defaults
 * applied) for the handler, or the message for a -32602 (Invalid params) answer.
 */
export function parseArguments(
  toolName: string,
  schema: Schema,
  args: unknown,
): { ok: true; data: unknown } | { ok: false; message: string } {
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
    return {
      ok: false,
      message: `Invalid params: \`arguments\` of ${toolName} must be an object of named arguments. Nothing was run.`,
    };
  }
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    message: `Invalid arguments for ${toolName}: ${describeIssues(parsed.error.issues)}. Nothing was run; call it again with corrected arguments.`,
  };
}

/** The message for a -32602 answer to these arguments, or undefined when they are valid. */
export function invalidArguments(toolName: string, schema: Schema, args: unknown): string | undefined {
  const parsed = parseArguments(toolName, schema, args);
  return parsed.ok ? undefined : parsed.message;
}
