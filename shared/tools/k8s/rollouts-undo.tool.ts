import { z } from 'zod';
import { undoTemplate } from '../../domain/rollouts.ts';
import { defineTool } from '../tool.ts';
import { args, deploymentWithReplicaSets, kubeTool, ToolError, target } from './common.ts';
import { changeSummary, findingsText, guardedWrite } from './guarded-write.ts';
import { result } from './render.ts';

export const k8sRolloutsUndoTool = defineTool({
  name: 'k8s_rollouts_undo',
  title: 'Undo a rollout',
  description:
    'Roll a Deployment back to an earlier revision (default: the previous one), restoring that pod template ' +
    '(kubectl rollout undo). See k8s_rollouts_history for revisions. Guardrails and a dry run come first.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    name: args.name,
    toRevision: z.number().int().min(1).max(1000000).optional(),
    dryRun: args.dryRun,
  }),
  output: z.object({ toRevision: z.number(), dryRun: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = await target(ctx, input.cluster);
      const namespace = input.namespace ?? t.defaultNamespace;
      const { deployments, deployment: live, replicaSets } = await deploymentWithReplicaSets(t, input.name, namespace);
      const picked = undoTemplate(live, replicaSets, input.toRevision);
      if ('error' in picked) throw new ToolError(`cannot undo deployment ${namespace}/${input.name}: ${picked.error}`);
      const patch = [{ op: 'replace', path: '/spec/template', value: picked.template }];
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'undo',
          res: deployments,
          namespace,
          name: input.name,
          // The template it restores is judged on the dry-run result; the write is pinned to the state judged.
          read: () => t.client.get(deployments, input.name, namespace),
          perform: (dryRun, pin) =>
            t.client.patch(deployments, input.name, namespace, patch, 'json', {
              dryRun,
              ...(pin ? { precondition: pin } : {}),
            }),
        },
        { previewOnly: input.dryRun === true, live },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const diff = changeSummary(outcome.live ?? live, outcome.after);
      const dry = outcome.kind === 'preview';
      return result(
        `${dry ? 'Dry run: would roll back' : 'Rolled back'} deployment ${namespace}/${input.name} on ${t.cluster} to revision ${picked.revision}.\n${diff.summary}${findingsText(outcome.findings)}`,
        {
          cluster: t.cluster,
          namespace,
          name: input.name,
          toRevision: picked.revision,
          dryRun: dry,
          changes: diff.summary,
          findings: outcome.findings,
        },
      );
    });
  },
});
