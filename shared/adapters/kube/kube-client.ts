import { HttpMethod, IsomorphicFetchHttpLibrary, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { quoted } from '../../domain/text.ts';
import type {
  Impersonation,
  KubeClient,
  KubeObject,
  ListOptions,
  ListResult,
  LogOptions,
  PatchType,
  Precondition,
  ResourceInfo,
  WriteOptions,
} from '../../ports/kube.ts';
import { KubeApiError } from '../../ports/kube.ts';

/** How much of an API server's error message reaches the caller. */
const API_MESSAGE_CHARS = 1000;

export const FIELD_MANAGER = 'cloudops-mcp';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface KubeClientOptions {
  cluster: string;
  kubeConfig: KubeConfig;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Discovery cache lifetime. */
  discoveryTtlMs: number;
  now?: () => number;
  /** Every request carries Impersonate-User and Impersonate-Group (the cluster's RBAC decides as them). */
  impersonate?: Impersonation;
}

/** What a client and its impersonating views share: one discovery cache, one connection pool. */
interface SharedState {
  discovery?: { at: number; resources: Promise<ResourceInfo[]> };
  dispatcher?: { value: NonNullable<ReturnType<RequestContext['getDispatcher']>>; at: number };
}

type Http = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * KubeClient over @kubernetes/client-node: its KubeConfig authenticates every request (tokens,
 * client certificates, exec plugins such as aws/gke auth), its HTTP library sends it, and this
 * class owns paths, timeouts, retries of idempotent reads, and errors that name the cluster and
 * the call. Objects stay plain JSON, so unknown fields and CRDs pass through untouched.
 */
export class ClientNodeKubeClient implements KubeClient {
  readonly cluster: string;
  private readonly kc: KubeConfig;
  private readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private readonly discoveryTtlMs: number;
  private readonly now: () => number;
  private readonly opts: KubeClientOptions;
  private readonly impersonate?: Impersonation;
  /**
   * Discovery cache and connection pool, shared with the views `impersonating` makes: discovery is
   * served to every authenticated user alike (system:discovery), and the pool holds no credential.
   */
  private readonly state: SharedState;
  /**
   * client-node builds a new undici dispatcher (a new connection pool) on every authentication; one
   * is kept and reused so requests share keep-alive connections (one TLS handshake, not one per
   * request). It carries the TLS material of when it was made (CA, client certificate), which can
   * rotate (cert-manager, exec plugins issuing short-lived certificates, a pod's CA): it is replaced
   * after DISPATCHER_MAX_AGE_MS, and at once after a 401 or a TLS failure. (Kept in `state`.)
   */
  constructor(opts: KubeClientOptions, shared: SharedState = {}) {
    this.opts = opts;
    this.state = shared;
    if (opts.impersonate) this.impersonate = checkedImpersonation(opts.impersonate);
    this.cluster = opts.cluster;
    this.kc = opts.kubeConfig;
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`cluster ${opts.cluster} has no server URL in its kubeconfig`);
    this.server = server.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs;
    this.discoveryTtlMs = opts.discoveryTtlMs;
    this.now = opts.now ?? Date.now;
  }

  /** The same cluster, every request acting as `who` (Impersonate-User/-Group); caches are shared. */
  impersonating(who: Impersonation): ClientNodeKubeClient {
    return new ClientNodeKubeClient({ ...this.opts, impersonate: who }, this.state);
  }

  /**
   * GET /version once (no retry), within `timeoutMs`: `gitVersion` when the API server answered, or
   * why not. For reachability listings, which must not wait out the normal timeout and retry.
   */
  async version(timeoutMs: number): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
    try {
      const v = (await this.once('GET', new URL(`${this.server}/version`), 'GET /version', {}, timeoutMs)) as {
        gitVersion?: unknown;
      };
      return { ok: true, version: typeof v.gitVersion === 'string' ? v.gitVersion.slice(0, 64) : 'unknown' };
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      return { ok: false, reason: err.reason === 'Timeout' ? `no answer within ${timeoutMs} ms` : err.message };
    }
  }

  /** The next request builds a fresh connection pool with the TLS material as it is now. */
  private dropDispatcher(): void {
    const cached = this.state.dispatcher;
    this.state.dispatcher = undefined;
    if (cached) void closeLater(cached.value);
  }

  private async request(
    method: Http,
    path: string,
    opts: {
      query?: Record<string, string | undefined>;
      body?: unknown;
      contentType?: string;
      accept?: string;
      text?: boolean;
    } = {},
  ): Promise<unknown> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const call = `${method} ${path}`;
    // Reads are idempotent: one retry on a transient failure. Writes are never retried here.
    const attempts = method === 'GET' ? 2 : 1;
    let last: KubeApiError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return await this.once(method, url, call, opts);
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        last = err;
        const transient = err.status === 0 || err.status === 429 || err.status >= 500;
        if (!transient || attempt === attempts || err.reason === 'Timeout') throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    throw last as KubeApiError;
  }

  private async once(
    method: Http,
    url: URL,
    call: string,
    opts: { body?: unknown; contentType?: string; accept?: string; text?: boolean },
    timeoutMs = this.timeoutMs,
  ): Promise<unknown> {
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    ctx.setHeaderParam('Accept', opts.accept ?? 'application/json');
    if (this.impersonate) {
      ctx.setHeaderParam('Impersonate-User', this.impersonate.user);
      const [group] = this.impersonate.groups;
      if (group) ctx.setHeaderParam('Impersonate-Group', group);
    }
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    }
    ctx.setSignal(AbortSignal.timeout(timeoutMs));
    let status: number;
    let text: string;
    try {
      await this.kc.applySecurityAuthentication(ctx);
    } catch (err) {
      // A credential plugin (aws eks get-token, gke-gcloud-auth-plugin) that fails is not the API
      // server being down: say so, and do not retry it as a transient failure.
      throw new KubeApiError({
        cluster: this.cluster,
        call,
        status: 401,
        reason: 'CredentialsUnavailable',
        message: `the kubeconfig's credentials for this cluster could not be obtained (${(err as Error).message.slice(0, 300)}); check the local cloud login (e.g. aws sso login, gcloud auth login) or the kubeconfig user`,
      });
    }
    try {
      const cached = this.state.dispatcher;
      if (cached && this.now() - cached.at < DISPATCHER_MAX_AGE_MS) ctx.setDispatcher(cached.value);
      else {
        const fresh = ctx.getDispatcher();
        // Used for this request too, so the pool kept is the one that opened the connection.
        if (fresh) ctx.setDispatcher(fresh);
        this.state.dispatcher = fresh ? { value: fresh, at: this.now() } : undefined;
        if (cached) void closeLater(cached.value);
      }
      const res = await this.http.send(ctx).toPromise();
      status = res.httpStatusCode;
      text = await res.body.text();
      if (status === 401) this.dropDispatcher();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (isTlsFailure(e)) this.dropDispatcher();
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new KubeApiError({
          cluster: this.cluster,
          call,
          status: 0,
          reason: 'Timeout',
          message: `no answer from the API server within ${timeoutMs} ms`,
        });
      }
      const cause = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new KubeApiError({
        cluster: this.cluster,
        call,
        status: 0,
        reason: 'Unreachable',
        message: `cannot reach the API server at ${this.server} (${cause})`,
      });
    }
    if (status >= 200 && status < 300) {
      if (opts.text) return text;
      try {
        return text ? JSON.parse(text) : {};
      } catch {
        throw new KubeApiError({
          cluster: this.cluster,
          call,
          status,
          reason: 'BadResponse',
          message: 'the API server answered with invalid JSON',
        });
      }
    }
    let parsed: { message?: string; reason?: string; details?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = { message: text.slice(0, 300) };
    }
    throw new KubeApiError({
      cluster: this.cluster,
      call,
      status,
      reason: parsed.reason ?? httpReason(status),
      // The API server's message can quote the request (a 4 KiB selector): bounded, as every echo is.
      message: `${status} ${parsed.reason ?? httpReason(status)}: ${quoted(String(parsed.message ?? 'no message'), API_MESSAGE_CHARS)}`,
      details: parsed.details,
    });
  }

  async resources(opts: { refresh?: boolean } = {}): Promise<ResourceInfo[]> {
    const cached = this.state.discovery;
    if (!opts.refresh && cached && this.now() - cached.at < this.discoveryTtlMs) {
      return cached.resources;
    }
    const resources = this.discover();
    this.state.discovery = { at: this.now(), resources };
    resources.catch(() => {
      if (this.state.discovery?.resources === resources) this.state.discovery = undefined;
    });
    return resources;
  }

  private async discover(): Promise<ResourceInfo[]> {
    const core = (await this.request('GET', '/api/v1')) as ApiResourceList;
    const groups = (await this.request('GET', '/apis')) as {
      groups?: Array<{
        name: string;
        preferredVersion?: { groupVersion: string };
        versions: Array<{ groupVersion: string }>;
      }>;
    };
    const lists: Array<{ group: string; version: string; list: ApiResourceList }> = [
      { group: '', version: 'v1', list: core },
    ];
    const pending = (groups.groups ?? []).map(async (g) => {
      const gv = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
      if (!gv) return;
      try {
        const list = (await this.request('GET', `/apis/${gv}`)) as ApiResourceList;
        lists.push({ group: g.name, version: gv.split('/')[1] ?? '', list });
      } catch (err) {
        // An aggregated API that is down or hangs (a broken metrics-server), or a group removed between
        // the two calls (a CRD deleted while an operator is uninstalled) must not break discovery.
        if (!(err instanceof KubeApiError)) throw err;
        if (err.status !== 0 && err.status !== 404 && err.status < 500) throw err;
      }
    });
    await Promise.all(pending);
    const out: ResourceInfo[] = [];
    for (const { group, version, list } of lists) {
      const subs = new Map<string, string[]>();
      for (const r of list.resources ?? []) {
        const [base, sub] = r.name.split('/');
        if (sub && base) subs.set(base, [...(subs.get(base) ?? []), sub]);
      }
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue;
        out.push({
          group,
          version,
          apiVersion: group ? `${group}/${version}` : version,
          kind: r.kind,
          plural: r.name,
          singular: r.singularName || r.kind.toLowerCase(),
          namespaced: r.namespaced,
          verbs: r.verbs ?? [],
          shortNames: r.shortNames ?? [],
          subresources: subs.get(r.name) ?? [],
        });
      }
    }
    return out.sort((a, b) => a.apiVersion.localeCompare(b.apiVersion) || a.plural.localeCompare(b.plural));
  }

  async resolve(kindOrName: string, apiVersion?: string): Promise<ResourceInfo> {
    const find = (all: ResourceInfo[]) => {
      const needle = kindOrName.toLowerCase();
      const [plainName, groupHint] = needle.includes('.')
        ? [needle.split('.')[0] as string, needle.slice(needle.indexOf('.') + 1)]
        : [needle, undefined];
      const candidates = all.filter(
        (r) =>
          (!apiVersion || r.apiVersion === apiVersion) &&
          (!groupHint || r.group === groupHint || r.group.startsWith(`${groupHint}.`)) &&
          (r.kind.toLowerCase() === plainName ||
            r.plural === plainName ||
            r.singular === plainName ||
            r.shortNames.includes(plainName)),
      );
      // Prefer core and well-known groups when a kind exists twice (Event in v1 and events.k8s.io).
      return candidates.sort((a, b) => preference(a) - preference(b))[0];
    };
    let found = find(await this.resources());
    if (!found) found = find(await this.resources({ refresh: true }));
    if (!found) {
      throw new KubeApiError({
        cluster: this.cluster,
        call: 'discovery',
        status: 404,
        reason: 'NotFound',
        message: `no resource type "${quoted(kindOrName)}"${apiVersion ? ` in ${quoted(apiVersion)}` : ''}; k8s_api_resources_list shows what this cluster serves`,
      });
    }
    return found;
  }

  private path(res: ResourceInfo, namespace?: string, name?: string, sub?: string): string {
    const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
    const ns = res.namespaced && namespace ? `/namespaces/${this.segment('namespace', namespace)}` : '';
    const n = name !== undefined ? `/${this.segment('name', name)}` : '';
    const s = sub ? `/${sub}` : '';
    return `${base}${ns}/${res.plural}${n}${s}`;
  }

  /** The path of one object: a call on an object must never become a call on its collection. */
  private objectPath(res: ResourceInfo, namespace: string | undefined, name: string, sub?: string): string {
    if (typeof name !== 'string') this.segment('name', '');
    return this.path(res, namespace, name, sub);
  }

  /**
   * A name or namespace as one path segment, refused when the API server would read it as another
   * path (apimachinery's IsValidPathSegmentName): `.` and `..` collapse into the collection or its
   * parent, and `/` or `%` would reach another resource.
   */
  private segment(what: 'name' | 'namespace', value: string): string {
    if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('%')) {
      throw new KubeApiError({
        cluster: this.cluster,
        call: 'request',
        status: 400,
        reason: 'BadRequest',
        message: `invalid ${what} ${JSON.stringify(value)}: a ${what} may not be empty, "." or "..", or contain "/" or "%"`,
      });
    }
    return encodeURIComponent(value);
  }

  async list(res: ResourceInfo, opts: ListOptions = {}): Promise<ListResult> {
    const out = (await this.request('GET', this.path(res, opts.namespace), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit !== undefined ? String(opts.limit) : undefined,
        continue: opts.continue,
      },
    })) as {
      items?: KubeObject[];
      metadata?: { continue?: string; remainingItemCount?: number; resourceVersion?: string };
    };
    const items = (out.items ?? []).map((i) => ({ apiVersion: res.apiVersion, kind: res.kind, ...i }));
    return {
      items,
      ...(out.metadata?.continue ? { continue: out.metadata.continue } : {}),
      ...(out.metadata?.remainingItemCount !== undefined
        ? { remainingItemCount: out.metadata.remainingItemCount }
        : {}),
      ...(out.metadata?.resourceVersion ? { resourceVersion: out.metadata.resourceVersion } : {}),
    };
  }

  async get(res: ResourceInfo, name: string, namespace?: string): Promise<KubeObject> {
    return (await this.request('GET', this.objectPath(res, namespace, name))) as KubeObject;
  }

  async create(res: ResourceInfo, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    return (await this.request('POST', this.path(res, obj.metadata?.namespace), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER, dryRun: opts.dryRun ? 'All' : undefined },
    })) as KubeObject;
  }

  async apply(res: ResourceInfo, obj: KubeObject, opts: WriteOptions & { force?: boolean } = {}): Promise<KubeObject> {
    const name = obj.metadata?.name;
    if (!name) throw new Error('server-side apply needs metadata.name');
    // A resourceVersion in the applied configuration is a precondition (server-side apply docs).
    const body = opts.precondition
      ? {
          ...obj,
          metadata: {
            ...obj.metadata,
            resourceVersion: obj.metadata?.resourceVersion ?? opts.precondition.resourceVersion,
          },
        }
      : obj;
    return (await this.request('PATCH', this.path(res, obj.metadata?.namespace, name), {
      body,
      contentType: PATCH_CONTENT_TYPES.apply,
      query: {
        fieldManager: FIELD_MANAGER,
        force: opts.force ? 'true' : undefined,
        dryRun: opts.dryRun ? 'All' : undefined,
      },
    })) as KubeObject;
  }

  async patch(
    res: ResourceInfo,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    opts: WriteOptions & { subresource?: string } = {},
  ): Promise<KubeObject> {
    return (await this.request('PATCH', this.objectPath(res, namespace, name, opts.subresource), {
      body: opts.precondition ? pinnedPatch(patch, type, opts.precondition) : patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: FIELD_MANAGER, dryRun: opts.dryRun ? 'All' : undefined },
    })) as KubeObject;
  }

  async replace(res: ResourceInfo, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const name = obj.metadata?.name;
    if (!name) throw new Error('replace needs metadata.name');
    return (await this.request('PUT', this.path(res, obj.metadata?.namespace, name), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER, dryRun: opts.dryRun ? 'All' : undefined },
    })) as KubeObject;
  }

  async delete(
    res: ResourceInfo,
    name: string,
    namespace: string | undefined,
    opts: WriteOptions & { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {},
  ): Promise<KubeObject> {
    return (await this.request('DELETE', this.objectPath(res, namespace, name), {
      query: { dryRun: opts.dryRun ? 'All' : undefined, propagationPolicy: opts.propagationPolicy ?? 'Background' },
      ...(opts.precondition
        ? {
            body: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              preconditions: {
                resourceVersion: opts.precondition.resourceVersion,
                ...(opts.precondition.uid ? { uid: opts.precondition.uid } : {}),
              },
            },
          }
        : {}),
    })) as KubeObject;
  }

  async getSubresource(
    res: ResourceInfo,
    name: string,
    namespace: string | undefined,
    sub: string,
  ): Promise<KubeObject> {
    return (await this.request('GET', this.objectPath(res, namespace, name, sub))) as KubeObject;
  }

  async podLogs(namespace: string, pod: string, opts: LogOptions = {}): Promise<string> {
    return (await this.request(
      'GET',
      `/api/v1/namespaces/${this.segment('namespace', namespace)}/pods/${this.segment('name', pod)}/log`,
      {
        // The API server negotiates against its serializers (JSON, YAML, protobuf), not against the
        // text/plain this subresource returns: `Accept: text/plain` is 406 NotAcceptable on real
        // clusters (kubernetes/kubernetes#61450). `*/*` is accepted and the body stays plain text.
        accept: '*/*',
        text: true,
        query: {
          container: opts.container,
          tailLines: opts.tailLines !== undefined ? String(opts.tailLines) : undefined,
          sinceSeconds: opts.sinceSeconds !== undefined ? String(opts.sinceSeconds) : undefined,
          previous: opts.previous ? 'true' : undefined,
          limitBytes: opts.limitBytes !== undefined ? String(opts.limitBytes) : undefined,
          timestamps: opts.timestamps ? 'true' : undefined,
        },
      },
    )) as string;
  }

  async getPath(path: string, query?: Record<string, string>): Promise<KubeObject> {
    return (await this.request('GET', path, query ? { query } : {})) as KubeObject;
  }
}

