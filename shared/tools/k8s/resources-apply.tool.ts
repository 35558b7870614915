import { z } from 'zod';
import type { Finding } from '../../domain/guardrails/index.ts';
import { redactManifestText } from '../../domain/k8s/index.ts';
import { plural } from '../../domain/text.ts';
import { defineTool } from '../../mcp/tool.ts';
import type { KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { args, kubeTool, parseManifests, ToolError, target } from './common.ts';
import { changeSummary, findingsText, guardedWrite, liveOrUndefined } from './guarded-write.ts';
import { result } from './render.ts';

const MAX_DOCUMENTS = 50;

export const k8sResourcesApplyTool = defineTool({
  name: 'k8s_resources_apply',
  title: 'Apply manifests',
  description:
    'Create or update objects from YAML/JSON with server-side apply. Every document passes guardrails and a ' +
    'server-side dry run before anything is written; dryRun: true returns the diff only. Refusals name rule, field and fix.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    manifest: args.manifest,
    namespace: z.string().optional().describe('For documents without metadata.namespace'),
    dryRun: args.dryRun,
    force: z.boolean().optional().describe('Take over fields owned by another field manager'),
  }),
  output: z
    .object({ dryRun: z.boolean(), items: z.array(z.object({ kind: z.string(), name: z.string() }).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  auditArgs: (a) => (typeof a.manifest === 'string' ? { ...a, manifest: redactManifestText(a.manifest) } : a),
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = target(ctx, input.cluster);
      const docs = parseManifests(input.manifest);
      if (docs.length > MAX_DOCUMENTS)
        throw new ToolError(`${docs.length} documents; apply at most ${MAX_DOCUMENTS} per call`);
      const previewOnly = input.dryRun === true;

      // Resolve every document first: a bad kind fails the whole call before anything is written.
      const planned: Array<{ doc: KubeObject; res: ResourceInfo; namespace: string | undefined; live?: KubeObject }> =
        [];
      for (const doc of docs) {
        const res = await t.client.resolve(doc.kind as string, doc.apiVersion);
        const namespace = res.namespaced
          ? (doc.metadata?.namespace ?? input.namespace ?? t.defaultNamespace)
          : undefined;
        const obj: KubeObject = { ...doc, metadata: { ...doc.metadata, ...(namespace ? { namespace } : {}) } };
        const live = await liveOrUndefined(t, res, obj.metadata?.name as string, namespace);
        planned.push({ doc: obj, res, namespace, ...(live ? { live } : {}) });
      }

      // Guardrails and server-side dry run for all documents before the first real write.
      const findings: Finding[] = [];
      const previews: Array<{ after: KubeObject }> = [];
      for (const p of planned) {
        const outcome = await guardedWrite(
          ctx,
          t,
          {
            verb: 'apply',
            res: p.res,
            namespace: p.namespace,
            name: p.doc.metadata?.name as string,
            manifest: p.doc,
            checkResult: false,
            perform: () => t.client.apply(p.res, p.doc, { dryRun: true, ...(input.force ? { force: true } : {}) }),
          },
          { previewOnly: true, ...(p.live ? { live: p.live } : {}) },
        );
        if (outcome.kind === 'refused') return outcome.result;
        findings.push(...outcome.findings);
        previews.push({ after: outcome.after });
      }

      const items = [];
      for (const [i, p] of planned.entries()) {
        const after = previewOnly
          ? (previews[i]?.after as KubeObject)
          : await t.client.apply(p.res, p.doc, input.force ? { force: true } : {});
        const diff = changeSummary(p.live, after);
        const action = !p.live ? 'created' : diff.changes.length === 0 ? 'unchanged' : 'configured';
        if (!previewOnly) {
          await ctx.deps.baselines.record({
            cluster: t.cluster,
            manifest: p.doc,
            appliedBy: ctx.identity.name,
            requestId: ctx.requestId,
          });
        }
        items.push({
          kind: p.res.kind,
          apiVersion: p.res.apiVersion,
          name: p.doc.metadata?.name as string,
          namespace: p.namespace ?? '',
          action: previewOnly ? `${action} (dry run)` : action,
          changes: diff.summary,
          diff: diff.changes,
          ...(diff.omitted ? { diffOmitted: diff.omitted } : {}),
        });
      }
      const lines = items.map(
        (i) => `${i.kind.toLowerCase()}/${i.name}${i.namespace ? ` -n ${i.namespace}` : ''} ${i.action}: ${i.changes}`,
      );
      const head = previewOnly
        ? `Dry run on ${t.cluster}; nothing was changed.`
        : `Applied ${plural(items.length, 'object')} on ${t.cluster}.`;
      return result(`${head}\n${lines.join('\n')}${findingsText(findings)}`, {
        cluster: t.cluster,
        dryRun: previewOnly,
        items,
        findings,
      });
    });
  },
});
