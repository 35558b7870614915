import type { ToolAnnotations } from '../tool.ts';

/**
 * A tool's annotations as tools/list shows them: only what the spec's defaults do not already say,
 * and never less careful than the definition. readOnlyHint is listed when true (false is the
 * default); on a read-only tool destructiveHint and idempotentHint mean nothing (the spec says so),
 * elsewhere destructiveHint is always listed (a client may look for the explicit value before it
 * asks consent) and idempotentHint when true. openWorldHint is listed when false (true, the careful
 * reading, is the default). About 1 KB of every full tools/list; it is its own fixed point, so a
 * manifest entry (already listed) lists the same.
 */
export function listedAnnotations(a: Partial<ToolAnnotations>): Partial<ToolAnnotations> {
  if (a.readOnlyHint) return { readOnlyHint: true, ...(a.openWorldHint === false ? { openWorldHint: false } : {}) };
  return {
    // A manifest entry is already listed: the same function gives the same answer on it.
    ...(a.destructiveHint !== undefined ? { destructiveHint: a.destructiveHint } : {}),
    ...(a.idempotentHint ? { idempotentHint: true } : {}),
    ...(a.openWorldHint === false ? { openWorldHint: false } : {}),
  };
}
