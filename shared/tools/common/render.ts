import type { CallToolResult } from '@modelcontextprotocol/server';
import { AppError } from '../../app/errors.ts';
import { type Finding, formatVerdict } from '../../domain/guardrails/index.ts';
import { boundText } from '../../domain/k8s/output-budget.ts';
import { capJson } from '../../domain/redact.ts';
import { result } from '../tool.ts';

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

/**
 * Bytes of a result as the client receives it (JSON), text and structuredContent together: what
 * OUTPUT_BUDGET_BYTES bounds.
 */
export const wireBytes = (r: CallToolResult): number => Buffer.byteLength(JSON.stringify(r), 'utf8');

/** Room kept for what the protocol adds around a result (jsonrpc, id, resultType, _meta). */
const ENVELOPE_RESERVE = 512;

/** The part of the output budget a tool's result may use. */
export const resultBudget = (outputBudgetBytes: number): number => Math.max(1024, outputBudgetBytes - ENVELOPE_RESERVE);

/** Where the rest of a cut list starts, and how much is there when known. */
export interface Next {
  token: string;
  remaining?: number;
}

/**
 * The one line that tells a model how to get the rest of a list. It goes in the text (many clients
 * show the model only the text) right under the heading, and as `more` in structuredContent.
 */
export function moreLine(tool: string, noun: string, next: Next, arg = 'continue'): string {
  const what = next.remaining !== undefined ? `${next.remaining.toLocaleString('en-US')} more ${noun}` : `more ${noun}`;
  return `More: ${what}; call ${tool} again with ${arg}: "${next.token}" (same other arguments)`;
}

/** A continue token that is an offset into a list the tool computes whole (sorted, filtered) each call. */
export const offsetToken = (offset: number): string => encodeContinue('', offset);

/** The offset of an offsetToken; undefined for anything else. */
export function offsetOf(token: string): number | undefined {
  const v = decodeContinue(token);
  return v && v.c === '' && Number.isSafeInteger(v.o) ? v.o : undefined;
}

/**
 * String cells cut to `max` characters (an annotation, message or command of 100 KB must not take a
 * whole page); the cut says how much was left out.
 */
export function capCells<T extends Record<string, unknown>>(row: T, max: number): T {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'string' && v.length > max) {
      out ??= { ...row };
      out[k] = `${v.slice(0, max)}…[${(v.length - max).toLocaleString('en-US')} chars cut]`;
    }
  }
  return (out ?? row) as T;
}

/** Cell cap for a budget: small enough that a page of a few rows always fits. */
export const cellCap = (budget: number): number => Math.max(80, Math.floor(budget / 16));

/**
 * The longest leading run of `rows` whose whole result fits `budget` (at least one row when there are
 * any: then `fitText` cuts its text). `build(n)` renders the result for the first n rows, including
 * the continue token and More line for the rest; sizes grow with n, so a binary search finds it.
 */
export function fitPage(count: number, budget: number, build: (n: number) => CallToolResult): CallToolResult {
  const first = build(count);
  if (count === 0 || wireBytes(first) <= budget) return first;
  return fitText(build(mostThatFit(count - 1, (n) => wireBytes(build(n)) <= budget)), budget);
}

/**
 * The largest n in 1..max for which `fits(n)` holds (sizes grow with n, so a binary search); 1 when
 * none does, since a page shows at least one row.
 */
