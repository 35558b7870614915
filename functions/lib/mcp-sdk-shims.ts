/**
 * What the MCP SDK imports as `@modelcontextprotocol/server/_shims` in a Lambda bundle (cdk/bundling.ts
 * BUNDLE.alias): the SDK's Node shim with its default validator swapped for the @cfworker/json-schema
 * engine the servers are given anyway (shared/mcp/json-schema-validator.ts), so Ajv (about 150 KB)
 * is not bundled. The Node shim's exports, same names.
 */

export { default as process } from 'node:process';
export { CfWorkerJsonSchemaValidator as DefaultJsonSchemaValidator } from '@modelcontextprotocol/server/validators/cf-worker';
