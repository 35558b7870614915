// HTTP front end: auth, failure injection, request log, URL routing and response encoding.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import { checkBodyFields, parseFieldValidation } from './fields.ts';
import { asNumber, asRecord, asString, getIn, isRecord, timestamp } from './json.ts';
import { podLog } from './logs.ts';
import { managerName } from './managed-fields.ts';
import { isRunning, nodeMetrics, podMetrics } from './metrics.ts';
import { bodyFormat, negotiateOutput, type OutputFormat } from './negotiation.ts';
import type { DeleteOptions, ObjectService, WriteContext } from './object-service.ts';
import { patchObject } from './patch-request.ts';
import type { ResourceRegistry } from './resources.ts';
import { patchScale, replaceScale, scaleOf } from './scale.ts';
import { matchesPredicate } from './selectors.ts';
import {
  badRequest,
  failure,
  invalid,
  KubeApiError,
  methodNotAllowed,
  notFound,
  reasonForCode,
  resourceNotServed,
} from './status.ts';
import type { KubeObject, ResourceType } from './types.ts';
import { parseWatchRv, serveWatch } from './watch.ts';

export interface FailureRule {
  method?: string;
  /** Tested against the request path without the query string. */
  pathPattern?: RegExp;
  /** Tested against the query string (without `?`), e.g. to spare dry runs: /^(?!.*dryRun)/. */
  queryPattern?: RegExp;
  status?: number;
  /** How many matching requests the rule affects (default 1; Infinity allowed). */
  times?: number;
  delayMs?: number;
  message?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  status: number;
  /** Who the request acted as once authenticated (the impersonated user when it impersonated). */
  user?: string;
  /** The impersonated groups (Impersonate-Group), when it impersonated. */
  groups?: string[];
  /** The authenticated user behind an impersonated request. */
  impersonatedBy?: string;
}

/** A bearer token the fake accepts: the user it authenticates as, and whether that user may impersonate. */
export interface TokenUser {
  user: string;
  /** RBAC's `impersonate` verb on users and groups (cluster-admin has it). */
  canImpersonate: boolean;
}

/**
 * The authorizer's say on one request after authentication (and impersonation): undefined allows,
 * a string refuses with 403 and that reason. Absent: everything is allowed, as for cluster-admin.
 */
export type Authorize = (who: { user: string; groups: string[] }, method: string, path: string) => string | undefined;

const MAX_BODY_BYTES = 3 * 1024 * 1024;

const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T07:28:49Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

class NotFoundPage extends Error {}

interface Routed {
  status: number;
  body: unknown;
  warnings?: string[];
}

interface Route {
  rt: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

export class ApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly service: ObjectService;
  private readonly registry: ResourceRegistry;
  private readonly tokens: Map<string, TokenUser>;
  private readonly authorize: Authorize | undefined;
  private readonly server: Server;
  private failures: Array<FailureRule & { remaining: number }> = [];
  private readonly watches = new Set<() => void>();
  private readonly closing = new AbortController();
  private readonly namespaceTerminationMs: number;
  private readonly terminations = new Map<() => void, NodeJS.Timeout>();
  private address = '';

  constructor(deps: {
    service: ObjectService;
    token: string;
    namespaceTerminationMs?: number;
    /** More tokens than `token` (which authenticates as `fake-admin`, allowed to impersonate). */
    tokens?: Record<string, TokenUser>;
    authorize?: Authorize;
  }) {
    this.namespaceTerminationMs = deps.namespaceTerminationMs ?? 0;
    this.service = deps.service;
    this.registry = deps.service.registry;
    this.tokens = new Map([
      [deps.token, { user: 'fake-admin', canImpersonate: true }],
      ...Object.entries(deps.tokens ?? {}),
    ]);
    this.authorize = deps.authorize;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        console.error('fake-kube: request handling failed', err);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.address = `127.0.0.1:${port}`;
    return `http://${this.address}`;
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const timer of this.terminations.values()) clearTimeout(timer);
    this.terminations.clear();
    for (const stop of [...this.watches]) stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  injectFailure(rule: FailureRule): void {
    this.failures.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clearFailures(): void {
    this.failures = [];
  }

  private takeFailure(method: string, path: string, query: string): FailureRule | undefined {
    const rule = this.failures.find(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.pathPattern || f.pathPattern.test(path)) &&
        (!f.queryPattern || f.queryPattern.test(query)),
    );
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.failures = this.failures.filter((f) => f !== rule);
    return rule;
  }

