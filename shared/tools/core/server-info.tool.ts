import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { defineTool, ok } from '../tool.ts';

/**
 * The per-request (2026-07-28 era) protocol revisions served by createMcpHandler's modern path (the
 * SDK keeps its list internal); SUPPORTED_PROTOCOL_VERSIONS lists the 2025 era's.
 */
const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];

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
      protocolVersions: [...MODERN_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
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
