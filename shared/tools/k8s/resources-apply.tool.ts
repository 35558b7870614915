import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Finding } from '../../domain/guardrails/index.ts';
import {
  APPLY_PHASES,
  type ApplyPhase,
  definedKindFor,
  isEstablished,
  kindsDefinedBy,
  PHASE_TITLE,
  phaseOf,
  sortForApply,
} from '../../domain/k8s/apply-order.ts';
import { boundRows, boundText } from '../../domain/k8s/index.ts';
import { plural } from '../../domain/text.ts';
import { KubeApiError, type KubeObject, type ResourceInfo } from '../../ports/kube.ts';
import { defineTool, type ToolContext } from '../tool.ts';
import {
  args,
  auditedManifest,
  describeKubeError,
  kubeTool,
  parseManifests,
  type Target,
  ToolError,
  target,
} from './common.ts';
import { changeSummary, dedupe, findingsText, guardedWrite, liveOrUndefined, type WritePlan } from './guarded-write.ts';
import { bytes, result } from './render.ts';

const MAX_DOCUMENTS = 50;

export const k8sResourcesApplyTool = defineTool({
  name: 'k8s_resources_apply',
  title: 'Apply manifests',
  description:
    'Create or update objects from YAML/JSON with server-side apply. Every document passes guardrails before anything ' +
    'is written, and a server-side dry run right before it is written. Applies in dependency order: Namespaces, then ' +
    'CustomResourceDefinitions (waited for until served), then the rest in Helm install order; the result names the ' +
    'phase of each object. dryRun: true returns the diff only. Refusals name rule, field and fix.',
  group: 'k8s',
  access: 'write',
  input: z.object({
    cluster: args.cluster,
    manifest: args.manifest,
    namespace: args.namespace.describe('For documents without metadata.namespace'),
    dryRun: args.dryRun,
    force: z.boolean().optional().describe('Take over fields owned by another field manager'),
  }),
  output: z
    .object({ dryRun: z.boolean(), items: z.array(z.object({ kind: z.string(), name: z.string() }).passthrough()) })
    .passthrough(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  auditArgs: (a, parsed) =>
    typeof a.manifest === 'string' ? { ...a, manifest: auditedManifest(a.manifest, parsed) } : a,
  async handler(input, ctx) {
    return kubeTool(async () => {
      const t = await target(ctx, input.cluster);
      const docs = parseManifests(input.manifest, ctx.parsed);
      if (docs.length > MAX_DOCUMENTS)
        throw new ToolError(`${docs.length} documents; apply at most ${MAX_DOCUMENTS} per call`);
      const previewOnly = input.dryRun === true;

      // 1. Resolve every document before anything is written: a bad kind fails the whole call. A kind
      // that a CRD of this same manifest defines cannot be discovered yet; it is judged with the type
      // that CRD declares and resolved through discovery again once the CRD is Established.
      const defined = kindsDefinedBy(docs);
      const planned: Planned[] = [];
      for (const [index, doc] of docs.entries()) {
        let res: ResourceInfo;
        let definedBy: string | undefined;
        try {
          res = await t.client.resolve(doc.kind as string, doc.apiVersion);
        } catch (err) {
          const own = err instanceof KubeApiError && err.status === 404 ? definedKindFor(defined, doc) : undefined;
          if (!own) throw err;
          res = own.res;
          definedBy = own.crdName;
        }
        const { namespace, obj } = placeDocument(doc, res, input.namespace, t.defaultNamespace);
        const live = definedBy ? undefined : await liveOrUndefined(t, res, obj.metadata?.name as string, namespace);
        planned.push({
          index,
          doc: obj,
          res,
          namespace,
          phase: phaseOf(res),
          ...(live ? { live } : {}),
          ...(definedBy ? { definedBy } : {}),
        });
      }
      const ordered = sortForApply(planned, (p) => ({ phase: p.phase, kind: p.res.kind }));
      // What a document needs this manifest to create first (only a dry run cares: it cannot ask the
      // server about an object whose namespace or type does not exist yet).
      const newNamespaces = new Set(
        planned.filter((p) => p.phase === 'namespaces' && !p.live).map((p) => p.doc.metadata?.name as string),
      );
      const needs = (p: Planned): string | undefined => {
        if (p.definedBy) return `CustomResourceDefinition ${p.definedBy}`;
        if (p.phase !== 'namespaces' && p.namespace && newNamespaces.has(p.namespace))
          return `namespace ${p.namespace}`;
        return undefined;
      };

      // 2. Guardrails for every document before any write. `perform` echoes the manifest: this pass
      // makes no API call; the server dry run of each document comes right before its phase.
      for (const p of ordered) {
        const judged = await guardedWrite(
          ctx,
          t,
          applyPlan(p, async () => p.doc),
          { previewOnly: true, ...(p.live ? { live: p.live } : {}) },
        );
        if (judged.kind === 'refused') return judged.result;
        if (judged.kind === 'preview') p.findings = judged.findings;
      }

      // 3. Phase by phase: the server dry run of each document of the phase (its namespace and type
      // exist by now), then the phase's writes. Namespaces, then CRDs (waited for until Established
      // and discoverable), then every other object in Helm's install order.
      const items: AppliedItem[] = [];
      const written: Planned[] = [];
      const stop = (p: Planned, stage: string, why: string, refusal?: CallToolResult): CallToolResult =>
        stoppedResult(t.cluster, items, ordered, written, p, stage, why, refusal);
      for (const phase of APPLY_PHASES) {
        const group = ordered.filter((p) => p.phase === phase);
        if (group.length === 0) continue;
        if (!previewOnly && group.some((p) => p.definedBy)) {
          // The kinds of this manifest's CRDs: wait (bounded) until the server serves them, then judge
          // and place each document with the type discovery reports, not the one the CRD declared.
          const first = group.find((p) => p.definedBy) as Planned;
          try {
            await waitForDefinedKinds(ctx, t, group);
          } catch (err) {
            return stop(first, 'waiting for its CustomResourceDefinition', errorText(err));
          }
          for (const p of group) {
            if (!p.definedBy) continue;
            const { namespace, obj } = placeDocument(p.doc, p.res, input.namespace, t.defaultNamespace);
            p.namespace = namespace;
            p.doc = obj;
          }
        }
        const previews = new Map<Planned, KubeObject>();
        for (const p of group) {
          const missing = previewOnly ? needs(p) : undefined;
          if (missing) {
            p.serverDryRun = `server dry run needs ${missing} to exist (created by this manifest); judged by guardrails only`;
            continue;
          }
          let outcome: Awaited<ReturnType<typeof guardedWrite>>;
          try {
            outcome = await guardedWrite(
              ctx,
              t,
              applyPlan(p, () =>
                t.client.apply(p.res, p.doc, { dryRun: true, ...(input.force ? { force: true } : {}) }),
              ),
              { previewOnly: true, ...(p.live ? { live: p.live } : {}) },
            );
          } catch (err) {
            if (written.length === 0) throw err;
            return stop(p, 'server dry run', errorText(err));
          }
          if (outcome.kind === 'refused')
            return written.length === 0 ? outcome.result : stop(p, 'guardrails', 'refused', outcome.result);
          p.findings = outcome.findings;
          previews.set(p, outcome.after);
        }

        for (const p of group) {
          let after: KubeObject;
          if (previewOnly) after = previews.get(p) ?? p.doc;
          else {
            try {
              // Pinned to the resourceVersion its dry run was judged on: a change since is refused (409).
              const judgedRv = previews.get(p)?.metadata?.resourceVersion;
              after = await t.client.apply(p.res, p.doc, {
                ...(input.force ? { force: true } : {}),
                ...(judgedRv ? { precondition: { resourceVersion: judgedRv } } : {}),
              });
            } catch (err) {
              if (written.length === 0) throw err;
              return stop(p, 'write', errorText(err));
            }
            written.push(p);
          }
          const diff = changeSummary(p.live, after);
          const action = !p.live ? 'created' : diff.changes.length === 0 ? 'unchanged' : 'configured';
          let baselineNote: string | undefined;
          if (!previewOnly) {
            // The write has happened: a baseline that cannot be recorded is said, never turned into a failure.
            try {
              await ctx.deps.baselines.record({
                cluster: t.cluster,
                manifest: p.doc,
                appliedBy: ctx.identity.name,
                requestId: ctx.requestId,
              });
            } catch (err) {
              ctx.log.warn({ err: errorText(err) }, 'drift baseline not recorded');
              baselineNote = 'drift baseline not recorded (the Store refused it); apply again to record it';
            }
          }
          items.push({
            kind: p.res.kind,
            apiVersion: p.res.apiVersion,
            name: p.doc.metadata?.name as string,
            namespace: p.namespace ?? '',
            phase,
            action: previewOnly ? `${action} (dry run${p.serverDryRun ? ', guardrails only' : ''})` : action,
            changes: diff.summary,
            ...(p.serverDryRun ? { serverDryRun: p.serverDryRun } : {}),
            diff: diff.changes,
            ...(diff.omitted ? { diffOmitted: diff.omitted } : {}),
            ...(baselineNote ? { note: baselineNote } : {}),
          });
        }
      }
      const findings = dedupe(
        ordered.flatMap((p) => p.findings ?? []),
        (f) => `${f.ruleId}|${f.path}|${f.message}`,
      );
      // Half the budget for each channel (docs/decisions.md); the diffs share what is left.
      const budget = Math.floor(ctx.deps.config.outputBudgetBytes / 2);
      const shown = boundApplyItems(items, findings, budget - 800);
      const lines = shown.items.map(
        (i) =>
          `${i.kind.toLowerCase()}/${i.name}${i.namespace ? ` -n ${i.namespace}` : ''} ${i.action}: ${i.changes}${i.serverDryRun ? ` (${i.serverDryRun})` : ''}${i.note ? ` [${i.note}]` : ''}`,
      );
      const head = previewOnly
        ? `Dry run on ${t.cluster}; nothing was changed.${phasesText(items, 'would be applied')}`
        : `Applied ${plural(items.length, 'object')} on ${t.cluster}.${phasesText(items, 'applied')}`;
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

/** What guardedWrite judges for one document; `perform` is its (dry-run) call. */
function applyPlan(p: Planned, perform: () => Promise<KubeObject>): WritePlan {
  return {
    verb: 'apply',
    res: p.res,
    namespace: p.namespace,
    name: p.doc.metadata?.name as string,
    manifest: p.doc,
    perform,
  };
}

interface Planned {
  /** Position in the manifest (0-based). */
  index: number;
  doc: KubeObject;
  res: ResourceInfo;
  namespace: string | undefined;
  phase: ApplyPhase;
  live?: KubeObject;
  /** The CRD of this manifest that defines the document's kind (not discoverable before it exists). */
  definedBy?: string;
  findings?: Finding[];
  /** Dry run only: why the server could not dry-run this document. */
  serverDryRun?: string;
}

/**
 * Where a document is written: a namespaced kind in its metadata.namespace, else the call's
 * namespace, else the context's; a cluster-scoped kind nowhere. `res` is what discovery says.
 * A cluster-scoped document loses any metadata.namespace it carries, so the guardrails judge, and the
 * dry run and the write send, exactly the object the API server keeps (it drops that field too).
 */
function placeDocument(
  doc: KubeObject,
  res: ResourceInfo,
  inputNamespace: string | undefined,
  defaultNamespace: string,
): { namespace: string | undefined; obj: KubeObject } {
  const namespace = res.namespaced ? doc.metadata?.namespace || inputNamespace || defaultNamespace : undefined;
  const { namespace: _claimed, ...metadata } = doc.metadata ?? {};
  const obj: KubeObject = { ...doc, metadata: { ...metadata, ...(namespace ? { namespace } : {}) } };
  return { namespace, obj };
}

const CRD_WAIT_MS = 30_000;
const CRD_WAIT_ATTEMPTS = 40;

/**
 * Waits until every CRD of the manifest that `group` depends on is Established and discovery serves
 * the kinds the documents use; then swaps each document's declared type for the discovered one.
 * Bounded by time (the Clock port) and by attempts.
 */
async function waitForDefinedKinds(ctx: ToolContext, t: Target, group: Planned[]): Promise<void> {
  const pending = group.filter((p) => p.definedBy);
  const crdRes = await t.client.resolve('CustomResourceDefinition', 'apiextensions.k8s.io/v1');
  const deadline = ctx.deps.clock.now() + CRD_WAIT_MS;
  let last = '';
  for (let attempt = 0; attempt < CRD_WAIT_ATTEMPTS; attempt++) {
    const names = [...new Set(pending.map((p) => p.definedBy as string))];
    const crds = await Promise.all(names.map((n) => liveOrUndefined(t, crdRes, n, undefined)));
    const notReady = names.filter((_, i) => !isEstablished(crds[i]));
    if (notReady.length === 0) {
      const resources = await t.client.resources({ refresh: true });
      const missing: Planned[] = [];
      for (const p of pending) {
        const found = resources.find((r) => r.apiVersion === p.doc.apiVersion && r.kind === p.doc.kind);
        if (found) p.res = found;
        else missing.push(p);
      }
      if (missing.length === 0) return;
      last = `discovery does not serve ${[...new Set(missing.map((p) => `${p.doc.kind} in ${p.doc.apiVersion}`))].join(', ')} yet`;
    } else last = `${notReady.join(', ')} not Established yet`;
    if (ctx.deps.clock.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
  }
  throw new ToolError(
    `${last} (waited up to ${CRD_WAIT_MS / 1000} s); check the CRD's conditions (k8s_resources_get kind=crd) and apply the rest again`,
  );
}

function errorText(err: unknown): string {
  if (err instanceof KubeApiError) return describeKubeError(err);
  if (err instanceof ToolError) return err.message;
  throw err;
}

/** ` In 2 phases: namespaces (1), objects (3).` when more than one phase was used. */
function phasesText(items: AppliedItem[], verb: string): string {
  const counts = APPLY_PHASES.map((ph) => [ph, items.filter((i) => i.phase === ph).length] as const).filter(
    ([, n]) => n > 0,
  );
  if (counts.length < 2) return '';
  return ` ${verb[0]?.toUpperCase()}${verb.slice(1)} in ${counts.length} phases, in this order: ${counts.map(([ph, n]) => `${PHASE_TITLE[ph]} (${n})`).join(', ')}.`;
}

const refOf = (p: Planned) =>
  `${p.res.kind.toLowerCase()}/${p.doc.metadata?.name as string}${p.namespace ? ` -n ${p.namespace}` : ''}`;

/**
 * A call that stopped after some objects were written: says exactly which were written (and in
 * which phase), which one failed at which stage, and which were not written.
 */
function stoppedResult(
  cluster: string,
  items: AppliedItem[],
  ordered: Planned[],
  written: Planned[],
  failed: Planned,
  stage: string,
  why: string,
  refusal?: CallToolResult,
): CallToolResult {
  const notWritten = ordered.filter((p) => !written.includes(p));
  const refusalText = refusal ? (refusal.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('\n') : '';
  const text = [
    `Stopped on ${cluster} after writing ${plural(written.length, 'object')}: ${refOf(failed)} (${PHASE_TITLE[failed.phase]} phase) failed at the ${stage}.`,
    refusalText || why,
    `Written (they stay on the cluster): ${written.map((p) => `${refOf(p)} [${PHASE_TITLE[p.phase]}]`).join(', ')}.`,
    `Not written: ${notWritten.map(refOf).join(', ')}.`,
    'Fix the cause and apply the same manifest again: objects already written are updated in place.',
  ].join('\n');
  return result(
    boundText(text, 8000, 'end').text,
    {
      cluster,
      dryRun: false,
      stopped: true,
      items: items.map(({ diff: _d, diffOmitted: _o, ...rest }) => rest),
      failed: {
        kind: failed.res.kind,
        name: failed.doc.metadata?.name as string,
        namespace: failed.namespace ?? '',
        phase: failed.phase,
        stage,
        error: boundText(refusalText || why, 2000, 'end').text,
      },
      notWritten: notWritten.map((p) => ({
        kind: p.res.kind,
        name: p.doc.metadata?.name as string,
        namespace: p.namespace ?? '',
        phase: p.phase,
      })),
    },
    true,
  );
}

interface AppliedItem {
  kind: string;
  apiVersion: string;
  name: string;
  namespace: string;
  phase: ApplyPhase;
  action: string;
  changes: string;
  serverDryRun?: string;
  diff?: unknown[];
  diffOmitted?: number;
  note?: string;
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
