/**
 * The MCP endpoint in one process (the local host, tests): the gateway (gateway.ts) over a catalog
 * made from the tool definitions and the in-process ToolRunner, so a tools/call runs the tool here,
 * with the same checks a tool function makes. The conformance fixtures are added on loopback hosts.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { fromJsonSchema, type JsonSchemaType } from '@modelcontextprotocol/server';
import { compactJsonSchema } from '../tools/common/json-schema.ts';
import { conformanceTools } from '../tools/conformance/index.ts';
import { registerFixturePromptsAndResources } from '../tools/conformance/prompts-resources.ts';
import type { AnyTool } from '../tools/tool.ts';
import type { CatalogTool } from './catalog.ts';
import { createGateway, type GatewayOptions, type McpEndpoint } from './gateway.ts';
import { jsonSchemaValidator } from './json-schema-validator.ts';
import type { ClientRequirements } from './tool-call.ts';
import { InProcessToolRunner, strictOf } from './tool-runner.ts';

export type { McpEndpoint } from './gateway.ts';

export interface EndpointOptions extends Omit<GatewayOptions, 'catalog' | 'runner' | 'fixtures'> {
  /** The tools served in this process, in tools/list order. */
  tools: readonly AnyTool[];
}

export function createMcpEndpoint(opts: EndpointOptions): McpEndpoint {
  const { deps } = opts;
  // The conformance suite's fixture tools: test-only, never on a host others can reach (config
  // already refuses the flag unless HOST is loopback; a Lambda host is never loopback).
  if (deps.config.conformanceFixtures && !opts.loopback) {
    throw new Error('MCP_CONFORMANCE_FIXTURES=1 is refused: the fixture tools are served on a loopback host only.');
  }
  const fixtures = deps.config.conformanceFixtures;
  const tools = fixtures ? [...opts.tools, ...conformanceTools] : opts.tools;
  const { tools: _tools, ...rest } = opts;
  return createGateway({
    ...rest,
    catalog: tools.map(catalogTool),
    runner: new InProcessToolRunner(tools, deps),
    ...(fixtures ? { fixtures: registerFixturePromptsAndResources } : {}),
  });
}

/** A tool definition as the gateway lists and decides it (the schemas converted once per process). */
export function catalogTool(tool: AnyTool): CatalogTool {
  const schemas = registeredSchemas(tool);
  const required = (tool as ClientRequirements).requiresClientCapabilities;
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    access: tool.access,
    annotations: tool.annotations,
    ...(tool.taskSupport ? { taskSupport: tool.taskSupport } : {}),
    ...(tool.asksClient ? { asksClient: true } : {}),
    ...(tool.auditArgs ? { auditArgs: true } : {}),
    ...(required ? { requiresClientCapabilities: required } : {}),
    inputSchema: schemas.input as StandardSchemaWithJSON,
    ...(schemas.output ? { outputSchema: schemas.output as StandardSchemaWithJSON } : {}),
  };
}

/**
 * The schemas a tool is registered with. Its input is strict (nested objects too): an unknown argument
 * is refused with the closest valid name, never dropped, so a misspelled dryRun cannot run the real
 * write, and tools/list shows `additionalProperties: false`. The server is built per request, so the
 * SDK's own schema caches start empty every time: the JSON Schemas are converted once per process.
 */
export function registeredSchemas(tool: AnyTool): {
  strict: AnyTool['input'];
  input: AnyTool['input'];
  output?: NonNullable<AnyTool['output']>;
} {
  const strict = strictOf(tool);
  const listed = (tool as ListedSchema).listedInputSchema;
  // Listed as written (the conformance fixture json_schema_2020_12_tool); calls still parse with `strict`.
  const input = listed
    ? (fromJsonSchema(listed, jsonSchemaValidator) as unknown as AnyTool['input'])
    : memoJsonSchema(strict);
  return { strict, input, ...(tool.output ? { output: memoJsonSchema(tool.output) } : {}) };
}

/**
 * A tool listed with a raw JSON Schema instead of the one converted from its zod input (test-only:
 * the conformance suite checks that 2020-12 keywords such as $defs, $anchor and if/then/else reach
 * tools/list untouched). Its zod input must accept the same arguments.
 */
export interface ListedSchema {
  listedInputSchema?: JsonSchemaType;
}

/** MCP's default JSON Schema dialect: a schema in it needs no `$schema`. */
const DEFAULT_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * The same Standard Schema with its JSON Schema conversion memoized per target, compacted
 * (compactJsonSchema: no keyword that restates a default) and without the
 * top-level `$schema` (MCP's default dialect is 2020-12, the one converted to; it cost ~55 bytes per
 * schema in every tools/list). Validation still runs
 * the original (zod) validator; callers get a copy so nothing can mutate the cache.
 */
export function memoJsonSchema<S extends StandardSchemaWithJSON>(schema: S): S {
  const std = schema['~standard'];
  const memo = new Map<string, string>();
  const cached =
    (io: 'input' | 'output') =>
    (options: Parameters<typeof std.jsonSchema.input>[0]): Record<string, unknown> => {
      const key = `${io}:${JSON.stringify(options)}`;
      let json = memo.get(key);
      if (json === undefined) {
        const { $schema, ...rest } = compactJsonSchema(std.jsonSchema[io](options));
        json = JSON.stringify($schema === DEFAULT_DIALECT ? rest : { $schema, ...rest });
        memo.set(key, json);
      }
      return JSON.parse(json) as Record<string, unknown>;
    };
  return { '~standard': { ...std, jsonSchema: { input: cached('input'), output: cached('output') } } } as unknown as S;
}
