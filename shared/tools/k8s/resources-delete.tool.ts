import { z } from 'zod';
import { quoted } from '../../domain/text.ts';
import type { KubeObject } from '../../ports/kube.ts';
import { defineTool } from '../tool.ts';
import { args, kubeTool, namespaceFor, ToolError, target } from './common.ts';
import { findingsText, guardedWrite, isStaleWrite, pinOf } from './guarded-write.ts';
import { result } from './render.ts';

export const k8sResourcesDeleteTool = defineTool({
  name: 'k8s_resources_delete',
  title: 'Delete objects',
  description:
    'Delete one object by name, or those matching a label selector up to maxCount (refused if more match), after ' +
    'guardrails and a server-side dry run. dryRun: true only reports what would go.',
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
    return kubeTool(async () => {
      if (!input.name === !input.labelSelector)
        throw new ToolError('give either name or labelSelector (with maxCount)');
      if (input.labelSelector && input.maxCount === undefined) {
        throw new ToolError('deleting by labelSelector needs maxCount: the most objects you expect to delete');
      }
      const t = await target(ctx, input.cluster);
      const res = await t.client.resolve(input.kind, input.apiVersion);
      if (!res.verbs.includes('delete')) throw new ToolError(`${res.kind} cannot be deleted`);
      const namespace = namespaceFor(res, t, input);
      let targets: KubeObject[];
      if (input.name) {
        targets = [await t.client.get(res, input.name, namespace)];
      } else {
        const max = input.maxCount as number;
        const page = await t.client.list(res, {
          ...(namespace ? { namespace } : {}),
          labelSelector: input.labelSelector as string,
          limit: max + 1,
        });
        const matched = page.items.length + (page.remainingItemCount ?? 0);
        if (page.items.length > max || page.continue) {
          throw new ToolError(
            `${matched > max ? matched : `more than ${max}`} ${res.kind} objects match "${quoted(String(input.labelSelector))}", over maxCount ${max}; nothing was deleted. Narrow the selector or raise maxCount.`,
          );
        }
        targets = page.items;
      }
      if (targets.length === 0)
        return result(
          `No ${res.kind} matches "${quoted(String(input.labelSelector))}" on ${t.cluster}; nothing to delete.`,
          {
            cluster: t.cluster,
            dryRun: input.dryRun === true,
            deleted: [],
          },
        );

      const names = targets.map((o) => o.metadata?.name);
      if (!names.every((n): n is string => typeof n === 'string' && n.length > 0)) {
        throw new ToolError(`the API server answered with ${res.kind} objects without a name; nothing was deleted`);
      }
      // Each object is deleted only as it was listed and judged (its uid and resourceVersion): one
      // recreated under the same name, or changed since (relabelled out of the selector), stays.
      const pins = new Map(targets.map((o) => [o.metadata?.name as string, pinOf(o)]));
      const deleted: string[] = [];
      // Guardrails see the whole delete (count included) before anything is removed.
      const outcome = await guardedWrite(
        ctx,
        t,
        {
          verb: 'delete',
          res,
          namespace,
          name:
            names.length === 1
              ? (names[0] as string)
              : `${names.length} objects (${quoted(String(input.labelSelector))})`,
          count: names.length,
          ...(input.name ? {} : { targets: names }),
          // By name: read again on every attempt, so a conflict is judged again from a fresh read.
          ...(input.name ? { read: () => t.client.get(res, input.name as string, namespace) } : {}),
          perform: async (dryRun, pin) => {
            for (const n of names) {
              const precondition = input.name ? pin : pins.get(n);
              try {
                await t.client.delete(res, n, namespace, { dryRun, ...(precondition ? { precondition } : {}) });
              } catch (err) {
                if (dryRun || !isStaleWrite(err) || deleted.length === 0) throw err;
                throw new ToolError(
                  `Deleted ${deleted.join(', ')}; ${res.kind} ${n} changed on ${t.cluster} after it was listed and judged, so it and the rest (${names.slice(names.indexOf(n)).join(', ')}) were not deleted. List again and retry.`,
                );
              }
              if (!dryRun) deleted.push(n);
            }
            return {};
          },
        },
        { previewOnly: input.dryRun === true },
      );
      if (outcome.kind === 'refused') return outcome.result;
      const verb = outcome.kind === 'preview' ? 'Would delete' : 'Deleted';
      return result(
        `${verb} ${names.length} ${res.kind} on ${t.cluster}${namespace ? ` in ${namespace}` : ''}: ${names.slice(0, 50).join(', ')}${names.length > 50 ? ', …' : ''}${findingsText(outcome.findings)}`,
        {
          cluster: t.cluster,
          kind: res.kind,
          ...(namespace ? { namespace } : {}),
          dryRun: outcome.kind === 'preview',
          deleted: names,
          findings: outcome.findings,
        },
      );
    });
  },
});
