import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export type Era = 'modern' | 'legacy';

/** The official SDK v2 client, negotiating 2026-07-28 (`modern`) or speaking 2025-11-25 (`legacy`). */
export async function connectClient(url: string, era: Era, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client(
    { name: 'cloudops-mcp-tests', version: '1.0.0' },
    { versionNegotiation: { mode: era === 'modern' ? 'auto' : 'legacy' } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export function structured<T = Record<string, unknown>>(result: unknown): T {
  const r = result as { structuredContent?: unknown; isError?: boolean; content?: Array<{ text?: string }> };
  if (r.isError) throw new Error(`tool error: ${r.content?.[0]?.text}`);
  if (!r.structuredContent) throw new Error('no structuredContent');
  return r.structuredContent as T;
}
