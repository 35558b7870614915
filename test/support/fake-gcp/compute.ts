import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOUD_PLATFORM_SCOPE, type FakeGoogleTokens, type IssuedToken, listenLoopback } from './identity.ts';

/**
 * A loopback Compute Engine API v1 (REST), for the GCP inventory adapter.
 *
 * Built from https://cloud.google.com/compute/docs/reference/rest/v1/instances (list, aggregatedList,
 * get, start, stop), https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/get,
 * https://cloud.google.com/compute/docs/instances/instance-life-cycle (statuses; a stopped VM reads
 * TERMINATED) and https://cloud.google.com/apis/design/errors:
 * - `GET /compute/v1/projects/{p}/zones/{z}/instances` → `{kind, items?, nextPageToken?}`;
 *   `GET /compute/v1/projects/{p}/aggregated/instances` → `{kind, items: {"zones/{z}": {instances} |
 *   {warning: NO_RESULTS_ON_PAGE}}, nextPageToken?, unreachables?}`; both take `filter`, `maxResults`
 *   (0..500, default 500; more is 400), `pageToken` (bound to the filter: another filter's token is 400),
 *   and aggregatedList `returnPartialSuccess`;
 * - `GET .../zones/{z}/instances/{name}`; `POST .../instances/{name}/start|stop` → a zonal Operation
 *   (start on a RUNNING VM and stop on a TERMINATED one are no-op operations, DONE at once, as the
 *   real API answers them); `GET .../zones/{z}/operations/{op}`;
 * - lifecycle: stop makes a RUNNING VM STOPPING, which reads once and is TERMINATED from the next
 *   read on; start makes a TERMINATED VM STAGING, then RUNNING the same way; start while STOPPING is
 *   400 resourceNotReady;
 * - filter: Compute's AIP-160 form, expressions in parentheses joined by AND, OR or juxtaposition (OR
 *   binds tighter), or one bare expression; fields name, id, status, cpuPlatform, labels.<key>;
 *   operators = != and : (`labels.k:*` tests presence); anything else is 400 `Invalid value for field
 *   'filter': '...'. Invalid list filter expression.` as the real API words it;
 * - errors in Compute's own shape: `{error: {code, message, errors: [{message, domain, reason}]}}`
 *   without `status` (401s come from Google's front end and carry `status: UNAUTHENTICATED`);
 * - bearer token required (401 none/unknown/expired; 403 without the cloud-platform scope); an unknown
 *   project, zone or instance is 404 `The resource '...' was not found`; a principal who is neither
 *   viewer (compute.viewer: list, get, operations) nor admin (compute.instanceAdmin.v1: also start
 *   and stop) is 403 `Required 'compute.instances.<verb>' permission for '<resource>'`.
 * Simpler than the real API: see README.md.
 */

export type InstanceStatus =
  | 'PROVISIONING'
  | 'STAGING'
  | 'RUNNING'
  | 'STOPPING'
  | 'STOPPED'
  | 'SUSPENDING'
  | 'SUSPENDED'
  | 'REPAIRING'
  | 'TERMINATED';

export interface FakeInstance {
  name: string;
  zone: string;
  status: InstanceStatus;
  machineType: string;
  labels?: Record<string, string>;
  internalIp?: string;
  externalIp?: string;
  /** Compute's creationTimestamp: RFC 3339 with Google's Pacific offset, e.g. 2026-01-05T02:00:00.000-08:00. */
  created?: string;
  /** Assigned by the fake when absent (a uint64 as a decimal string, as the API sends it). */
  id?: string;
}

export interface FakeComputeProject {
  id: string;
  /** Zones that exist for this project (others are 404). */
  zones: string[];
  instances: FakeInstance[];
  /** Principals with compute.viewer. */
  viewers: string[];
  /** Principals with compute.instanceAdmin.v1 (viewer rights included). */
  admins?: string[];
  /** Accept requests for this project and never answer them. */
  hang?: boolean;
  /** Zones aggregatedList cannot reach this time. */
  unreachableZones?: string[];
}

export interface FakeComputeApi {
  /** Base URL (`http://127.0.0.1:<port>`); the API lives under `/compute/v1/`. */
  url: string;
  /** Requests received, `METHOD path?query`. */
  requests: string[];
  projects: Map<string, FakeComputeProject>;
  close(): Promise<void>;
}

interface Op {
  id: string;
  name: string;
  project: string;
  zone: string;
  type: 'start' | 'stop';
  target: FakeInstance;
  user: string;
  /** The instance status at which the operation is done. */
  doneAt?: InstanceStatus;
  insertTime: string;
}

