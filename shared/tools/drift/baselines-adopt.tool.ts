import * as z from 'zod';
import { ADOPT_LIMITS, adoptBaselines } from '../../app/drift/adopt.ts';
import { adoptCloudBaseline } from '../../app/drift/cloud.ts';
import { auditedManifest, parseManifests } from '../../app/k8s/manifests.ts';
import { Baselines } from '../../app/repos/baselines.ts';
import { CloudBaselines } from '../../app/repos/cloud-baselines.ts';
import { type CloudClusterFacts, nodegroupText, poolText } from '../../domain/drift/index.ts';
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

/** A cloud dry run's store: reads what is there (an existing baseline, the limit), keeps nothing. */
const readOnly = (store: Store): Store => ({
  ...discard,
  get: (pk, sk) => store.get(pk, sk),
  query: (q) => store.query(q),
});

export const driftBaselinesAdoptTool = defineTool({
  name: 'drift_baselines_adopt',
  title: 'Adopt drift baselines',
  description:
    'Record drift baselines: live objects (namespace, labelSelector, kinds; controller-owned skipped), manifests, ' +
    'or an EKS/GKE cluster (cloudCluster: its eks:/gke: id). dryRun: true lists only.',
  group: 'drift',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    namespace: args.namespace,
    labelSelector: args.labelSelector,
    kinds: z.array(z.string().min(1).max(253)).min(1).max(ADOPT_LIMITS.kinds).optional(),
    manifest: args.manifest.optional(),
    cloudCluster: z.string().max(200).optional(),
    dryRun: args.dryRun,
  }),
  output: z.object({ adopted: z.number(), dryRun: z.boolean() }).passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  async handler(input, ctx) {
    return answer(async () => {
      if (input.cloudCluster !== undefined) {
        const k8s = (['cluster', 'namespace', 'labelSelector', 'kinds', 'manifest'] as const).filter(
          (k) => input[k] !== undefined,
        );
        if (k8s.length > 0)
          return fail(
            `Give cloudCluster alone (dryRun aside): it baselines the EKS or GKE cluster itself, not Kubernetes objects; drop ${k8s.join(', ')}.`,
          );
        const dryRun = input.dryRun === true;
        const r = await adoptCloudBaseline(
          {
            cloud: ctx.deps.cloud,
            cloudBaselines: new CloudBaselines(dryRun ? readOnly(ctx.deps.store) : ctx.deps.store, ctx.deps.clock),
          },
          { cloudCluster: input.cloudCluster, by: ctx.identity.name || ctx.identity.subject, requestId: ctx.requestId },
        );
        const what = `${r.provider === 'eks' ? 'EKS' : 'GKE'} cluster ${r.id}`;
        const lines = r.removed
          ? [
              dryRun
                ? `${what} no longer exists: adopting it would remove its baseline (dry run: nothing changed).`
                : `${what} no longer exists: its baseline is removed, and the next drift check clears its findings.`,
            ]
          : [
              `${dryRun ? 'Would adopt' : 'Adopted'} the baseline of ${what}${dryRun ? ' (dry run: nothing recorded)' : ''}${dryRun ? '.' : `; check it with drift_checks_run cluster ${r.id}.`}`,
              ...(r.facts ? factLines(r.facts) : []),
              ...r.notes.map((n) => `Not recorded: ${n}.`),
            ];
        return fitRecord(
          lines.join('\n'),
          {
            adopted: r.removed ? 0 : 1,
            dryRun,
            cloudCluster: r.id,
            ...(r.removed ? { removed: true } : { recorded: r.facts }),
            notes: r.notes,
          },
          resultBudget(ctx.deps.config.outputBudgetBytes),
        );
      }
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

/** What a cloud baseline recorded, a line per part. */
function factLines(f: CloudClusterFacts): string[] {
  if (f.provider === 'eks') {
    return [
      `version ${f.version ?? '?'}`,
      ...(f.nodegroups ?? []).map((n) => `node group ${n.name}: ${nodegroupText(n)}`),
      ...(f.addons?.length ? [`add-ons: ${f.addons.map((a) => `${a.name} ${a.version ?? '?'}`).join(', ')}`] : []),
    ];
  }
  return [
    `version ${f.version ?? '?'}, nodes ${f.nodeVersion ?? '?'}${f.autopilot ? ', Autopilot' : ''}`,
    ...(f.nodePools ?? []).map((p) => `node pool ${p.name}: ${poolText(p)}`),
  ];
}
