import * as z from 'zod';
import { target } from '../../app/k8s/objects.ts';
import { summarize } from '../../domain/k8s/index.ts';
import type { KubeObject } from '../../ports/kube.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, startOffset, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

/** Events read per call at most; the newest of them are shown, sorted. */
const MAX_EVENTS = 5000;

const lastSeen = (e: KubeObject): number => {
  const o = e as Record<string, unknown>;
  const t = (o.lastTimestamp ?? o.eventTime ?? o.firstTimestamp ?? e.metadata?.creationTimestamp) as string | undefined;
  return t ? Date.parse(t) : 0;
};

export const k8sEventsListTool = defineTool({
  name: 'k8s_events_list',
  title: 'List events',
  description:
    'Recent events, newest first. Use first when something fails: crash loops, image pulls, scheduling, probes.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    allNamespaces: args.allNamespaces,
    kind: z.string().max(253).optional().describe('Of the involved object'),
    name: z.string().max(253).optional().describe('Of the involved object'),
    type: z.enum(['Warning', 'Normal']).optional(),
    limit: z.number().int().min(1).max(500).default(50),
    continue: args.continue,
  }),
  output: z.object({ count: z.number(), total: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      startOffset(input.continue);
      const t = await target(ctx.deps, input.cluster);
      const res = await t.client.resolve('Event', 'v1');
      const namespace = input.allNamespaces ? undefined : (input.namespace ?? t.defaultNamespace);
      const selectors = [
        input.kind ? `involvedObject.kind=${input.kind}` : '',
        input.name ? `involvedObject.name=${input.name}` : '',
        input.type ? `type=${input.type}` : '',
      ].filter(Boolean);
      const events: KubeObject[] = [];
      let cont: string | undefined;
      do {
        const page = await t.client.list(res, {
          limit: 500,
          ...(namespace ? { namespace } : {}),
          ...(selectors.length ? { fieldSelector: selectors.join(',') } : {}),
          ...(cont ? { continue: cont } : {}),
        });
        events.push(...page.items);
        cont = page.continue;
      } while (cont && events.length < MAX_EVENTS);
      events.sort((a, b) => lastSeen(b) - lastSeen(a));
      const { columns, rows } = summarize('Event', events, ctx.deps.clock.now());
      const where = namespace ? `namespace ${namespace}` : 'all namespaces';
      const capped = cont ? ` (the first ${events.length} the API returned)` : '';
      return offsetPage({
        tool: 'k8s_events_list',
        noun: 'events',
        rows,
        continue: input.continue,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        limit: input.limit,
        heading: (range, total) => `Events ${range} of ${total}${capped} in ${where} on ${t.cluster}, newest first`,
        table: (kept) => table(columns, kept),
        structured: { cluster: t.cluster },
      });
    });
  },
});
