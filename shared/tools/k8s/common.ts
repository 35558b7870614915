import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { PARSE_LIMITS, type ParseCache, type ParseFailure, type ParseLimits } from '../../domain/input/index.ts';
import { labelSelector } from '../../domain/k8s/index.ts';
import { redactParsedManifest } from '../../domain/k8s/secret-redaction.ts';
import type { KubeClient, KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { KubeApiError, UnknownClusterError } from '../../ports/kube.ts';
import type { ToolContext } from '../tool.ts';
import { fail } from '../tool.ts';

/**
 * Argument schemas shared by every Kubernetes tool, so names and meanings never drift apart. Every
 * string is bounded where it comes in, at the sizes Kubernetes itself allows (names 253, namespaces 63);
 * manifest text is bounded by the parser (PARSE_LIMITS), which says which limit it met.
 */
export const args = {
  cluster: z.string().max(253).optional().describe('Default: current context'),
  apiVersion: z.string().max(253).optional().describe('e.g. apps/v1'),
  kind: z.string().min(1).max(253).describe('Kind, plural or short name'),
  namespace: z.string().max(63).optional().describe("Default: context's"),
  allNamespaces: z.boolean().optional(),
  name: z.string().min(1).max(253),
  labelSelector: z.string().max(4096).optional().describe('e.g. app=web'),
  fieldSelector: z.string().max(4096).optional().describe('e.g. status.phase=Running'),
  limit: z.number().int().min(1).max(1000).optional(),
  continue: z.string().max(8192).optional(),
  manifest: z.string().min(1).describe('YAML or JSON, one or more documents'),
  dryRun: z.boolean().optional(),
  /** Ids this server issues (`op-` and a UUID) are far shorter. */
  operationId: z.string().min(1).max(128),
  /** Store cursors this server issues are a few dozen characters. */
  cursor: z.string().max(1024).optional(),
};

export interface Target {
  client: KubeClient;
  cluster: string;
  /** The context's default namespace. */
  defaultNamespace: string;
}

/** Thrown inside tool code to end the call with an actionable error result. */
export class ToolError extends Error {
  override name = 'ToolError';
}

export async function target(ctx: ToolContext, cluster: string | undefined): Promise<Target> {
  const client = await ctx.deps.clusters.client(cluster);
  const info = (await ctx.deps.clusters.list()).find((c) => c.name === client.cluster);
  return { client, cluster: client.cluster, defaultNamespace: info?.namespace ?? 'default' };
}

/** Namespace for a namespaced resource: explicit, else the context default; undefined for all namespaces or cluster scope. */
export function namespaceFor(
  res: ResourceInfo,
  t: Target,
  input: { namespace?: string | undefined; allNamespaces?: boolean | undefined },
): string | undefined {
  if (!res.namespaced) return undefined;
  if (input.allNamespaces) return undefined;
  return input.namespace ?? t.defaultNamespace;
}

/**
 * Runs a Kubernetes tool body and turns expected failures into error results a model can act on:
 * unknown cluster, API errors (naming the cluster and the call), bad manifests.
 */
export async function kubeTool(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UnknownClusterError || err instanceof ToolError) return fail(err.message);
    if (err instanceof KubeApiError)
      return fail(describeKubeError(err), {
        cluster: err.cluster,
        call: err.call,
        status: err.status,
        reason: err.reason,
      });
    throw err;
  }
}

export function describeKubeError(err: KubeApiError): string {
  const hint: Record<string, string> = {
    NotFound: 'Check the name, namespace and kind (k8s_resources_list shows what exists).',
    AlreadyExists: 'The object exists; use k8s_resources_apply to update it.',
    Conflict: 'The object changed meanwhile or another manager owns the field; read it again and retry.',
    Invalid: 'Fix the fields named above and retry.',
    Forbidden: "The cluster's RBAC denies this to the server's identity.",
    Unauthorized: "The server's credentials for this cluster were refused.",
    Timeout: 'The API server is slow or unreachable; retry later or check the cluster.',
    Unreachable: 'Check that the cluster is up and reachable from the server.',
    TooManyRequests: 'The API server is throttling; retry in a few seconds.',
    InternalError: 'The API server failed; retry, and check its health if it persists.',
    ServiceUnavailable: 'The API server (or an aggregated API) is unavailable; retry later.',
  };
  const causes = causesOf(err.details);
  return `${err.message}${causes ? `\n${causes}` : ''}\n${unknownFieldHint(err) ?? hint[err.reason] ?? ''}`.trim();
}

/**
 * Server-side apply of a manifest with a field the type's schema lacks fails with a plain 500
 * (`failed to create typed patch object (...): .spec.replica: field not declared in schema`,
 * kubernetes/kubernetes#122480): the caller's mistake, which a retry repeats, not a server failure.
 */
function unknownFieldHint(err: KubeApiError): string | undefined {
  const m = /:\s*\.?([^\s:][^:]*?):\s*field not declared in schema/.exec(err.message);
  if (!m) return undefined;
  const field = (m[1] ?? '').slice(0, 200);
  return `The manifest has a field the ${field ? '' : 'API '}schema does not declare${field ? `: ${field}` : ''}. Fix the manifest (check the field's spelling, its place and the apiVersion; kubectl explain shows the schema) and send it again: retrying it unchanged fails the same way.`;
}

function causesOf(details: unknown): string {
  const causes = (details as { causes?: Array<{ field?: string; message?: string }> } | undefined)?.causes;
  if (!Array.isArray(causes) || causes.length === 0) return '';
  return causes
    .slice(0, 10)
    .map((c) => `- ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`)
    .join('\n');
}

