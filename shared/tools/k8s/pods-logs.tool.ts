import { z } from 'zod';
import { boundText, maskLogText } from '../../domain/k8s/index.ts';
import { defineTool } from '../../mcp/tool.ts';
import { args, kubeTool, target } from './common.ts';
import { result } from './render.ts';

export const k8sPodsLogsTool = defineTool({
  name: 'k8s_pods_logs',
  title: 'Pod logs',
  description:
    'The last lines of a container log (default 100), optionally since N seconds or of the previous (crashed) ' +
    'container. Credentials are masked; long logs are cut from the start with a notice.',
  group: 'k8s',
  access: 'read',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    name: args.name.describe('Pod name'),
    container: z.string().optional(),
    tailLines: z.number().int().min(1).max(5000).default(100),
    sinceSeconds: z.number().int().min(1).max(31536000).optional(),
    previous: z.boolean().optional(),
  }),
  output: z.object({ pod: z.string(), lines: z.number(), truncated: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = target(ctx, input.cluster);
      const namespace = input.namespace ?? t.defaultNamespace;
      const budget = ctx.deps.config.outputBudgetBytes - 1000;
      const raw = await t.client.podLogs(namespace, input.name, {
        tailLines: input.tailLines,
        // Ask the API server for a little more than fits, so the cut happens here on a line boundary.
        limitBytes: budget * 2,
        ...(input.container ? { container: input.container } : {}),
        ...(input.sinceSeconds ? { sinceSeconds: input.sinceSeconds } : {}),
        ...(input.previous ? { previous: true } : {}),
      });
      const cut = boundText(maskLogText(raw), budget, 'start');
      const lines = cut.text ? cut.text.split('\n').filter((l) => l.length > 0).length : 0;
      const head = `${lines} lines from ${namespace}/${input.name}${input.container ? ` [${input.container}]` : ''} on ${t.cluster}${input.previous ? ' (previous container)' : ''}`;
      return result(`${head}${cut.notice ? `\n${cut.notice}` : ''}\n${cut.text || '(no log lines)'}`, {
        cluster: t.cluster,
        namespace,
        pod: input.name,
        lines,
        truncated: cut.truncated,
      });
    });
  },
});
