import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOUD_PLATFORM_SCOPE, type FakeGoogleTokens, googleError, listenLoopback } from './identity.ts';

/**
 * A loopback Google Kubernetes Engine API (Container v1, REST as the client libraries' HTTP/1.1
 * mode speaks it), for the GKE cluster source and the describe adapter.
 *
 * Faithful to https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters
 * (paths, JSON field names) and https://cloud.google.com/apis/design/errors (error bodies):
 * - `GET /v1/projects/{project}/locations/{location}/clusters` → `{clusters: [...], missingZones?: [...]}`;
 *   location `-` lists every location, a region lists its regional clusters and those of its zones;
 * - `GET /v1/projects/{project}/locations/{location}/clusters/{cluster}` → the Cluster;
 * - `GET /v1/projects/{project}/locations/{location}/clusters/{cluster}/nodePools` → `{nodePools}`;
 * - Cluster fields: name, location, zone (deprecated, = location), selfLink, endpoint (absent while
 *   PROVISIONING, as the real one has no address yet), masterAuth.clusterCaCertificate, initialClusterVersion,
 *   currentMasterVersion, currentNodeVersion, currentNodeCount, status, statusMessage, locations,
 *   nodePools[] (name, config.machineType, initialNodeCount, locations, autoscaling, version, status,
 *   selfLink), releaseChannel.channel, autopilot.enabled, createTime;
 * - enums as names, or as numbers when the query asks `$alt=json;enum-encoding=int` (what the Node
 *   client sends; the numbers are those of google/container/v1/cluster_service.proto);
 * - a bearer token is required: none → 401 UNAUTHENTICATED, unknown or expired → 401, a token without
 *   the cloud-platform scope → 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT;
 * - a project the fake does not know → 403 `Permission denied on resource project {p}.` (Google
 *   does not tell a missing project from a forbidden one); a known project whose viewers do not include
 *   the token's principal → 403 `Required "container.clusters.list" permission(s) for "projects/{p}".`
 *   (`container.clusters.get` for one cluster, as roles/container.clusterViewer grants both);
 * - an unknown cluster → 404 `Not found: projects/{p}/locations/{l}/clusters/{c}.`; a malformed
 *   location → 400 INVALID_ARGUMENT.
 * Simpler than the real API: no zonal `projects.zones.*` paths, no writes (anything but GET is a 404
 * JSON body; Google's front end answers unknown paths with an HTML 404), no fields beyond those above,
 * no quota or rate limits, any well-formed location exists, a project's viewers see every cluster in it.
 * On demand: a project can hang (accept and never answer) or report missing zones.
 */

export type ClusterStatus = 'PROVISIONING' | 'RUNNING' | 'RECONCILING' | 'STOPPING' | 'ERROR' | 'DEGRADED';
export type NodePoolStatus = 'PROVISIONING' | 'RUNNING' | 'RUNNING_WITH_ERROR' | 'RECONCILING' | 'STOPPING' | 'ERROR';

export interface FakeNodePool {
  name: string;
  machineType: string;
  version: string;
  status?: NodePoolStatus;
  /** Nodes per zone at creation (the API's initialNodeCount). */
  initialNodeCount: number;
  /** Zones of the pool. */
  locations: string[];
  autoscaling?: {
    enabled: boolean;
    minNodeCount?: number;
    maxNodeCount?: number;
    totalMinNodeCount?: number;
    totalMaxNodeCount?: number;
    locationPolicy?: 'BALANCED' | 'ANY';
  };
}

export interface FakeGkeCluster {
  name: string;
  /** A region (`europe-west1`) or a zone (`europe-west1-b`). */
  location: string;
  /** Defaults to RUNNING. */
  status?: ClusterStatus;
  statusMessage?: string;
  /** The API server's IP; defaults to a TEST-NET address unless PROVISIONING. */
  endpoint?: string;
  caData?: string;
  currentMasterVersion: string;
  currentNodeVersion?: string;
  releaseChannel?: 'RAPID' | 'REGULAR' | 'STABLE' | 'EXTENDED';
  autopilot?: boolean;
  nodePools?: FakeNodePool[];
}

export interface FakeGkeProject {
  id: string;
  clusters: FakeGkeCluster[];
  /** Principals (service account emails) holding roles/container.clusterViewer on the project. */
  viewers: string[];
  /** Accept requests for this project and never answer them. */
  hang?: boolean;
  /** Zones the list reports as missing (unreachable) this time. */
  missingZones?: string[];
}

export interface FakeContainerApi {
  /** Base URL for the client's apiEndpoint: `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests received, `METHOD path?query`. */
  requests: string[];
  projects: Map<string, FakeGkeProject>;
  close(): Promise<void>;
}

const CLUSTER_STATUS = [
  'STATUS_UNSPECIFIED',
  'PROVISIONING',
  'RUNNING',
  'RECONCILING',
  'STOPPING',
  'ERROR',
  'DEGRADED',
];
const POOL_STATUS = [
  'STATUS_UNSPECIFIED',
  'PROVISIONING',
  'RUNNING',
  'RUNNING_WITH_ERROR',
  'RECONCILING',
  'STOPPING',
  'ERROR',
];
const CHANNEL = ['UNSPECIFIED', 'RAPID', 'REGULAR', 'STABLE', 'EXTENDED'];
const LOCATION_POLICY = ['LOCATION_POLICY_UNSPECIFIED', 'BALANCED', 'ANY'];

