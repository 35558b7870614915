/** Caller text in: the one bounded parser (shared/domain/input/bounded-parse.ts) and its per-request memo. */
export type { ParsedText, ParseFailure, ParseLimits, ParseOutcome, ParseRefusal } from './bounded-parse.ts';
export { boundedParse, PARSE_LIMITS } from './bounded-parse.ts';
export { ParseCache } from './parse-cache.ts';
