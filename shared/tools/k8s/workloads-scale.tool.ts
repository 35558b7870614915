import * as z from 'zod';
import { scaleWorkload } from '../../app/writes/scale.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sWorkloadsScaleTool = defineTool({
  name: 'k8s_workloads_scale',
  title: 'Scale a workload',
  description: "Set a workload's replica count (scale subresource). Follow with k8s_rollouts_status.",
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    kind: z.enum(['Deployment', 'StatefulSet', 'ReplicaSet']).default('Deployment'),
    namespace: args.namespace,
    name: args.name,
    replicas: z.number().int().min(0).max(1000),
    dryRun: args.dryRun,
  }),
  output: z.object({ from: z.number(), to: z.number(), dryRun: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(input, ctx) {
    return answer(async () => {
      const r = await scaleWorkload(ctx.deps, input);
      return result(
        `${r.dryRun ? 'Dry run: would scale' : 'Scaled'} ${r.kind.toLowerCase()}/${input.name} in ${r.namespace} on ${r.cluster} from ${r.from} to ${input.replicas} replicas.${findingsText(r.findings)}`,
        {
          cluster: r.cluster,
          kind: r.kind,
          namespace: r.namespace,
          name: input.name,
          from: r.from,
          to: input.replicas,
          dryRun: r.dryRun,
          findings: r.findings,
        },
      );
    });
  },
});