const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

export async function startFakeContainerApi(
  tokens: FakeGoogleTokens,
  projects: FakeGkeProject[],
): Promise<FakeContainerApi> {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const requests: string[] = [];

  const send = (res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', ...extra });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://container.googleapis.com');
    const ints = url.searchParams.get('$alt') === 'json;enum-encoding=int';
    const enumOf = (names: string[], name: string) => (ints ? names.indexOf(name) : name);

    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer (\S+)$/.exec(auth)?.[1];
    const unauthenticated = { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' };
    if (!bearer) {
      return send(
        res,
        401,
        googleError(
          401,
          'UNAUTHENTICATED',
          'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          'CREDENTIALS_MISSING',
        ),
        unauthenticated,
      );
    }
    const grant = tokens.check(bearer);
    if (!grant) {
      return send(
        res,
        401,
        googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        ),
        unauthenticated,
      );
    }
    if (!grant.scopes.includes(CLOUD_PLATFORM_SCOPE)) {
      return send(
        res,
        403,
        googleError(
          403,
          'PERMISSION_DENIED',
          'Request had insufficient authentication scopes.',
          'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
        ),
      );
    }

    const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters(?:\/([^/]+)(\/nodePools)?)?$/.exec(url.pathname);
    if (!m || req.method !== 'GET') {
      return send(res, 404, googleError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found.`));
    }
    const [, projectId = '', location = '', clusterName, poolsPath] = m.map((s) => (s ? decodeURIComponent(s) : s));
    const project = byId.get(projectId);
    if (!project) {
      return send(
        res,
        403,
        googleError(
          403,
          'PERMISSION_DENIED',
          `Permission denied on resource project ${projectId}.`,
          'CONSUMER_INVALID',
        ),
      );
    }
    const resource = clusterName
      ? `projects/${projectId}/locations/${location}/clusters/${clusterName}`
      : `projects/${projectId}`;
    if (!project.viewers.includes(grant.principal)) {
      const permission = clusterName ? 'container.clusters.get' : 'container.clusters.list';
      return send(
        res,
        403,
        googleError(403, 'PERMISSION_DENIED', `Required "${permission}" permission(s) for "${resource}".`),
      );
    }
    const locationOk = location === '-' ? !clusterName : REGION.test(location) || ZONE.test(location);
    if (!locationOk) {
      return send(res, 400, googleError(400, 'INVALID_ARGUMENT', `Location "${location}" does not exist.`));
    }
    if (project.hang) return; // accepted, never answered

    const clusterJson = (c: FakeGkeCluster) => {
      const status = c.status ?? 'RUNNING';
      const self = `https://container.googleapis.com/v1/projects/${projectId}/locations/${c.location}/clusters/${c.name}`;
      const pools = (c.nodePools ?? []).map((p) => ({
        name: p.name,
        config: { machineType: p.machineType, diskSizeGb: 100 },
        initialNodeCount: p.initialNodeCount,
        locations: p.locations,
        ...(p.autoscaling
          ? {
              autoscaling: {
                ...p.autoscaling,
                ...(p.autoscaling.locationPolicy
                  ? { locationPolicy: enumOf(LOCATION_POLICY, p.autoscaling.locationPolicy) }
                  : {}),
              },
            }
          : {}),
        version: p.version,
        status: enumOf(POOL_STATUS, p.status ?? 'RUNNING'),
        selfLink: `${self}/nodePools/${p.name}`,
      }));
      const zones = [...new Set((c.nodePools ?? []).flatMap((p) => p.locations))];
      const endpoint = status === 'PROVISIONING' ? undefined : (c.endpoint ?? '203.0.113.10');
      return {
        name: c.name,
        location: c.location,
        zone: c.location,
        selfLink: self,
        ...(endpoint ? { endpoint } : {}),
        masterAuth: c.caData ? { clusterCaCertificate: c.caData } : {},
        initialClusterVersion: c.currentMasterVersion,
        currentMasterVersion: c.currentMasterVersion,
        currentNodeVersion: c.currentNodeVersion ?? c.currentMasterVersion,
        currentNodeCount: (c.nodePools ?? []).reduce((n, p) => n + p.initialNodeCount * p.locations.length, 0),
        status: enumOf(CLUSTER_STATUS, status),
        ...(c.statusMessage ? { statusMessage: c.statusMessage } : {}),
        locations: zones,
        nodePools: pools,
        releaseChannel: c.releaseChannel ? { channel: enumOf(CHANNEL, c.releaseChannel) } : {},
        autopilot: { enabled: c.autopilot ?? false },
        createTime: '2026-01-05T10:00:00+00:00',
      };
    };

    const inLocation = (c: FakeGkeCluster) =>
      location === '-' || c.location === location || c.location.startsWith(`${location}-`);
    if (!clusterName) {
      const body: Record<string, unknown> = { clusters: project.clusters.filter(inLocation).map(clusterJson) };
      if (project.missingZones?.length) body.missingZones = project.missingZones;
      return send(res, 200, JSON.stringify(body));
    }
    const cluster = project.clusters.find((c) => c.name === clusterName && c.location === location);
    if (!cluster) return send(res, 404, googleError(404, 'NOT_FOUND', `Not found: ${resource}.`));
    const json = clusterJson(cluster);
    return send(res, 200, JSON.stringify(poolsPath ? { nodePools: json.nodePools } : json));
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
