import type { GcpInstance, GcpInstanceQuery, Page } from '../../ports/cloud.ts';
import { GCP_INSTANCE_STATUSES } from '../../ports/cloud.ts';
import { cloudError, type RestCall } from './google-rest.ts';

/**
 * Compute Engine v1 over REST (https://cloud.google.com/compute/docs/reference/rest/v1/instances):
 * instances.list in one zone, instances.aggregatedList across zones, instances.get, start and stop.
 * Names are checked before any call (the patterns of shared/app/cloud/scope.ts, repeated here since
 * adapters do not import the application layer), so nothing caller-made reaches a URL unchecked.
 */

export const GCP_PATTERNS = {
  project: /^(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  zone: /^[a-z]+-[a-z]+\d+-[a-z]$/,
  /** RFC 1035 label, as Compute names instances. */
  name: /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/,
} as const;

/** Instance.status values (the port's list). */
export const INSTANCE_STATUSES = GCP_INSTANCE_STATUSES;

/** Label keys and values as Compute allows them (https://cloud.google.com/compute/docs/labeling-resources). */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const MAX_TOKEN = 4096;

function invalid(message: string): never {
  throw cloudError('InvalidArgument', message);
}

export function checkProject(project: string): void {
  if (!GCP_PATTERNS.project.test(project)) invalid(`not a GCP project id: ${project.slice(0, 64)}`);
}

export function checkZone(zone: string): void {
  if (!GCP_PATTERNS.zone.test(zone)) invalid(`not a Compute zone (like us-central1-a): ${zone.slice(0, 64)}`);
}

function checkName(name: string): void {
  if (!GCP_PATTERNS.name.test(name)) {
    invalid(`not a Compute instance name (lowercase letters, digits, hyphens; 1-63): ${name.slice(0, 64)}`);
  }
}

export function checkPageToken(token: string | undefined): void {
  if (token !== undefined && (token.length === 0 || token.length > MAX_TOKEN)) {
    invalid(`page token must be 1-${MAX_TOKEN} characters, as the previous page gave it`);
  }
}

/**
 * Compute's list filter for the query: statuses OR'ed, labels AND'ed, each expression in
 * parentheses. In Compute's (AIP-160) filters OR binds tighter than AND, so
 * `(status = RUNNING) OR (status = STOPPING) AND (labels.env = "prod")` means either status, in prod.
 * Values are checked against the label syntax first, so none can end a quoted string.
 */
export function instanceFilter(statuses: string[] | undefined, labels: Record<string, string> | undefined): string {
  const parts: string[] = [];
  const wanted = [...new Set(statuses ?? [])];
  for (const s of wanted) {
    if (!(INSTANCE_STATUSES as readonly string[]).includes(s)) {
      invalid(`not a Compute instance status: ${s.slice(0, 32)} (one of ${INSTANCE_STATUSES.join(', ')})`);
    }
  }
  if (wanted.length) parts.push(wanted.map((s) => `(status = ${s})`).join(' OR '));
  const entries = Object.entries(labels ?? {});
  if (entries.length > MAX_LABELS) invalid(`at most ${MAX_LABELS} labels (Compute allows no more per instance)`);
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k)) invalid(`not a Compute label key: ${k.slice(0, 64)}`);
    if (!LABEL_VALUE.test(v)) invalid(`not a Compute label value for ${k}: ${v.slice(0, 64)}`);
    parts.push(`(labels.${k} = "${v}")`);
  }
  return parts.join(' AND ');
}

interface ComputeInstance {
  id?: string;
  name?: string;
  zone?: string;
  status?: string;
  machineType?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string;
  networkInterfaces?: Array<{ networkIP?: string; accessConfigs?: Array<{ natIP?: string }> }>;
}

interface Warning {
  code?: string;
  message?: string;
}

const lastSegment = (url: string | undefined) => (url ? (url.split('/').pop() ?? '') : '');

