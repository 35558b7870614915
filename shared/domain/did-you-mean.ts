/**
 * "Did you mean …?" for a misspelt name among a few known ones (settings, toolsets): the closest
 * name by optimal string alignment distance (Levenshtein plus adjacent transpositions, so `k8` and
 * `dleivery` both find theirs), ignoring case. Inputs are capped: a huge value costs nothing.
 */
export function closestName(
  name: string,
  known: readonly string[],
  /** What does not count in a comparison; default: case. */
  normalize: (s: string) => string = (s) => s.toLowerCase(),
): string | undefined {
  const n = normalize(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(n, normalize(candidate));
    // Within a third of the candidate's length: close enough to be a typo, not just another short word.
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), so `dyrRun` is one
 * edit from `dryRun`. Inputs are capped at 64 characters: a caller-chosen megabyte costs nothing.
 */
export function editDistance(a: string, b: string): number {
  const s = a.slice(0, 64);
  const t = b.slice(0, 64);
  // Three rows are all the transposition step looks back at.
  let before: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, (before[j - 2] ?? 0) + 1);
      cur[j] = v;
    }
    before = prev;
    prev = cur;
  }
  return prev[t.length] ?? 0;
}
