import type { CallToolResult } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { auditedManifest } from '../../app/k8s/manifests.ts';
import { type AppliedItem, type ApplyResult, applyManifests, type ObjectRef } from '../../app/writes/apply.ts';
import type { Finding } from '../../domain/guardrails/index.ts';
import { APPLY_PHASES, PHASE_TITLE } from '../../domain/k8s/apply-order.ts';
import { boundRows, boundText } from '../../domain/k8s/index.ts';
import { plural } from '../../domain/text.ts';
import { args } from '../common/args.ts';
import { answer } from '../common/errors.ts';
import { bytes, findingsText } from '../common/render.ts';
import { defineTool, result } from '../tool.ts';

export const k8sResourcesApplyTool = defineTool({
  name: 'k8s_resources_apply',
  title: 'Apply manifests',
  description:
    'Create or update objects from YAML/JSON (server-side apply) in dependency order: Namespaces, CRDs, then Helm ' +
    'order. Guardrails and a server-side dry run come first; dryRun: true returns the diff only.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    manifest: args.manifest,
    namespace: args.namespace.describe('For documents without one'),
    dryRun: args.dryRun,
    force: z.boolean().optional().describe('Take over fields other managers own'),
  }),
  output: z
    .object({ dryRun: z.boolean(), items: z.array(z.object({ kind: z.string(), name: z.string() }).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  async handler(input, ctx) {
    return answer(async () => {
      const r = await applyManifests(ctx.deps, ctx, input);
      if (r.kind === 'stopped') return stoppedResult(r);
      // Half the budget for each channel (docs/decisions.md); the diffs share what is left.
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      const shown = boundApplyItems(r.items, r.findings, budget - 800);
      const lines = shown.items.map(
        (i) =>
          `${i.kind.toLowerCase()}/${i.name}${i.namespace ? ` -n ${i.namespace}` : ''} ${i.action}: ${i.changes}${i.serverDryRun ? ` (${i.serverDryRun})` : ''}${i.note ? ` [${i.note}]` : ''}`,
      );
      const head = r.dryRun
        ? `Dry run on ${r.cluster}; nothing was changed.${phasesText(r.items, 'would be applied')}`
        : `Applied ${plural(r.items.length, 'object')} on ${r.cluster}.${phasesText(r.items, 'applied')}`;
      const text = boundText(`${head}\n${lines.join('\n')}${findingsText(shown.findings)}`, budget - 400, 'end', {
        hint: 'Apply fewer documents per call to see every line.',
      });
      return result(`${text.text}${text.notice ? `\n${text.notice}` : ''}${shown.notice ? `\n${shown.notice}` : ''}`, {
        cluster: r.cluster,
        dryRun: r.dryRun,
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

/** ` In 2 phases: namespaces (1), objects (3).` when more than one phase was used. */
function phasesText(items: AppliedItem[], verb: string): string {
  const counts = APPLY_PHASES.map((ph) => [ph, items.filter((i) => i.phase === ph).length] as const).filter(
    ([, n]) => n > 0,
  );
  if (counts.length < 2) return '';
  return ` ${verb[0]?.toUpperCase()}${verb.slice(1)} in ${counts.length} phases, in this order: ${counts.map(([ph, n]) => `${PHASE_TITLE[ph]} (${n})`).join(', ')}.`;
}

const refText = (o: ObjectRef) => `${o.kind.toLowerCase()}/${o.name}${o.namespace ? ` -n ${o.namespace}` : ''}`;

/**
 * A call that stopped after some objects were written: says exactly which were written (and in
 * which phase), which one failed at which stage, and which were not written.
 */
function stoppedResult(r: Extract<ApplyResult, { kind: 'stopped' }>): CallToolResult {
  const { failed } = r;
  const text = [
    `Stopped on ${r.cluster} after writing ${plural(r.written.length, 'object')}: ${refText(failed)} (${PHASE_TITLE[failed.phase]} phase) failed at the ${failed.stage}.`,
    failed.why,
    `Written (they stay on the cluster): ${r.written.map((o) => `${refText(o)} [${PHASE_TITLE[o.phase]}]`).join(', ')}.`,
    `Not written: ${r.notWritten.map(refText).join(', ')}.`,
    'Fix the cause and apply the same manifest again: objects already written are updated in place.',
  ].join('\n');
  return result(
    boundText(text, 8000, 'end').text,
    {
      cluster: r.cluster,
      dryRun: false,
      stopped: true,
      items: r.items.map(({ diff: _d, diffOmitted: _o, ...rest }) => rest),
      failed: {
        kind: failed.kind,
        name: failed.name,
        namespace: failed.namespace,
        phase: failed.phase,
        stage: failed.stage,
        error: boundText(failed.why, 2000, 'end').text,
      },
      notWritten: r.notWritten,
    },
    true,
  );
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
