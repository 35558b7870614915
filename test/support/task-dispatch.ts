import type { RawClientDispatch } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';

const MODERN = '2026-07-28';

/** The ext-tasks requester's V2 raw path, over fetch with the 2026-07-28 headers. */
export function fetchDispatch(url: string, token: string): RawClientDispatch {
  let id = 10_000;
  return async (request, options) => {
    const req = request as { method: string; params?: { name?: unknown } };
    const headers = new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-protocol-version': MODERN,
      'mcp-method': req.method,
    });
    if (req.method === 'tools/call' && typeof req.params?.name === 'string') headers.set('mcp-name', req.params.name);
    for (const [k, v] of Object.entries(options?.context?.headers ?? {})) headers.set(k, v);
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: id++, ...(request as Record<string, JsonValue>) }),
      ...(options?.signal ? { signal: options.signal } : {}),
    });
    const body = (await res.json()) as {
      result?: JsonValue;
      error?: { code: number; message: string; data?: JsonValue };
    };
    return body.error ? { kind: 'error', error: body.error } : { kind: 'result', result: body.result ?? null };
  };
}
