/**
 * Caps for caller-controlled text on its way into a stored record or a log line. Every cut is
 * visible: the kept head is followed by `…[truncated N bytes]`, N being the UTF-8 bytes removed,
 * so a reader knows the value was longer and by how much. Cuts never split a character.
 */

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** The longest prefix of `s` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function cutUtf8(s: string, maxBytes: number): string {
  if (s.length <= maxBytes / 3 || utf8(s) <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8');
  let end = Math.max(0, maxBytes);
  // Back up over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * `s` when it fits in `maxBytes` of UTF-8; otherwise its head and `…[truncated N bytes]`, the whole
 * within `maxBytes` (for any `maxBytes` of 40 or more).
 */
export function capText(s: string, maxBytes: number): string {
  // Three bytes per UTF-16 unit is the most UTF-8 can take: short strings need no measuring.
  if (s.length * 3 <= maxBytes) return s;
  const total = utf8(s);
  if (total <= maxBytes) return s;
  const room = maxBytes - utf8(marker(total));
  const head = cutUtf8(s, Math.max(0, room));
  return `${head}${marker(total - utf8(head))}`;
}

const marker = (cut: number) => `…[truncated ${cut} bytes]`;

/**
 * Every string in a JSON-like value capped with capText (object keys too), arrays and objects cut
 * to `maxItems` entries (with a marker entry), nesting below `maxDepth` summarised. Returns a new
 * value; the input is not changed. Cycles are summarised, never followed.
 */
export function capStrings(
  value: unknown,
  limits: { maxBytes: number; maxItems?: number; maxDepth?: number },
  depth = 0,
  seen: Set<object> = new Set(),
): unknown {
  const maxItems = limits.maxItems ?? 200;
  const maxDepth = limits.maxDepth ?? 32;
  if (typeof value === 'string') return capText(value, limits.maxBytes);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= maxDepth) return `[nested deeper than ${maxDepth} levels omitted]`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const out = value.slice(0, maxItems).map((v) => capStrings(v, limits, depth + 1, seen));
      if (value.length > maxItems) out.push(`…[${value.length - maxItems} more items omitted]`);
      return out;
    }
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [k, v] of entries.slice(0, maxItems))
      out[capText(k, limits.maxBytes)] = capStrings(v, limits, depth + 1, seen);
    if (entries.length > maxItems) out['…'] = `[${entries.length - maxItems} more keys omitted]`;
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Bytes of `value` as JSON (UTF-8); values JSON cannot hold count as nothing. */
export function jsonBytes(value: unknown): number {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? 0 : utf8(s);
  } catch {
    return 0;
  }
}