  /** Injected latency; cut short when the client disconnects or the server closes. */
  private delay(ms: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        res.off('close', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      res.on('close', done);
      this.closing.signal.addEventListener('abort', done);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-kube');
    const method = (req.method ?? 'GET').toUpperCase();
    let acting: Pick<RequestRecord, 'user' | 'groups' | 'impersonatedBy'> = {};
    const record = (status: number): void => {
      this.requests.push({ method, path: url.pathname, query: url.search.replace(/^\?/, ''), status, ...acting });
    };
    const sendJson = (status: number, body: unknown): void => {
      record(status);
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const sendYaml = (status: number, body: unknown): void => {
      record(status);
      const text = stringifyYaml(body);
      res.writeHead(status, { 'Content-Type': 'application/yaml', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const sendText = (status: number, text: string): void => {
      record(status);
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const sendError = (err: KubeApiError): void => {
      const headers: Record<string, string> = {};
      const retry = err.status.details?.retryAfterSeconds;
      if (retry !== undefined) headers['Retry-After'] = String(retry);
      record(err.code);
      const text = JSON.stringify(err.status);
      res.writeHead(err.code, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };

    try {
      const injected = this.takeFailure(method, url.pathname, url.search.replace(/^\?/, ''));
      if (injected?.delayMs) await this.delay(injected.delayMs, res);
      if (res.destroyed) {
        record(0);
        return;
      }
      if (injected?.status !== undefined) throw injectedError(injected);
      const auth = req.headers.authorization;
      const tokenUser = auth?.startsWith('Bearer ') ? this.tokens.get(auth.slice('Bearer '.length)) : undefined;
      if (!tokenUser) {
        throw failure(401, 'Unauthorized', 'Unauthorized');
      }
      acting = { user: tokenUser.user };
      acting = { ...acting, ...impersonation(req, tokenUser) };
      const denied = this.authorize?.(
        { user: acting.user as string, groups: acting.groups ?? [] },
        method,
        url.pathname,
      );
      if (denied !== undefined) throw failure(403, denied, 'Forbidden');
      // Negotiated before the body is read, as the real handlers do (406 NotAcceptable).
      const apiPath = /^\/apis?(\/|$)/.test(url.pathname);
      const format: OutputFormat = apiPath ? negotiateOutput(req.headers.accept) : 'json';
      if (format === 'protobuf' && !url.pathname.endsWith('/log')) {
        // A real server would answer protobuf; the fake cannot, and says so rather than send JSON.
        throw failure(406, 'fake-kube cannot encode application/vnd.kubernetes.protobuf; ask for application/json');
      }
      const body = await readBody(req);
      const result = this.route(req, res, method, url, body);
      if (result === 'streaming') {
        record(200);
        return;
      }
      // `Warning: 299 - "unknown field ..."` headers, as the server sends them (fieldValidation=Warn).
      if (result.warnings?.length) res.setHeader('Warning', result.warnings);
      if (typeof result.body === 'string') sendText(result.status, result.body);
      else if (format === 'yaml') sendYaml(result.status, result.body);
      else sendJson(result.status, result.body);
    } catch (err) {
      if (err instanceof KubeApiError) sendError(err);
      else if (err instanceof NotFoundPage) sendText(404, '404 page not found\n');
      else {
        console.error('fake-kube: internal error', err);
        sendError(
          failure(500, `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, 'InternalError'),
        );
      }
    }
  }

  private route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: string,
  ): Routed | 'streaming' {
    const segments = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
    const [root, group, version, ...rest] = segments;
    if (segments.length === 0)
      return {
        status: 200,
        body: { paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz', '/version'] },
      };
    if (segments.length === 1 && (root === 'healthz' || root === 'livez' || root === 'readyz'))
      return { status: 200, body: 'ok' };
    if (segments.length === 1 && root === 'version') return { status: 200, body: VERSION_INFO };
    if (root === 'api') {
      if (segments.length === 1) return { status: 200, body: apiVersions(this.address) };
      if (group !== 'v1') throw new NotFoundPage();
      const resourcePath = segments.slice(2);
      if (resourcePath.length === 0) return { status: 200, body: apiResourceList(this.registry, '', 'v1') };
      return this.resource(req, res, method, url, body, '', 'v1', resourcePath);
    }
    if (root === 'apis') {
      if (segments.length === 1) return { status: 200, body: apiGroupList(this.registry) };
      const g = group ?? '';
      if (version === undefined) {
        const doc = apiGroup(this.registry, g);
        if (!doc) throw new NotFoundPage();
        return { status: 200, body: doc };
      }
      if (!this.registry.hasGroupVersion(g, version)) throw new NotFoundPage();
      if (rest.length === 0) return { status: 200, body: apiResourceList(this.registry, g, version) };
      return this.resource(req, res, method, url, body, g, version, rest);
    }
    throw new NotFoundPage();
  }

  private parseRoute(group: string, version: string, parts: string[]): Route {
    let namespace: string | undefined;
    let rest = parts;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      const candidate = this.registry.find(group, version, parts[2] ?? '');
      if (candidate?.namespaced) {
        namespace = parts[1];
        rest = parts.slice(2);
      }
    }
    const [plural, name, subresource, ...extra] = rest;
    const rt = this.registry.find(group, version, plural ?? '');
    if (!rt || extra.length > 0) throw resourceNotServed();
    if (name !== undefined && rt.namespaced && namespace === undefined) throw new NotFoundPage();
    if (subresource !== undefined && !rt.subresources.some((s) => s.name === subresource)) throw resourceNotServed();
    return { rt, namespace, name, subresource };
  }

  private resource(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: string,
    group: string,
    version: string,
    parts: string[],
  ): Routed | 'streaming' {
    const route = this.parseRoute(group, version, parts);
    const { rt, namespace, name, subresource } = route;
    const q = url.searchParams;
    if (rt.virtual === 'metrics') return this.metrics(method, route, q);
    const ctx: WriteContext = {
      origin: 'api',
      manager: managerName(q.get('fieldManager'), req.headers['user-agent']),
      dryRun: parseDryRun(q, method),
    };
    const svc = this.service;
    if (name === undefined) {
      if (method === 'GET') {
        const watch = q.get('watch');
        if (watch === 'true' || watch === '1') {
          const predicate = svc.predicate(rt, q.get('labelSelector'), q.get('fieldSelector'));
          parseWatchRv(q.get('resourceVersion'));
          const timeout = asNumber(Number(q.get('timeoutSeconds') ?? Number.NaN));
          const stop = serveWatch(res, svc, {
            rt,
            namespace,
            predicate,
            resourceVersion: q.get('resourceVersion'),
            timeoutSeconds: timeout,
            allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          });
          this.watches.add(stop);
          res.on('close', () => this.watches.delete(stop));
          return 'streaming';
        }
        const limit = Number(q.get('limit') ?? Number.NaN);
        return {
          status: 200,
          body: svc.list(rt, namespace, {
            labelSelector: q.get('labelSelector'),
            fieldSelector: q.get('fieldSelector'),
            ...(Number.isInteger(limit) && limit > 0 ? { limit } : {}),
            continueToken: q.get('continue'),
          }),
        };
      }
      if (method === 'POST') {
        if (rt.namespaced && namespace === undefined) throw methodNotAllowed();
        const object = parseObjectBody(req, body);
        const warnings = checkBodyFields(rt, object, parseFieldValidation(q.get('fieldValidation')));
        const created = svc.create(rt, namespace, object, ctx);
        return { status: 201, body: svc.present(rt, created), warnings };
      }
      if (method === 'DELETE') {
        const query = { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') };
        return { status: 200, body: svc.deleteCollection(rt, namespace, query, deleteOptions(q, body), ctx) };
      }
      throw methodNotAllowed();
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed();
      return { status: 200, body: podLog(svc.get(rt, namespace, name), q) };
    }
    if (subresource === 'scale') {
      if (method === 'GET') return { status: 200, body: scaleOf(rt, svc.get(rt, namespace, name)) };
      if (method === 'PUT')
        return { status: 200, body: replaceScale(svc, rt, namespace, name, parseObjectBody(req, body), ctx) };
      if (method === 'PATCH')
        return { status: 200, body: patchScale(svc, rt, namespace, name, patchParams(req, q, body), ctx) };
      throw methodNotAllowed();
    }
    const statusSub = subresource === 'status' ? ('status' as const) : undefined;
    switch (method) {
      case 'GET':
        return { status: 200, body: svc.present(rt, svc.get(rt, namespace, name)) };
      case 'PUT': {
        const opts = statusSub ? { subresource: statusSub } : {};
        const object = parseObjectBody(req, body);
        const warnings = checkBodyFields(rt, object, parseFieldValidation(q.get('fieldValidation')));
        return {
          status: 200,
          body: svc.present(rt, svc.replace(rt, namespace, name, object, ctx, opts)),
          warnings,
        };
      }
      case 'PATCH': {
        const result = patchObject(svc, rt, namespace, name, patchParams(req, q, body), ctx, statusSub);
        return { status: result.created ? 201 : 200, body: svc.present(rt, result.object) };
      }
      case 'DELETE':
        if (statusSub) throw methodNotAllowed();
        checkNamespaceDelete(rt, name);
        if (rt.group === '' && rt.plural === 'namespaces')
          return { status: 200, body: this.terminateNamespace(rt, name, deleteOptions(q, body), ctx) };
        return { status: 200, body: svc.delete(rt, namespace, name, deleteOptions(q, body), ctx) };
      default:
        throw methodNotAllowed();
    }
  }

  /**
   * DELETE of a Namespace as a real server does it: the namespace turns Terminating (deletionTimestamp,
   * the `kubernetes` finalizer) and stays while the namespace controller empties it, here for
   * `namespaceTerminationMs`; meanwhile creates in it are 403 (NamespaceLifecycle) and a second delete
   * is 409. Preconditions and dry run are handled by the generic delete.
   */
  private terminateNamespace(rt: ResourceType, name: string, opts: DeleteOptions, ctx: WriteContext): unknown {
    const svc = this.service;
    const current = svc.get(rt, undefined, name);
    if (current.metadata.deletionTimestamp) {
      throw failure(
        409,
        `Operation cannot be fulfilled on namespaces "${name}": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.`,
        'Conflict',
        { name, kind: 'namespaces' },
      );
    }
    const answer = svc.delete(rt, undefined, name, opts, { ...ctx, dryRun: true });
    if (ctx.dryRun) return answer;
    const next = structuredClone(current);
    next.metadata.deletionTimestamp = timestamp();
    next.spec = { ...(asRecord(next.spec) ?? {}), finalizers: ['kubernetes'] };
    next.status = { ...(asRecord(next.status) ?? {}), phase: 'Terminating' };
    const stored = svc.store.update(rt.storage, svc.keyOf(rt, undefined, name), next, ctx.origin);
    const finish = (): void => {
      clearTimeout(timer);
      this.terminations.delete(finish);
      const live = svc.find(rt, undefined, name);
      if (live && live.metadata.uid === current.metadata.uid) svc.removeWithDependents(rt, live, 'Background', 'api');
    };
    const timer = setTimeout(finish, this.namespaceTerminationMs);
    timer.unref();
    this.terminations.set(finish, timer);
    return svc.present(rt, stored);
  }

  /** Ends every namespace termination now, as if the namespace controller had caught up. */
  finishNamespaceTerminations(): void {
    for (const finish of [...this.terminations.keys()]) finish();
  }

  private metrics(method: string, route: Route, q: URLSearchParams): { status: number; body: unknown } {
    if (method !== 'GET' || q.get('watch') === 'true' || q.get('watch') === '1') throw methodNotAllowed();
    const { rt, namespace, name } = route;
    const predicate = this.service.predicate(rt, q.get('labelSelector'), q.get('fieldSelector'));
    const podsRt = this.registry.resolve('pods');
    const nodesRt = this.registry.resolve('nodes');
    if (!podsRt || !nodesRt) throw resourceNotServed();
    const runningPods = (ns?: string) => this.service.store.list(podsRt.storage, ns).filter(isRunning);
    if (rt.plural === 'pods') {
      if (name !== undefined) {
        const pod = this.service.find(podsRt, namespace, name);
        if (!pod || !isRunning(pod))
          throw notFound({ plural: 'podmetrics', group: 'metrics.k8s.io' }, `${namespace}/${name}`);
        return { status: 200, body: podMetrics(pod) };
      }
      const items = runningPods(namespace)
        .filter((p) => matchesPredicate(predicate, p))
        .map((p) => podMetrics(p));
      return { status: 200, body: { kind: 'PodMetricsList', apiVersion: rt.apiVersion, metadata: {}, items } };
    }
    const podsOn = (node: KubeObject) =>
      runningPods().filter((p) => getIn(p, ['spec', 'nodeName']) === node.metadata.name);
    if (name !== undefined) {
      const node = this.service.find(nodesRt, undefined, name);
      if (!node) throw notFound({ plural: 'nodemetrics', group: 'metrics.k8s.io' }, name);
      return { status: 200, body: nodeMetrics(node, podsOn(node)) };
    }
    const items = this.service.store
      .list(nodesRt.storage)
      .filter((n) => matchesPredicate(predicate, n))
      .map((n) => nodeMetrics(n, podsOn(n)));
    return { status: 200, body: { kind: 'NodeMetricsList', apiVersion: rt.apiVersion, metadata: {}, items } };
  }
}

function injectedError(rule: FailureRule): KubeApiError {
  const code = rule.status ?? 500;
  const reason = reasonForCode(code);
  if (code === 500) return failure(500, rule.message ?? 'Internal error occurred: injected failure', reason, {});
  if (code === 429) {
    return failure(429, rule.message ?? 'Too many requests, please try again later.', reason, { retryAfterSeconds: 1 });
  }
  if (code === 503)
    return failure(503, rule.message ?? 'the server is currently unable to handle the request', reason, {});
  if (code === 504)
    return failure(504, rule.message ?? 'Timeout: request did not complete within requested timeout', reason, {});
  return failure(code, rule.message ?? `injected failure (${code})`, reason, {});
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw failure(413, 'Request entity too large: limit is 3145728', 'RequestEntityTooLarge');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseObjectBody(req: IncomingMessage, body: string): unknown {
  const format = bodyFormat(req.headers['content-type']);
  try {
    const parsed: unknown = format === 'yaml' ? parseYaml(body) : JSON.parse(body);
    if (!isRecord(parsed)) throw badRequest("Object 'Kind' is missing in the request body");
    return parsed;
  } catch (err) {
    if (err instanceof KubeApiError) throw err;
    throw badRequest(
      `couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function patchParams(req: IncomingMessage, q: URLSearchParams, body: string) {
  return { contentType: req.headers['content-type'], body, fieldManager: q.get('fieldManager'), force: q.get('force') };
}

const OPTIONS_KIND: Record<string, string> = {
  POST: 'CreateOptions',
  PUT: 'UpdateOptions',
  PATCH: 'PatchOptions',
  DELETE: 'DeleteOptions',
};

/**
 * `dryRun=All` or nothing. Anything else is what apimachinery's ValidateDryRun answers, wrapped by
 * the handler as 422 Invalid on the request's options kind:
 * `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"`.
 */
function parseDryRun(q: URLSearchParams, method: string): boolean {
  const values = q.getAll('dryRun');
  if (values.length === 0) return false;
  const kind = OPTIONS_KIND[method];
  if (values.some((v) => v !== 'All')) {
    if (!kind) return false; // reads ignore dryRun
    const list = `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
    throw invalid(kind, 'meta.k8s.io', '', [
      {
        field: 'dryRun',
        reason: 'FieldValueNotSupported',
        detail: `Unsupported value: ${list}: supported values: "All"`,
      },
    ]);
  }
  return kind !== undefined;
}

/** NamespaceLifecycle's immortal namespaces: deleting one is 403 (plugin/pkg/admission/namespace/lifecycle). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

function checkNamespaceDelete(rt: ResourceType, name: string): void {
  if (rt.group === '' && rt.plural === 'namespaces' && IMMORTAL_NAMESPACES.has(name)) {
    throw failure(403, `namespaces "${name}" is forbidden: this namespace may not be deleted`, 'Forbidden', {
      name,
      kind: 'namespaces',
    });
  }
}

function deleteOptions(q: URLSearchParams, body: string): DeleteOptions {
  const opts: DeleteOptions = {};
  let parsed: unknown;
  try {
    parsed = body.trim() ? JSON.parse(body) : undefined;
  } catch {
    throw badRequest('invalid DeleteOptions body');
  }
  const rec = asRecord(parsed);
  const policy = q.get('propagationPolicy') ?? asString(rec?.propagationPolicy);
  if (policy) {
    if (!['Orphan', 'Background', 'Foreground'].includes(policy))
      throw badRequest(`invalid propagationPolicy: ${policy}`);
    opts.propagationPolicy = policy;
  }
  if (rec?.orphanDependents === true || q.get('orphanDependents') === 'true') opts.propagationPolicy = 'Orphan';
  const grace = q.get('gracePeriodSeconds') ?? rec?.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && !Number.isNaN(Number(grace))) opts.gracePeriodSeconds = Number(grace);
  const pre = asRecord(rec?.preconditions);
  if (pre) {
    const preconditions: { resourceVersion?: string; uid?: string } = {};
    const rv = asString(pre.resourceVersion);
    const uid = asString(pre.uid);
    if (rv) preconditions.resourceVersion = rv;
    if (uid) preconditions.uid = uid;
    opts.preconditions = preconditions;
  }
  return opts;
}

/**
 * Impersonation as the API server's filter does it (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go):
 * one group per Impersonate-Group header line; groups without a user are refused; the authenticated
 * user needs the `impersonate` verb on `users` (and `groups`), else 403 with the server's wording.
 * The fake does not add `system:authenticated` to the groups it records.
 */
function impersonation(req: IncomingMessage, by: TokenUser): Pick<RequestRecord, 'user' | 'groups' | 'impersonatedBy'> {
  const user = req.headers['impersonate-user'];
  const groupLines = req.headersDistinct['impersonate-group'] ?? [];
  if (user === undefined) {
    if (groupLines.length > 0) {
      throw failure(
        500,
        `Internal error occurred: requested [${groupLines.map((g) => `{Group  ${g}}`).join(' ')}] without impersonating a user`,
        'InternalError',
      );
    }
    return {};
  }
  const name = Array.isArray(user) ? (user[0] ?? '') : user;
  if (!by.canImpersonate) {
    throw failure(
      403,
      `users "${name}" is forbidden: User "${by.user}" cannot impersonate resource "users" in API group "" at the cluster scope`,
      'Forbidden',
    );
  }
  return { user: name, groups: groupLines, impersonatedBy: by.user };
}
