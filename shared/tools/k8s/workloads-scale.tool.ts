import { z } from 'zod';
import type { KubeObject } from '../../ports/kube.ts';
import { defineTool } from '../tool.ts';
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
      const t = await target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, 'apps/v1');
      if (!res.subresources.includes('scale'))
        throw new ToolError(`${res.kind} has no scale subresource on ${t.cluster}`);
      const namespace = input.namespace ?? t.defaultNamespace;
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'scale',
          res,
          namespace,
          name: input.name,
          // The workload itself, read on every attempt: its resourceVersion (the Scale's) pins the write.
          read: () => t.client.get(res, input.name, namespace),
          // Scaling up makes pods from the current template, whoever wrote it and whenever: judge it.
          // Scaling down (to 0 included) makes none.
          podsFrom: (live) => (live && input.replicas > replicasOf(live) ? live : undefined),
          perform: (dryRun, pin) =>
            t.client.patch(res, input.name, namespace, { spec: { replicas: input.replicas } }, 'merge', {
              dryRun,
              subresource: 'scale',
              ...(pin ? { precondition: { resourceVersion: pin.resourceVersion } } : {}),
            }),
        },
        { previewOnly: input.dryRun === true },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const from = outcome.live ? replicasOf(outcome.live) : 0;
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

/** spec.replicas as the Scale subresource reports it (0 when unset). */
function replicasOf(workload: KubeObject): number {
  const n = (workload.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}
