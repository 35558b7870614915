import type { ClusterManagerClient } from '@google-cloud/container';
import type { GoogleAuth } from 'google-auth-library';
import type { GcpInventory, GkeClusterDescription, GkeClusterRef } from '../../ports/cloud.ts';
import { checkProject, GCP_PATTERNS, getInstance, listInstances, powerInstance } from './compute.ts';
import { createContainerClient } from './container-client.ts';
import { describeGkeCluster } from './gke-describe.ts';
import { defaultGoogleAuth } from './google-auth.ts';
import { cloudError, googleRest, restBase, toCloudError } from './google-rest.ts';
import { queryTimeSeries } from './monitoring.ts';

/**
 * The GcpInventory port (issue 13): GKE through the Container v1 client the cluster source uses,
 * Compute v1 and Monitoring v3 over plain REST with google-auth-library's authorized client (their
 * client libraries are several MB each, too big for the tool bundles). Every call is bounded by
 * `timeoutMs` and the caller's signal and fails as a CloudApiError; a project outside `projects`
 * is refused before any call.
 */

export interface GcpInventoryOptions {
  /** Project ids (GCP_PROJECTS). */
  projects: string[];
  /** Default: Application Default Credentials with the cloud-platform scope. */
  auth?: GoogleAuth;
  /** Base URLs (tests: the fakes'); defaults are Google's. Plain http only to loopback. */
  endpoints?: { container?: string; compute?: string; monitoring?: string };
  /** Bound of each call, token fetch included (default 15 s, at most 120 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_TIMEOUT_MS = 120_000;
const MAX_PROJECTS = 100;
const LOCATION = /^[a-z]+-[a-z]+\d+(?:-[a-z])?$/;
const CLUSTER_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;

export function createGcpInventory(opts: GcpInventoryOptions): GcpInventory {
  const projects = [...new Set(opts.projects)];
  if (projects.length === 0) throw new Error('GCP_PROJECTS: name at least one project id');
  if (projects.length > MAX_PROJECTS) throw new Error(`GCP_PROJECTS: at most ${MAX_PROJECTS} projects`);
  const bad = projects.filter((p) => !GCP_PATTERNS.project.test(p));
  if (bad.length) throw new Error(`GCP_PROJECTS: not project ids: ${bad.slice(0, 5).join(', ')}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new Error(`GCP timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`);
  }
  const auth = opts.auth ?? defaultGoogleAuth();
  const compute = restBase('GCP compute endpoint', opts.endpoints?.compute, 'https://compute.googleapis.com');
  const monitoring = restBase(
    'GCP monitoring endpoint',
    opts.endpoints?.monitoring,
    'https://monitoring.googleapis.com',
  );
  const containerEndpoint = opts.endpoints?.container;
  if (containerEndpoint !== undefined) restBase('GCP container endpoint', containerEndpoint, '');
  const rest = googleRest(auth, timeoutMs);
  // The Container client loads on the first describe: the Compute and Monitoring calls do not need it.
  let container: ClusterManagerClient | undefined;

  const configured = (project: string) => {
    checkProject(project);
    if (!projects.includes(project)) {
      throw cloudError(
        'InvalidArgument',
        `project ${project} is not configured (GCP_PROJECTS: ${projects.slice(0, 10).join(', ')})`,
      );
    }
  };

  return {
    projects: () => [...projects],

    async describeGkeCluster(ref: GkeClusterRef, signal?: AbortSignal): Promise<GkeClusterDescription> {
      configured(ref.project);
      if (!LOCATION.test(ref.location)) {
        throw cloudError('InvalidArgument', `not a GKE location (a region or a zone): ${ref.location.slice(0, 64)}`);
      }
      if (!CLUSTER_NAME.test(ref.name))
        throw cloudError('InvalidArgument', `not a GKE cluster name: ${ref.name.slice(0, 64)}`);
      // Missing credentials said as such (the GKE client would call them an UNKNOWN failure).
      await rest.credentials(`describing GKE cluster ${ref.name}`, signal);
      container ??= createContainerClient(auth, containerEndpoint);
      try {
        return await describeGkeCluster(container, ref, { timeoutMs, signal });
      } catch (err) {
        throw toCloudError(err, `describing GKE cluster ${ref.name}`);
      }
    },

    async listInstances(query) {
      configured(query.project);
      return listInstances(rest, compute, query);
    },

    async getInstance(project, zone, name, signal) {
      configured(project);
      return getInstance(rest, compute, project, zone, name, signal);
    },

    async powerInstance(project, zone, name, action, signal) {
      configured(project);
      return powerInstance(rest, compute, project, zone, name, action, signal);
    },

    async queryTimeSeries(query) {
      configured(query.project);
      return queryTimeSeries(rest, monitoring, query);
    },
  };
}