/**
 * The patch with the precondition in it, as the API server reads one: a resourceVersion in the
 * patched object must equal the stored one, or the update fails with 409 Conflict ("the object has
 * been modified"). Merge and strategic patches (and a Scale) carry it in metadata; a JSON patch
 * replaces /metadata/resourceVersion first. (A JSON patch `test` op would fail with an opaque 422
 * Invalid instead of a Conflict.)
 */
function pinnedPatch(patch: unknown, type: PatchType, pin: Precondition): unknown {
  if (type === 'json') {
    if (!Array.isArray(patch)) return patch;
    return [{ op: 'replace', path: '/metadata/resourceVersion', value: pin.resourceVersion }, ...patch];
  }
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const p = patch as Record<string, unknown>;
  const meta = (p.metadata && typeof p.metadata === 'object' && !Array.isArray(p.metadata) ? p.metadata : {}) as Record<
    string,
    unknown
  >;
  // A resourceVersion the caller put in the patch is its own precondition: the server checks that one.
  return { ...p, metadata: { ...meta, resourceVersion: meta.resourceVersion ?? pin.resourceVersion } };
}

interface ApiResourceList {
  resources?: Array<{
    name: string;
    singularName?: string;
    kind: string;
    namespaced: boolean;
    verbs?: string[];
    shortNames?: string[];
  }>;
}

