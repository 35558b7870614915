import { z } from 'zod';
import { defineTool } from '../../mcp/tool.ts';
import { args, kubeTool, ToolError, target } from './common.ts';
import { findingsText, guardedWrite } from './guarded-write.ts';
import { result } from './render.ts';

export const k8sWorkloadsScaleTool = defineTool({
  name: 'k8s_workloads_scale',
  title: 'Scale a workload',
  description:
    'Set the replica count of a Deployment, StatefulSet or ReplicaSet through its scale subresource, after the ' +
    'guardrails and a server-side dry run. Check progress with k8s_rollouts_status.',
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
    return kubeTool(async () => {
      const t = target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, 'apps/v1');
      if (!res.subresources.includes('scale'))
        throw new ToolError(`${res.kind} has no scale subresource on ${t.cluster}`);
      const namespace = input.namespace ?? t.defaultNamespace;
      const current = await t.client.getSubresource(res, input.name, namespace, 'scale');
      const from = Number((current.spec as { replicas?: number } | undefined)?.replicas ?? 0);
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'scale',
          res,
          namespace,
          name: input.name,
          checkResult: false,
          perform: (dryRun) =>
            t.client.patch(res, input.name, namespace, { spec: { replicas: input.replicas } }, 'merge', {
              dryRun,
              subresource: 'scale',
            }),
        },
        { previewOnly: input.dryRun === true },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const dry = outcome.kind === 'preview';
      return result(
        `${dry ? 'Dry run: would scale' : 'Scaled'} ${res.kind.toLowerCase()}/${input.name} in ${namespace} on ${t.cluster} from ${from} to ${input.replicas} replicas.${findingsText(outcome.findings)}`,
        {
          cluster: t.cluster,
          kind: res.kind,
          namespace,
          name: input.name,
          from,
          to: input.replicas,
          dryRun: dry,
          findings: outcome.findings,
        },
      );
    });
  },
});
