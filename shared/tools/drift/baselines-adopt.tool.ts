import * as z from 'zod';
import { ADOPT_LIMITS, adoptBaselines } from '../../app/drift/adopt.ts';
import { auditedManifest, parseManifests } from '../../app/k8s/manifests.ts';
import { Baselines } from '../../app/repos/baselines.ts';
import { plural } from '../../domain/text.ts';
import type { Store, StoreItem } from '../../ports/store.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { fitRecord, resultBudget } from '../common/render.ts';
import { defineTool, fail } from '../tool.ts';

/** A dry run's store: reads nothing, keeps nothing, so the adoption runs whole and records no baseline. */
const discard: Store = {
  kind: 'dry-run',
  get: async () => undefined,
  put: async (item): Promise<StoreItem> => ({ ...item, version: 1 }),
  delete: async () => false,
  query: async () => ({ items: [] }),
  close: async () => undefined,
};

export const driftBaselinesAdoptTool = defineTool({
  name: 'drift_baselines_adopt',
  title: 'Adopt drift baselines',
  description:
    'Make live objects (namespace, labelSelector, kinds) or given manifests the baselines drift checks use; ' +
    'controller-owned objects are skipped. dryRun: true lists only.',
  group: 'drift',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    labelSelector: args.labelSelector,
    kinds: z.array(z.string().min(1).max(253)).min(1).max(ADOPT_LIMITS.kinds).optional(),
    manifest: args.manifest.optional(),
    dryRun: args.dryRun,
  }),
  output: z.object({ adopted: z.number(), dryRun: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  async handler(input, ctx) {
    return answer(async () => {
      if (input.manifest && (input.kinds || input.labelSelector)) {
        return fail('Give either manifest or kinds/labelSelector: a manifest is adopted as written, not looked up.');
      }
      const cluster = input.cluster || (await ctx.deps.clusters.defaultCluster());
      if (!cluster) return fail('No default cluster: name one (k8s_clusters_list lists them).');
      const dryRun = input.dryRun === true;
      const baselines = dryRun ? new Baselines(discard, ctx.deps.clock) : ctx.deps.baselines;
      const r = await adoptBaselines(
        { clusters: ctx.deps.clusters, baselines },
        {
          cluster,
          ...(input.namespace ? { namespace: input.namespace } : {}),
          ...(input.labelSelector ? { labelSelector: input.labelSelector } : {}),
          ...(input.kinds ? { kinds: input.kinds } : {}),
          ...(input.manifest ? { manifests: parseManifests(input.manifest, ctx.parsed) } : {}),
          by: ctx.identity.name || ctx.identity.subject,
          requestId: ctx.requestId,
        },
      );
      const verb = dryRun ? 'Would adopt' : 'Adopted';
      const lines = [
        `${verb} ${plural(r.adopted, 'baseline')} on ${r.cluster} from ${r.source === 'live' ? 'live objects' : 'the manifests'}${dryRun ? ' (dry run: nothing recorded)' : ''}; ${r.skipped.length} skipped.`,
        ...(r.notAdopted
          ? [`${r.notAdopted} more matched over the ${ADOPT_LIMITS.objects} per call: narrow by namespace or kinds.`]
          : []),
        ...(r.adopted && !dryRun ? ['Check them with drift_checks_run.'] : []),
        ...r.items.map((i) => `${i.kind} ${i.namespace ? `${i.namespace}/` : ''}${i.name}`),
        ...r.skipped.map((i) => `skipped ${i.kind} ${i.namespace ? `${i.namespace}/` : ''}${i.name}: ${i.reason}`),
      ];
      return fitRecord(lines.join('\n'), { ...r, dryRun }, resultBudget(ctx.deps.config.outputBudgetBytes));
    });
  },
});
