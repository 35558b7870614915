import { createHash } from 'node:crypto';
import { cutUtf8 } from './bounds.ts';

/*
 * The rules every Store adapter applies to items, so a test on the memory store meets the same
 * refusals as production: key bounds, item size and expiry.
 */

export function isExpired(item: { expiresAt?: number }, nowMs: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt * 1000 <= nowMs;
}

/**
 * DynamoDB's limits, which every adapter enforces so a test on the memory store meets the same
 * refusals as production: 400 KB per item (attribute names included, strings as UTF-8), 2048 bytes
 * per partition key and 1024 bytes per sort key.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const STORE_LIMITS = { itemBytes: 400 * 1024, pkBytes: 2048, skBytes: 1024 } as const;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * A key that fits in `maxBytes` of UTF-8. A longer one keeps its head, then a visible marker with
 * the number of bytes cut and a hash of the whole key, so distinct long keys stay distinct and the
 * same long key always maps to the same stored key (adapters bound every key they are given, on
 * writes and reads alike). A bounded key is returned unchanged, so bounding twice is harmless.
 */
export function boundedKey(key: string, maxBytes: number): string {
  const total = utf8(key);
  if (total <= maxBytes) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const marker = (cut: number) => `…[truncated ${cut} bytes #${hash}]`;
  // The marker's own length depends on how many bytes are cut; the largest count bounds it.
  const room = maxBytes - utf8(marker(total));
  const head = cutUtf8(key, Math.max(0, room));
  return `${head}${marker(total - utf8(head))}`;
}

/** A partition key as every adapter stores it (boundedKey at DynamoDB's 2048 bytes). */
export const boundedPk = (pk: string): string => boundedKey(pk, STORE_LIMITS.pkBytes);
/** A sort key as every adapter stores it (boundedKey at DynamoDB's 1024 bytes). */
export const boundedSk = (sk: string): string => boundedKey(sk, STORE_LIMITS.skBytes);

/**
 * The item's size as DynamoDB counts it, as an upper estimate: attribute names and strings in
 * UTF-8 bytes, numbers 1 byte plus one per two significant digits (plus a sign byte), booleans and
 * nulls 1 byte, lists and maps 3 bytes plus 1 per element. dynalite counts strings in UTF-16 code
 * units, which is kinder for non-ASCII text; the adapters check this estimate first.
 */
export function itemBytes(item: {
  pk: string;
  sk: string;
  data: unknown;
  version: number;
  expiresAt?: number;
}): number {
  let size = 2 + utf8(item.pk) + 2 + utf8(item.sk) + 4 + valueBytes(item.data) + 7 + numberBytes(item.version);
  if (item.expiresAt !== undefined) size += 9 + numberBytes(item.expiresAt);
  return size;
}

function numberBytes(n: number): number {
  const digits = Math.abs(n).toExponential().replace(/e.*$/, '').replace('.', '').length;
  return 1 + Math.ceil(digits / 2) + 1;
}

function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number') return numberBytes(v);
  if (Array.isArray(v)) return 3 + v.reduce<number>((sum, x) => sum + 1 + valueBytes(x), 0);
  if (typeof v === 'object') {
    let sum = 3;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      sum += 1 + utf8(k) + valueBytes(x);
    }
    return sum;
  }
  return utf8(String(v));
}
