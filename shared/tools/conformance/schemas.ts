import * as z from 'zod';
import { defineTool, ok } from '../tool.ts';

/*
 * The schema fixtures of the MCP conformance suite: a tool listed with a raw JSON Schema 2020-12
 * input schema (json-schema-2020-12) and a tool whose arguments are mirrored in HTTP headers
 * (http-custom-header-server-validation, SEP-2243). Fixed, tiny payloads.
 */

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/**
 * The suite's JSON Schema 2020-12 input schema, kept as written ($schema, $defs with an $anchor,
 * allOf/anyOf, if/then/else): tools/list shows it as-is. The wrapper validates calls with `input`,
 * the same fields as zod (no unknown keys); the conditional rules are listed, not enforced.
 */
const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, never awaited.
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
} as const;

const text = z.string().max(200).optional();

export const jsonSchemaTool = {
  ...defineTool({
    name: 'json_schema_2020_12_tool',
    title: 'json_schema_2020_12_tool (conformance fixture)',
    description: 'Conformance fixture: a tool listed with a raw JSON Schema 2020-12 input schema.',
    group: 'core',
    access: 'read',
    input: z.object({
      name: text,
      address: z.object({ street: text, city: text }).optional(),
      contactMethod: z.enum(['phone', 'email']).optional(),
      phone: text,
      email: text,
    }),
    annotations: readOnly,
    handler: async (input) => ok(`Contact ${input.name ?? 'someone'} by ${input.contactMethod ?? 'any means'}.`),
  }),
  listedInputSchema: JSON_SCHEMA_2020_12,
};

/**
 * `region` is mirrored in the `Mcp-Param-Region` header (`x-mcp-header`), so a gateway can route on
 * it without reading the body. The SDK checks the header against the argument before the call
 * reaches the tool wrapper: a missing header or one that disagrees (Base64 decoded when wrapped in
 * `=?base64?...?=`) is HTTP 400, -32020.
 */
export const customHeaderTool = defineTool({
  name: 'test_custom_header',
  title: 'test_custom_header (conformance fixture)',
  description: 'Conformance fixture: its region argument is mirrored in the Mcp-Param-Region header.',
  group: 'core',
  access: 'read',
  input: z.object({
    region: z.string().max(200).meta({ 'x-mcp-header': 'Region', description: 'A region name.' }),
  }),
  annotations: readOnly,
  handler: async (input) => ok(`Region: ${input.region}`),
});
