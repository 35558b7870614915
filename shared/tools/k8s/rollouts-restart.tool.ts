import { z } from 'zod';
import { defineTool } from '../tool.ts';
import { args, kubeTool, target } from './common.ts';
import { findingsText, guardedWrite } from './guarded-write.ts';
import { result } from './render.ts';

export const k8sRolloutsRestartTool = defineTool({
  name: 'k8s_rollouts_restart',
  title: 'Restart a rollout',
  description:
    'Rolling restart of a Deployment, StatefulSet or DaemonSet (kubectl rollout restart): stamps the pod template so ' +
    'pods are replaced gradually. Use to pick up changed ConfigMaps/Secrets; follow with k8s_rollouts_status.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
    namespace: args.namespace,
    name: args.name,
    dryRun: args.dryRun,
  }),
  output: z.object({ restartedAt: z.string(), dryRun: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = await target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, 'apps/v1');
      const namespace = input.namespace ?? t.defaultNamespace;
      const restartedAt = new Date(ctx.deps.clock.now()).toISOString();
      const patch = {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } },
      };
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'restart',
          res,
          namespace,
          name: input.name,
          // A restart makes new pods from the current template: the dry-run result is judged (whoever
          // wrote that template, and whenever), and the write is pinned to the state judged.
          read: () => t.client.get(res, input.name, namespace),
          perform: (dryRun, pin) =>
            t.client.patch(res, input.name, namespace, patch, 'strategic', {
              dryRun,
              ...(pin ? { precondition: pin } : {}),
            }),
        },
        { previewOnly: input.dryRun === true },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const dry = outcome.kind === 'preview';
      return result(
        `${dry ? 'Dry run: would restart' : 'Restarted'} ${res.kind.toLowerCase()}/${input.name} in ${namespace} on ${t.cluster} (restartedAt ${restartedAt}).${findingsText(outcome.findings)}`,
        {
          cluster: t.cluster,
          kind: res.kind,
          namespace,
          name: input.name,
          restartedAt,
          dryRun: dry,
          findings: outcome.findings,
        },
      );
    });
  },
});
