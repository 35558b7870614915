import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { AppError } from '../../app/errors.ts';
import type { Page } from '../../ports/cloud.ts';
import { args } from './args.ts';
import { fitPage, moreLine, wireBytes } from './render.ts';
import type { SeriesSummary } from './series.ts';

/*
 * What the aws and gcp read tools share: their scope arguments, continue tokens bound to the query
 * that issued them over the provider's own page tokens, capped tag and label maps, and the text of
 * a summarized series.
 */

/**
 * Scope arguments, bounded here and then checked against the configured values by awsScope /
 * gcpProject (exact match, with a did-you-mean): stricter than CLOUD_PATTERNS, which would only cost
 * tools/list bytes on every session.
 */
/**
 * A string of a known form: its length bound in the JSON Schema (every caller string shows one), its
 * shape checked by refinement with a message that names the form (a pattern would cost tools/list
 * bytes on every session and tell a model less than the message does).
 */
export function shaped(max: number, form: RegExp, what: string) {
  return z
    .string()
    .max(max)
    .refine((v) => form.test(v), `must be ${what}`);
}

export const cloudArgs = {
  account: z.string().max(12).optional(),
  region: z.string().max(32).optional(),
  project: z.string().max(100).optional(),
  continue: args.continue,
};

/**
 * A string map (tags, labels, dimensions) of at most `max` entries, keys and values bounded, checked
 * in one refinement whose message names the rule. The bounds are enforced when the arguments are
 * parsed but not spelled out in the JSON Schema: a record's key and value schemas cost ~100 bytes of
 * every session's tools/list, and the provider's own limits are what they restate.
 */
export function boundedRecord(
  what: string,
  o: { max: number; key: number; value: number; keyPattern?: RegExp; valuePattern?: RegExp; rule?: string },
) {
  return z
    .record(z.string(), z.string().max(o.value))
    .superRefine((r, ctx) => {
      const entries = Object.entries(r);
      const shape = ([k, v]: [string, string]) =>
        (!o.keyPattern || o.keyPattern.test(k)) && (!o.valuePattern || o.valuePattern.test(v));
      const bad =
        entries.length > o.max
          ? `at most ${o.max} ${what}`
          : entries.some(([k, v]) => k.length < 1 || k.length > o.key || v.length > o.value)
            ? `${what}: keys of 1-${o.key} characters, values of at most ${o.value}`
            : entries.every(shape)
              ? undefined
              : `${what}: ${o.rule ?? 'keys or values of the wrong form'}`;
      if (bad) ctx.addIssue({ code: 'custom', message: bad });
    })
    .optional();
}

/** Where a list stands: the provider token of the page being read, the rows of it already shown, its size. */
export interface Position {
  /** The provider's token for the page (absent: the first page). */
  token?: string;
  /** Rows of that page already shown (a page that did not fit the output budget is read again). */
  skip: number;
  /** The page size it was read with: the same page again needs the same size. */
  limit: number;
  /** A time the query is pinned to across pages (epoch ms: a metric window's end), when it has one. */
  at?: number;
}