function preference(r: ResourceInfo): number {
  if (r.group === '') return 0;
  if (r.group === 'apps' || r.group === 'batch') return 1;
  if (!r.group.includes('.')) return 2;
  if (r.group.endsWith('.k8s.io')) return 3;
  return 4;
}

function httpReason(status: number): string {
  return (
    (
      {
        400: 'BadRequest',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'NotFound',
        405: 'MethodNotAllowed',
        409: 'Conflict',
        410: 'Gone',
        422: 'Invalid',
        429: 'TooManyRequests',
        500: 'InternalError',
        503: 'ServiceUnavailable',
        504: 'Timeout',
      } as Record<number, string>
    )[status] ?? `HTTP${status}`
  );
}

/** How long one connection pool (and the TLS material it was built with) serves a cluster. */
const DISPATCHER_MAX_AGE_MS = 5 * 60_000;

/** Closes a replaced pool once its requests in flight are done (undici's close waits for them). */
async function closeLater(dispatcher: unknown): Promise<void> {
  const d = dispatcher as { close?: () => Promise<void> } | undefined;
  await d?.close?.().catch(() => {});
}

function isTlsFailure(e: Error & { cause?: { code?: string } }): boolean {
  const code = e.cause?.code ?? '';
  return /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_)/.test(code) || code === 'ECONNRESET';
}

/**
 * An impersonation as HTTP headers can carry it: a user name and group names of printable
 * characters (no CR/LF or other controls), bounded. A subject that cannot be sent is refused here,
 * before any request, rather than sent as someone else. At most one group: the API server reads one
 * group per header line (kubectl --as-group sends a line each), and fetch joins repeated headers into
 * one comma-separated line, which would name a single group "a, b".
 */
function checkedImpersonation(who: Impersonation): Impersonation {
  const ok = (v: string) => v.length > 0 && v.length <= 512 && !/[\p{Cc}]/u.test(v) && v.trim() === v;
  if (who.groups.length > 1) throw new Error('impersonation carries at most one group (one header line)');
  if (!ok(who.user) || !who.groups.every(ok)) {
    throw new KubeApiError({
      cluster: 'impersonation',
      call: 'impersonate',
      status: 400,
      reason: 'BadRequest',
      message:
        'the caller cannot be impersonated: its subject or a group is empty, too long, or has control characters',
    });
  }
  return { user: who.user, groups: [...who.groups] };
}
