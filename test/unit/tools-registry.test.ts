import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../scripts/tools-table.ts';
import { registeredSchemas } from '../../shared/mcp/endpoint.ts';
import { allTools } from '../../shared/tools/index.ts';

describe('tool registry', () => {
  it('names are unique snake_case <area>_<noun>_<verb> (or server_info)', () => {
    const names = allTools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^(server_info|[a-z0-9]+(_[a-z0-9]+){2,})$/);
  });

  it('every tool has a title, a description that says when to use it, and every annotation set', () => {
    for (const t of allTools) {
      expect(t.title.length, t.name).toBeGreaterThan(3);
      expect(t.description.length, t.name).toBeGreaterThan(60);
      expect(t.description.length, t.name).toBeLessThanOrEqual(600);
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        expect(typeof t.annotations[hint], `${t.name}.${hint}`).toBe('boolean');
      }
      if (t.annotations.readOnlyHint) expect(t.annotations.destructiveHint, t.name).toBe(false);
      if (t.access === 'read') expect(t.annotations.readOnlyHint, t.name).toBe(true);
    }
  });

  it('tools/list stays small: about 1 KB per tool', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    for (const t of allTools) {
      // The schemas exactly as the endpoint registers them (strict, without the default $schema).
      const schemas = registeredSchemas(t);
      server.registerTool(
        t.name,
        {
          title: t.title,
          description: t.description,
          inputSchema: schemas.input,
          ...(schemas.output ? { outputSchema: schemas.output } : {}),
          annotations: t.annotations,
        },
        async () => ({ content: [] }),
      );
    }
    const { InMemoryTransport } = await import('@modelcontextprotocol/server');
    const { Client } = await import('@modelcontextprotocol/client');
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(b);
    const { tools } = await client.listTools();
    const sizes = tools.map((t) => [t.name, JSON.stringify(t).length] as const);
    // Rollout tools carry a gate schema (metrics, deadlines) and are allowed more; the rest stay near 1 KB.
    for (const [name, size] of sizes)
      expect(size, name).toBeLessThanOrEqual(name.startsWith('delivery_rollouts_') ? 2500 : 1500);
    const mean = sizes.reduce((s, [, n]) => s + n, 0) / sizes.length;
    expect(mean).toBeLessThanOrEqual(1150);
    await client.close();
  });

  it('the README tool table is generated from the registry and up to date', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(renderReadme(readme, allTools), 'run `npm run docs:tools`').toBe(readme);
    for (const t of allTools) expect(readme).toContain(`\`${t.name}\``);
  });
});

describe('memoized JSON Schemas', () => {
  it('convert to exactly what the zod schema gives, once, and still validate with zod', async () => {
    const { memoJsonSchema } = await import('../../shared/mcp/endpoint.ts');
    for (const t of allTools) {
      const memo = memoJsonSchema(t.input);
      const opts = { target: 'draft-2020-12' } as const;
      const { $schema, ...rest } = t.input['~standard'].jsonSchema.input(opts);
      // 2020-12 is MCP's default dialect: the listed schema says nothing else, only without `$schema`.
      expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(memo['~standard'].jsonSchema.input(opts), t.name).toEqual(rest);
      expect(memo['~standard'].jsonSchema.input({ target: 'draft-07' }), t.name).toEqual(
        t.input['~standard'].jsonSchema.input({ target: 'draft-07' }),
      );
      const first = memo['~standard'].jsonSchema.input(opts);
      first.mutated = true;
      expect(memo['~standard'].jsonSchema.input(opts).mutated, t.name).toBeUndefined();
    }
    const list = allTools.find((t) => t.name === 'k8s_resources_list');
    const memo = memoJsonSchema(list?.input as NonNullable<typeof list>['input']);
    const bad = await memo['~standard'].validate({ kind: 7 });
    expect('issues' in bad && bad.issues?.length).toBeTruthy();
  });
});
