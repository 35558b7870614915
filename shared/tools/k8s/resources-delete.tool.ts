import * as z from 'zod';
import { deleteObjects } from '../../app/writes/delete.ts';
import { quoted } from '../../domain/text.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sResourcesDeleteTool = defineTool({
  name: 'k8s_resources_delete',
  title: 'Delete objects',
  description:
    'Delete one object by name, or up to maxCount matching labelSelector (refused if more match). dryRun: true ' +
    'reports what would go.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    kind: args.kind,
    apiVersion: args.apiVersion,
    namespace: args.namespace,
    name: args.name.optional(),
    labelSelector: args.labelSelector,
    maxCount: z.number().int().min(1).max(500).optional().describe('Required with labelSelector'),
    dryRun: args.dryRun,
  }),
  output: z.object({ dryRun: z.boolean(), deleted: z.array(z.string()) }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const r = await deleteObjects(ctx.deps, input);
      if (!r.matched)
        return result(
          `No ${r.kind} matches "${quoted(String(input.labelSelector))}" on ${r.cluster}; nothing to delete.`,
          { cluster: r.cluster, dryRun: r.dryRun, deleted: [] },
        );
      const verb = r.dryRun ? 'Would delete' : 'Deleted';
      return result(
        `${verb} ${r.names.length} ${r.kind} on ${r.cluster}${r.namespace ? ` in ${r.namespace}` : ''}: ${r.names.slice(0, 50).join(', ')}${r.names.length > 50 ? ', …' : ''}${findingsText(r.findings)}`,
        {
          cluster: r.cluster,
          kind: r.kind,
          ...(r.namespace ? { namespace: r.namespace } : {}),
          dryRun: r.dryRun,
          deleted: r.names,
          findings: r.findings,
        },
      );
    });
  },
});
