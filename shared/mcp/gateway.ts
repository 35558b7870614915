import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AuthInfo,
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  isJsonContentType,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  McpServer,
  originValidationResponse,
  readRequestBody,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Deps } from '../app/deps.ts';
import { errorText } from '../domain/errors.ts';
import { canAccess } from '../domain/identity.ts';
import { ParseCache } from '../domain/input/index.ts';
import type { ToolRunner } from '../ports/tool-runner.ts';
import { listedAnnotations } from '../tools/common/annotations.ts';
import { Authenticator } from './auth.ts';
import type { CatalogTool } from './catalog.ts';
import { jsonSchemaValidator } from './json-schema-validator.ts';
import { isTransient, RETRY_AFTER_SECONDS } from './pressure.ts';
import { invalidMethodParams, invalidParams } from './protocol.ts';
import { attachTasks, type TaskEra, type TaskLayerOptions } from './tasks.ts';
import { auditCall, type CallState, installToolCall, type SealedState } from './tool-call.ts';

/**
 * The MCP endpoint without any tool implementation: protocol (both eras), Host/Origin, auth, roles,
 * tools/list from a catalog, the tool wrapper (audit, tasks) and tools/call through a ToolRunner. On
 * AWS the catalog is the build-time manifest and the runner invokes each tool's function
 * (functions/mcp.ts); endpoint.ts builds both from the tool definitions for one process.
 */
export interface GatewayOptions {
  deps: Deps;
  /** The tools served, in tools/list order. */
  catalog: readonly CatalogTool[];
  /** Runs a tools/call once the wrapper has decided it may run. */
  runner: ToolRunner;
  /** The conformance fixtures' prompts and resources (test-only, loopback hosts). */
  fixtures?: (server: McpServer) => void;
  /** Public URLs of the MCP endpoint; the first is the OAuth resource identifier. */
  publicUrls: URL[];
  /** Whether the host listens on loopback only (adds localhost names to the Host/Origin allow lists). */
  loopback: boolean;
  /** Bounds of the MCP tasks layer (shared/mcp/tasks.ts); the defaults suit API Gateway. */
  tasks?: TaskLayerOptions;
  /**
   * The key that seals multi-round-trip requestState (HMAC-SHA256, at least 32 bytes). Every instance
   * that may receive a retry must share it; the default, a random key per process, suits one process
   * (the local host). The Lambda gateway passes the key its instances share through the Store
   * (shared/app/repos/server-keys.ts).
   */
  requestStateKey?: Uint8Array;
  /**
   * The host can stream a response (the local host; API Gateway cannot, so the Lambda host leaves it
   * off). A call whose client asked for progress (`_meta.progressToken`) is then answered as an SSE
   * stream with its progress notifications; every other response stays one JSON body.
   */
  streaming?: boolean;
}

/** How long a client may take to answer a multi-round-trip request before its retry is refused. */
const REQUEST_STATE_TTL_SECONDS = 600;

export interface McpEndpoint {
  /** Serves one HTTP request: the MCP endpoint and the OAuth protected resource metadata. */
  fetch(request: Request, opts?: { requestId?: string }): Promise<Response>;
  close(): Promise<void>;
}

const TOOLS_LIST_TTL_MS = 300_000;

/** The fixture prompts and resources never change: public, like any constant. */
const FIXTURE_CACHE_HINTS = {
  'prompts/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' },
  'resources/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' },
  'resources/read': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'public' },
} as const;

const INSTRUCTIONS =
  'cloudops-mcp operates Kubernetes clusters and cloud infrastructure. Start with server_info. ' +
  'Read tools are safe; writes pass server-side guardrails and may need a human approval. ' +
  'Lists are paged: pass the returned continue/cursor value for more.';

const jsonRpcError = (status: number, code: number, message: string, id: unknown = null, data?: unknown) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });

/**
 * The answer to a request that failed on the server's side: 503 with Retry-After when the cause is
 * transient pressure (Store or API throttling, a reset, a timeout: see pressure.ts), so clients and
 * gateways retry it later; 500 only for a genuine fault. Neither carries internal details.
 */
function failureResponse(err: unknown, requestId: string, id: unknown): Response {
  if (isTransient(err)) {
    const res = jsonRpcError(
      503,
      -32000,
      `The server is busy (a store or API it depends on asked to slow down); retry in ${RETRY_AFTER_SECONDS} s (request ${requestId}).`,
      id,
    );
    res.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
    return res;
  }
  return jsonRpcError(500, -32603, `Internal error (request ${requestId}).`, id);
}

