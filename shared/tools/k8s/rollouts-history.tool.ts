import { z } from 'zod';
import { redactSecrets } from '../../domain/redact.ts';
import { deploymentHistory } from '../../domain/rollouts.ts';
import { defineTool } from '../tool.ts';
import { args, deploymentWithReplicaSets, kubeTool, target } from './common.ts';
import { offsetPage, resultBudget, table } from './render.ts';

export const k8sRolloutsHistoryTool = defineTool({
  name: 'k8s_rollouts_history',
  title: 'Rollout history',
  description:
    'Revisions of a Deployment (its ReplicaSets): revision number, images, change cause, which is current. ' +
    'Use before k8s_rollouts_undo to pick the revision to go back to.',
  group: 'k8s',
  access: 'read',
  input: z.object({ cluster: args.cluster, namespace: args.namespace, name: args.name, continue: args.continue }),
  output: z
    .object({ count: z.number(), items: z.array(z.object({ revision: z.number() }).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = await target(ctx, input.cluster);
      const namespace = input.namespace ?? t.defaultNamespace;
      const { deployment: d, replicaSets } = await deploymentWithReplicaSets(t, input.name, namespace);
      // change-cause often holds the whole command (`kubectl set env ... DB_PASSWORD=x`): redacted like every output.
      const items = redactSecrets(deploymentHistory(d, replicaSets)) as ReturnType<typeof deploymentHistory>;
      return offsetPage({
        tool: 'k8s_rollouts_history',
        noun: 'revisions',
        rows: items as unknown as Array<Record<string, unknown> & (typeof items)[number]>,
        continue: input.continue,
        budget: resultBudget(ctx.deps.config.outputBudgetBytes),
        heading: (range, total) =>
          `Revisions ${range} of ${total} of deployment ${namespace}/${input.name} on ${t.cluster}`,
        table: (kept) =>
          table(
            ['revision', 'current', 'images', 'replicas', 'changeCause'],
            kept.map((i) => ({
              ...i,
              images: i.images.join(','),
              current: i.current ? '*' : '',
              changeCause: i.changeCause ?? '',
            })),
          ),
        structured: { cluster: t.cluster, namespace, name: input.name },
      });
    });
  },
});
