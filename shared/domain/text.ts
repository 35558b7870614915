/** `1 object`, `2 objects`, `5,000 pods`: a count with its noun, for messages a model reads. */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
