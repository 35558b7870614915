import { specTypeSchemas } from '@modelcontextprotocol/server';
import { describeIssues } from './strict-input.ts';

/**
 * Spec methods whose params the SDK checks itself but answers with -32603 (Internal error) when they
 * are wrong (its plain-handler path throws a bare Error). Checked here first so the caller gets -32602.
 * tools/call and tasks/* are not listed: their params are checked elsewhere with -32602 already.
 */
const CHECKED_METHODS = {
  'tools/list': specTypeSchemas.ListToolsRequest,
  'server/discover': specTypeSchemas.DiscoverRequest,
  ping: specTypeSchemas.PingRequest,
  initialize: specTypeSchemas.InitializeRequest,
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Why a JSON-RPC request's params are invalid, for a -32602 (Invalid params) answer; undefined when
 * they are fine or not ours to judge. MCP params are always an object of named values. The SDK
 * refuses these too, but with -32603 or a dump of its validator's issues (it offers no hook for the
 * message), so the HTTP layer answers them first.
 */
export function invalidParams(message: Record<string, unknown>): string | undefined {
  const method = typeof message.method === 'string' ? message.method : undefined;
  if (!method || !('id' in message)) return undefined;
  if ('params' in message && message.params !== undefined && !isRecord(message.params)) {
    return `Invalid params: \`params\` of ${method.slice(0, 100)} must be an object of named values.`;
  }
  if (method === 'tools/call') {
    const params = message.params as { name?: unknown; arguments?: unknown } | undefined;
    if (typeof params?.name !== 'string') {
      return 'Invalid params: tools/call needs `name`, the tool to call as a string (tools/list shows them).';
    }
    const args = params.arguments;
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      return `Invalid params: \`arguments\` of ${params.name.slice(0, 100)} must be an object of named arguments. Nothing was run.`;
    }
  }
  return undefined;
}

/** The SDK-checked methods' params, when the envelope is one the SDK will serve. */
export function invalidMethodParams(message: Record<string, unknown>): string | undefined {
  const method = typeof message.method === 'string' ? message.method : undefined;
  if (!method || !('id' in message)) return undefined;
  const schema = (CHECKED_METHODS as Record<string, (typeof CHECKED_METHODS)[keyof typeof CHECKED_METHODS]>)[method];
  if (!schema) return undefined;
  const checked = schema['~standard'].validate({
    method,
    ...(message.params !== undefined ? { params: message.params } : {}),
  });
  if (checked instanceof Promise || !checked.issues) return undefined;
  return `Invalid params for ${method}: ${describeIssues(checked.issues)}`;
}
