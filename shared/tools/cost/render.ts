import type { CallToolResult } from '@modelcontextprotocol/server';
import { AppError } from '../../app/errors.ts';
import { bindContinue, readContinue } from '../common/cloud-render.ts';
import { fitPage, moreLine } from '../common/render.ts';
import { result } from '../tool.ts';

/*
 * What the cost tools share: money in the answer's currency, where the spend came from, and the
 * message for a server with no spend source.
 */

/** `$1,234.56` for USD, `1,234.56 EUR` otherwise. */
export function money(n: number, currency = 'USD'): string {
  const abs = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const sign = n < 0 ? '-' : '';
  return currency === 'USD' ? `${sign}$${abs}` : `${sign}${abs} ${currency.slice(0, 8)}`;
}

/** Cents, for structured amounts (the providers report 10 decimals). */
export const cents = (n: number): number => Math.round(n * 100) / 100;

/** How a source is named in an answer. */
export function sourceName(kind: string): string {
  return kind === 'aws-cost-explorer'
    ? 'AWS Cost Explorer'
    : kind === 'gcp-bigquery-billing'
      ? 'GCP billing export'
      : kind;
}

/** The refusal when no spend source is configured: what to set. */
export function noSources(): AppError {
  return new AppError(
    'No cloud spend source is configured: set COST_AWS=true (AWS Cost Explorer) and/or GCP_BILLING_TABLE ' +
      '(the GCP billing export table in BigQuery) on the server.',
  );
}

/** What a source's pages cost: Cost Explorer charges $0.01 per request page; BigQuery bills bytes scanned. */
export function paidText(kind: string, pages: number, bytesBilled?: number): string {
  if (kind === 'aws-cost-explorer') return pages ? `${money(pages * 0.01)} in Cost Explorer pages (${pages})` : '';
  if (bytesBilled) return `${(bytesBilled / 2 ** 20).toFixed(1)} MiB billed in BigQuery`;
  return pages ? `${pages} provider pages` : '';
}

export interface PinnedPageOptions<R extends Record<string, unknown>> {
  tool: string;
  noun: string;
  /** Every argument that changes which rows the list holds: the token is bound to it. */
  query: Record<string, unknown>;
  /** The position the caller's token carries (readPinned). */
  skip: number;
  /** Every row of the list, computed whole at the pinned time, in order. */
  rows: R[];
  limit: number;
  /** The time the list was computed at (epoch ms): later pages compute it again at the same time. */
  at: number;
  budget: number;
  heading(range: string, total: number): string;
  text(rows: R[]): string;
  structured: Record<string, unknown>;
}

/**
 * The position a cost list's `continue` carries: how many rows came before and the time the first
 * page was computed at, checked against the query (a token of other arguments is refused).
 */
export function readPinned(token: string | undefined, query: Record<string, unknown>, now: number) {
  const pos = readContinue(token, query);
  return { skip: pos?.skip ?? 0, at: pos?.at ?? now };
}

/**
 * One page of a list computed whole at a pinned time (cost over a window that ends then): as many
 * rows as fit the budget and `limit`, a bound token with the same time for the rest, and a More line
 * in the text and in structuredContent. Every row shows once across pages while the stored data of
 * the window does not change.
 */
export function pinnedPage<R extends Record<string, unknown>>(o: PinnedPageOptions<R>): CallToolResult {
  const total = o.rows.length;
  const rows = o.rows.slice(o.skip, o.skip + o.limit);
  return fitPage(rows.length, o.budget, (n) => {
    const kept = rows.slice(0, n);
    const remaining = total - o.skip - n;
    const token = remaining > 0 ? bindContinue(o.query, { skip: o.skip + n, limit: o.limit, at: o.at }) : undefined;
    const more = token ? moreLine(o.tool, o.noun, { token, remaining }) : undefined;
    const range = n === 0 ? 'none' : `${o.skip + 1}-${o.skip + n}`;
    const text = [o.heading(range, total), ...(more ? [more] : []), o.text(kept)].filter(Boolean).join('\n');
    return result(text, {
      ...o.structured,
      count: n,
      total,
      ...(token ? { continue: token, more } : {}),
      items: kept,
    });
  });
}
