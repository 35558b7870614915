import { boundedParse, type ParseLimits, type ParseOutcome } from './bounded-parse.ts';

/**
 * Per-request memo of boundedParse, keyed by the text (and the limits it was parsed with). The MCP
 * endpoint makes one for each tools/call and hands the same one to the tool's handler (ToolContext)
 * and to its audit hook, so a manifest is parsed once per request: guardrails, the write, redaction
 * and the audit record all read that one frozen value, and a text that failed in the handler fails
 * the same way in audit, without being parsed again.
 */
export class ParseCache {
  private readonly memo = new Map<string, Map<string, ParseOutcome>>();
  private count = 0;

  /** Parses `text`, or answers from the memo when this request parsed it with the same limits already. Never throws. */
  parse(text: string, limits: Partial<ParseLimits> = {}): ParseOutcome {
    const key = limitsKey(limits);
    let byText = this.memo.get(key);
    if (!byText) {
      byText = new Map();
      this.memo.set(key, byText);
    }
    const known = byText.get(text);
    if (known) return known;
    const outcome = boundedParse(text, limits);
    this.count++;
    byText.set(text, outcome);
    return outcome;
  }

  /** How many texts were actually parsed (memo misses). */
  get parses(): number {
    return this.count;
  }
}

const limitsKey = (limits: Partial<ParseLimits>): string =>
  Object.entries(limits)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
