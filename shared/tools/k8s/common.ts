import type { CallToolResult } from '@modelcontextprotocol/server';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { labelSelector } from '../../domain/k8s/index.ts';
import type { ToolContext } from '../../mcp/tool.ts';
import { fail } from '../../mcp/tool.ts';
import type { KubeClient, KubeObject, ResourceInfo } from '../../ports/kube.ts';
import { KubeApiError, UnknownClusterError } from '../../ports/kube.ts';

/** Argument schemas shared by every Kubernetes tool, so names and meanings never drift apart. */
export const args = {
  cluster: z.string().optional().describe('Default: current context'),
  apiVersion: z.string().optional().describe('e.g. apps/v1'),
  kind: z.string().min(1).describe('Kind, plural or short name'),
  namespace: z.string().optional().describe("Default: context's"),
  allNamespaces: z.boolean().optional(),
  name: z.string().min(1),
  labelSelector: z.string().optional().describe('e.g. app=web'),
  fieldSelector: z.string().optional().describe('e.g. status.phase=Running'),
  limit: z.number().int().min(1).max(1000).optional(),
  continue: z.string().optional(),
  manifest: z.string().min(1).describe('YAML or JSON, one or more documents'),
  dryRun: z.boolean().optional(),
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

export function target(ctx: ToolContext, cluster: string | undefined): Target {
  const client = ctx.deps.clusters.client(cluster);
  const info = ctx.deps.clusters.list().find((c) => c.name === client.cluster);
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
  return `${err.message}${causes ? `\n${causes}` : ''}\n${hint[err.reason] ?? ''}`.trim();
}

function causesOf(details: unknown): string {
  const causes = (details as { causes?: Array<{ field?: string; message?: string }> } | undefined)?.causes;
  if (!Array.isArray(causes) || causes.length === 0) return '';
  return causes
    .slice(0, 10)
    .map((c) => `- ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`)
    .join('\n');
}

/** Parses YAML or JSON text into Kubernetes objects; every document needs apiVersion, kind and metadata.name. */
export function parseManifests(text: string): KubeObject[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: KubeObject[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length)
      throw new ToolError(`manifest document ${i + 1} is not valid YAML/JSON: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
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
