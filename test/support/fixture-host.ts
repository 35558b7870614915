import { type LocalServer, startLocalServer } from '../../local/server.ts';

/*
 * For the tests of the conformance fixtures and the MCP mechanisms they exercise: a local host on
 * loopback serving them, and one raw 2026-07-28 JSON-RPC request with the headers the wire requires.
 */

export const MODERN = '2026-07-28';

/** A local host with the memory store and MCP_CONFORMANCE_FIXTURES=1 (loopback only). */
export function startFixtureServer(): Promise<LocalServer> {
  return startLocalServer({
    HOST: '127.0.0.1',
    PORT: '0',
    STORE: 'memory',
    LOG_LEVEL: 'silent',
    MCP_CONFORMANCE_FIXTURES: '1',
  });
}

export interface RpcReply<B> {
  status: number;
  body: B;
}

/**
 * One 2026-07-28 request: `Mcp-Method`, and `Mcp-Name` from the tool name or task id, and the
 * protocol version and the client's capabilities in `_meta`. Answers the HTTP status and JSON body.
 */
export async function rpc<B = { result?: Record<string, unknown>; error?: { code: number; message: string } }>(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  caps: Record<string, unknown> = {},
): Promise<RpcReply<B>> {
  const name = typeof params.name === 'string' ? params.name : typeof params.taskId === 'string' ? params.taskId : '';
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name ? { 'mcp-name': name } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': caps,
        },
      },
    }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as B };
}
