import { z } from 'zod';
import type { Finding } from '../../domain/guardrails/index.ts';
import { boundRows, boundText, redactManifestText } from '../../domain/k8s/index.ts';
import { plural } from '../../domain/text.ts';
import { defineTool } from '../../mcp/tool.ts';
import type { KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { args, kubeTool, parseManifests, ToolError, target } from './common.ts';
import { changeSummary, findingsText, guardedWrite, liveOrUndefined } from './guarded-write.ts';
import { bytes, result } from './render.ts';

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
        // Scope as discovery says: a cluster-scoped document loses any metadata.namespace it carries, so
        // the guardrails judge, and the dry run and the write send, the object the API server keeps.
        const namespace = res.namespaced ? doc.metadata?.namespace || input.namespace || t.defaultNamespace : undefined;
        const { namespace: _claimed, ...metadata } = doc.metadata ?? {};
        const obj: KubeObject = { ...doc, metadata: { ...metadata, ...(namespace ? { namespace } : {}) } };
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

      const items: AppliedItem[] = [];
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
      // Half the budget for each channel (docs/decisions.md); the diffs share what is left.
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      const shown = boundApplyItems(items, findings, budget - 800);
      const lines = shown.items.map(
        (i) => `${i.kind.toLowerCase()}/${i.name}${i.namespace ? ` -n ${i.namespace}` : ''} ${i.action}: ${i.changes}`,
      );
      const head = previewOnly
        ? `Dry run on ${t.cluster}; nothing was changed.`
        : `Applied ${plural(items.length, 'object')} on ${t.cluster}.`;
      const text = boundText(`${head}\n${lines.join('\n')}${findingsText(shown.findings)}`, budget - 400, 'end', {
        hint: 'Apply fewer documents per call to see every line.',
      });
      return result(`${text.text}${text.notice ? `\n${text.notice}` : ''}${shown.notice ? `\n${shown.notice}` : ''}`, {
        cluster: t.cluster,
        dryRun: previewOnly,
        items: shown.items,
        findings: shown.findings,
        ...(shown.diffsOmitted ? { diffsOmitted: shown.diffsOmitted } : {}),
        ...(shown.itemsOmitted ? { itemsOmitted: shown.itemsOmitted } : {}),
        ...(shown.findingsOmitted ? { findingsOmitted: shown.findingsOmitted } : {}),
        ...(shown.notice ? { note: shown.notice } : {}),
      });
    });
  },
});

interface AppliedItem {
  kind: string;
  apiVersion: string;
  name: string;
  namespace: string;
  action: string;
  changes: string;
  diff?: unknown[];
  diffOmitted?: number;
}

/**
 * Keeps structuredContent within `budget`: every item keeps kind, name, action and its one-line
 * summary; the per-field diffs are kept in document order while they fit the allowance they share,
 * and past it dropped (counted in diffsOmitted). Only when even the summaries do not fit are
 * findings and then items cut (counted too).
 */
function boundApplyItems(
  items: AppliedItem[],
  findings: Finding[],
  budget: number,
): {
  items: AppliedItem[];
  findings: Finding[];
  diffsOmitted: number;
  itemsOmitted: number;
  findingsOmitted: number;
  notice?: string;
} {
  // Findings first (up to half), then one entry per object; the diffs share what is left.
  const keptFindings = boundRows(findings, Math.floor(budget / 2));
  const forItems = budget - keptFindings.bytes;
  let brief = items.map(({ diff: _diff, diffOmitted: _omitted, ...rest }) => rest as AppliedItem);
  // When there are diffs, the summaries get at most half, so at least the first diff can be shown.
  const forBriefs = items.some((i) => i.diff?.length) ? Math.floor(forItems / 2) : forItems;
  let summariesCut = false;
  if (bytes(brief) > forBriefs) {
    // Shorten the one-line summaries to a common length so every object is still listed.
    const fixed = bytes(brief.map((i) => ({ ...i, changes: '' })));
    const full = brief;
    let each = Math.floor((forBriefs - fixed) / Math.max(1, brief.length)) - 8;
    for (let attempt = 0; attempt < 5; attempt++) {
      const max = Math.max(40, each);
      brief = full.map((i) => (i.changes.length > max ? { ...i, changes: `${i.changes.slice(0, max - 1)}…` } : i));
      const over = bytes(brief) - forBriefs;
      if (over <= 0 || max === 40) break;
      each = max - Math.ceil(over / Math.max(1, brief.length)) - 2;
    }
    summariesCut = true;
  }
  let room = forItems - bytes(brief);
  let itemsOmitted = 0;
  let kept = brief;
  if (room < 0) {
    const fitted = boundRows(brief, forItems);
    kept = fitted.rows;
    itemsOmitted = fitted.omitted;
    room = 0;
  }
  let diffsOmitted = 0;
  const out = kept.map((item, i) => {
    const source = items[i] as AppliedItem;
    if (!source.diff || source.diff.length === 0) return item;
    const full: AppliedItem = {
      ...item,
      diff: source.diff,
      ...(source.diffOmitted ? { diffOmitted: source.diffOmitted } : {}),
    };
    const extra = bytes(full) - bytes(item);
    if (diffsOmitted === 0 && extra <= room) {
      room -= extra;
      return full;
    }
    if (diffsOmitted === 0) {
      // The first diff that does not fit keeps the leading changes that do.
      const partial = boundRows(source.diff, room - 40);
      if (partial.omitted < source.diff.length && bytes(partial.rows) + 40 <= room) {
        diffsOmitted++; // counts objects whose diff is missing or cut
        room = 0;
        return { ...item, diff: partial.rows, diffOmitted: (source.diffOmitted ?? 0) + partial.omitted };
      }
    }
    diffsOmitted++;
    return item;
  });
  const parts: string[] = [];
  if (diffsOmitted)
    parts.push(
      `the field-level diffs of ${plural(diffsOmitted, 'object')} were cut or omitted (diffOmitted counts the changes left out of a cut one; the one-line summaries are shown)`,
    );
  if (summariesCut) parts.push('the one-line summaries were shortened');
  if (keptFindings.omitted) parts.push(`${plural(keptFindings.omitted, 'finding')} omitted`);
  if (itemsOmitted) parts.push(`${plural(itemsOmitted, 'object')} not listed`);
  const notice = parts.length
    ? `[output budget: ${parts.join('; ')}. Apply or dry-run fewer documents per call to see them.]`
    : undefined;
  return {
    items: out,
    findings: keptFindings.rows,
    diffsOmitted,
    itemsOmitted,
    findingsOmitted: keptFindings.omitted,
    ...(notice ? { notice } : {}),
  };
}
