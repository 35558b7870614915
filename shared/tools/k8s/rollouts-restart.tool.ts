import * as z from 'zod';
import { restartWorkload } from '../../app/writes/restart.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sRolloutsRestartTool = defineTool({
  name: 'k8s_rollouts_restart',
  title: 'Restart a rollout',
  description:
    'Rolling restart of a workload (kubectl rollout restart), e.g. to pick up changed ConfigMaps or Secrets. Follow ' +
    'with k8s_rollouts_status.',
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
    return answer(async () => {
      const r = await restartWorkload(ctx.deps, input);
      return result(
        `${r.dryRun ? 'Dry run: would restart' : 'Restarted'} ${r.kind.toLowerCase()}/${input.name} in ${r.namespace} on ${r.cluster} (restartedAt ${r.restartedAt}).${findingsText(r.findings)}`,
        {
          cluster: r.cluster,
          kind: r.kind,
          namespace: r.namespace,
          name: input.name,
          restartedAt: r.restartedAt,
          dryRun: r.dryRun,
          findings: r.findings,
        },
      );
    });
  },
});
