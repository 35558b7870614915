import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { requestFromHttp, sendResponse } from '../../gcp-functions/lib/http.ts';
import { type ServedFunction, serveHttpFunction } from '../support/gcp-functions.ts';

let served: ServedFunction | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** Echoes what the translated web Request carried, as JSON, through the translated Response. */
async function serveEcho(): Promise<ServedFunction> {
  return serveHttpFunction(async (req, res) => {
    const request = requestFromHttp(req);
    const body = new Uint8Array(await request.arrayBuffer());
    const echo = {
      url: request.url,
      method: request.method,
      contentType: request.headers.get('content-type'),
      body: Buffer.from(body).toString('base64'),
    };
    const response = new Response(JSON.stringify(echo), {
      status: 201,
      headers: { 'content-type': 'application/json', 'x-one': 'a' },
    });
    response.headers.append('set-cookie', 'a=1');
    response.headers.append('set-cookie', 'b=2');
    await sendResponse(res, response);
  });
}

describe('functions-framework <-> web Request/Response', () => {
  it('passes the exact body bytes, path and query, and writes status, headers and every cookie back', async () => {
    served = await serveEcho();
    // Bytes a JSON re-serialization would change (spacing, key order, an escaped character).
    const raw = '{ "b":1,  "a":"\\u00e9" }';
    const res = await fetch(`${served.url}/mcp?x=1&y=%20`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-one')).toBe('a');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const echo = (await res.json()) as { url: string; method: string; body: string };
    expect(echo.method).toBe('POST');
    expect(new URL(echo.url).pathname + new URL(echo.url).search).toBe('/mcp?x=1&y=%20');
    expect(Buffer.from(echo.body, 'base64').toString('utf8')).toBe(raw);
  });

  it('keeps binary bodies intact and takes the scheme from X-Forwarded-Proto', async () => {
    served = await serveEcho();
    const bytes = new Uint8Array([0, 255, 1, 254, 10, 13]);
    // fetch may not set Host; Cloud Run's front end does, with the function's public name.
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${(served as ServedFunction).url}/x`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'x-forwarded-proto': 'https',
          host: 'fn.example.run.app',
        },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      req.on('error', reject);
      req.end(bytes);
    });
    const echo = JSON.parse(text) as { url: string; body: string };
    expect(echo.url).toBe('https://fn.example.run.app/x');
    expect([...Buffer.from(echo.body, 'base64')]).toEqual([...bytes]);
  });

  it('has no body for GET and reads http from a plain loopback socket', async () => {
    served = await serveEcho();
    const echo = (await (await fetch(`${served.url}/.well-known/oauth-protected-resource`)).json()) as {
      url: string;
      method: string;
      body: string;
    };
    expect(echo.url).toBe(`${served.url}/.well-known/oauth-protected-resource`);
    expect(echo.method).toBe('GET');
    expect(echo.body).toBe('');
  });
});