export function createGateway(opts: GatewayOptions): McpEndpoint {
  const { deps } = opts;
  const fixtures = opts.fixtures;
  const tools = opts.catalog;
  const log = deps.log;
  const canonical = opts.publicUrls[0];
  const mcpPath = canonical?.pathname && canonical.pathname !== '/' ? canonical.pathname.replace(/\/$/, '') : '/mcp';
  const prmPaths = new Set([
    '/.well-known/oauth-protected-resource',
    `/.well-known/oauth-protected-resource${mcpPath}`,
  ]);
  const resourceMetadataUrl =
    deps.config.oauth && canonical
      ? new URL(`/.well-known/oauth-protected-resource${mcpPath}`, canonical).href
      : undefined;
  const auth = new Authenticator(deps.config, deps.apiKeys, resourceMetadataUrl);
  const toolsByName = new Map(tools.map((t) => [t.name, t]));

  const publicHosts = opts.publicUrls.map((u) => (u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname));
  const allowedHosts = [...new Set([...publicHosts, ...(opts.loopback ? localhostAllowedHostnames() : [])])];
  const allowedOrigins = [
    ...new Set([...publicHosts, ...deps.config.allowedOrigins, ...(opts.loopback ? localhostAllowedOrigins() : [])]),
  ];

  /** Who asks, on which wire: what the tasks layer needs for one request. */
  const taskCaller = (state: CallState) => ({
    deps,
    identity: state.identity,
    requestId: state.requestId,
    era: state.era,
    log,
  });

  const factory = (ctx: { authInfo?: AuthInfo }) => {
    const state = ctx.authInfo?.extra?.state as CallState | undefined;
    if (!state) throw new Error('MCP request without an authenticated caller');
    return buildServer(state);
  };

  // Bound to the method and the caller: a state minted for one caller is refused from another.
  const stateCodec = createRequestStateCodec<SealedState>({
    key: opts.requestStateKey ?? randomBytes(32),
    ttlSeconds: REQUEST_STATE_TTL_SECONDS,
    bind: (ctx) => `${ctx.mcpReq.method}\0${ctx.http?.authInfo?.clientId ?? ''}`,
  });

  function buildServer(state: CallState): McpServer {
    const server = new McpServer(
      { name: 'cloudops-mcp', title: 'cloudops-mcp', version: deps.version },
      // A caller's tool list never changes while the process runs: promise no list_changed notifications,
      // and let 2026-07-28 clients keep it (and discovery) for 5 minutes instead of re-fetching per call.
      // Private: the list depends on the caller's roles.
      {
        capabilities: {
          tools: { listChanged: false },
          // The fixture prompts and resources never change either.
          ...(fixtures ? { prompts: { listChanged: false }, resources: { listChanged: false } } : {}),
        },
        instructions: INSTRUCTIONS,
        jsonSchemaValidator,
        cacheHints: {
          'tools/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'private' },
          'server/discover': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'private' },
          ...(fixtures ? FIXTURE_CACHE_HINTS : {}),
        },
      },
    );
    fixtures?.(server);
    for (const tool of tools) {
      // Tools the caller may not use do not exist for them in tools/list (a call still gets the role it needs).
      if (!canAccess(state.identity.roles, tool.access)) continue;
      // Registered for tools/list (schemas, annotations, execution); tools/call is the wrapper's (tool-call.ts).
      const registered = server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
          annotations: listedAnnotations(tool.annotations),
        },
        () => {
          throw new Error('tools/call is served by the tool wrapper');
        },
      );
      // tools/list shows it on 2025-11-25; the SDK drops `execution` on the 2026 wire.
      if (tool.taskSupport) registered.execution = { taskSupport: tool.taskSupport };
    }
    const caller = taskCaller(state);
    installToolCall(server, {
      deps,
      tools: toolsByName,
      runner: opts.runner,
      state,
      caller,
      stateCodec,
      streaming: opts.streaming === true,
    });
    attachTasks(server, caller, opts.tasks);
    return server;
  }

  /** The request being served, for the SDK's `onerror` reports (they arrive in the request's async context). */
  const current = new AsyncLocalStorage<CallState>();

  const modern = withConsoleWarnLogged(log, () =>
    createMcpHandler(factory, {
      legacy: 'reject',
      // 'auto' is one JSON body unless a handler sends a message before its result, which only a
      // progress report does, and only on a host that streams.
      responseMode: opts.streaming ? 'auto' : 'json',
      maxRequestBodySize: deps.config.maxBodyBytes,
      onerror: (err) => {
        // A refusal of the SDK's request ladder (headers, protocol version, envelope): kept for the
        // audit record of a tools/call that never reached the tool wrapper.
        const state = current.getStore();
        if (state && state.refusal === undefined) state.refusal = errorText(err).slice(0, 500);
        log.warn({ err: errorText(err) }, 'mcp protocol error');
      },
    }),
  );

  /** 2025-era clients: stateless, one server per request, JSON responses (no SSE, which API Gateway cannot stream). */
  async function serveLegacy(req: Request, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    const server = factory({ authInfo });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // This transport streams every response once JSON is off: only a call that asked for progress, on a host that streams.
      enableJsonResponse: !(opts.streaming && asksProgress(parsedBody)),
      maxRequestBodySize: deps.config.maxBodyBytes,
    });
    await server.connect(transport);
    let streamed = false;
    try {
      const res = await transport.handleRequest(req, { authInfo, parsedBody });
      if (res.body && isEventStream(res)) {
        // The call runs on while the stream is open: the server closes when the stream ends.
        streamed = true;
        const close = () => {
          void server.close().catch(() => {});
        };
        return new Response(onStreamEnd(res.body, close), res);
      }
      return res;
    } finally {
      if (!streamed) await server.close().catch(() => {});
    }
  }

  function protectedResourceMetadata(req: Request): Response {
    if (!deps.config.oauth || !canonical) return new Response('Not found', { status: 404 });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return new Response('Method not allowed', { status: 405, headers: { allow: 'GET' } });
    }
    const body = {
      resource: canonical.href,
      authorization_servers: [deps.config.oauth.issuer],
      scopes_supported: Object.keys(deps.config.oauth.scopeRoles),
      bearer_methods_supported: ['header'],
      resource_name: 'cloudops-mcp',
    };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    });
  }

  async function handle(req: Request, requestId: string): Promise<{ res: Response; caller?: string; rpc?: string }> {
    const url = new URL(req.url);
    if (prmPaths.has(url.pathname)) return { res: protectedResourceMetadata(req) };
    if (url.pathname !== mcpPath) return { res: new Response('Not found', { status: 404 }) };

    const rejected = hostHeaderValidationResponse(req, allowedHosts) ?? originValidationResponse(req, allowedOrigins);
    if (rejected) return { res: rejected };
    if (req.method !== 'POST') {
      const res = jsonRpcError(405, -32000, 'Method not allowed: this endpoint is stateless and takes POST only.');
      res.headers.set('allow', 'POST');
      return { res };
    }
    const authed = await auth.authenticate(req);
    if ('response' in authed) return { res: authed.response };
    const identity = authed.identity;

    if (!isJsonContentType(req.headers.get('content-type'))) {
      return {
        res: jsonRpcError(415, -32000, 'Unsupported Media Type: send Content-Type: application/json'),
        caller: identity.name,
      };
    }
    const body = await readRequestBody(req, deps.config.maxBodyBytes);
    if (body.tooLarge) {
      return {
        res: jsonRpcError(413, -32600, `Request body exceeds the ${deps.config.maxBodyBytes}-byte limit.`),
        caller: identity.name,
      };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return { res: jsonRpcError(400, -32700, 'Parse error: the body is not valid JSON.'), caller: identity.name };
    }
    // One message per request. A batch would carry tools/calls past the per-call role check and audit
    // record below; MCP dropped batching in 2025-06-18, and no client this server serves needs it.
    if (Array.isArray(parsed)) {
      return {
        res: jsonRpcError(
          400,
          -32600,
          'Invalid Request: JSON-RPC batches are not supported; send one message per HTTP request.',
        ),
        caller: identity.name,
      };
    }
    const message = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    // Capped: it goes into every request's log line, and the caller chose it.
    const rpc = typeof message?.method === 'string' ? message.method.slice(0, 100) : undefined;
    const params = (message?.params ?? {}) as { name?: unknown; arguments?: unknown };
    // A tools/call without an id is a notification: nothing runs it, so it is neither checked nor audited.
    const isRequest = message !== undefined && 'id' in message;
    const toolName = isRequest && rpc === 'tools/call' && typeof params.name === 'string' ? params.name : undefined;
    const startedAt = deps.clock.now();

    const forward = new Request(req.url, { method: 'POST', headers: req.headers, body: body.text });
    const era: TaskEra = (await isLegacyRequest(forward.clone(), parsed)) ? 'legacy' : 'modern';
    const state: CallState = { identity, requestId, era, parsed: new ParseCache() };
    const caller = { caller: identity.name, ...(rpc ? { rpc } : {}) };
    // Params of the wrong shape are the caller's mistake (-32602). The SDK answers these with -32603
    // (its spec-method handlers throw a plain Error, and it offers no hook to change that), or, for a
    // tools/call without a string name, with a dump of its validator's issues.
    // `initialize` exists only on the 2025 lane: on the 2026-07-28 wire the SDK answers it 404 -32601
    // (method removed), whatever its params.
    const sdkChecks = !(era === 'modern' && rpc === 'initialize');
    const badParams = message && (invalidParams(message) ?? (sdkChecks ? invalidMethodParams(message) : undefined));
    if (badParams) {
      if (toolName) {
        await auditCall(deps, opts.runner, toolsByName.get(toolName), state, toolName, params.arguments, startedAt, {
          outcome: 'error',
          error: badParams,
        });
      }
      return { res: jsonRpcError(200, -32602, badParams, message?.id ?? null), ...caller };
    }

    const authInfo: AuthInfo = {
      token: '',
      clientId: identity.clientId ?? identity.subject,
      scopes: [],
      extra: { state },
    };
    let res: Response;
    try {
      res = await current.run(state, () =>
        era === 'legacy'
          ? serveLegacy(forward, authInfo, parsed)
          : modern.fetch(forward, { authInfo, parsedBody: parsed }),
      );
    } catch (err) {
      state.fault ??= err;
      res = failureResponse(err, requestId, message?.id ?? null);
    }
    /** One audit record per tools/call, whatever happened: the SDK's refusal when the wrapper never ran. */
    const auditIfRefused = async () => {
      if (!toolName || state.audited) return;
      // The SDK refused the call before the tool wrapper ran (a header that disagrees with the body,
      // an unsupported protocol version): one record all the same, with the SDK's reason.
      const error =
        state.refusal ?? (state.fault ? `internal: ${errorText(state.fault)}` : `refused: HTTP ${res.status}`);
      try {
        await auditCall(deps, opts.runner, toolsByName.get(toolName), state, toolName, params.arguments, startedAt, {
          outcome: 'error',
          error,
        });
      } catch (err) {
        state.fault ??= err;
      }
    };
    if (res.body && isEventStream(res)) {
      // A call answered as a stream (it reports progress, on a host that streams) is still running:
      // its record and any fault are settled when the stream ends. The status is already sent.
      const settle = async () => {
        await auditIfRefused();
        if (state.fault) log.error({ requestId, err: errorText(state.fault) }, 'request failed');
      };
      const body = onStreamEnd(res.body, settle);
      return { res: new Response(body, res), ...caller };
    }
    await auditIfRefused();
    if (state.fault) {
      // Every tools/call leaves its record, whatever failed; the caller gets its own request id back.
      log.error({ requestId, err: errorText(state.fault) }, 'request failed');
      return { res: failureResponse(state.fault, requestId, message?.id ?? null), ...caller };
    }
    return { res, ...caller };
  }

  return {
    async fetch(request, o) {
      const requestId = sanitizeRequestId(o?.requestId ?? request.headers.get('x-request-id')) ?? randomUUID();
      const started = performance.now();
      let out: { res: Response; caller?: string; rpc?: string };
      try {
        out = await handle(request, requestId);
      } catch (err) {
        log.error({ requestId, err: errorText(err) }, 'request failed');
        out = { res: failureResponse(err, requestId, null) };
      }
      const headers = new Headers(out.res.headers);
      headers.set('x-request-id', requestId);
      log.info(
        {
          requestId,
          caller: out.caller,
          method: request.method,
          path: new URL(request.url).pathname,
          rpc: out.rpc,
          status: out.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
      return new Response(out.res.body, { status: out.res.status, statusText: out.res.statusText, headers });
    },
    close: () => modern.close(),
  };
}

/** The same stream, calling `done` once when it ends: read to its end, failed, or cancelled by the client. */
function onStreamEnd(body: ReadableStream<Uint8Array>, done: () => unknown): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          controller.close();
          await end();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (err) {
        controller.error(err);
        await end();
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      await end();
    },
  });
}

const isEventStream = (res: Response) => (res.headers.get('content-type') ?? '').includes('text/event-stream');

/** Whether a message carries `_meta.progressToken` (the client wants progress notifications). */
function asksProgress(message: unknown): boolean {
  const params = (message as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params;
  const token = params?._meta?.progressToken;
  return typeof token === 'string' || typeof token === 'number';
}

function sanitizeRequestId(v: string | null | undefined): string | undefined {
  return v && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : undefined;
}

/**
 * Runs a synchronous SDK constructor with its `console.warn` notes routed to the structured logger
 * at debug level. `createMcpHandler` prints a plain-text note about `responseMode: 'json'` (a choice
 * made on purpose here: API Gateway cannot stream), which would be the one non-JSON line in every
 * host's logs and every Lambda cold start.
 */
function withConsoleWarnLogged<T>(log: Deps['log'], build: () => T): T {
  const original = console.warn;
  console.warn = (...args: unknown[]) => log.debug({ sdkNote: args.map(String).join(' ') }, 'mcp sdk note');
  try {
    return build();
  } finally {
    console.warn = original;
  }
}
