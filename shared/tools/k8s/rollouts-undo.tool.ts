import * as z from 'zod';
import { undoRollout } from '../../app/writes/undo.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sRolloutsUndoTool = defineTool({
  name: 'k8s_rollouts_undo',
  title: 'Undo a rollout',
  description:
    'Roll a Deployment back to an earlier revision, by default the previous one (kubectl rollout undo). Revisions: ' +
    'k8s_rollouts_history.',
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
    return answer(async () => {
      const r = await undoRollout(ctx.deps, input);
      return result(
        `${r.dryRun ? 'Dry run: would roll back' : 'Rolled back'} deployment ${r.namespace}/${input.name} on ${r.cluster} to revision ${r.toRevision}.\n${r.diff.summary}${findingsText(r.findings)}`,
        {
          cluster: r.cluster,
          namespace: r.namespace,
          name: input.name,
          toRevision: r.toRevision,
          dryRun: r.dryRun,
          changes: r.diff.summary,
          findings: r.findings,
        },
      );
    });
  },
});
