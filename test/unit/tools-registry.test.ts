import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../local/server.ts';
import { renderReadme } from '../../scripts/tools-table.ts';
import { ConfigError, DEFAULT_TOOLSETS, type Role, TOOLSET_NAMES } from '../../shared/config/config.ts';
import { listedAnnotations } from '../../shared/tools/common/annotations.ts';
import { compactJsonSchema } from '../../shared/tools/common/json-schema.ts';
import { PROTOCOL_VERSIONS } from '../../shared/tools/core/server-info.tool.ts';
import { allTools, toolsFor } from '../../shared/tools/index.ts';
import { selectTools } from '../../shared/tools/toolsets.ts';
import { connectClient, type Era } from '../support/mcp-client.ts';

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

  it('listed annotations leave out only what the spec implies, keep every destructiveHint, and list a listed entry unchanged', () => {
    const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
    expect(listedAnnotations(read)).toEqual({ readOnlyHint: true });
    expect(listedAnnotations({ ...read, openWorldHint: false })).toEqual({ readOnlyHint: true, openWorldHint: false });
    const write = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
    expect(listedAnnotations(write)).toEqual({ destructiveHint: true });
    expect(listedAnnotations({ ...write, destructiveHint: false, idempotentHint: true })).toEqual({
      destructiveHint: false,
      idempotentHint: true,
    });
    for (const t of allTools) {
      const listed = listedAnnotations(t.annotations);
      expect(listedAnnotations(listed), t.name).toEqual(listed);
      // Read as the spec reads an absent hint, the listed annotations say what the definition says.
      const a = t.annotations;
      const spec = {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
        ...listed,
      };
      expect(spec.readOnlyHint, t.name).toBe(a.readOnlyHint);
      expect(spec.openWorldHint, t.name).toBe(a.openWorldHint);
      if (!a.readOnlyHint)
        expect([spec.destructiveHint, spec.idempotentHint], t.name).toEqual([a.destructiveHint, a.idempotentHint]);
      if (!a.readOnlyHint) expect(listed.destructiveHint, t.name).toBe(a.destructiveHint);
    }
  });

  it("server_info's protocol list is the SDK's: the 2026-07-28 era, then SUPPORTED_PROTOCOL_VERSIONS", () => {
    expect(PROTOCOL_VERSIONS).toEqual(['2026-07-28', ...SUPPORTED_PROTOCOL_VERSIONS]);
  });

  it('the README tool table is generated from the registry and up to date', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(renderReadme(readme, allTools), 'run `npm run docs:tools`').toBe(readme);
    for (const t of allTools) expect(readme).toContain(`\`${t.name}\``);
  });
});

