import * as z from 'zod';
import { defineTool, ok } from '../tool.ts';

/**
 * The protocol revisions the MCP SDK serves: the per-request (2026-07-28) era of createMcpHandler's
 * modern path (the SDK keeps that list internal), then the SDK's SUPPORTED_PROTOCOL_VERSIONS. Written
 * out so a tool function bundles no MCP SDK (about 265 KB); test/unit/tools-registry.test.ts checks
 * the list against the SDK's.
 */
export const PROTOCOL_VERSIONS: readonly string[] = [
  '2026-07-28',
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

export const serverInfoTool = defineTool({
  name: 'server_info',
  title: 'Server info',
  description:
    'Version, protocols, store, clusters, auth mode, your identity and roles. Call first: what this server reaches ' +
    'and what you may do.',
  group: 'core',
  access: 'read',
  input: z.object({}),
  // The main fields only: every schema byte is paid on each tools/list.
  output: z
    .object({
      version: z.string(),
      protocolVersions: z.array(z.string()),
      store: z.string(),
      clusters: z.array(z.object({ name: z.string() }).passthrough()),
    })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_input, { deps, identity }) {
    const methods = deps.config.authRequired
      ? [...(deps.config.oauth ? ['oauth'] : []), 'apiKey']
      : ['none (loopback only)'];
    const info = {
      name: 'cloudops-mcp',
      version: deps.version,
      protocolVersions: [...PROTOCOL_VERSIONS],
      store: deps.store.kind,
      clusters: (await deps.clusters.list()).map((c) => ({ name: c.name, source: c.source, default: c.isDefault })),
      auth: { required: deps.config.authRequired, methods },
      caller: { name: identity.name, roles: identity.roles, method: identity.method },
      auditWriteFailures: deps.audit.failures,
    };
    return ok(
      `cloudops-mcp ${info.version}; store ${info.store}; ${info.clusters.length} clusters; ` +
        `you are ${identity.name} (${identity.roles.join(', ')})`,
      info,
    );
  },
});