const SELF = 'https://www.googleapis.com/compute/v1';
const NEXT: Partial<Record<InstanceStatus, InstanceStatus>> = { STOPPING: 'TERMINATED', STAGING: 'RUNNING' };
const FIELDS = /^(name|id|status|cpuPlatform|labels\.[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62})$/u;

type Send = (res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>) => void;

export const sendJson: Send = (res, status, body, extra = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', ...extra });
  res.end(JSON.stringify(body));
};

/** Compute's error body: `errors[]` with a reason, no `status`. */
export function computeError(code: number, reason: string, message: string) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } };
}

/**
 * The bearer check every Google API front end makes; answers the refusal itself and returns
 * undefined, or returns the token's grant.
 */
export function checkBearer(
  req: IncomingMessage,
  res: ServerResponse,
  tokens: FakeGoogleTokens,
): IssuedToken | undefined {
  const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  const grant = bearer ? tokens.check(bearer) : undefined;
  if (!grant) {
    const message = bearer
      ? 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
      : 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
    sendJson(
      res,
      401,
      {
        error: {
          code: 401,
          message,
          errors: [{ message, domain: 'global', reason: 'required' }],
          status: 'UNAUTHENTICATED',
        },
      },
      { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' },
    );
    return undefined;
  }
  if (!grant.scopes.includes(CLOUD_PLATFORM_SCOPE)) {
    const message = 'Request had insufficient authentication scopes.';
    sendJson(res, 403, {
      error: {
        code: 403,
        message,
        errors: [{ message, domain: 'global', reason: 'forbidden' }],
        status: 'PERMISSION_DENIED',
      },
    });
    return undefined;
  }
  return grant;
}

type Cmp = { field: string; op: '=' | '!=' | ':'; value: string };

/** Parses Compute's list filter into OR-groups AND'ed together; undefined when it is not one. */
export function parseComputeFilter(filter: string): Cmp[][] | undefined {
  const cmp = (text: string): Cmp | undefined => {
    const m = /^\s*([A-Za-z][\w.-]*)\s*(!=|=|:)\s*(?:"((?:[^"\\]|\\.)*)"|([\w.*-]+))\s*$/u.exec(text);
    if (!m || !FIELDS.test(m[1] ?? '')) return undefined;
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
    if (value === '*' && m[2] !== ':') return undefined;
    return { field: m[1] as string, op: m[2] as Cmp['op'], value };
  };
  const text = filter.trim();
  if (!text.startsWith('(')) {
    const one = cmp(text);
    return one ? [[one]] : undefined;
  }
  const groups: Cmp[][] = [[]];
  let rest = text;
  let expectExpr = true;
  while (rest.length) {
    if (expectExpr) {
      const m = /^\(([^()]*)\)\s*/.exec(rest);
      const c = m ? cmp(m[1] ?? '') : undefined;
      if (!m || !c) return undefined;
      groups[groups.length - 1]?.push(c);
      rest = rest.slice(m[0].length);
      expectExpr = false;
      continue;
    }
    const m = /^(AND|OR)\s+/.exec(rest);
    if (m?.[1] === 'OR') rest = rest.slice(m[0].length);
    else {
      if (m) rest = rest.slice(m[0].length);
      groups.push([]);
    }
    expectExpr = true;
  }
  return expectExpr ? undefined : groups;
}

function matches(i: FakeInstance, id: string, c: Cmp): boolean {
  const actual =
    c.field === 'name'
      ? i.name
      : c.field === 'id'
        ? id
        : c.field === 'status'
          ? i.status
          : c.field === 'cpuPlatform'
            ? 'Intel Broadwell'
            : i.labels?.[c.field.slice('labels.'.length)];
  if (c.op === ':') return c.value === '*' ? actual !== undefined : (actual ?? '').includes(c.value);
  return c.op === '=' ? actual === c.value : actual !== c.value;
}

