import type { Request as HttpRequest, Response as HttpResponse } from '@google-cloud/functions-framework';

/**
 * functions-framework (Express) request/response <-> web `Request`/`Response`. Pure translation: the
 * shared handlers only ever see standard web objects. The twin of functions/lib/http.ts on AWS.
 *
 * Facts this relies on (functions-framework 5, build/src/server.js): every body parser keeps the
 * exact bytes in `req.rawBody` (`verify: rawBodySaver`), so the body is re-read from there, never
 * re-serialized from `req.body`; `req.originalUrl` is the path and query the client sent. Cloud Run
 * terminates TLS and says so in `X-Forwarded-Proto` (https); on loopback the socket says http.
 */
export function requestFromHttp(req: HttpRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const forwarded = headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const tls = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : tls ? 'https' : 'http';
  const host = headers.get('host') ?? 'localhost';
  const url = new URL(req.originalUrl || req.url || '/', `${proto}://${host}`);
  const method = (req.method ?? 'GET').toUpperCase();
  const body = method !== 'GET' && method !== 'HEAD' && req.rawBody?.length ? req.rawBody : undefined;
  return new Request(url, { method, headers, ...(body ? { body: new Uint8Array(body) } : {}) });
}

/** Writes a web Response to the Express response: status, every header (each Set-Cookie on its own), the bytes. */
export async function sendResponse(res: HttpResponse, response: Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader('set-cookie', cookies);
  const bytes = Buffer.from(await response.arrayBuffer());
  res.end(bytes);
}
