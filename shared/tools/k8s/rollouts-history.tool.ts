import * as z from 'zod';
import { deploymentWithReplicaSets, target } from '../../app/k8s/objects.ts';
import { redactSecrets } from '../../domain/redact.ts';
import { deploymentHistory } from '../../domain/rollouts.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { offsetPage, resultBudget, table } from '../common/render.ts';
import { defineTool } from '../tool.ts';

export const k8sRolloutsHistoryTool = defineTool({
  name: 'k8s_rollouts_history',
  title: 'Rollout history',
  description:
    'Revisions of a Deployment: number, images, change cause, the current one. Use to pick the revision for ' +
    'k8s_rollouts_undo.',
  group: 'k8s',
  access: 'read',
  input: z.object({ cluster: args.cluster, namespace: args.namespace, name: args.name, continue: args.continue }),
  output: z
    .object({ count: z.number(), items: z.array(z.object({ revision: z.number() }).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const t = await target(ctx.deps, input.cluster);
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
