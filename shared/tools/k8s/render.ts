import type { CallToolResult } from '@modelcontextprotocol/server';

/** Formats rows as an aligned plain-text table (kubectl get style): cheaper for a model than JSON. */
export function table(columns: string[], rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** A result whose text is a human/model summary and whose structuredContent carries the data. */
export function result(text: string, structured: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured, ...(isError ? { isError: true } : {}) };
}

export const bytes = (v: unknown) => Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');

/**
 * Our continue token: the API server's token, how many items came before (so totals stay exact),
 * and the page size that fitted the budget (so the next page is fetched once).
 */
export function encodeContinue(apiToken: string, offset: number, fittedLimit?: number): string {
  return Buffer.from(JSON.stringify({ c: apiToken, o: offset, ...(fittedLimit ? { l: fittedLimit } : {}) })).toString(
    'base64url',
  );
}

export function decodeContinue(token: string): { c: string; o: number; l?: number } | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c?: unknown; o?: unknown; l?: unknown };
    if (typeof v.c === 'string' && typeof v.o === 'number' && v.o >= 0) {
      return { c: v.c, o: v.o, ...(typeof v.l === 'number' && v.l >= 1 ? { l: v.l } : {}) };
    }
  } catch {
    // fall through
  }
  return undefined;
}