/** 64 bits of SHA-256 over the query, keys sorted: what a continue token is bound to. */
export function queryHash(query: Record<string, unknown>): string {
  return createHash('sha256').update(canonical(query)).digest('hex').slice(0, 16);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** A continue token: the position, and the hash of the query it belongs to. */
export function bindContinue(query: Record<string, unknown>, pos: Position): string {
  const body = {
    q: queryHash(query),
    ...(pos.token !== undefined ? { c: pos.token } : {}),
    k: pos.skip,
    l: pos.limit,
    ...(pos.at !== undefined ? { t: pos.at } : {}),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * The position a token carries, checked against the query: a token from another tool, a forged one,
 * or one used with other filters (scope, states, tags, ...) is refused before any API call; the
 * provider's token would otherwise page a different list, skipping or repeating rows unseen.
 */
export function readContinue(token: string | undefined, query: Record<string, unknown>): Position | undefined {
  if (token === undefined) return undefined;
  let v: { q?: unknown; c?: unknown; k?: unknown; l?: unknown; t?: unknown } | undefined;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof v;
  } catch {
    v = undefined;
  }
  const valid =
    v &&
    typeof v.q === 'string' &&
    (v.c === undefined || typeof v.c === 'string') &&
    Number.isSafeInteger(v.k) &&
    (v.k as number) >= 0 &&
    Number.isSafeInteger(v.l) &&
    (v.l as number) >= 1 &&
    (v.t === undefined || (Number.isSafeInteger(v.t) && (v.t as number) > 0));
  if (!v || !valid) throw new AppError('`continue` is not a token from this tool; start again without it');
  if (v.q !== queryHash(query)) {
    throw new AppError(
      '`continue` belongs to a different query: scope or filters changed since it was issued. Repeat the same arguments with it, or start again without `continue`.',
    );
  }
  return {
    ...(typeof v.c === 'string' ? { token: v.c } : {}),
    skip: v.k as number,
    limit: v.l as number,
    ...(typeof v.t === 'number' ? { at: v.t } : {}),
  };
}

export interface BoundPageOptions<T> {
  /** What the token is bound to: every argument that changes which rows the list holds (not the limit). */
  query: Record<string, unknown>;
  continue: string | undefined;
  /** Rows per page the caller asked for. */
  limit: number;
  /** The time to pin the query to on its first page (later pages carry the first page's). */
  at?: number;
  /** One provider page of `limit` rows from `token`, for the query pinned at `at`. */
  fetch(limit: number, token: string | undefined, at: number | undefined): Promise<Page<T>>;
  budget: number;
  /** The result for these rows, with `next` (a bound token) when rows are left, and the pinned time. */
  build(items: T[], next: string | undefined, at: number | undefined): CallToolResult;
}

/**
 * One page of a provider-paged list within the output budget, with one provider call: the page the
 * position names, less the rows already shown, cut to what fits. When the cut leaves rows of this
 * page, the next token names the same page again with a larger skip (same size, so the same rows);
 * otherwise the provider's next token. Every row is shown once across pages of an unchanged list.
 */
export async function boundPage<T>(o: BoundPageOptions<T>): Promise<CallToolResult> {
  const read = readContinue(o.continue, o.query) ?? { skip: 0, limit: o.limit };
  const pinned = read.at ?? o.at;
  const at = pinned !== undefined ? { at: pinned } : {};
  const pos: Position = { ...read, ...at };
  const page = await o.fetch(pos.limit, pos.token, pos.at);
  const items = page.items.slice(pos.skip);
  const next = (n: number): string | undefined =>
    n < items.length
      ? bindContinue(o.query, { ...pos, skip: pos.skip + n })
      : page.nextToken
        ? bindContinue(o.query, { token: page.nextToken, skip: 0, limit: o.limit, ...at })
        : undefined;
  return fitPage(items.length, o.budget, (n) => o.build(items.slice(0, n), next(n), pos.at));
}

/** The heading's More line and the structured fields for a page's next token. */
export function moreOf(tool: string, noun: string, next: string | undefined): { line?: string; fields: object } {
  if (!next) return { fields: {} };
  const line = moreLine(tool, noun, { token: next });
  return { line, fields: { continue: next, more: line } };
}

/**
 * At most `max` entries of a tag or label map, keys and values cut to 64 characters (EC2 allows 128
 * and 256), the Name tag left out (it is its own column); `omitted` counts the entries left out.
 */
export function capMap(
  map: Record<string, string>,
  max: number,
  skip: readonly string[] = [],
): { shown: Record<string, string>; omitted: number } {
  const entries = Object.entries(map)
    .filter(([k]) => !skip.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const cut = (s: string) => (s.length > 64 ? `${s.slice(0, 63)}…` : s);
  return {
    shown: Object.fromEntries(entries.slice(0, max).map(([k, v]) => [cut(k), cut(v)])),
    omitted: Math.max(0, entries.length - max),
  };
}

/** A time as the window reads it: HH:MM within a day, MM-DD HH:MM beyond (UTC). */
export function shortTime(iso: string, windowMs: number): string {
  return windowMs <= 86_400_000 ? iso.slice(11, 16) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** "3h" or "2d" for a window in minutes. */
export const windowText = (minutes: number): string =>
  minutes % 1440 === 0 ? `${minutes / 1440}d` : minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;

/** The summary of one series in two lines: the figures, then the downsampled points. */
export function seriesText(label: string, s: SeriesSummary, windowMs: number): string {
  if (s.count === 0) return `${label}: no data in the window`;
  const t = s.trend;
  const trend = t
    ? ` trend ${t.direction}${t.changePct !== undefined ? ` (${t.changePct > 0 ? '+' : ''}${t.changePct}%)` : ''}`
    : '';
  const last = s.last ? ` last ${s.last.value}@${shortTime(s.last.time, windowMs)}` : '';
  const head = `${label}: n=${s.count} min ${s.min} max ${s.max} avg ${s.avg} p95 ${s.p95}${last}${trend}`;
  const points = s.points.map((p) => `${shortTime(p.time, windowMs)} ${p.value}`).join(', ');
  return points ? `${head}\n  points: ${points}` : head;
}

/** Keeps at most `max` characters of a label or reason, marking the cut. */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Points kept per series, most first: fewer when the answer would not fit the output budget. */
const POINT_CAPS = [12, 6, 0] as const;

/**
 * A set of series summaries within the budget: with 12 points each, else 6, else none; when even
 * that does not fit, as many series as fit (build(n, 0) must then say how many were left out).
 */
export function fitSeries(
  count: number,
  budget: number,
  build: (n: number, points: number) => CallToolResult,
): CallToolResult {
  for (const points of POINT_CAPS) {
    const r = build(count, points);
    if (wireBytes(r) <= budget) return r;
  }
  return fitPage(count, budget, (n) => build(n, 0));
}
