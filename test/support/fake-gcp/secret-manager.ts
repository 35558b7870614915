import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBearer, sendJson } from './compute.ts';
import { type FakeGoogleTokens, googleError, listenLoopback } from './identity.ts';

/**
 * A loopback Secret Manager API v1 front end for `projects.secrets.versions.access`, answering and
 * refusing as the REST reference says:
 * - https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
 *   (GET `v1/{name=projects/*\/secrets/*\/versions/*}:access` → AccessSecretVersionResponse `{name,
 *   payload: {data (base64), dataCrc32c}}`; `name` in the answer is the resolved version, under the
 *   project NUMBER, as the API returns it)
 * - https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions
 *   (`latest` is an alias to the most recently created version; a version's state ENABLED, DISABLED
 *   or DESTROYED; only an ENABLED version can be accessed: FAILED_PRECONDITION otherwise)
 * - https://cloud.google.com/secret-manager/docs/access-control (secretmanager.versions.access, in
 *   roles/secretmanager.secretAccessor, granted on the project or on one secret)
 * - https://cloud.google.com/apis/design/errors#http_mapping (the error body and codes).
 *
 * Refusals: no bearer or an unknown/expired token → 401 UNAUTHENTICATED; no cloud-platform scope →
 * 403; a principal not granted access to the secret (on it or its project) → 403 PERMISSION_DENIED
 * whether or not the secret exists (IAM is checked first, so existence does not leak); granted but no
 * such secret or version → 404 NOT_FOUND; a version not ENABLED → 400 FAILED_PRECONDITION; a
 * malformed name or version → 400 INVALID_ARGUMENT; anything but GET `…:access` → 404.
 * Where it is simpler than Secret Manager: README.md.
 */

export interface FakeSecretVersion {
  /** The payload as text (stored as bytes, sent base64). */
  data: string;
  /** Default ENABLED. */
  state?: 'ENABLED' | 'DISABLED' | 'DESTROYED';
}

export interface FakeSecret {
  /** Versions 1, 2, … in creation order; `latest` is the last. */
  versions: FakeSecretVersion[];
  /** Principals granted roles/secretmanager.secretAccessor on this secret. */
  accessors?: string[];
}

export interface FakeSecretProject {
  id: string;
  /** The project number the API's answers name it by. */
  number: string;
  /** Principals granted roles/secretmanager.secretAccessor on the whole project. */
  accessors?: string[];
  secrets: Record<string, FakeSecret>;
}

export interface FakeSecretManager {
  /** The API's base URL, `http://127.0.0.1:<port>/v1` (SecretManagerOptions.baseUrl, SECRET_MANAGER_URL). */
  url: string;
  /** Successful accesses, by `project/secret`, for tests of caching. */
  accesses(secret: string): number;
  /** `projects/<id>/secrets/<name>/versions/latest`. */
  latest(project: string, secret: string): string;
  /** Adds a version (what `gcloud secrets versions add` does); a new secret is granted to `accessors`. */
  addVersion(project: string, secret: string, data: string, accessors?: string[]): void;
  close(): Promise<void>;
}

const ACCESS = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+):access$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION = /^(latest|[1-9]\d{0,18})$/;

export async function startFakeSecretManager(
  tokens: FakeGoogleTokens,
  projects: FakeSecretProject[],
): Promise<FakeSecretManager> {
  const byKey = new Map<string, FakeSecretProject>();
  for (const p of projects) {
    byKey.set(p.id, p);
    byKey.set(p.number, p);
  }
  const counts = new Map<string, number>();
  const fail = (res: ServerResponse, code: number, status: string, message: string) =>
    sendJson(res, code, JSON.parse(googleError(code, status, message)));

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const m = ACCESS.exec(path);
    if (!m || req.method !== 'GET') {
      fail(res, 404, 'NOT_FOUND', `Method not found or not allowed: ${req.method} ${path.slice(0, 200)}`);
      return;
    }
    const grant = checkBearer(req, res, tokens);
    if (!grant) return;
    const [, projectKey, secretId, version] = m.map((s) => decodeURIComponent(s ?? '')) as [
      string,
      string,
      string,
      string,
    ];
    const asked = `projects/${projectKey}/secrets/${secretId}/versions/${version}`;
    if (!SECRET_ID.test(secretId)) {
      fail(res, 400, 'INVALID_ARGUMENT', `Invalid resource field value in the request: ${asked}`);
      return;
    }
    if (!VERSION.test(version)) {
      fail(
        res,
        400,
        'INVALID_ARGUMENT',
        `Invalid version id: ${version.slice(0, 100)}. Expected 'latest' or a positive integer.`,
      );
      return;
    }
    const project = byKey.get(projectKey);
    const secret = project?.secrets[secretId];
    const granted =
      project !== undefined &&
      ((project.accessors ?? []).includes(grant.principal) || (secret?.accessors ?? []).includes(grant.principal));
    if (!project || !granted) {
      fail(
        res,
        403,
        'PERMISSION_DENIED',
        `Permission 'secretmanager.versions.access' denied for resource '${asked}' (or it may not exist).`,
      );
      return;
    }
    const secretName = `projects/${project.number}/secrets/${secretId}`;
    if (!secret || secret.versions.length === 0) {
      fail(res, 404, 'NOT_FOUND', `Secret [${secretName}] not found or has no versions.`);
      return;
    }
    const n = version === 'latest' ? secret.versions.length : Number(version);
    const v = secret.versions[n - 1];
    const versionName = `${secretName}/versions/${n}`;
    if (!v) {
      fail(res, 404, 'NOT_FOUND', `Secret Version [${versionName}] not found.`);
      return;
    }
    const state = v.state ?? 'ENABLED';
    if (state !== 'ENABLED') {
      fail(res, 400, 'FAILED_PRECONDITION', `Secret Version [${versionName}] is in ${state} state.`);
      return;
    }
    const key = `${project.id}/${secretId}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    sendJson(res, 200, { name: versionName, payload: { data: Buffer.from(v.data, 'utf8').toString('base64') } });
  };

  const server = await listenLoopback(handle);
  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    accesses: (secret) => counts.get(secret) ?? 0,
    latest: (project, secret) => `projects/${project}/secrets/${secret}/versions/latest`,
    addVersion(projectKey, secretId, data, accessors) {
      const project = byKey.get(projectKey);
      if (!project) throw new Error(`fake Secret Manager: no project ${projectKey}`);
      const secret = project.secrets[secretId] ?? { versions: [], ...(accessors ? { accessors } : {}) };
      project.secrets[secretId] = secret;
      secret.versions.push({ data });
    },
    close: () => server.close(),
  };
}
