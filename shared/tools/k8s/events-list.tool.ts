import { z } from 'zod';
import { boundRows, summarize } from '../../domain/k8s/index.ts';
import { defineTool } from '../../mcp/tool.ts';
import type { KubeObject } from '../../ports/kube.ts';
import { args, kubeTool, target } from './common.ts';
import { result, table } from './render.ts';

const lastSeen = (e: KubeObject): number => {
  const o = e as Record<string, unknown>;
  const t = (o.lastTimestamp ?? o.eventTime ?? o.firstTimestamp ?? e.metadata?.creationTimestamp) as string | undefined;
  return t ? Date.parse(t) : 0;
};

export const k8sEventsListTool = defineTool({
  name: 'k8s_events_list',
  title: 'List events',
  description:
    'Recent events, newest first; filter by involved object and type Warning. Use first when something fails: ' +
    'crash loops, image pulls, scheduling, probes.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    allNamespaces: args.allNamespaces,
    kind: z.string().optional().describe('Of the involved object'),
    name: z.string().optional().describe('Of the involved object'),
    type: z.enum(['Warning', 'Normal']).optional(),
    limit: z.number().int().min(1).max(500).default(50),
  }),
  output: z.object({ count: z.number(), total: z.number(), items: z.array(z.object({}).passthrough()) }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = target(ctx, input.cluster);
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
      } while (cont && events.length < 5000);
      events.sort((a, b) => lastSeen(b) - lastSeen(a));
      const { columns, rows } = summarize('Event', events.slice(0, input.limit), ctx.deps.clock.now());
      const bounded = boundRows(rows, Math.floor(ctx.deps.config.outputBudgetBytes / 2) - 500);
      const where = namespace ? `namespace ${namespace}` : 'all namespaces';
      const head = `${bounded.rows.length} of ${events.length} events in ${where} on ${t.cluster}, newest first`;
      return result(`${head}\n${table(columns, bounded.rows)}`, {
        cluster: t.cluster,
        count: bounded.rows.length,
        total: events.length,
        items: bounded.rows,
      });
    });
  },
});
