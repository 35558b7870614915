import { evaluateWrite, type Finding, formatVerdict, type WriteIntent } from '../../domain/guardrails/index.ts';
import { diffObjects } from '../../domain/k8s/index.ts';
import type { KubeObject, Precondition, ResourceInfo } from '../../ports/kube.ts';
import { KubeApiError } from '../../ports/kube.ts';
import type { Deps } from '../deps.ts';
import type { Refusal } from '../errors.ts';
import type { Target } from '../k8s/objects.ts';

export interface WritePlan {
  verb: WriteIntent['verb'];
  res: ResourceInfo;
  namespace: string | undefined;
  name: string;
  /** The object as it will be (apply/create): checked by every guardrail before any API call. */
  manifest?: KubeObject;
  count?: number;
  /**
   * The names a bulk write touches (a delete by label selector). Scope rules then judge each object
   * by its own name, so a Namespace delete by selector meets the protected-namespace and
   * allow/deny rules exactly like one by name.
   */
  targets?: string[];
  /**
   * Reads the object the write starts from (undefined when it does not exist), again on every
   * attempt. Its resourceVersion (and uid) pin both the dry run and the write, so the write lands on
   * exactly the state that was judged; when it changed meanwhile, the API server answers 409 Conflict,
   * nothing is written and the write is judged again from a fresh read (at most MAX_ATTEMPTS times).
   * Without it the write is attempted once, pinned to the resourceVersion of its dry-run result.
   */
  read?(): Promise<KubeObject | undefined>;
  /**
   * The object whose pod template the write makes pods from, when that is not the dry-run result:
   * a scale judges the workload it scales up, and nothing (undefined) when it makes no pods.
   */
  podsFrom?(live: KubeObject | undefined, dry: KubeObject): KubeObject | undefined;
  /**
   * Performs the write; called first with dryRun true (server-side dry run), then for real. `pin`
   * is the precondition to send (KubeClient WriteOptions.precondition): the write must fail rather
   * than land on another state of the object.
   */
  perform(dryRun: boolean, pin: Precondition | undefined): Promise<KubeObject>;
}

export type WriteOutcome =
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'preview'; live?: KubeObject; after: KubeObject; findings: Finding[]; pin?: Precondition }
  | { kind: 'done'; live?: KubeObject; after: KubeObject; findings: Finding[]; pin?: Precondition };

/** How often a write whose object changed while it was judged is judged again before giving up. */
export const MAX_ATTEMPTS = 3;

/** What the guardrails judge: scope as discovery reports it (`res.namespaced`), never as a manifest claims. */
function intent(t: Target, p: WritePlan, object?: KubeObject): WriteIntent {
  return {
    verb: p.verb,
    cluster: t.cluster,
    kind: p.res.kind,
    apiVersion: p.res.apiVersion,
    namespaced: p.res.namespaced,
    ...(p.res.namespaced && p.namespace ? { namespace: p.namespace } : {}),
    name: p.name,
    ...(object ? { object } : {}),
    ...(p.count !== undefined ? { count: p.count } : {}),
  };
}

function refusal(t: Target, p: WritePlan, verdict: ReturnType<typeof evaluateWrite>, stage: string): Refusal {
  return {
    message: `${formatVerdict(verdict)}\nNothing was changed on ${t.cluster} (${stage}).`,
    details: {
      refused: true,
      cluster: t.cluster,
      kind: p.res.kind,
      name: p.name,
      ...(p.namespace ? { namespace: p.namespace } : {}),
      findings: verdict.findings,
    },
  };
}

/**
 * Every write goes the same way: guardrails on what is known before any call (scope, and the
 * manifest for apply), a server-side dry run pinned to the state just read, guardrails on what the
 * write makes (the dry-run result; for a scale up, the workload's pod template), then — unless the
 * caller asked for a preview — the write itself, pinned to that same resourceVersion. A concurrent
 * write in between makes the API server refuse ours (409 Conflict): nothing lands that was not
 * judged, and the write is judged again from a fresh read. Findings of rules in audit mode never
 * block; they travel with the result.
 */
