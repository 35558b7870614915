import { ConfigError, DEFAULT_TOOLSETS, TOOLSET_NAMES, type Toolset } from '../config/config.ts';

/** What selection needs of a tool: a definition, or its manifest entry (the gateway loads no tool code). */
export interface Grouped {
  name: string;
  group: Toolset;
}

const rank = new Map<Toolset, number>(TOOLSET_NAMES.map((name, i) => [name, i]));

/**
 * The tools of the given toolsets (absent: DEFAULT_TOOLSETS, what TOOLSETS unset serves), in
 * tools/list order: toolset order (TOOLSET_NAMES), then name. Clients and caches see the same list
 * whatever order tools are registered in. A named toolset that has no tool here is refused: serving
 * nothing for it silently would look like a broken server.
 */
export function selectTools<T extends Grouped>(tools: readonly T[], toolsets?: readonly Toolset[]): T[] {
  const wanted = new Set(toolsets ?? DEFAULT_TOOLSETS);
  const empty = [...wanted].filter((set) => toolsets && !tools.some((t) => t.group === set));
  if (empty.length) {
    const served = TOOLSET_NAMES.filter((set) => tools.some((t) => t.group === set));
    throw new ConfigError(
      `Invalid configuration:\n  TOOLSETS: ${empty.join(', ')} ${empty.length === 1 ? 'has' : 'have'} no tools in this build; toolsets with tools: ${served.join(', ')}`,
    );
  }
  return sortTools(tools.filter((t) => wanted.has(t.group)));
}

/** Tools in tools/list order: toolset order (TOOLSET_NAMES), then name. */
export function sortTools<T extends Grouped>(tools: readonly T[]): T[] {
  return [...tools].sort(
    (a, b) => (rank.get(a.group) ?? 0) - (rank.get(b.group) ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}
