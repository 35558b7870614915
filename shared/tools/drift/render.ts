import type { DriftObjectResult } from '../../app/drift/types.ts';

/** Cells a finding shows in a table: each changed field as `path: baseline → live (by manager)`. */
const CHANGES_SHOWN = 3;

/** `Deployment shop/web` (cluster-scoped: `Namespace shop`). */
export const objectRef = (r: Pick<DriftObjectResult, 'kind' | 'namespace' | 'name'>): string =>
  `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/** The changes of one finding on one line, the first few in full and how many more there are. */
export function changesText(r: Pick<DriftObjectResult, 'state' | 'changes' | 'changesTotal' | 'error'>): string {
  if (r.state === 'deleted') return 'object is gone';
  if (r.state === 'error') return r.error ?? 'could not be compared';
  const shown = r.changes
    .slice(0, CHANGES_SHOWN)
    .map((c) => `${c.path}: ${c.baseline} → ${c.live}${c.manager ? ` (by ${c.manager})` : ''}`);
  const more = r.changesTotal - shown.length;
  return `${shown.join('; ')}${more > 0 ? `; +${more} more` : ''}`;
}

/** One finding as a table row. */
export const findingRow = (r: DriftObjectResult & { firstSeenAt?: string }) => ({
  state: r.state,
  cluster: r.cluster,
  object: objectRef(r),
  changes: changesText(r),
  ...(r.firstSeenAt ? { since: r.firstSeenAt } : {}),
  ...(r.restore ? { restore: r.restore.tool } : r.restoreHint ? { restoreHint: r.restoreHint } : {}),
});

export const countsText = (c: { objects: number; clean: number; drifted: number; deleted: number; error: number }) =>
  `${c.objects.toLocaleString('en-US')} objects: ${c.drifted} drifted, ${c.deleted} deleted, ${c.error} errors, ${c.clean.toLocaleString('en-US')} clean`;
