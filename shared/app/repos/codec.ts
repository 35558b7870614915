import type { z } from 'zod';

/**
 * A record in the Store that does not have the shape its repository writes (a hand edit, a bug, a
 * write by an incompatible version). Names the record's key and the fields that failed, never a
 * value: a record may hold what must not reach a log or a caller.
 */
export class CorruptRecordError extends Error {
  override name = 'CorruptRecordError';
  readonly pk: string;
  readonly sk: string;
  constructor(pk: string, sk: string, problems: string) {
    super(`the stored record ${pk.slice(0, 200)} / ${sk.slice(0, 200)} is corrupt (${problems})`);
    this.pk = pk;
    this.sk = sk;
  }
}

/** Issues shown per error: the first few say what is wrong; a record failing everywhere is just corrupt. */
const MAX_ISSUES = 3;

/**
 * The record under `pk`/`sk` as `schema` reads it, or CorruptRecordError. zod's messages name the
 * expected type or options, never the input, so they are safe to keep.
 */
export function decodeRecord<T>(schema: z.ZodType<T>, pk: string, sk: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const shown = issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${i.path.map(String).join('.').slice(0, 100) || '(record)'}: ${i.message.slice(0, 160)}`);
  if (issues.length > MAX_ISSUES) shown.push(`${issues.length - MAX_ISSUES} more`);
  throw new CorruptRecordError(pk, sk, shown.join('; '));
}