export async function startFakeComputeApi(
  tokens: FakeGoogleTokens,
  projects: FakeComputeProject[],
): Promise<FakeComputeApi> {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const requests: string[] = [];
  const ops = new Map<string, Op>();
  const ids = new Map<FakeInstance, string>();
  let seq = 0;
  const idOf = (i: FakeInstance) => {
    if (!ids.has(i)) ids.set(i, i.id ?? String(4_000_000_000_000_000_000n + BigInt(++seq) * 7_919n));
    return ids.get(i) as string;
  };

  /** What a read sees: a transitional status is seen once, then the next one. */
  const read = (i: FakeInstance): InstanceStatus => {
    const seen = i.status;
    const next = NEXT[seen];
    if (next) i.status = next;
    return seen;
  };

  const instanceJson = (p: FakeComputeProject, i: FakeInstance) => {
    const self = `${SELF}/projects/${p.id}/zones/${i.zone}`;
    return {
      kind: 'compute#instance',
      id: idOf(i),
      creationTimestamp: i.created ?? '2026-01-05T02:00:00.000-08:00',
      name: i.name,
      machineType: `${self}/machineTypes/${i.machineType}`,
      status: read(i),
      zone: `${SELF}/projects/${p.id}/zones/${i.zone}`,
      networkInterfaces: [
        {
          kind: 'compute#networkInterface',
          network: `${SELF}/projects/${p.id}/global/networks/default`,
          networkIP: i.internalIp ?? '10.128.0.2',
          name: 'nic0',
          ...(i.externalIp
            ? {
                accessConfigs: [
                  {
                    kind: 'compute#accessConfig',
                    type: 'ONE_TO_ONE_NAT',
                    name: 'External NAT',
                    natIP: i.externalIp,
                    networkTier: 'PREMIUM',
                  },
                ],
              }
            : {}),
        },
      ],
      ...(i.labels ? { labels: i.labels, labelFingerprint: 'A9Pm7m1fZ2Q=' } : {}),
      cpuPlatform: 'Intel Broadwell',
      selfLink: `${self}/instances/${i.name}`,
    };
  };

  const opJson = (o: Op) => {
    const done = o.doneAt === undefined || o.target.status === o.doneAt;
    const self = `${SELF}/projects/${o.project}/zones/${o.zone}`;
    return {
      kind: 'compute#operation',
      id: o.id,
      name: o.name,
      zone: self,
      operationType: o.type,
      targetLink: `${self}/instances/${o.target.name}`,
      targetId: idOf(o.target),
      status: done ? 'DONE' : 'RUNNING',
      user: o.user,
      progress: done ? 100 : 0,
      insertTime: o.insertTime,
      startTime: o.insertTime,
      ...(done ? { endTime: new Date().toISOString() } : {}),
      selfLink: `${self}/operations/${o.name}`,
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://compute.googleapis.com');
    const notFound = (what: string) =>
      sendJson(res, 404, computeError(404, 'notFound', `The resource '${what}' was not found`));
    const badValue = (field: string, value: string, why: string) =>
      sendJson(res, 400, computeError(400, 'invalid', `Invalid value for field '${field}': '${value}'. ${why}`));

    const grant = checkBearer(req, res, tokens);
    if (!grant) return;

    const m =
      /^\/compute\/v1\/projects\/([^/]+)\/(?:aggregated\/instances|zones\/([^/]+)\/(?:instances(?:\/([^/]+)(?:\/(start|stop))?)?|operations\/([^/]+)))$/.exec(
        url.pathname,
      );
    if (!m) return notFound(url.pathname);
    const [, projectId = '', zone, name, action, opName] = m;
    const aggregated = url.pathname.endsWith('/aggregated/instances');
    const isPost = action !== undefined;
    if ((isPost && req.method !== 'POST') || (!isPost && req.method !== 'GET')) {
      return sendJson(res, 405, computeError(405, 'httpMethodNotAllowed', `Method ${req.method} not allowed`));
    }
    const project = byId.get(projectId);
    if (!project) return notFound(`projects/${projectId}`);
    const admin = project.admins?.includes(grant.principal) ?? false;
    const viewer = admin || project.viewers.includes(grant.principal);
    const resource = zone
      ? `projects/${projectId}/zones/${zone}${name ? `/instances/${name}` : ''}`
      : `projects/${projectId}`;
    const permission = opName
      ? 'compute.zoneOperations.get'
      : action
        ? `compute.instances.${action}`
        : name
          ? 'compute.instances.get'
          : 'compute.instances.list';
    if (action ? !admin : !viewer) {
      return sendJson(
        res,
        403,
        computeError(403, 'forbidden', `Required '${permission}' permission for '${resource}'`),
      );
    }
    if (zone !== undefined && !project.zones.includes(zone)) return notFound(`projects/${projectId}/zones/${zone}`);
    if (project.hang) return; // accepted, never answered

    if (opName !== undefined) {
      const op = ops.get(`${projectId}/${zone}/${opName}`);
      if (!op) return notFound(`projects/${projectId}/zones/${zone}/operations/${opName}`);
      read(op.target); // polling the operation is a read too: the instance moves on
      return sendJson(res, 200, opJson(op));
    }

    if (name !== undefined) {
      const inst = project.instances.find((i) => i.zone === zone && i.name === name);
      if (!inst) return notFound(`projects/${projectId}/zones/${zone}/instances/${name}`);
      if (!action) return sendJson(res, 200, instanceJson(project, inst));
      let doneAt: InstanceStatus | undefined;
      if (action === 'stop' && !['TERMINATED', 'STOPPED', 'STOPPING'].includes(inst.status)) {
        inst.status = 'STOPPING';
        doneAt = 'TERMINATED';
      }
      if (action === 'start') {
        if (inst.status === 'STOPPING' || inst.status === 'SUSPENDING') {
          return sendJson(
            res,
            400,
            computeError(
              400,
              'resourceNotReady',
              `The resource 'projects/${projectId}/zones/${zone}/instances/${name}' is not ready`,
            ),
          );
        }
        if (inst.status === 'TERMINATED' || inst.status === 'STOPPED') {
          inst.status = 'STAGING';
          doneAt = 'RUNNING';
        }
      }
      seq++;
      const now = Date.now();
      const op: Op = {
        id: String(7_000_000_000_000_000_000n + BigInt(seq)),
        name: `operation-${now}-${seq.toString(16).padStart(13, '0')}-fake${seq}`,
        project: projectId,
        zone: zone as string,
        type: action as 'start' | 'stop',
        target: inst,
        user: grant.principal,
        ...(doneAt ? { doneAt } : {}),
        insertTime: new Date(now).toISOString(),
      };
      ops.set(`${projectId}/${zone}/${op.name}`, op);
      // The answer to the POST is the operation as created: RUNNING, or DONE when it had nothing to do.
      return sendJson(res, 200, opJson(op));
    }

    // list / aggregatedList
    const q = url.searchParams;
    const filter = q.get('filter') ?? '';
    const groups = filter ? parseComputeFilter(filter) : [];
    if (!groups) return badValue('filter', filter, 'Invalid list filter expression.');
    const maxRaw = q.get('maxResults');
    const max = maxRaw === null ? 500 : Number(maxRaw);
    if (!Number.isInteger(max) || max < 0)
      return badValue('maxResults', maxRaw ?? '', 'Must be a non-negative integer.');
    if (max > 500) return badValue('maxResults', String(max), 'Must be less than or equal to 500');
    const size = max === 0 ? 500 : max;
    let offset = 0;
    const token = q.get('pageToken');
    if (token) {
      let decoded: { o?: unknown; f?: unknown; z?: unknown } = {};
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {}
      if (!Number.isInteger(decoded.o) || decoded.f !== filter || decoded.z !== (zone ?? '-')) {
        return badValue('pageToken', token, 'Invalid page token.');
      }
      offset = decoded.o as number;
    }
    const unreachable = aggregated ? (project.unreachableZones ?? []) : [];
    const all = project.instances
      .filter((i) => (aggregated ? !unreachable.includes(i.zone) : i.zone === zone))
      .filter((i) => groups.every((ors) => ors.some((c) => matches(i, idOf(i), c))))
      .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
    const slice = all.slice(offset, offset + size);
    const next =
      offset + size < all.length
        ? Buffer.from(JSON.stringify({ o: offset + size, f: filter, z: zone ?? '-' })).toString('base64url')
        : undefined;
    const selfLink = `${SELF}/${url.pathname.slice('/compute/v1/'.length)}`;
    if (!aggregated) {
      return sendJson(res, 200, {
        kind: 'compute#instanceList',
        id: `projects/${projectId}/zones/${zone}/instances`,
        ...(slice.length ? { items: slice.map((i) => instanceJson(project, i)) } : {}),
        ...(next ? { nextPageToken: next } : {}),
        selfLink,
      });
    }
    const partial = q.get('returnPartialSuccess') === 'true';
    const items: Record<string, unknown> = {};
    for (const z of [...project.zones].sort()) {
      const here = slice.filter((i) => i.zone === z);
      const scope = `zones/${z}`;
      if (here.length) items[scope] = { instances: here.map((i) => instanceJson(project, i)) };
      else if (unreachable.includes(z)) {
        items[scope] = {
          warning: {
            code: 'UNREACHABLE',
            message: `Scope '${scope}' is unreachable.`,
            data: [{ key: 'scope', value: scope }],
          },
        };
      } else {
        items[scope] = {
          warning: {
            code: 'NO_RESULTS_ON_PAGE',
            message: `There are no results for scope '${scope}' on this page.`,
            data: [{ key: 'scope', value: scope }],
          },
        };
      }
    }
    return sendJson(res, 200, {
      kind: 'compute#instanceAggregatedList',
      id: `projects/${projectId}/aggregated/instances`,
      items,
      ...(next ? { nextPageToken: next } : {}),
      ...(partial && unreachable.length ? { unreachables: unreachable.map((z) => `zones/${z}`) } : {}),
      selfLink,
    });
  };

  const listening = await listenLoopback(handle);
  const { port } = listening;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    projects: byId,
    close: listening.close,
  };
}
