/**
 * Where a drifted field is: a path of object keys and list items, shown the way an operator reads it
 * (`spec.template.spec.containers[web].image`), and matched by the policy's ignore rules written as
 * Argo CD writes them: RFC 6901 JSON pointers and a bounded subset of jq path expressions.
 */

/** An object key, or a list item (its index, and its merge key when the list has one). */
export type PathSeg = { key: string } | { index: number; mergeKey?: string; mergeValue?: string | number };

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const PLAIN_ITEM = /^[A-Za-z0-9._:@/-]+$/;

/** `spec.template.spec.containers[web].image`, `metadata.labels["app.kubernetes.io/name"]`, `args[0]`. */
export function displayPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if ('key' in seg) out += PLAIN_KEY.test(seg.key) ? `${out ? '.' : ''}${seg.key}` : `[${JSON.stringify(seg.key)}]`;
    else if (seg.mergeValue !== undefined) {
      const v = String(seg.mergeValue);
      out += PLAIN_ITEM.test(v) ? `[${v}]` : `[${JSON.stringify(v)}]`;
    } else out += `[${seg.index}]`;
  }
  return out || '.';
}

export const PATH_LIMITS = { exprChars: 512, steps: 32 } as const;

/** RFC 6901 tokens of a JSON pointer; throws with the reason when it is not one. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer.length > PATH_LIMITS.exprChars) throw new Error(`longer than ${PATH_LIMITS.exprChars} characters`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error('a JSON pointer starts with "/" (e.g. /spec/replicas)');
  const tokens = pointer.slice(1).split('/');
  if (tokens.length > PATH_LIMITS.steps) throw new Error(`more than ${PATH_LIMITS.steps} segments`);
  return tokens.map((t) => {
    if (/~(?![01])/.test(t)) throw new Error(`"~" must be written ~0 and "/" ~1 (segment ${JSON.stringify(t)})`);
    return t.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** A pointer covers a path (and everything under it) when each token names the path's key or item index. */
export function pointerMatches(tokens: readonly string[], path: readonly PathSeg[]): boolean {
  if (tokens.length > path.length) return false;
  return tokens.every((t, i) => {
    const seg = path[i] as PathSeg;
    return 'key' in seg ? seg.key === t : String(seg.index) === t;
  });
}

type Scalar = string | number | boolean | null;

/** One step of a jq path: `.key`, `[n]`, `[]`, or `select(.a.b == literal)` on the current value. */
export type JqStep = { key: string } | { index: number } | { each: true } | { select: string[]; equals: Scalar };

/**
 * Parses the jq subset ignore rules may use: paths of `.key`, `."key"`, `["key"]`, `[n]` and `[]`,
 * joined by `|` with `select(.path == "value")` filters, e.g.
 * `.spec.template.spec.containers[] | select(.name == "istio-proxy") | .resources`.
 * Throws with the position of the first thing outside the subset.
 */
export function parseJqPath(expr: string): JqStep[] {
  if (expr.length > PATH_LIMITS.exprChars) throw new Error(`longer than ${PATH_LIMITS.exprChars} characters`);
  const steps: JqStep[] = [];
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${pos + 1} of ${JSON.stringify(expr.slice(0, 80))}`);
  };
  const ws = () => {
    while (pos < expr.length && /\s/.test(expr[pos] as string)) pos++;
  };
  const ident = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(expr.slice(pos));
    if (!m) return fail('expected a key');
    pos += m[0].length;
    return m[0];
  };
  const quoted = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(expr.slice(pos));
    if (!m) return fail('expected a quoted string');
    pos += m[0].length;
    try {
      return JSON.parse(m[0]) as string;
    } catch {
      return fail('bad string escape');
    }
  };
  const push = (s: JqStep) => {
    steps.push(s);
    if (steps.length > PATH_LIMITS.steps) fail(`more than ${PATH_LIMITS.steps} steps`);
  };
  /** A path of keys, indexes and iterations; `keysOnly` for the path inside select(). */
  const path = (keysOnly: boolean): JqStep[] => {
    const out: JqStep[] = [];
    ws();
    if (expr[pos] !== '.') fail('expected "."');
    pos++;
    if (pos < expr.length && expr[pos] === '"') out.push({ key: quoted() });
    else if (pos < expr.length && /[A-Za-z_]/.test(expr[pos] as string)) out.push({ key: ident() });
    for (;;) {
      if (expr[pos] === '.') {
        pos++;
        out.push({ key: expr[pos] === '"' ? quoted() : ident() });
      } else if (expr[pos] === '[') {
        pos++;
        ws();
        if (expr[pos] === ']') {
          if (keysOnly) fail('"[]" is not allowed inside select()');
          out.push({ each: true });
        } else if (expr[pos] === '"') out.push({ key: quoted() });
        else {
          const m = /^\d{1,6}/.exec(expr.slice(pos));
          if (!m || keysOnly) fail(keysOnly ? 'only keys inside select()' : 'expected an index, a quoted key or "]"');
          pos += (m as RegExpExecArray)[0].length;
          out.push({ index: Number((m as RegExpExecArray)[0]) });
        }
        ws();
        if (expr[pos] !== ']') fail('expected "]"');
        pos++;
      } else return out;
      if (out.length > PATH_LIMITS.steps) fail(`more than ${PATH_LIMITS.steps} steps`);
    }
  };
  const literal = (): Scalar => {
    ws();
    if (expr[pos] === '"') return quoted();
    const m = /^(?:-?\d+(?:\.\d+)?|true|false|null)/.exec(expr.slice(pos));
    if (!m) return fail('expected a string, number, true, false or null');
    pos += m[0].length;
    return JSON.parse(m[0]) as Scalar;
  };
  for (;;) {
    ws();
    if (expr.startsWith('select', pos)) {
      pos += 'select'.length;
      ws();
      if (expr[pos] !== '(') fail('expected "(" after select');
      pos++;
      const sel = path(true).map((s) => ('key' in s ? s.key : ''));
      ws();
      if (!expr.startsWith('==', pos)) fail('select() takes one comparison: .path == value');
      pos += 2;
      const equals = literal();
      ws();
      if (expr[pos] !== ')') fail('expected ")"');
      pos++;
      push({ select: sel, equals });
    } else for (const s of path(false)) push(s);
    ws();
    if (pos >= expr.length) break;
    if (expr[pos] !== '|') fail('expected "|" or the end');
    pos++;
  }
  if (steps.length === 0) fail('an empty path would ignore the whole object');
  return steps;
}

/**
 * Whether a jq path covers `path` (the path or something above it). `valueAt(n)` is the value at the
 * first n segments of `path` (live, else baseline), which select() filters read.
 */
export function jqMatches(
  steps: readonly JqStep[],
  path: readonly PathSeg[],
  valueAt: (n: number) => unknown,
): boolean {
  let at = 0;
  for (const step of steps) {
    if ('select' in step) {
      let v: unknown = valueAt(at);
      for (const k of step.select)
        v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
      if (v !== step.equals) return false;
      continue;
    }
    const seg = path[at];
    if (!seg) return false;
    if ('key' in step) {
      if (!('key' in seg) || seg.key !== step.key) return false;
    } else if ('index' in step) {
      if ('key' in seg || seg.index !== step.index) return false;
    } else if ('key' in seg) return false;
    at++;
  }
  return true;
}
