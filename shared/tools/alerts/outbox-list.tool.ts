import * as z from 'zod';
import { args } from '../common/args.ts';
import { capCells, cellCap, fitFetchedPage, moreLine, resultBudget, table } from '../common/render.ts';
import { defineTool, fail, result } from '../tool.ts';

/** The alerting's page keys: `<updatedAt>|<source>|<groupKey>|<fingerprint>` (AlertingService.list). */
const PAGE_KEY = /^\d{4}-\d{2}-\d{2}T[^|]{1,40}\|(drift|cost)\|[^|]+\|[^|]+$/;

export const alertsOutboxListTool = defineTool({
  name: 'alerts_outbox_list',
  title: 'List alerts',
  description:
    'Drift and cost alerts, newest first: firing or resolved, and delivery state (queued with attempts and ' +
    'next try, sent, failed with its error). Paged with continue.',
  group: 'alerts',
  access: 'read',
  input: z.object({
    state: z.enum(['queued', 'sent', 'failed']).optional(),
    source: z.enum(['drift', 'cost']).optional(),
    limit: z.number().int().min(1).max(200).default(50),
    continue: args.cursor,
  }),
  output: z.object({ count: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    if (input.continue !== undefined && !PAGE_KEY.test(input.continue)) {
      return fail('`continue` is not a token from alerts_outbox_list; list again without it');
    }
    const budget = resultBudget(ctx.deps.config.outputBudgetBytes);
    const fetch = async (limit: number) => {
      const page = await ctx.deps.alerting.list({
        limit,
        ...(input.state ? { state: input.state } : {}),
        ...(input.source ? { source: input.source } : {}),
        ...(input.continue ? { after: input.continue } : {}),
      });
      const items = page.items.map((a) =>
        capCells(
          {
            status: a.status,
            state: a.state,
            severity: a.severity,
            summary: a.summary,
            attempts: a.attempts,
            when: a.lastSentAt ?? a.nextAttemptAt ?? a.startsAt,
            ...(a.lastError ? { error: a.lastError } : {}),
            fingerprint: a.fingerprint,
            source: a.source,
            groupKey: a.groupKey,
          },
          cellCap(budget),
        ),
      );
      return { items, cursor: page.next };
    };
    return fitFetchedPage(input.limit, budget, fetch, (items, cursor) => {
      const channel = ctx.deps.alerting.channel;
      const more = cursor ? moreLine('alerts_outbox_list', 'alerts', { token: cursor }) : undefined;
      const head = `${items.length} alerts${channel ? '' : ' (no channel configured: recorded, not sent)'}`;
      return result(
        [head, more, table(['status', 'state', 'attempts', 'when', 'summary', 'error'], items)]
          .filter(Boolean)
          .join('\n'),
        {
          count: items.length,
          items,
          ...(channel ? { channel } : {}),
          ...(cursor ? { continue: cursor, more } : {}),
        },
      );
    });
  },
});