export async function guardedWrite(
  deps: Pick<Deps, 'policy'>,
  t: Target,
  p: WritePlan,
  opts: { previewOnly: boolean; live?: KubeObject },
): Promise<WriteOutcome> {
  const intents = p.targets?.length ? p.targets.map((name) => intent(t, { ...p, name })) : [intent(t, p, p.manifest)];
  const verdicts = intents.map((i) => evaluateWrite(i, deps.policy));
  const refused = verdicts.find((v) => !v.allowed);
  if (refused) return { kind: 'refused', refusal: refusal(t, p, refused, 'refused by guardrails before any API call') };
  const before = dedupe(verdicts.flatMap((v) => v.findings));

  const attempts = p.read ? MAX_ATTEMPTS : 1;
  let lastConflict: KubeApiError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const live = p.read ? await p.read() : opts.live;
    const readPin = p.read ? pinOf(live) : undefined;
    let dry: KubeObject;
    try {
      dry = await p.perform(true, readPin);
    } catch (err) {
      if (!isStaleWrite(err)) throw err;
      lastConflict = err;
      continue;
    }
    let findings = before;
    const judged = p.verb === 'delete' ? undefined : p.podsFrom ? p.podsFrom(live, dry) : dry;
    if (judged) {
      const after = evaluateWrite(intent(t, p, judged), deps.policy);
      if (!after.allowed) {
        const stage = judged === dry ? 'the server dry-run result' : `the pod template of ${p.res.kind} ${p.name}`;
        return { kind: 'refused', refusal: refusal(t, p, after, `refused by guardrails on ${stage}`) };
      }
      findings = dedupe([...findings, ...after.findings]);
    }
    // The state judged: the one read, else the one the server computed the dry run against.
    const pin = readPin ?? (p.read ? undefined : pinOf(dry));
    const shown = live ? { live } : {};
    if (opts.previewOnly) return { kind: 'preview', ...shown, after: dry, findings, ...(pin ? { pin } : {}) };
    try {
      const done = await p.perform(false, pin);
      return { kind: 'done', ...shown, after: done, findings, ...(pin ? { pin } : {}) };
    } catch (err) {
      if (!isStaleWrite(err)) throw err;
      lastConflict = err;
    }
  }
  return { kind: 'refused', refusal: changedMeanwhile(t, p, attempts, lastConflict) };
}

/** The precondition that pins a write to this state of the object: its resourceVersion and uid. */
export function pinOf(obj: KubeObject | undefined): Precondition | undefined {
  const rv = obj?.metadata?.resourceVersion;
  if (typeof rv !== 'string' || rv === '') return undefined;
  const uid = obj?.metadata?.uid;
  return { resourceVersion: rv, ...(typeof uid === 'string' && uid ? { uid } : {}) };
}

/**
 * A write refused because its object changed after it was read and judged: the API server's 409
 * Conflict for a failed resourceVersion or uid precondition. A server-side apply conflict over field
 * ownership (FieldManagerConflict causes) is not one: judging again would not change it.
 */
export function isStaleWrite(err: unknown): err is KubeApiError {
  if (!(err instanceof KubeApiError) || err.status !== 409 || err.reason !== 'Conflict') return false;
  const causes = (err.details as { causes?: Array<{ reason?: string }> } | undefined)?.causes;
  return !(Array.isArray(causes) && causes.some((c) => c?.reason === 'FieldManagerConflict'));
}

function changedMeanwhile(t: Target, p: WritePlan, attempts: number, err: KubeApiError | undefined): Refusal {
  const what = `${p.res.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`;
  const tries = attempts > 1 ? `${attempts} times, each time read and judged again` : 'once';
  return {
    message: `${what} changed on ${t.cluster} while this write was being judged (tried ${tries}); the API server refused the write, so nothing was written (${err?.reason ?? 'Conflict'}: the object was modified by someone else after it was read). Read it again (k8s_resources_get) and retry; if it keeps changing, find out what else writes it (metadata.managedFields).`,
    details: {
      refused: true,
      conflict: true,
      cluster: t.cluster,
      kind: p.res.kind,
      name: p.name,
      ...(p.namespace ? { namespace: p.namespace } : {}),
      attempts,
    },
  };
}

/**
 * Findings without repeats. One write's findings repeat by rule and field; across the documents of
 * one apply the message tells them apart (it names the object), so callers may key on it too.
 */
export function dedupe(findings: Finding[], key = (f: Finding) => `${f.ruleId}|${f.path}`): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = key(f);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function changeSummary(
  live: KubeObject | undefined,
  after: KubeObject,
): { summary: string; changes: unknown[]; omitted: number } {
  const d = diffObjects(live, after, { maxChanges: 30 });
  return { summary: d.summary, changes: d.changes, omitted: d.omitted };
}
