// Tool schema snapshots (as github-mcp-server's toolsnaps): what tools/list shows for each tool, committed under
// test/toolsnaps/<tool>.snap.json, so a changed name, description, schema or annotation shows in review.
// After an intended change: UPDATE_TOOLSNAPS=1 npx vitest run test/unit/toolsnaps.test.ts, then commit the files.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredSchemas } from '../../shared/mcp/endpoint.ts';
import { allTools } from '../../shared/tools/index.ts';
import type { AnyTool } from '../../shared/tools/tool.ts';

const DIR = fileURLToPath(new URL('../toolsnaps/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UPDATE = process.env.UPDATE_TOOLSNAPS === '1';
const HOW =
  'If the change is intended, run `UPDATE_TOOLSNAPS=1 npx vitest run test/unit/toolsnaps.test.ts` and commit test/toolsnaps/.';
const SUFFIX = '.snap.json';

const fileOf = (name: string) => join(DIR, `${name}${SUFFIX}`);

type Listed = Awaited<ReturnType<Client['listTools']>>['tools'][number];

/** tools/list as the SDK renders it, for tools registered the way shared/mcp/endpoint.ts registers them. */
async function listTools(tools: readonly AnyTool[]): Promise<Map<string, Listed>> {
  const server = new McpServer({ name: 'toolsnaps', version: '1' });
  for (const tool of tools) {
    const schemas = registeredSchemas(tool);
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: schemas.input,
        ...(schemas.output ? { outputSchema: schemas.output } : {}),
        annotations: { title: tool.title, ...tool.annotations },
      },
      async () => ({ content: [] }),
    );
  }
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'toolsnaps', version: '1' });
  await client.connect(clientSide);
  try {
    const { tools: listed } = await client.listTools();
    return new Map(listed.map((t) => [t.name, t]));
  } finally {
    await client.close();
    await server.close();
  }
}

/** One snapshot: the tools/list entry (wire-era `execution` aside) plus who may call it and how it runs. */
function snapshotOf(tool: AnyTool, listed: Listed): Record<string, unknown> {
  const { name, title, description, annotations, inputSchema, outputSchema } = listed;
  return {
    name,
    title,
    description,
    group: tool.group,
    access: tool.access,
    ...(tool.taskSupport ? { taskSupport: tool.taskSupport } : {}),
    annotations,
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
  };
}

describe('tool schema snapshots (test/toolsnaps)', () => {
  let listing = new Map<string, Listed>();

  beforeAll(async () => {
    if (UPDATE && process.env.CI)
      throw new Error('UPDATE_TOOLSNAPS is refused in CI: snapshots are reviewed, not rewritten');
    listing = await listTools(allTools);
    if (UPDATE) mkdirSync(DIR, { recursive: true });
  });

  afterAll(() => {
    // Written with JSON.stringify; biome (which `npm run lint` checks) lays JSON out its own way.
    if (UPDATE) execFileSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', DIR], { stdio: 'ignore' });
  });

  it.each(allTools.map((t) => [t.name, t] as const))('%s matches its snapshot', (name, tool) => {
    const listed = listing.get(name);
    if (!listed) throw new Error(`tools/list did not show ${name}`);
    const actual = snapshotOf(tool, listed);
    const file = fileOf(name);
    if (UPDATE) {
      writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      return;
    }
    if (!existsSync(file)) throw new Error(`tool ${name} has no snapshot (test/toolsnaps/${name}${SUFFIX}). ${HOW}`);
    const committed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(actual, `tool ${name}: its tools/list entry differs from test/toolsnaps/${name}${SUFFIX}. ${HOW}`).toEqual(
      committed,
    );
  });

  it('has no snapshot without a tool', () => {
    const names = new Set(allTools.map((t) => t.name));
    if (!existsSync(DIR)) throw new Error(`test/toolsnaps/ is missing. ${HOW}`);
    const stale = readdirSync(DIR)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length))
      .filter((n) => !names.has(n));
    if (UPDATE) {
      for (const n of stale) rmSync(fileOf(n));
      return;
    }
    expect(stale, `snapshots of tools that no longer exist. ${HOW}`).toEqual([]);
  });
});