function toIso(ts: string | undefined): string | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export function toGcpInstance(i: ComputeInstance): GcpInstance {
  const nic = i.networkInterfaces?.[0];
  const created = toIso(i.creationTimestamp);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.labels ?? {}).slice(0, MAX_LABELS)) labels[k] = v;
  return {
    name: i.name ?? '',
    id: String(i.id ?? ''),
    zone: lastSegment(i.zone),
    status: i.status ?? 'STATUS_UNSPECIFIED',
    machineType: lastSegment(i.machineType),
    labels,
    ...(nic?.networkIP ? { internalIp: nic.networkIP } : {}),
    ...(nic?.accessConfigs?.[0]?.natIP ? { externalIp: nic.accessConfigs[0].natIP } : {}),
    ...(created ? { created } : {}),
  };
}

export async function listInstances(rest: RestCall, base: string, q: GcpInstanceQuery): Promise<Page<GcpInstance>> {
  checkProject(q.project);
  if (q.zone !== undefined) checkZone(q.zone);
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 500) {
    invalid('limit must be an integer from 1 to 500 (Compute maxResults)');
  }
  checkPageToken(q.nextToken);
  const filter = instanceFilter(q.statuses, q.labels);
  const params = {
    filter: filter || undefined,
    maxResults: q.limit,
    pageToken: q.nextToken,
  };
  const project = `projects/${q.project}`;
  if (q.zone !== undefined) {
    const what = `listing instances in ${q.zone} of ${q.project}`;
    const res = await rest<{ items?: ComputeInstance[]; nextPageToken?: string }>(what, {
      url: `${base}/compute/v1/${project}/zones/${q.zone}/instances`,
      params,
      signal: q.signal,
    });
    return page((res.items ?? []).map(toGcpInstance), res.nextPageToken);
  }
  const what = `listing instances of ${q.project}`;
  const res = await rest<{
    items?: Record<string, { instances?: ComputeInstance[]; warning?: Warning }>;
    nextPageToken?: string;
    unreachables?: string[];
  }>(what, {
    url: `${base}/compute/v1/${project}/aggregated/instances`,
    params: { ...params, returnPartialSuccess: true },
    signal: q.signal,
  });
  const items: GcpInstance[] = [];
  const unreachable = new Set((res.unreachables ?? []).map((u) => lastSegment(u)));
  // A scope without instances on this page carries a warning (NO_RESULTS_ON_PAGE) instead: not a failure.
  for (const [scope, scoped] of Object.entries(res.items ?? {})) {
    if (scoped.warning?.code === 'UNREACHABLE') unreachable.add(lastSegment(scope));
    for (const i of scoped.instances ?? []) items.push(toGcpInstance(i));
  }
  const out = page(items, res.nextPageToken);
  if (unreachable.size) out.unreachable = [...unreachable].sort().slice(0, 100);
  return out;
}

function page(items: GcpInstance[], nextToken: string | undefined): Page<GcpInstance> {
  return nextToken ? { items, nextToken } : { items };
}

export async function getInstance(
  rest: RestCall,
  base: string,
  project: string,
  zone: string,
  name: string,
  signal?: AbortSignal,
): Promise<GcpInstance> {
  checkProject(project);
  checkZone(zone);
  checkName(name);
  const i = await rest<ComputeInstance>(`getting instance ${name} in ${zone} of ${project}`, {
    url: `${base}/compute/v1/projects/${project}/zones/${zone}/instances/${name}`,
    signal,
  });
  return toGcpInstance(i);
}

export async function powerInstance(
  rest: RestCall,
  base: string,
  project: string,
  zone: string,
  name: string,
  action: 'start' | 'stop',
  signal?: AbortSignal,
): Promise<{ operation: string; status: string }> {
  checkProject(project);
  checkZone(zone);
  checkName(name);
  if (action !== 'start' && action !== 'stop') invalid(`action must be start or stop, not ${String(action)}`);
  const op = await rest<{ name?: string; status?: string }>(`${action} instance ${name} in ${zone} of ${project}`, {
    url: `${base}/compute/v1/projects/${project}/zones/${zone}/instances/${name}/${action}`,
    method: 'POST',
    signal,
  });
  return { operation: op.name ?? '', status: op.status ?? 'STATUS_UNSPECIFIED' };
}