describe('memoized JSON Schemas', () => {
  it('convert to what the zod schema gives, compacted, once, and still validate with zod', async () => {
    const { memoJsonSchema } = await import('../../shared/mcp/endpoint.ts');
    for (const t of allTools) {
      const memo = memoJsonSchema(t.input);
      const opts = { target: 'draft-2020-12' } as const;
      const { $schema, ...rest } = t.input['~standard'].jsonSchema.input(opts);
      // 2020-12 is MCP's default dialect: the listed schema says nothing else, only without `$schema`.
      expect($schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(memo['~standard'].jsonSchema.input(opts), t.name).toEqual(compactJsonSchema(rest));
      expect(memo['~standard'].jsonSchema.input({ target: 'draft-07' }), t.name).toEqual(
        compactJsonSchema(t.input['~standard'].jsonSchema.input({ target: 'draft-07' })),
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

  it('compacting drops only what restates JSON Schema defaults, never a name or a value', () => {
    const loose = { type: 'object', properties: {}, additionalProperties: {} };
    expect(
      compactJsonSchema({
        type: 'object',
        properties: {
          items: { type: 'array', items: loose },
          map: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: {} },
          // A property may be called like a keyword; data (default, const, enum, examples) is kept as is.
          additionalProperties: {
            type: 'object',
            properties: {},
            default: { additionalProperties: {}, properties: {} },
          },
          ids: { type: 'object', propertyNames: { type: 'string', pattern: '^a' }, additionalProperties: false },
        },
        additionalProperties: false,
      }),
    ).toEqual({
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object' } },
        map: { type: 'object' },
        additionalProperties: { type: 'object', default: { additionalProperties: {}, properties: {} } },
        ids: { type: 'object', propertyNames: { type: 'string', pattern: '^a' }, additionalProperties: false },
      },
      additionalProperties: false,
    });
    // The root keeps an empty `properties`: some clients require it of an input schema.
    expect(compactJsonSchema({ type: 'object', properties: {}, additionalProperties: false })).toEqual({
      type: 'object',
      properties: {},
      additionalProperties: false,
    });
  });
});

describe('toolsets', () => {
  const order = (names: readonly string[]) =>
    [...names].sort((a, b) => {
      const ga = TOOLSET_NAMES.indexOf(groupOf(a));
      const gb = TOOLSET_NAMES.indexOf(groupOf(b));
      return ga - gb || (a < b ? -1 : a > b ? 1 : 0);
    });
  const groupOf = (name: string) => allTools.find((t) => t.name === name)?.group ?? 'core';

  it('allTools is in tools/list order: toolset, then name; every toolset has tools', () => {
    const names = allTools.map((t) => t.name);
    expect(names).toEqual(order(names));
    expect(new Set(allTools.map((t) => t.group))).toEqual(new Set(TOOLSET_NAMES));
    expect(
      allTools
        .filter((t) => t.group === 'cost')
        .map((t) => t.name)
        .sort(),
    ).toEqual(['cost_budgets_list', 'cost_recommendations_list', 'cost_reports_get', 'cost_workloads_list']);
  });

  it('toolsFor serves exactly the named toolsets, in the same order whatever order they are named in', () => {
    // Unnamed: the default toolsets; drift and alerts are served when TOOLSETS names them.
    expect(toolsFor().map((t) => t.name)).toEqual(
      allTools.filter((t) => DEFAULT_TOOLSETS.includes(t.group)).map((t) => t.name),
    );
    expect(toolsFor().some((t) => t.group === 'drift' || t.group === 'alerts')).toBe(false);
    const picked = toolsFor(['ops', 'core']);
    expect(picked.map((t) => t.name)).toEqual(
      allTools.filter((t) => t.group === 'core' || t.group === 'ops').map((t) => t.name),
    );
    expect(picked[0]?.group).toBe('core');
    expect(toolsFor(['k8s']).every((t) => t.group === 'k8s')).toBe(true);
  });

  it('a toolset without tools in this build is refused, naming the ones that have tools', () => {
    // Every toolset has tools now: a build that serves only some (a function bundle) is what refuses.
    const some = allTools.filter((t) => t.group !== 'cost');
    expect(() => selectTools(some, ['k8s', 'cost'])).toThrow(ConfigError);
    expect(() => selectTools(some, ['k8s', 'cost'])).toThrow(
      /TOOLSETS: cost has no tools in this build; toolsets with tools: core, k8s, delivery, ops, drift, alerts, aws, gcp/,
    );
    expect(toolsFor(['k8s', 'cost']).some((t) => t.name === 'cost_reports_get')).toBe(true);
  });
});

/*
 * tools/list is read by the model on every session: its size is a cost on every conversation. Measured
 * as the local host serves it (the SDK client's view of the wire), per role: the JSON of each entry,
 * and of the whole `{tools}` result. docs/benchmarks.md records these figures.
 */
describe('tools/list size, per role, as served', () => {
  const ROLES: Role[] = ['viewer', 'operator', 'approver', 'admin'];
  let server: LocalServer;
  let scoped: LocalServer;
  const keys = new Map<Role, string>();

  beforeAll(async () => {
    const env = { PORT: '0', STORE: 'memory', LOG_LEVEL: 'silent', AUTH: 'required' };
    server = await startLocalServer(env);
    scoped = await startLocalServer({ ...env, TOOLSETS: 'ops,k8s' });
    for (const role of ROLES) keys.set(role, (await server.deps.apiKeys.create({ role, name: role })).key);
  });
  afterAll(async () => {
    await server?.close();
    await scoped?.close();
  });

  async function list(host: LocalServer, role: Role, era: Era) {
    const key =
      host === server ? (keys.get(role) as string) : (await host.deps.apiKeys.create({ role, name: role })).key;
    const client = await connectClient(host.url, era, { authorization: `Bearer ${key}` });
    try {
      return (await client.listTools()).tools;
    } finally {
      await client.close();
    }
  }

  it('definitions average at most 900 bytes, and an operator sees at most 24 KB', async () => {
    const sizes: Record<string, Record<Era, { tools: number; bytes: number }>> = {};
    for (const era of ['modern', 'legacy'] as Era[]) {
      for (const role of ROLES) {
        const tools = await list(server, role, era);
        // The order is the registry's (toolset, then name) in every list.
        expect(tools.map((t) => t.name)).toEqual(
          allTools.filter((t) => tools.some((l) => l.name === t.name)).map((t) => t.name),
        );
        const byEra = sizes[role] ?? ({} as Record<Era, { tools: number; bytes: number }>);
        byEra[era] = { tools: tools.length, bytes: JSON.stringify({ tools }).length };
        sizes[role] = byEra;
        if (role !== 'admin') continue;
        // TOOLSETS unset: the default toolsets (drift and alerts are served when named).
        expect(tools).toHaveLength(toolsFor(server.deps.config.toolsets).length);
        const each = tools.map((t) => [t.name, JSON.stringify(t).length] as const);
        const mean = each.reduce((sum, [, n]) => sum + n, 0) / each.length;
        // TOOLS_LIST_SIZES=1 prints the figures docs/benchmarks.md records.
        if (process.env.TOOLS_LIST_SIZES)
          console.log(`${era}: ${each.map(([n, b]) => `${n} ${b}`).join(', ')}; mean ${mean.toFixed(0)}`);
        // Rollout plan/start carry the gate schema (metrics, deadlines); every other entry stays near the mean.
        for (const [name, n] of each)
          expect(n, name).toBeLessThanOrEqual(/^delivery_rollouts_(plan|start)$/.test(name) ? 2300 : 1200);
        expect(mean, `mean entry (${era})`).toBeLessThanOrEqual(900);
      }
    }
    if (process.env.TOOLS_LIST_SIZES) console.log(JSON.stringify(sizes));
    // 24 KB as the issue counts (its "31 KB" was 30,989 bytes): 24,000 bytes.
    for (const era of ['modern', 'legacy'] as Era[])
      expect(sizes.operator?.[era].bytes, era).toBeLessThanOrEqual(24_000);
  });

  it('TOOLSETS serves only those toolsets, in toolset order', async () => {
    const tools = await list(scoped, 'admin', 'modern');
    expect(tools.map((t) => t.name)).toEqual(toolsFor(['k8s', 'ops']).map((t) => t.name));
    expect(tools.map((t) => t.name)).toContain('ops_operations_get');
    expect(tools.some((t) => t.name.startsWith('delivery_') || t.name === 'server_info')).toBe(false);
  });
});
