/** How much of a caller's value a message quotes: enough to recognise it, never a whole huge argument. */
export const QUOTE_CHARS = 200;

/**
 * A caller-supplied value as a message quotes it: whole when short, else its first `max` characters,
 * an ellipsis and how many characters were left out. Never splits a surrogate pair.
 */
export function quoted(value: string, max = QUOTE_CHARS): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${value.slice(0, end)}…(${(value.length - end).toLocaleString('en-US')} more characters)`;
}

/** `1 object`, `2 objects`, `5,000 pods`: a count with its noun, for messages a model reads. */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
