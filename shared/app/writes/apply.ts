import { errorText } from '../../domain/errors.ts';
import type { Finding } from '../../domain/guardrails/index.ts';
import {
  APPLY_PHASES,
  type ApplyPhase,
  definedKindFor,
  isEstablished,
  kindsDefinedBy,
  phaseOf,
  sortForApply,
} from '../../domain/k8s/apply-order.ts';
import { KubeApiError, type KubeObject, type ResourceInfo } from '../../ports/kube.ts';
import type { Call } from '../call.ts';
import type { Deps } from '../deps.ts';
import { AppError, expectedFailureText, RefusedError } from '../errors.ts';
import { parseManifests } from '../k8s/manifests.ts';
import { liveOrUndefined, type Target, target } from '../k8s/objects.ts';
import { changeSummary, dedupe, guardedWrite, type WritePlan } from './guarded-write.ts';

/** The most documents one apply takes. */
export const MAX_APPLY_DOCUMENTS = 50;

export interface ApplyRequest {
  cluster?: string | undefined;
  /** YAML or JSON, parsed through the call's ParseCache. */
  manifest: string;
  /** For documents without metadata.namespace. */
  namespace?: string | undefined;
  dryRun?: boolean | undefined;
  /** Take over fields owned by another field manager. */
  force?: boolean | undefined;
}

/** One object of an apply as the caller sees it. */
export interface AppliedItem {
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

/** An object of the manifest, by kind, name, namespace ('' for cluster scope) and apply phase. */
export interface ObjectRef {
  kind: string;
  name: string;
  namespace: string;
  phase: ApplyPhase;
}

export type ApplyResult =
  | { kind: 'applied'; cluster: string; dryRun: boolean; items: AppliedItem[]; findings: Finding[] }
  /**
   * Stopped after some objects were written: which were written (they stay), which failed at which
   * stage and why, which were not written.
   */
  | {
      kind: 'stopped';
      cluster: string;
      items: AppliedItem[];
      written: ObjectRef[];
      failed: ObjectRef & { stage: string; why: string };
      notWritten: ObjectRef[];
    };

/**
 * Server-side apply of a manifest in dependency order: every document resolved and judged by the
 * guardrails before anything is written, then phase by phase a server dry run and the writes,
 * each pinned to the state its dry run was judged on. A refusal before any write throws
 * RefusedError; a failure after some writes is a 'stopped' result naming what was written.
 */
export async function applyManifests(
  deps: Deps,
  call: Pick<Call, 'identity' | 'requestId' | 'log' | 'parsed'>,
  input: ApplyRequest,
): Promise<ApplyResult> {
  const t = await target(deps, input.cluster);
  const docs = parseManifests(input.manifest, call.parsed);
  if (docs.length > MAX_APPLY_DOCUMENTS)
    throw new AppError(`${docs.length} documents; apply at most ${MAX_APPLY_DOCUMENTS} per call`);
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
    if (p.phase !== 'namespaces' && p.namespace && newNamespaces.has(p.namespace)) return `namespace ${p.namespace}`;
    return undefined;
  };

  // 2. Guardrails for every document before any write. `perform` echoes the manifest: this pass
  // makes no API call; the server dry run of each document comes right before its phase.
  for (const p of ordered) {
    const judged = await guardedWrite(
      deps,
      t,
      applyPlan(p, async () => p.doc),
      { previewOnly: true, ...(p.live ? { live: p.live } : {}) },
    );
    if (judged.kind === 'refused') throw new RefusedError(judged.refusal);
    if (judged.kind === 'preview') p.findings = judged.findings;
  }

  // 3. Phase by phase: the server dry run of each document of the phase (its namespace and type
  // exist by now), then the phase's writes. Namespaces, then CRDs (waited for until Established
  // and discoverable), then every other object in Helm's install order.
  const items: AppliedItem[] = [];
  const written: Planned[] = [];
  const stop = (p: Planned, stage: string, why: string): ApplyResult => ({
    kind: 'stopped',
    cluster: t.cluster,
    items,
    written: written.map(refOf),
    failed: { ...refOf(p), stage, why },
    notWritten: ordered.filter((o) => !written.includes(o)).map(refOf),
  });
  for (const phase of APPLY_PHASES) {
    const group = ordered.filter((p) => p.phase === phase);
    if (group.length === 0) continue;
    if (!previewOnly && group.some((p) => p.definedBy)) {
      // The kinds of this manifest's CRDs: wait (bounded) until the server serves them, then judge
      // and place each document with the type discovery reports, not the one the CRD declared.
      const first = group.find((p) => p.definedBy) as Planned;
      try {
        await waitForDefinedKinds(deps, t, group);
      } catch (err) {
        return stop(first, 'waiting for its CustomResourceDefinition', expectedFailureText(err));
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
          deps,
          t,
          applyPlan(p, () => t.client.apply(p.res, p.doc, { dryRun: true, ...(input.force ? { force: true } : {}) })),
          { previewOnly: true, ...(p.live ? { live: p.live } : {}) },
        );
      } catch (err) {
        if (written.length === 0) throw err;
        return stop(p, 'server dry run', expectedFailureText(err));
      }
      if (outcome.kind === 'refused') {
        if (written.length === 0) throw new RefusedError(outcome.refusal);
        return stop(p, 'guardrails', outcome.refusal.message);
      }
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
          return stop(p, 'write', expectedFailureText(err));
        }
        written.push(p);
      }
      const diff = changeSummary(p.live, after);
      const action = !p.live ? 'created' : diff.changes.length === 0 ? 'unchanged' : 'configured';
      let baselineNote: string | undefined;
      if (!previewOnly) {
        // The write has happened: a baseline that cannot be recorded is said, never turned into a failure.
        try {
          await deps.baselines.record({
            cluster: t.cluster,
            manifest: p.doc,
            appliedBy: call.identity.name,
            requestId: call.requestId,
          });
        } catch (err) {
          call.log.warn({ err: errorText(err) }, 'drift baseline not recorded');
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
  return { kind: 'applied', cluster: t.cluster, dryRun: previewOnly, items, findings };
}

const refOf = (p: Planned): ObjectRef => ({
  kind: p.res.kind,
  name: p.doc.metadata?.name as string,
  namespace: p.namespace ?? '',
  phase: p.phase,
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
async function waitForDefinedKinds(deps: Pick<Deps, 'clock'>, t: Target, group: Planned[]): Promise<void> {
  const pending = group.filter((p) => p.definedBy);
  const crdRes = await t.client.resolve('CustomResourceDefinition', 'apiextensions.k8s.io/v1');
  const deadline = deps.clock.now() + CRD_WAIT_MS;
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
    if (deps.clock.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
  }
  throw new AppError(
    `${last} (waited up to ${CRD_WAIT_MS / 1000} s); check the CRD's conditions (k8s_resources_get kind=crd) and apply the rest again`,
  );
}
