// shared/tools/manifest.json is what the gateway lists (it loads no tool) and the reviewed record of
// every tool's definition: a changed name, description, schema, annotation or access level shows as a
// diff of that file. After an intended change: node scripts/tool-manifest.ts --write, then commit it.
import { describe, expect, it } from 'vitest';
import { buildManifest, listCatalog, readManifest } from '../../scripts/tool-manifest.ts';
import { catalogFromManifest, type ToolManifest } from '../../shared/mcp/catalog.ts';
import { allTools } from '../../shared/tools/index.ts';

const HOW =
  'If the change is intended, run `node scripts/tool-manifest.ts --write` and commit shared/tools/manifest.json.';

describe('the tool manifest (shared/tools/manifest.json)', async () => {
  const committed: ToolManifest = readManifest();
  const generated = await buildManifest(allTools);
  const byName = new Map(committed.tools.map((t) => [t.name, t]));

  it.each(generated.tools.map((t) => [t.name, t] as const))('%s matches its committed entry', (name, entry) => {
    const mine = byName.get(name);
    if (!mine) throw new Error(`tool ${name} is not in the manifest. ${HOW}`);
    expect(mine, `tool ${name}: its definition differs from the manifest. ${HOW}`).toEqual(entry);
  });

  it('lists every tool once, in tools/list order, and nothing else', () => {
    expect(
      committed.tools.map((t) => t.name),
      `the manifest's tools or their order differ. ${HOW}`,
    ).toEqual(allTools.map((t) => t.name));
  });

  it('the gateway lists from the manifest exactly what the in-process endpoint lists', async () => {
    const listed = await listCatalog(catalogFromManifest(committed));
    for (const entry of committed.tools) {
      const shown = listed.get(entry.name);
      expect(shown?.inputSchema, entry.name).toEqual(entry.inputSchema);
      expect(shown?.outputSchema, entry.name).toEqual(entry.outputSchema);
      expect(shown?.description, entry.name).toBe(entry.description);
      expect(shown?.annotations, entry.name).toEqual(entry.annotations);
    }
    expect([...listed.keys()]).toEqual(committed.tools.map((t) => t.name));
  });
});
