import * as z from 'zod';
import { defineTool, ok } from '../tool.ts';

export const adminConfigGetTool = defineTool({
  name: 'admin_config_get',
  title: 'Effective configuration',
  description:
    'Effective server settings: endpoints, auth and role mapping, store, limits (never secrets). Use to check how a ' +
    'deployment is configured.',
  group: 'core',
  access: 'admin',
  input: z.object({}),
  output: z
    .object({
      publicUrls: z.array(z.string()),
      authRequired: z.boolean(),
      oauth: z.record(z.string(), z.unknown()).optional(),
      store: z.record(z.string(), z.unknown()),
      apiKeys: z.object({ active: z.number(), revoked: z.number() }),
    })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_input, { deps }) {
    const c = deps.config;
    const keys = await deps.apiKeys.list();
    const data = {
      publicUrls: c.publicUrls.map(String),
      allowedOrigins: c.allowedOrigins,
      authRequired: c.authRequired,
      ...(c.oauth ? { oauth: { ...c.oauth } } : {}),
      store: { ...c.store },
      auditRetentionDays: c.auditRetentionDays,
      maxBodyBytes: c.maxBodyBytes,
      apiKeys: { active: keys.filter((k) => !k.revokedAt).length, revoked: keys.filter((k) => k.revokedAt).length },
    };
    return ok(`auth ${c.authRequired ? 'required' : 'off (loopback)'}; store ${c.store.kind}`, data);
  },
});
