/**
 * shared/tools/manifest.json: every tool's tools/list entry (name, title, description, schemas,
 * annotations) plus who may call it and how it runs (group, access, taskSupport, asksClient,
 * auditArgs). The gateway lists tools from it without loading any tool (functions/mcp.ts); it is
 * also the reviewed record of each tool's definition: a changed description or schema shows as a
 * diff of this file.
 *
 *   node scripts/tool-manifest.ts --write   regenerate after changing a tool definition
 *   node scripts/tool-manifest.ts --check   fail when the committed file is stale (the test does the same)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import type { CatalogTool, ToolManifest, ToolManifestEntry } from '../shared/mcp/catalog.ts';
import { catalogTool } from '../shared/mcp/endpoint.ts';
import { listedAnnotations } from '../shared/tools/common/annotations.ts';
import { allTools } from '../shared/tools/index.ts';
import type { AnyTool } from '../shared/tools/tool.ts';

export const MANIFEST_PATH = fileURLToPath(new URL('../shared/tools/manifest.json', import.meta.url));
const BIOME = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));

export type Listed = Awaited<ReturnType<Client['listTools']>>['tools'][number];

/**
 * tools/list as the SDK renders it, for tools registered the way the gateway registers them
 * (shared/mcp/gateway.ts, catalog from endpoint.ts's catalogTool): the same JSON Schema conversion.
 */
export async function listCatalog(catalog: readonly CatalogTool[]): Promise<Map<string, Listed>> {
  const server = new McpServer({ name: 'tool-manifest', version: '1' });
  for (const tool of catalog) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
        annotations: listedAnnotations(tool.annotations),
      },
      async () => ({ content: [] }),
    );
  }
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'tool-manifest', version: '1' });
  await client.connect(clientSide);
  try {
    const { tools: listed } = await client.listTools();
    return new Map(listed.map((t) => [t.name, t]));
  } finally {
    await client.close();
    await server.close();
  }
}

/** The manifest of `tools`, in their order (the order tools/list shows them). */
export async function buildManifest(tools: readonly AnyTool[]): Promise<ToolManifest> {
  const listing = await listCatalog(tools.map(catalogTool));
  return {
    tools: tools.map((tool): ToolManifestEntry => {
      const listed = listing.get(tool.name);
      if (!listed) throw new Error(`tools/list did not show ${tool.name}`);
      return {
        name: listed.name,
        title: listed.title ?? tool.title,
        description: listed.description ?? tool.description,
        group: tool.group,
        access: tool.access,
        ...(tool.taskSupport ? { taskSupport: tool.taskSupport } : {}),
        ...(tool.asksClient ? { asksClient: true as const } : {}),
        ...(tool.auditArgs ? { auditArgs: true as const } : {}),
        annotations: (listed.annotations ?? {
          title: tool.title,
          ...tool.annotations,
        }) as ToolManifestEntry['annotations'],
        inputSchema: listed.inputSchema as Record<string, unknown>,
        ...(listed.outputSchema ? { outputSchema: listed.outputSchema as Record<string, unknown> } : {}),
      };
    }),
  };
}

export function readManifest(path = MANIFEST_PATH): ToolManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as ToolManifest;
}

async function main(argv: string[]): Promise<number> {
  const mode = argv[0];
  if (mode !== '--write' && mode !== '--check') {
    console.error('usage: node scripts/tool-manifest.ts --write|--check');
    return 2;
  }
  const manifest = await buildManifest(allTools);
  if (mode === '--write') {
    writeFileSync(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
    // Laid out as `npm run lint` (biome) expects JSON.
    execFileSync(BIOME, ['format', '--write', MANIFEST_PATH], { stdio: 'ignore' });
    console.log(`wrote ${MANIFEST_PATH} (${manifest.tools.length} tools)`);
    return 0;
  }
  const committed = JSON.stringify(readManifest());
  if (committed !== JSON.stringify(manifest)) {
    console.error('shared/tools/manifest.json is stale: run `node scripts/tool-manifest.ts --write` and commit it.');
    return 1;
  }
  console.log(`shared/tools/manifest.json is up to date (${manifest.tools.length} tools)`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
