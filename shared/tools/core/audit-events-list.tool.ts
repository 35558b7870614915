import * as z from 'zod';
import { InvalidCursorError } from '../../app/repos/audit.ts';
import { canAccess } from '../../domain/identity.ts';
import { capJson } from '../../domain/redact.ts';
import { args } from '../common/args.ts';
import { fitFetchedPage, moreLine, resultBudget } from '../common/render.ts';
import { defineTool, fail, ok } from '../tool.ts';

const since = z
  .string()
  .max(64)
  .describe('ISO time or age: 15m, 2h, 7d')
  .transform((s, ctx) => {
    const rel = /^(\d+)\s*([mhd])$/.exec(s.trim());
    if (rel) {
      const ms = Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
      return new Date(Date.now() - ms).toISOString();
    }
    const t = Date.parse(s);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: 'use an ISO time (2026-11-21T10:00:00Z) or a duration like 2h' });
      return z.NEVER;
    }
    return new Date(t).toISOString();
  });

/** Loose on purpose: the record shape is AuditEvent in shared/domain/audit.ts; a full schema would cost every tools/list. */
const event = z.object({}).passthrough();

export const auditEventsListTool = defineTool({
  name: 'audit_events_list',
  title: 'List audit events',
  description:
    'Audit trail of tool calls, newest first: who, which tool, redacted arguments, outcome, duration. Use to review ' +
    'changes or an incident. Approvers and admins see all; others their own.',
  group: 'core',
  access: 'read',
  input: z.object({
    tool: z.string().max(128).optional(),
    caller: z.string().max(256).optional().describe('Subject or name'),
    since: since.optional(),
    limit: z.number().int().min(1).max(100).default(20),
    cursor: args.cursor,
  }),
  output: z.object({ count: z.number(), events: z.array(event), cursor: z.string().optional() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, { deps, identity }) {
    const seesAll = canAccess(identity.roles, 'approve') || canAccess(identity.roles, 'admin');
    if (!seesAll && input.caller && input.caller !== identity.subject && input.caller !== identity.name) {
      return fail(`You may list only your own calls (${identity.name}); approvers and admins see everyone's.`);
    }
    try {
      const budget = resultBudget(deps.config.outputBudgetBytes);
      const fetch = async (limit: number) => {
        const page = await deps.audit.list({
          limit,
          ...(input.tool ? { tool: input.tool } : {}),
          ...(seesAll ? (input.caller ? { caller: input.caller } : {}) : { caller: identity.subject }),
          ...(input.since ? { since: input.since } : {}),
          ...(input.cursor ? { cursor: input.cursor } : {}),
        });
        // One record can hold large (already redacted) arguments: each keeps a share of the page.
        const events = page.events.map((e) => capJson(e, Math.floor(budget / 8)) as (typeof page.events)[number]);
        return { items: events, cursor: page.cursor };
      };
      return await fitFetchedPage(input.limit, budget, fetch, (events, cursor) => {
        const more = cursor ? moreLine('audit_events_list', 'events', { token: cursor }, 'cursor') : undefined;
        const data = { count: events.length, events, ...(cursor ? { cursor } : {}) };
        const summary =
          `${events.length} audit events` +
          (events[0] ? `; newest ${events[0].time} ${events[0].tool} by ${events[0].caller.name}` : '') +
          (more ? `\n${more}` : '');
        return ok(summary, data);
      });
    } catch (err) {
      if (err instanceof InvalidCursorError) return fail(err.message);
      throw err;
    }
  },
});