function mostThatFit(max: number, fits: (n: number) => boolean): number {
  let lo = 1;
  let hi = max;
  let best = 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * Last line of defence for single results (an object, a log): when text plus structuredContent are
 * over `budget`, the text is cut from the end on a line boundary, with a notice. The first lines
 * (heading, More line) stay.
 */
export function fitText(r: CallToolResult, budget: number): CallToolResult {
  const first = r.content?.[0];
  if (first?.type !== 'text') return r;
  const rest = r.content.slice(1);
  let out = r;
  let text = first.text;
  for (let i = 0; i < 6 && wireBytes(out) > budget; i++) {
    const over = wireBytes(out) - budget;
    const target = Math.max(0, Buffer.byteLength(text, 'utf8') - over * (i + 1) - 200);
    const cut = boundText(text, target, 'end', {
      hint: 'structuredContent has the same data; ask for less (limit, a selector) to see it in text.',
    });
    text = cut.text;
    out = { ...r, content: [{ type: 'text', text: `${cut.text}${cut.notice ? `\n${cut.notice}` : ''}` }, ...rest] };
  }
  return out;
}

export interface OffsetPageOptions<R extends Record<string, unknown>> {
  /** The tool, for the More line. */
  tool: string;
  /** What the rows are, plural: "events", "namespaces". */
  noun: string;
  /** Every row of the list, in order (the tool computed it whole: sorted, filtered). */
  rows: R[];
  /** The caller's `continue`, if any. */
  continue: string | undefined;
  budget: number;
  /** Rows per page at most. */
  limit?: number;
  /** The heading line, given the 1-based range shown ("1-50", or "none") and the total. */
  heading(range: string, total: number): string;
  table(rows: R[]): string;
  /** Fields of structuredContent besides count, total, continue, more and items. */
  structured?: Record<string, unknown>;
}

/**
 * One page of a list the tool holds whole: as many rows as fit the budget (and `limit`), with an
 * offset continue token and a More line in both channels when rows are left.
 */
export function offsetPage<R extends Record<string, unknown>>(o: OffsetPageOptions<R>): CallToolResult {
  const offset = startOffset(o.continue);
  const total = o.rows.length;
  const rows = o.rows.slice(offset, offset + (o.limit ?? total)).map((r) => capCells(r, cellCap(o.budget)));
  return fitPage(rows.length, o.budget, (n) => {
    const kept = rows.slice(0, n);
    const remaining = total - offset - n;
    const next = remaining > 0 ? { token: offsetToken(offset + n), remaining } : undefined;
    const more = next ? moreLine(o.tool, o.noun, next) : undefined;
    const range = n === 0 ? 'none' : `${offset + 1}-${offset + n}`;
    const text = [o.heading(range, total), ...(more ? [more] : []), o.table(kept)].filter(Boolean).join('\n');
    return result(text, {
      ...o.structured,
      count: n,
      total,
      ...(next ? { continue: next.token, more } : {}),
      items: kept,
    });
  });
}

/**
 * One page of a list read from a store with opaque cursors: when the page asked for does not fit the
 * budget, it is read again with as many items as fit, so the store's cursor resumes right after the
 * last item shown.
 */
export async function fitFetchedPage<T>(
  limit: number,
  budget: number,
  fetch: (limit: number) => Promise<{ items: T[]; cursor?: string | undefined }>,
  build: (items: T[], cursor: string | undefined) => CallToolResult,
): Promise<CallToolResult> {
  let page = await fetch(limit);
  let out = build(page.items, page.cursor);
  for (let i = 0; i < 4 && wireBytes(out) > budget && page.items.length > 1; i++) {
    const { items, cursor } = page;
    // A stand-in cursor as long as a real one: the size of the More line does not change the fit.
    const probe = cursor ?? 'x'.repeat(120);
    page = await fetch(mostThatFit(items.length - 1, (n) => wireBytes(build(items.slice(0, n), probe)) <= budget));
    out = build(page.items, page.cursor);
  }
  return fitText(out, budget);
}

/**
 * A single record (an operation, a status) within the budget: structuredContent keeps its shape with
 * long values cut and marked (half the budget at most), then the text gives way.
 */
export function fitRecord(text: string, structured: Record<string, unknown>, budget: number): CallToolResult {
  const capped = capJson(structured, Math.floor(budget / 2)) as Record<string, unknown>;
  return fitText(result(text, capped), budget);
}

/** Checks a `continue` before any work: the offset it carries, 0 without one. */
export function startOffset(token: string | undefined): number {
  const offset = token === undefined ? 0 : offsetOf(token);
  if (offset === undefined) throw new AppError('`continue` is not a token from this tool; start again without it');
  return offset;
}

/** Findings of rules in audit mode, under a write's summary (nothing when there are none). */
export function findingsText(findings: Finding[]): string {
  return findings.length ? `\n${formatVerdict({ allowed: true, findings })}` : '';
}

/** Seconds since a timestamp (never negative), undefined without one. */
export const ageOf = (ts: string | undefined, now: number): number | undefined =>
  ts ? Math.max(0, Math.floor((now - Date.parse(ts)) / 1000)) : undefined;
