/**
 * Glob patterns for namespace and cluster names: `*` matches any run of characters (including none),
 * `?` matches exactly one; everything else matches itself. The whole name must match.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The first pattern that matches the name, if any. */
export function firstMatch(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((p) => globToRegExp(p).test(name));
}
