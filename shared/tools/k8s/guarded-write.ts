import type { CallToolResult } from '@modelcontextprotocol/server';
import { evaluateWrite, type Finding, formatVerdict, type WriteIntent } from '../../domain/guardrails/index.ts';
import { diffObjects } from '../../domain/k8s/index.ts';
import type { ToolContext } from '../../mcp/tool.ts';
import type { KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { KubeApiError } from '../../ports/kube.ts';
import type { Target } from './common.ts';
import { result } from './render.ts';

export interface WritePlan {
  verb: WriteIntent['verb'];
  res: ResourceInfo;
  namespace: string | undefined;
  name: string;
  /** The object as it will be (apply/create): checked by every guardrail before any API call. */
  manifest?: KubeObject;
  /**
   * Whether pod rules also run on the server's dry-run result. True for changes that can alter a pod template
   * (patch, undo); false for scale and restart, which keep the template's security posture as it is.
   */
  checkResult: boolean;
  count?: number;
  /**
   * The names a bulk write touches (a delete by label selector). Scope rules then judge each object
   * by its own name, so a Namespace delete by selector meets the protected-namespace and
   * allow/deny rules exactly like one by name.
   */
  targets?: string[];
  /** Performs the write; called first with dryRun true (server-side dry run), then for real. */
  perform(dryRun: boolean): Promise<KubeObject>;
}

export type WriteOutcome =
  | { kind: 'refused'; result: CallToolResult }
  | { kind: 'preview'; live?: KubeObject; after: KubeObject; findings: Finding[] }
  | { kind: 'done'; live?: KubeObject; after: KubeObject; findings: Finding[] };

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

function refusal(t: Target, p: WritePlan, verdict: ReturnType<typeof evaluateWrite>, stage: string): CallToolResult {
  return result(
    `${formatVerdict(verdict)}\nNothing was changed on ${t.cluster} (${stage}).`,
    {
      refused: true,
      cluster: t.cluster,
      kind: p.res.kind,
      name: p.name,
      ...(p.namespace ? { namespace: p.namespace } : {}),
      findings: verdict.findings,
    },
    true,
  );
}

/**
 * Every write goes the same way: guardrails on what is known before any call (scope, and the
 * manifest for apply), a server-side dry run, guardrails on the dry-run result where the change
 * can alter a pod template, then — unless the caller asked for a preview — the write itself.
 * Findings of rules in audit mode never block; they travel with the result.
 */
export async function guardedWrite(
  ctx: ToolContext,
  t: Target,
  p: WritePlan,
  opts: { previewOnly: boolean; live?: KubeObject },
): Promise<WriteOutcome> {
  const intents = p.targets?.length ? p.targets.map((name) => intent(t, { ...p, name })) : [intent(t, p, p.manifest)];
  const verdicts = intents.map((i) => evaluateWrite(i, ctx.deps.policy));
  const refused = verdicts.find((v) => !v.allowed);
  if (refused) return { kind: 'refused', result: refusal(t, p, refused, 'refused by guardrails before any API call') };
  const before = { allowed: true, findings: dedupe(verdicts.flatMap((v) => v.findings)) };

  const dry = await p.perform(true);
  let findings = before.findings;
  if (p.checkResult) {
    const after = evaluateWrite(intent(t, p, dry), ctx.deps.policy);
    if (!after.allowed)
      return { kind: 'refused', result: refusal(t, p, after, 'refused by guardrails on the server dry-run result') };
    findings = dedupe([...findings, ...after.findings]);
  }
  if (opts.previewOnly) return { kind: 'preview', ...(opts.live ? { live: opts.live } : {}), after: dry, findings };
  const done = await p.perform(false);
  return { kind: 'done', ...(opts.live ? { live: opts.live } : {}), after: done, findings };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.ruleId}|${f.path}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The live object, or undefined when it does not exist yet. */
export async function liveOrUndefined(
  t: Target,
  res: ResourceInfo,
  name: string,
  namespace: string | undefined,
): Promise<KubeObject | undefined> {
  try {
    return await t.client.get(res, name, namespace);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

export function changeSummary(
  live: KubeObject | undefined,
  after: KubeObject,
): { summary: string; changes: unknown[]; omitted: number } {
  const d = diffObjects(live, after, { maxChanges: 30 });
  return { summary: d.summary, changes: d.changes, omitted: d.omitted };
}

export function findingsText(findings: Finding[]): string {
  return findings.length ? `\n${formatVerdict({ allowed: true, findings })}` : '';
}
