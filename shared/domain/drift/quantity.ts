/**
 * Kubernetes resource quantities compared by value: `100m` = `0.1`, `1Gi` = `1024Mi`, `1e3` = `1k`
 * = `1000`. The API server stores a quantity in its canonical form (`0.1` is read back as `100m`),
 * so a manifest and the live object differ in spelling without differing in value.
 */

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** resource.Quantity's own grammar (number, then a binary or decimal suffix or an exponent). */
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d{1,3}))?$/;
/** Longer than any quantity a real object holds: not parsed. */
const MAX_CHARS = 64;

/**
 * The exact value of a quantity as a canonical key (`<integer>e<exponent>`, trailing zeros folded
 * into the exponent), or undefined when `value` is not a quantity. Numbers count as their decimal text.
 */
export function quantityKey(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || text.length > MAX_CHARS) return undefined;
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign = '', num = '', suffix, exp] = m;
  const [whole = '', frac = ''] = num.split('.');
  let digits = BigInt(`${whole}${frac}` || '0');
  let scale = -frac.length;
  if (suffix !== undefined && Object.hasOwn(BINARY, suffix)) digits *= BINARY[suffix] as bigint;
  else scale += suffix !== undefined ? (DECIMAL[suffix] ?? 0) : Number(exp ?? 0);
  if (digits === 0n) return '0e0';
  while (digits % 10n === 0n) {
    digits /= 10n;
    scale++;
  }
  return `${sign === '-' ? '-' : ''}${digits}e${scale}`;
}

/** Whether two values are the same quantity (both must parse). */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const ka = quantityKey(a);
  return ka !== undefined && ka === quantityKey(b);
}
