/**
 * Keeps tool output within a byte budget (UTF-8, as it goes over the wire) and says what was
 * left out, so an agent can ask for a narrower slice instead of flooding its context.
 */

import { plural } from '../text.ts';
import { utf8Bytes } from './object-guards.ts';

export interface BoundedRows<T> {
  rows: T[];
  omitted: number;
  /** UTF-8 size of JSON.stringify(rows) for the rows kept. */
  bytes: number;
}

/**
 * Keeps leading rows while the JSON array of them fits `budgetBytes`. At least one row is kept
 * when any exist, even if it alone is over budget (the caller can then cut its fields).
 */
export function boundRows<T>(rows: T[], budgetBytes: number): BoundedRows<T> {
  let bytes = 2; // "[]"
  let kept = 0;
  for (const row of rows) {
    const size = utf8Bytes(JSON.stringify(row) ?? 'null') + (kept > 0 ? 1 : 0); // "," between rows
    if (kept > 0 && bytes + size > budgetBytes) break;
    bytes += size;
    kept++;
  }
  return { rows: kept === rows.length ? rows : rows.slice(0, kept), omitted: rows.length - kept, bytes };
}

export interface BoundedText {
  text: string;
  truncated: boolean;
  omittedBytes: number;
  /** Set when truncated: what was cut and how to see it. */
  notice?: string;
}

export interface BoundTextOptions {
  /** Replaces the default advice at the end of the notice. */
  hint?: string;
}

const LOG_HINT = 'To see a specific window, narrow it with sinceSeconds or tailLines.';
const TEXT_HINT = 'Ask for a narrower selection to see the rest.';

/**
 * Cuts `text` to `budgetBytes` of UTF-8 on a line boundary. `from: 'start'` drops the oldest
 * lines and keeps the end (logs: the newest lines matter); `from: 'end'` keeps the beginning.
 * Only when a single line is larger than the budget is it cut inside the line, on a character
 * boundary. The notice is not part of `text` and not counted in the budget.
 */
export function boundText(
  text: string,
  budgetBytes: number,
  from: 'start' | 'end',
  opts: BoundTextOptions = {},
): BoundedText {
  const buf = Buffer.from(text, 'utf8');
  const total = buf.length;
  const budget = Math.max(0, Math.floor(budgetBytes));
  if (total <= budget) return { text, truncated: false, omittedBytes: 0 };

  let kept: Buffer;
  let omitted: Buffer;
  let midLine = false;
  if (from === 'start') {
    // Smallest line start p with total - p <= budget.
    let p = total - budget;
    while (p < total && buf[p - 1] !== 0x0a) p++;
    if (p >= total || budget === 0) {
      midLine = budget > 0;
      p = total - budget;
      while (p < total && isContinuationByte(buf[p])) p++;
    }
    kept = buf.subarray(p);
    omitted = buf.subarray(0, p);
  } else {
    // Largest line end q (just after a newline) with q <= budget.
    let q = budget;
    while (q > 0 && buf[q - 1] !== 0x0a) q--;
    if (q === 0) {
      midLine = budget > 0;
      q = budget;
      while (q > 0 && isContinuationByte(buf[q])) q--;
    }
    kept = buf.subarray(0, q);
    omitted = buf.subarray(q);
  }

  const omittedText = omitted.toString('utf8');
  const lines = countLines(omittedText);
  const which = from === 'start' ? 'oldest' : 'last';
  const showing = from === 'start' ? 'showing the newest' : 'showing the beginning';
  const partial = midLine ? ' (one line was longer than the budget and is shown cut)' : '';
  const hint = opts.hint ?? (from === 'start' ? LOG_HINT : TEXT_HINT);
  const notice =
    `[truncated: omitted the ${which} ${plural(lines, 'line')} (${plural(omitted.length, 'byte')}) to fit the ` +
    `${budget.toLocaleString('en-US')}-byte output budget; ${showing}${partial}. ${hint}]`;
  return { text: kept.toString('utf8'), truncated: true, omittedBytes: omitted.length, notice };
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

function countLines(text: string): number {
  if (text === '') return 0;
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n : n + 1;
}
