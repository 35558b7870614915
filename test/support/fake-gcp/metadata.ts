import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOUD_PLATFORM_SCOPE, type FakeGoogleTokens, listenLoopback } from './identity.ts';

/**
 * A loopback GCE/Cloud Functions metadata server: the paths google-auth-library's Compute client
 * and gcp-metadata use to find the runtime's service account token. Point the library at it with
 * `GCE_METADATA_HOST=<host>` (what gcp-metadata documents for tests and proxies).
 *
 * Faithful to https://cloud.google.com/compute/docs/metadata/querying-metadata and
 * https://cloud.google.com/functions/docs/securing/function-identity#access_tokens:
 * - every request needs `Metadata-Flavor: Google` (else 403), a request carrying
 *   `X-Forwarded-For` is refused (403), every answer carries `Metadata-Flavor: Google`;
 * - `GET /computeMetadata/v1/instance/service-accounts/default/token[?scopes=a,b]` answers
 *   `{access_token, expires_in, token_type: "Bearer"}` for the runtime's service account;
 * - `GET /computeMetadata/v1/instance/` (the library's availability ping) answers a directory listing;
 * - `GET /computeMetadata/v1/universe/universe-domain` answers `googleapis.com`, `.../project/project-id`
 *   the project's id;
 * - other paths 404, other methods 405.
 * Simpler than the real one: one service account (`default` or its email), no `?recursive`,
 * `?alt` or `?wait_for_change`, no identity tokens, a tiny directory listing.
 */

export interface FakeMetadataServer {
  /** For GCE_METADATA_HOST: `127.0.0.1:<port>`. */
  host: string;
  /** Token requests answered. */
  tokenRequests: number;
  /** Lifetime of the next tokens, seconds (real ones: about 3599). */
  tokenLifetimeS: number;
  close(): Promise<void>;
}

export async function startFakeMetadataServer(
  tokens: FakeGoogleTokens,
  opts: { serviceAccount?: string; tokenLifetimeS?: number; projectId?: string } = {},
): Promise<FakeMetadataServer> {
  const email = opts.serviceAccount ?? 'cloudops@test-project.iam.gserviceaccount.com';
  const projectId = opts.projectId ?? 'test-project';
  const state = { tokenRequests: 0, tokenLifetimeS: opts.tokenLifetimeS ?? 3599 };

  const send = (res: ServerResponse, status: number, body: string, type = 'application/text') => {
    res.writeHead(status, { 'Metadata-Flavor': 'Google', 'Content-Type': type });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    if (req.headers['metadata-flavor'] !== 'Google') {
      return send(res, 403, 'Missing required header "Metadata-Flavor": "Google"\n');
    }
    if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, 'Forbidden: X-Forwarded-For\n');
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed\n');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/computeMetadata/v1/instance') return send(res, 200, 'attributes/\nservice-accounts/\n');
    if (path === '/computeMetadata/v1/universe/universe-domain') return send(res, 200, 'googleapis.com');
    if (path === '/computeMetadata/v1/project/project-id') return send(res, 200, projectId);
    const m = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/token$/.exec(path);
    if (m && (m[1] === 'default' || m[1] === email)) {
      const asked = url.searchParams.get('scopes');
      const scopes = asked ? asked.split(',').filter(Boolean) : [CLOUD_PLATFORM_SCOPE];
      const issued = tokens.issue(email, scopes, state.tokenLifetimeS);
      state.tokenRequests++;
      return send(
        res,
        200,
        JSON.stringify({ access_token: issued.token, expires_in: issued.expiresIn, token_type: 'Bearer' }),
        'application/json',
      );
    }
    return send(res, 404, 'Not Found\n');
  };

  const listening = await listenLoopback(handle);
  const { port } = listening;
  return {
    host: `127.0.0.1:${port}`,
    get tokenRequests() {
      return state.tokenRequests;
    },
    get tokenLifetimeS() {
      return state.tokenLifetimeS;
    },
    set tokenLifetimeS(s: number) {
      state.tokenLifetimeS = s;
    },
    close: listening.close,
  };
}
