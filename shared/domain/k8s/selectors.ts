/** `k=v,k2=v2` from a label map, for a labelSelector query. */
export function labelSelector(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
