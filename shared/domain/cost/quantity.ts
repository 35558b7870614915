import { quantityKey } from '../drift/quantity.ts';

/**
 * A Kubernetes quantity as a number of base units (`250m` → 0.25 cores, `128Mi` → 134217728
 * bytes, `13176Ki`, `1066771n`), or undefined when it is not a quantity or is negative.
 */
export function quantityValue(value: unknown): number | undefined {
  const key = quantityKey(value);
  if (key === undefined || key.startsWith('-')) return undefined;
  const n = Number(key); // `<integer>e<exponent>` is a JavaScript number literal
  return Number.isFinite(n) ? n : undefined;
}
