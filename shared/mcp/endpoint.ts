import { randomUUID } from 'node:crypto';
import type { CallToolResult, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import {
  type AuthInfo,
  classifyInboundRequest,
  createMcpHandler,
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
import type { Identity } from '../domain/identity.ts';
import { canAccess, roleFor } from '../domain/identity.ts';
import { ParseCache } from '../domain/input/index.ts';
import type { AnyTool, ToolContext } from '../tools/tool.ts';
import { Authenticator } from './auth.ts';
import { isTransient, RETRY_AFTER_SECONDS } from './pressure.ts';
import { invalidMethodParams, invalidParams, MODERN_PROTOCOL_VERSIONS } from './protocol.ts';
import { invalidArguments, strictInput } from './strict-input.ts';
import {
  attachTasks,
  refuseTaskAugmentation,
  type TaskEra,
  type TaskLayerOptions,
  taskCreationResponse,
  wantsTask,
} from './tasks.ts';

export interface EndpointOptions {
  deps: Deps;
  tools: readonly AnyTool[];
  /** Public URLs of the MCP endpoint; the first is the OAuth resource identifier. */
  publicUrls: URL[];
  /** Whether the host listens on loopback only (adds localhost names to the Host/Origin allow lists). */
  loopback: boolean;
  /** Bounds of the MCP tasks layer (shared/mcp/tasks.ts); the defaults suit API Gateway. */
  tasks?: TaskLayerOptions;
}

export interface McpEndpoint {
  /** Serves one HTTP request: the MCP endpoint and the OAuth protected resource metadata. */
  fetch(request: Request, opts?: { requestId?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Per-request state shared by the HTTP layer and the tool wrapper. */
interface CallState {
  identity: Identity;
  requestId: string;
  /** The wire of this request: decides which tasks methods and capabilities the server offers. */
  era: TaskEra;
  outcome?: { outcome: 'ok' | 'error'; error?: string };
  /** Caller text parsed in this request, shared by the tool's handler and its audit hook (one parse each). */
  parsed: ParseCache;
}

const TOOLS_LIST_TTL_MS = 300_000;

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

export function createMcpEndpoint(opts: EndpointOptions): McpEndpoint {
  const { deps, tools } = opts;
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

  const schemas = new Map(tools.map((t) => [t.name, registeredSchemas(t)]));

  function buildServer(state: CallState): McpServer {
    const server = new McpServer(
      { name: 'cloudops-mcp', title: 'cloudops-mcp', version: deps.version },
      // A caller's tool list never changes while the process runs: promise no list_changed notifications,
      // and let 2026-07-28 clients keep it (and discovery) for 5 minutes instead of re-fetching per call.
      // Private: the list depends on the caller's roles.
      {
        capabilities: { tools: { listChanged: false } },
        instructions: INSTRUCTIONS,
        cacheHints: {
          'tools/list': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'private' },
          'server/discover': { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: 'private' },
        },
      },
    );
    for (const tool of tools) {
      // Tools the caller may not use do not exist for them.
      if (!canAccess(state.identity.roles, tool.access)) continue;
      const registered = server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: schemas.get(tool.name)?.input ?? tool.input,
          ...(tool.output ? { outputSchema: schemas.get(tool.name)?.output ?? tool.output } : {}),
          annotations: { title: tool.title, ...tool.annotations },
        },
        async (args: unknown, extra: { mcpReq?: { signal?: AbortSignal } }) =>
          runTool(tool, args, state, extra.mcpReq?.signal),
      );
      // tools/list shows it on 2025-11-25; the SDK drops `execution` on the 2026 wire.
      if (tool.taskSupport) registered.execution = { taskSupport: tool.taskSupport };
    }
    attachTasks(server, taskCaller(state), opts.tasks);
    return server;
  }

  async function runTool(
    tool: AnyTool,
    args: unknown,
    state: CallState,
    signal: AbortSignal | undefined,
  ): Promise<CallToolResult> {
    const ctx: ToolContext = {
      deps,
      identity: state.identity,
      requestId: state.requestId,
      log: log.child({ requestId: state.requestId, caller: state.identity.name, tool: tool.name }),
      ...(signal ? { signal } : {}),
      parsed: state.parsed,
    };
    try {
      const result = await tool.handler(args as never, ctx);
      state.outcome = result.isError ? { outcome: 'error', error: firstText(result) } : { outcome: 'ok' };
      return result;
    } catch (err) {
      ctx.log.error({ err: errorText(err) }, 'tool failed');
      state.outcome = { outcome: 'error', error: `internal: ${errorText(err)}` };
      return {
        isError: true,
        content: [
          {
            type: 'text',
            text: `${tool.name} failed unexpectedly (request ${state.requestId}). The error is logged on the server; retry, or report the request id.`,
          },
        ],
      };
    }
  }

  const modern = withConsoleWarnLogged(log, () =>
    createMcpHandler(factory, {
      legacy: 'reject',
      responseMode: 'json',
      maxRequestBodySize: deps.config.maxBodyBytes,
      onerror: (err) => log.warn({ err: errorText(err) }, 'mcp protocol error'),
    }),
  );

  /** 2025-era clients: stateless, one server per request, JSON responses (no SSE, which API Gateway cannot stream). */
  async function serveLegacy(req: Request, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    const server = factory({ authInfo });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      maxRequestBodySize: deps.config.maxBodyBytes,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(req, { authInfo, parsedBody });
    } finally {
      await server.close().catch(() => {});
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
    const tool = toolName ? toolsByName.get(toolName) : undefined;
    const startedAt = deps.clock.now();

    const forward = new Request(req.url, { method: 'POST', headers: req.headers, body: body.text });
    const era: TaskEra = (await isLegacyRequest(forward.clone(), parsed)) ? 'legacy' : 'modern';
    const state: CallState = { identity, requestId, era, parsed: new ParseCache() };
    // A request the SDK will reject on the wire (unknown protocol version, Mcp-Method/Mcp-Name headers
    // that disagree with the body, a bad envelope) gets that rejection, whatever the tool: our own
    // role and task checks answer only well-formed calls.
    const wireRejected = sdkWillReject(req.headers, parsed, rpc, toolName);
    if (toolName && !wireRejected) {
      if (tool && !canAccess(identity.roles, tool.access)) {
        const error = `Tool ${toolName} needs the ${roleFor(tool.access)} role; you have ${identity.roles.join(', ') || 'no role'}.`;
        await recordCall(state, toolName, params.arguments, startedAt, { outcome: 'denied', error });
        // A JSON-RPC error (HTTP 200) so clients show the reason to the model instead of a transport failure.
        const res = jsonRpcError(200, -32602, error, message?.id ?? null, { requiredRole: roleFor(tool.access) });
        return { res, caller: identity.name, rpc };
      }
      const noTasks = refuseTaskAugmentation(era, tool, message?.params);
      if (noTasks) {
        await recordCall(state, toolName, params.arguments, startedAt, { outcome: 'error', error: noTasks });
        return { res: jsonRpcError(200, -32601, noTasks, message?.id ?? null), caller: identity.name, rpc };
      }
      // Arguments are checked here, before anything runs, so a wrong one is -32602 (Invalid params) on
      // both eras; the SDK would answer it as a tool result, and would drop unknown keys.
      const strict = tool && (schemas.get(tool.name)?.strict ?? tool.input);
      const badArgs = tool && strict && invalidArguments(tool.name, strict, params.arguments);
      if (badArgs) {
        await recordCall(state, toolName, params.arguments, startedAt, { outcome: 'error', error: badArgs });
        return { res: jsonRpcError(200, -32602, badArgs, message?.id ?? null), caller: identity.name, rpc };
      }
    }
    // Params of the wrong shape are the caller's mistake (-32602), never an internal error (-32603).
    // `initialize` exists only on the 2025 lane: on the 2026-07-28 wire the SDK answers it 404 -32601
    // (method removed), whatever its params.
    const sdkChecks = !wireRejected && !(era === 'modern' && rpc === 'initialize');
    const badParams = message && (invalidParams(message) ?? (sdkChecks ? invalidMethodParams(message) : undefined));
    if (badParams) {
      if (toolName) {
        await recordCall(state, toolName, params.arguments, startedAt, { outcome: 'error', error: badParams });
      }
      const res = jsonRpcError(200, -32602, badParams, message?.id ?? null);
      return { res, caller: identity.name, ...(rpc ? { rpc } : {}) };
    }

    const authInfo: AuthInfo = {
      token: '',
      clientId: identity.clientId ?? identity.subject,
      scopes: [],
      extra: { state },
    };
    let res: Response;
    try {
      res =
        era === 'legacy'
          ? await serveLegacy(forward, authInfo, parsed)
          : await modern.fetch(forward, { authInfo, parsedBody: parsed });
    } catch (err) {
      // Every tools/call leaves its record, whatever failed; the caller gets its own request id back.
      log.error({ requestId, err: errorText(err) }, 'request failed');
      if (toolName) {
        const error = state.outcome?.error ?? `internal: ${errorText(err)}`;
        await recordCall(state, toolName, params.arguments, startedAt, { outcome: 'error', error });
      }
      const res = failureResponse(err, requestId, message?.id ?? null);
      return { res, caller: identity.name, ...(rpc ? { rpc } : {}) };
    }
    // A task tool answered with its operation: clients that asked for a task get the era's task handle.
    if (tool?.taskSupport && wantsTask(era, message?.params)) {
      try {
        res = await taskCreationResponse(taskCaller(state), res);
      } catch (err) {
        // The tool ran and its operation exists; only the task handle could not be made. The plain
        // result names the operation, which ops_operations_get follows.
        log.error({ requestId, err: errorText(err) }, 'task handle failed; answering with the tool result');
      }
    }

    if (toolName) {
      // The final response decides (the SDK may still turn a result into an error, e.g. when it fails
      // its output schema); the tool's own error text is kept when it has one.
      const settled = await settle(res);
      res = settled.res;
      const final = settled.outcome;
      const outcome = final.outcome === 'error' && state.outcome?.outcome === 'error' ? state.outcome : final;
      await recordCall(state, toolName, params.arguments, startedAt, outcome);
    }
    return { res, caller: identity.name, ...(rpc ? { rpc } : {}) };
  }

  async function recordCall(
    state: CallState,
    tool: string,
    args: unknown,
    startedAt: number,
    outcome: { outcome: 'ok' | 'error' | 'denied'; error?: string },
  ): Promise<void> {
    const { identity, requestId } = state;
    let auditedArgs: unknown = args ?? {};
    const hook = toolsByName.get(tool)?.auditArgs;
    if (hook && auditedArgs && typeof auditedArgs === 'object' && !Array.isArray(auditedArgs)) {
      try {
        // The handler's parses, when it ran: the audit redacts the value the handler judged and wrote.
        auditedArgs = hook(auditedArgs as Record<string, unknown>, state.parsed);
      } catch {
        auditedArgs = { redacted: 'arguments could not be redacted safely and were not recorded' };
      }
    }
    await deps.audit.recordCall({ requestId, identity, tool, args: auditedArgs, ...outcome, startedAt });
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

/**
 * The schemas a tool is registered with. Its input is strict (nested objects too): an unknown argument
 * is refused with the closest valid name, never dropped, so a misspelled dryRun cannot run the real
 * write, and tools/list shows `additionalProperties: false`. The server is built per request, so the
 * SDK's own schema caches start empty every time: the JSON Schemas are converted once per process.
 */
export function registeredSchemas(tool: AnyTool): {
  strict: AnyTool['input'];
  input: AnyTool['input'];
  output?: NonNullable<AnyTool['output']>;
} {
  const strict = strictInput(tool.input);
  return { strict, input: memoJsonSchema(strict), ...(tool.output ? { output: memoJsonSchema(tool.output) } : {}) };
}

/** MCP's default JSON Schema dialect: a schema in it needs no `$schema`. */
const DEFAULT_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * The same Standard Schema with its JSON Schema conversion memoized per target, without the
 * top-level `$schema` (MCP's default dialect is 2020-12, the one converted to; it cost ~55 bytes per
 * schema in every tools/list). Validation still runs
 * the original (zod) validator; callers get a copy so nothing can mutate the cache.
 */
export function memoJsonSchema<S extends StandardSchemaWithJSON>(schema: S): S {
  const std = schema['~standard'];
  const memo = new Map<string, string>();
  const cached =
    (io: 'input' | 'output') =>
    (options: Parameters<typeof std.jsonSchema.input>[0]): Record<string, unknown> => {
      const key = `${io}:${JSON.stringify(options)}`;
      let json = memo.get(key);
      if (json === undefined) {
        const { $schema, ...rest } = std.jsonSchema[io](options);
        json = JSON.stringify($schema === DEFAULT_DIALECT ? rest : { $schema, ...rest });
        memo.set(key, json);
      }
      return JSON.parse(json) as Record<string, unknown>;
    };
  return { '~standard': { ...std, jsonSchema: { input: cached('input'), output: cached('output') } } } as unknown as S;
}

function sanitizeRequestId(v: string | null | undefined): string | undefined {
  return v && /^[A-Za-z0-9._:-]{1,128}$/.test(v) ? v : undefined;
}

function firstText(result: CallToolResult): string {
  const first = result.content?.[0];
  return first && first.type === 'text' ? first.text.slice(0, 500) : 'error';
}

/**
 * Reads a tools/call response once (no stream tee) and says how it ended, returning a response
 * with the same bytes for the caller. JSON is parsed only when the text can hold an error, so a
 * large successful result costs one string scan.
 */
async function settle(res: Response): Promise<{ res: Response; outcome: { outcome: 'ok' | 'error'; error?: string } }> {
  const text = await res.text();
  const again = new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  const fallback = res.ok ? { outcome: 'ok' as const } : { outcome: 'error' as const, error: `HTTP ${res.status}` };
  if (res.ok && !text.includes('"isError":true') && !text.includes('"error":'))
    return { res: again, outcome: fallback };
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string };
      result?: { isError?: boolean; content?: Array<{ type: string; text?: string }> };
    };
    if (body.error) return { res: again, outcome: { outcome: 'error', error: body.error.message ?? 'error' } };
    if (body.result?.isError) {
      return {
        res: again,
        outcome: { outcome: 'error', error: body.result.content?.[0]?.text?.slice(0, 500) ?? 'error' },
      };
    }
    return { res: again, outcome: fallback };
  } catch {
    return { res: again, outcome: fallback };
  }
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

/**
 * Whether the SDK's request ladder will refuse this message before any tool runs: the SDK's own
 * classification (envelope, era), then the 2026-07-28 rules it applies afterwards: a supported
 * protocol version, and Mcp-Method / Mcp-Name headers that name what the body does.
 */
function sdkWillReject(
  headers: Headers,
  body: unknown,
  rpc: string | undefined,
  toolName: string | undefined,
): boolean {
  const versionHeader = headers.get('mcp-protocol-version');
  const methodHeader = headers.get('mcp-method');
  const nameHeader = headers.get('mcp-name');
  const classified = classifyInboundRequest({
    httpMethod: 'POST',
    body,
    ...(versionHeader !== null ? { protocolVersionHeader: versionHeader } : {}),
    ...(methodHeader !== null ? { mcpMethodHeader: methodHeader } : {}),
    ...(nameHeader !== null ? { mcpNameHeader: nameHeader } : {}),
  });
  if (classified.kind === 'reject') return true;
  if (classified.kind !== 'modern' || !('classification' in classified)) return false;
  const revision = classified.classification.revision;
  if (revision === undefined || !MODERN_PROTOCOL_VERSIONS.includes(revision)) return true;
  if (versionHeader !== null && versionHeader !== revision) return true;
  if (methodHeader !== null && methodHeader !== rpc) return true;
  return nameHeader !== null && toolName !== undefined && nameHeader !== toolName;
}
