import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/server/validators/cf-worker';

/**
 * The one JSON Schema validator of every MCP server this process builds (elicitation answers, the
 * listed schemas of the catalog): the SDK's @cfworker/json-schema engine instead of its Node default,
 * Ajv. One engine everywhere, so the local host and the Lambda gateway validate alike; one instance,
 * where the SDK would construct an Ajv per McpServer (the gateway builds one per request); and the
 * gateway's bundle can leave Ajv out (cdk/bundling.ts aliases the SDK's Node shim to
 * functions/lib/mcp-sdk-shims.ts): about 150 KB less and a faster cold import. Draft 2020-12 (MCP's
 * default dialect) unless a schema declares another.
 */
export const jsonSchemaValidator = new CfWorkerJsonSchemaValidator();