/** The limits manifests and patches are parsed with: the same in a handler and in its audit hook, so one parse serves both. */
export const MANIFEST_PARSE: Partial<ParseLimits> = {};
export const PATCH_PARSE: Partial<ParseLimits> = { maxDocuments: 1 };

/**
 * Parses YAML or JSON text into Kubernetes objects through the request's bounded parser (a List's
 * items count as objects); every object needs apiVersion, kind and metadata.name. The objects are
 * frozen: copy before changing one.
 */
export function parseManifests(text: string, parsed: ParseCache): KubeObject[] {
  const outcome = parsed.parse(text, MANIFEST_PARSE);
  if (!outcome.ok) throw new ToolError(refusalMessage('manifest', outcome.error));
  const out: KubeObject[] = [];
  for (const [i, value] of outcome.value.docs.entries()) {
    if (value === null || value === undefined) continue;
    const items = isList(value) ? (value.items as unknown[]) : [value];
    for (const item of items) {
      if (!item || typeof item !== 'object' || Array.isArray(item))
        throw new ToolError(`manifest document ${i + 1} is not an object`);
      const o = item as KubeObject;
      const missing = ['apiVersion', 'kind'].filter((k) => typeof o[k] !== 'string');
      if (!o.metadata?.name) missing.push('metadata.name');
      if (missing.length) throw new ToolError(`manifest document ${i + 1} lacks ${missing.join(', ')}`);
      out.push(o);
    }
  }
  if (out.length === 0) throw new ToolError('the manifest has no documents');
  return out;
}

/** Parses a patch (one JSON or YAML document) through the request's bounded parser; the value is frozen. */
export function parsePatch(text: string, parsed: ParseCache): unknown {
  const outcome = parsed.parse(text, PATCH_PARSE);
  if (!outcome.ok) throw new ToolError(refusalMessage('patch', outcome.error));
  if (outcome.value.docs.length === 0) throw new ToolError('patch is empty');
  return outcome.value.docs[0];
}

/**
 * A manifest argument as the audit trail keeps it: the handler's parse, redacted (Secret values,
 * secret-named env and ConfigMap values) and written out again; for text that does not parse, a
 * bounded marker with its size and the reason, never the text.
 */
export function auditedManifest(text: string, parsed: ParseCache): string {
  const outcome = parsed.parse(text, MANIFEST_PARSE);
  return outcome.ok ? redactParsedManifest(outcome.value, text) : unparsedMarker('manifest', text, outcome.error);
}

/** A patch argument for the audit trail: the text as sent when it parses (generic redaction masks it), else a bounded marker. */
export function auditedPatch(text: string, parsed: ParseCache): string {
  const outcome = parsed.parse(text, PATCH_PARSE);
  return outcome.ok ? text : unparsedMarker('patch', text, outcome.error);
}

const unparsedMarker = (what: string, text: string, error: ParseFailure): string =>
  `[unparseable ${what}, ${Buffer.byteLength(text, 'utf8')} bytes, not recorded: ${error.message}]`;

/** What to do about each refusal: the message itself names the limit and the place. */
const REFUSAL_FIX: Record<ParseFailure['refusal'], string> = {
  bytes: 'Split it into several calls.',
  documents: 'Split it into several calls.',
  nodes: 'Split it into several calls.',
  expanded: 'Write the values out instead of using anchors and aliases.',
  anchors: 'Write the values out instead of using anchors and aliases.',
  aliases: 'Write the values out instead of using anchors and aliases.',
  alias: 'Write the values out instead of using anchors and aliases.',
  'merge-key': 'Write the merged fields out.',
  'duplicate-key': 'Keep one of them: the API server would silently take only one.',
  depth: 'No Kubernetes object nests this deep; check the text.',
  scalar: `Values of more than ${PARSE_LIMITS.maxScalarChars} characters are not accepted here; apply such objects with kubectl.`,
  tag: 'Remove the tag: write plain YAML or JSON.',
  directive: 'Remove the directive: write plain YAML or JSON.',
  characters: 'Remove the character, or escape it inside a double-quoted string.',
  key: 'Use plain string keys.',
  number: 'Quote the value or use a finite number.',
  syntax: 'Fix the text and retry.',
};

function refusalMessage(what: 'manifest' | 'patch', error: ParseFailure): string {
  return `${what} not accepted: ${error.message}. ${REFUSAL_FIX[error.refusal]}`;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: unknown; items?: unknown };
  return typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

export const ageOf = (ts: string | undefined, now: number): number | undefined =>
  ts ? Math.max(0, Math.floor((now - Date.parse(ts)) / 1000)) : undefined;

/** A Deployment and the ReplicaSets its selector matches (history, undo). */
export async function deploymentWithReplicaSets(
  t: Target,
  name: string,
  namespace: string,
): Promise<{ deployments: ResourceInfo; deployment: KubeObject; replicaSets: KubeObject[] }> {
  const deployments = await t.client.resolve('Deployment', 'apps/v1');
  const rsRes = await t.client.resolve('ReplicaSet', 'apps/v1');
  const deployment = await t.client.get(deployments, name, namespace);
  const spec = deployment.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined;
  const selector = labelSelector(spec?.selector?.matchLabels);
  const rs = await t.client.list(rsRes, { namespace, limit: 500, ...(selector ? { labelSelector: selector } : {}) });
  return { deployments, deployment, replicaSets: rs.items };
}
